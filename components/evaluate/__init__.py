"""Evaluate: metrics on the frozen test set, and a per-example evaluation record."""
