"""Metrics store: an append-only record per pipeline run."""
