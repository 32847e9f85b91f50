"""Ingest (feature extraction): read a CSV/Parquet source, validate it, fingerprint it."""
