"""KFP wrapper of `split`: declares inputs, outputs and image; the body calls the I/O layer."""

from kfp import dsl

from components.images import image


@dsl.component(base_image=image("split"), install_kfp_package=False)
def split(
    dataset: dsl.Input[dsl.Dataset],
    test_size: float,
    seed: int,
    stratify: bool,
    train: dsl.Output[dsl.Dataset],
    test: dsl.Output[dsl.Dataset],
    info: dsl.Output[dsl.Artifact],
) -> str:
    """Splits a dataset into train and test sets, deterministically (seeded, optionally stratified).

    Args:
        dataset: Validated dataset from ingest.
        test_size: Fraction of rows for the test set.
        seed: Random seed.
        stratify: Keep each class's proportion in both sets.
        train: Training set (Parquet).
        test: Test set (Parquet), the frozen evaluation set.
        info: Split facts (JSON).

    Returns:
        The test set's fingerprint (``sha256:...``).
    """
    from components.shared.task import reported
    from components.split.io import run_split

    with reported("split"):
        return run_split(
            dataset.path,
            train.path,
            test.path,
            info.path,
            test_size=test_size,
            seed=seed,
            stratify=stratify,
        ).test_fingerprint
