"""Train: fit an estimator chosen by name and save one scikit-learn Pipeline."""
