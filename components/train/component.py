"""KFP wrapper of `train`: declares inputs, outputs and image; the body calls the I/O layer."""

from kfp import dsl

from components.images import estimator_modules, image

#: Read from pyproject.toml at compile time; pipelines pass it as a constant (not a pipeline
#: parameter), so the compiled pipeline carries the allow-list and a run cannot widen it.
ALLOWED_ESTIMATORS = ",".join(estimator_modules())


@dsl.component(base_image=image("train"), install_kfp_package=False)
def train(
    prepared: dsl.Input[dsl.Dataset],
    preprocessor: dsl.Input[dsl.Model],
    estimator: str,
    hyperparameters: str,
    seed: int,
    allowed_estimators: str,
    model: dsl.Output[dsl.Model],
):
    """Trains an estimator chosen by name and saves one scikit-learn Pipeline (model.joblib).

    Args:
        prepared: Transformed training data from preprocess.
        preprocessor: Fitted preprocessing from preprocess (put in front of the estimator).
        estimator: auto (the task's default), logistic_regression, linear_regression, ridge,
            random_forest, gradient_boosting, or an import path in an allowed module
            (e.g. sklearn.svm.SVC).
        hyperparameters: JSON object of estimator arguments, e.g. ``{"C": 0.5}``.
        seed: Random seed.
        allowed_estimators: Modules whose estimators may be named by import path
            ([tool.kfops.estimators] in pyproject.toml, fixed when the pipeline is compiled).
        model: Directory with model.joblib and metadata.json (scikit-learn version, lineage).
    """
    from components.shared.task import reported
    from components.train.io import run_train

    with reported("train"):
        run_train(
            prepared.path,
            preprocessor.path,
            model.path,
            estimator=estimator,
            hyperparameters=hyperparameters,
            seed=seed,
            allowed_estimators=allowed_estimators,
        )
