"""KFP wrapper of `champion`: declares inputs, outputs and image; the body calls the I/O layer."""

from kfp import dsl

from components.images import image


@dsl.component(base_image=image("champion"), install_kfp_package=False)
def champion(
    evaluation: dsl.Input[dsl.Dataset],
    test: dsl.Input[dsl.Dataset],
    store: str,
    model_name: str,
    version: str,
    rules: str,
    promote: bool,
) -> str:
    """Makes the new version champion only if the gate finds no regression against the champion.

    The current champion is re-scored on the candidate's test set, so both are
    compared on the same examples with the performance gate's paired tests.

    Args:
        evaluation: The candidate's evaluation record from evaluate.
        test: The candidate's test set from split.
        store: Store root (local directory or s3://bucket/prefix).
        model_name: Model name.
        version: The candidate's stored version (from model_storage).
        rules: Gated metrics as JSON; empty for the gate's default.
        promote: Whether a winning candidate replaces the champion (else it is only recorded).

    Returns:
        The outcome as JSON: promote, reason and the gate's decisions.
    """
    import json

    from components.champion.io import run_champion
    from components.shared.task import reported

    with reported("champion"):
        outcome = run_champion(
            store, model_name, version, evaluation.path, test.path, rules=rules, promote=promote
        )
    print(f"{outcome.verdict}: {outcome.reason}")
    return json.dumps(outcome.to_dict(), sort_keys=True)
