"""KFP wrapper of `evaluate`: declares inputs, outputs and image; the body calls the I/O layer."""

from kfp import dsl

from components.images import image


@dsl.component(base_image=image("evaluate"), install_kfp_package=False)
def evaluate(
    model: dsl.Input[dsl.Model],
    test: dsl.Input[dsl.Dataset],
    metrics: dsl.Output[dsl.Metrics],
    confusion: dsl.Output[dsl.ClassificationMetrics],
    evaluation: dsl.Output[dsl.Dataset],
) -> float:
    """Evaluates the model on the frozen test set.

    Args:
        model: Model directory from train.
        test: Test set from split.
        metrics: accuracy, macro_f1, log_loss and (binary) roc_auc, or for a regressor
            rmse, mae and r2, shown in the KFP UI.
        confusion: Confusion matrix, shown in the KFP UI (none for a regressor).
        evaluation: Evaluation record: per-example y_true, y_pred and scores, plus the
            test-set fingerprint (Parquet), consumed by the performance gate.

    Returns:
        Accuracy on the test set (R² for a regressor).
    """
    from components.evaluate.io import run_evaluate
    from components.shared.task import reported

    with reported("evaluate"):
        result, _ = run_evaluate(model.path, test.path, evaluation.path)
    for name, value in result.metrics.items():
        metrics.log_metric(name, value)
    if result.classes:
        confusion.log_confusion_matrix(result.classes, result.confusion)
    return result.metrics["accuracy"] if "accuracy" in result.metrics else result.metrics["r2"]
