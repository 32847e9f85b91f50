"""Training pipeline: ingest -> split -> preprocess -> train -> evaluate -> store -> champion challenge."""

from kfp import dsl

from components.champion.component import champion
from components.evaluate.component import evaluate
from components.ingest.component import ingest
from components.metrics_store.component import metrics_store
from components.model_storage.component import model_storage
from components.preprocess.component import preprocess
from components.split.component import split
from components.train.component import ALLOWED_ESTIMATORS, train

PIPELINE_NAME = "training"


@dsl.pipeline(name=PIPELINE_NAME, description="Train, evaluate and store a model; record the run.")
def training(
    store: str,
    source: str = "builtin://breast_cancer",
    label_column: str = "target",
    categorical_columns: str = "",
    task: str = "auto",
    preprocessing: str = "drop_duplicates,drop_constant,impute_median,clip_outliers,standard_scale",
    estimator: str = "auto",
    hyperparameters: str = "{}",
    test_size: float = 0.25,
    stratify: bool = True,
    seed: int = 42,
    model_name: str = "breast-cancer",
    git_commit: str = "",
    git_ref: str = "",
    champion_rules: str = "",
    promote: bool = False,
) -> str:
    """Trains a classifier or a regressor on a CSV source and records model and metrics in the store.

    Args:
        store: Store root: a local directory or s3://bucket/prefix.
        source: Data source: path, file://, s3://, https:// or builtin:// URI (CSV or Parquet).
        label_column: Label column.
        categorical_columns: Comma-separated categorical feature columns.
        task: auto (a numeric label with more than 20 distinct values is a regression
            target, anything else a class label), classification or regression.
        preprocessing: Comma-separated preprocessing steps, in order.
        estimator: auto (logistic_regression for classification, ridge for regression),
            logistic_regression, linear_regression, ridge, random_forest, gradient_boosting,
            or an import path in a module allowed by [tool.kfops.estimators] (sklearn.svm.SVC).
        hyperparameters: JSON object of estimator arguments.
        test_size: Fraction of rows held out for evaluation.
        stratify: Keep class proportions in the split (classification only).
        seed: Random seed for split and estimator.
        model_name: Name under which the model is stored.
        git_commit: Commit the pipeline was built from.
        git_ref: Branch or tag the pipeline was built from.
        champion_rules: Gated metrics (JSON) the new model must not regress on against the
            champion to replace it; empty for the performance gate's default.
        promote: Let a candidate that does not regress replace the champion. Off by default, so
            an experiment never changes what is served; the scheduled runs, the retrain
            trigger's runs and the main-branch workflow set it.

    Returns:
        The run record (JSON) appended to the metrics store.
    """
    ingested = ingest(
        source=source, label_column=label_column, categorical_columns=categorical_columns, task=task
    )
    ingested.set_display_name("ingest").set_cpu_request("500m").set_memory_request("1Gi")
    # The data behind a source URI changes (e.g. data/labeled/latest.parquet): never reuse a cached
    # read, or every later task would be served from cache and a retraining would learn nothing.
    ingested.set_caching_options(False)

    parts = split(dataset=ingested.outputs["dataset"], test_size=test_size, seed=seed, stratify=stratify)
    parts.set_display_name("split").set_cpu_request("500m").set_memory_request("1Gi")

    prepared = preprocess(train=parts.outputs["train"], steps=preprocessing)
    prepared.set_display_name("preprocess").set_cpu_request("1").set_memory_request("2Gi")

    trained = train(
        prepared=prepared.outputs["prepared"],
        preprocessor=prepared.outputs["preprocessor"],
        estimator=estimator,
        hyperparameters=hyperparameters,
        seed=seed,
        allowed_estimators=ALLOWED_ESTIMATORS,  # a constant: a run cannot widen the allow-list
    )
    trained.set_display_name("train").set_cpu_request("2").set_memory_request("4Gi")

    evaluated = evaluate(model=trained.outputs["model"], test=parts.outputs["test"])
    evaluated.set_display_name("evaluate").set_cpu_request("1").set_memory_request("2Gi")

    stored = model_storage(
        model=trained.outputs["model"],
        evaluation=evaluated.outputs["evaluation"],
        store=store,
        model_name=model_name,
        run_id=dsl.PIPELINE_JOB_ID_PLACEHOLDER,
        run_name=dsl.PIPELINE_JOB_NAME_PLACEHOLDER,
        git_commit=git_commit,
        git_ref=git_ref,
    )
    stored.set_display_name("model-storage").set_cpu_request("250m").set_memory_request("512Mi")

    recorded = metrics_store(
        evaluation=evaluated.outputs["evaluation"],
        store=store,
        pipeline=PIPELINE_NAME,
        run_id=dsl.PIPELINE_JOB_ID_PLACEHOLDER,
        run_name=dsl.PIPELINE_JOB_NAME_PLACEHOLDER,
        git_ref=git_ref,
        git_commit=git_commit,
        model_name=model_name,
        model_version=stored.outputs["version"],
        model_uri=stored.outputs["uri"],
    )
    recorded.set_display_name("metrics-store").set_cpu_request("250m").set_memory_request("512Mi")

    challenged = champion(
        evaluation=evaluated.outputs["evaluation"],
        test=parts.outputs["test"],
        store=store,
        model_name=model_name,
        version=stored.outputs["version"],
        rules=champion_rules,
        promote=promote,
    )
    challenged.set_display_name("champion").set_cpu_request("1").set_memory_request("2Gi")
    challenged.after(recorded)  # the run record exists before the model can be served
    return recorded.output
