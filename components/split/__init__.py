"""Split: a deterministic, optionally stratified train/test split."""
