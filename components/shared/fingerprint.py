"""Content fingerprints of tables (pure: pandas and hashlib only)."""

from __future__ import annotations

import hashlib

import pandas as pd


def fingerprint_frame(frame: pd.DataFrame) -> str:
    """Return ``sha256:<hex>`` of a table's column names, dtypes and values.

    Row order matters and the index does not. The hash is computed from pandas'
    vectorised per-row hashes, so it costs about as much as one pass over the
    data and does not depend on a file format or library version of Parquet.

    Args:
        frame: The table to fingerprint.

    Returns:
        A string such as ``"sha256:3f2a..."``.
    """
    # Text columns hash the same whether pandas holds them as object or as a
    # string dtype (which differs across pandas versions and Parquet round trips).
    types = pd.api.types
    text = [c for c, t in frame.dtypes.items() if types.is_object_dtype(t) or types.is_string_dtype(t)]
    if text:
        frame = frame.astype(dict.fromkeys(text, object))
    digest = hashlib.sha256()
    for name, dtype in frame.dtypes.items():
        digest.update(f"{name}\x1f{dtype}\x1e".encode())
    digest.update(str(len(frame)).encode())
    if len(frame.columns):
        row_hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy()
        digest.update(row_hashes.tobytes())
    return f"sha256:{digest.hexdigest()}"
