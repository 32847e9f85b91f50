"""Preprocess: an ordered, per-run choice of named steps, fitted on training data only."""
