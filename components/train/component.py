"""KFP wrapper of `train`: declares inputs, outputs and image; the body calls the I/O layer."""

from kfp import dsl

from components.images import image


@dsl.component(base_image=image("train"), install_kfp_package=False)
def train(
    prepared: dsl.Input[dsl.Dataset],
    preprocessor: dsl.Input[dsl.Model],
    estimator: str,
    hyperparameters: str,
    seed: int,
    model: dsl.Output[dsl.Model],
):
    """Trains an estimator chosen by name and saves one scikit-learn Pipeline (model.joblib).

    Args:
        prepared: Transformed training data from preprocess.
        preprocessor: Fitted preprocessing from preprocess (put in front of the estimator).
        estimator: logistic_regression, random_forest or gradient_boosting.
        hyperparameters: JSON object of estimator arguments, e.g. ``{"C": 0.5}``.
        seed: Random seed.
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
        )
