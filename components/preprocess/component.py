"""KFP wrapper of `preprocess`: declares inputs, outputs and image; the body calls the I/O layer."""

from kfp import dsl

from components.images import image


@dsl.component(base_image=image("preprocess"), install_kfp_package=False)
def preprocess(
    train: dsl.Input[dsl.Dataset],
    steps: str,
    prepared: dsl.Output[dsl.Dataset],
    preprocessor: dsl.Output[dsl.Model],
):
    """Fits an ordered list of named preprocessing steps on the training set.

    Row-dropping steps (drop_duplicates, drop_missing) apply to training data only;
    the fitted transform is saved so inference applies exactly the same transform.

    Args:
        train: Training set from split.
        steps: Comma-separated step names in order, e.g.
            ``drop_duplicates,drop_constant,impute_median,clip_outliers,standard_scale``.
        prepared: Transformed training features plus label (Parquet).
        preprocessor: Directory with the fitted transformer and a JSON summary of its parameters.
    """
    from components.preprocess.io import run_preprocess
    from components.shared.task import reported

    with reported("preprocess"):
        run_preprocess(steps, train.path, prepared.path, preprocessor.path)
