"""Reading and writing tables (Parquet between tasks; CSV or Parquet at the edges)."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any

from components.shared.errors import InputError, one_line
from components.shared.store import read_uri, write_uri

if TYPE_CHECKING:  # pandas costs ~0.4 s to import; steps that only need metadata skip it
    import pandas as pd

#: Parquet key-value metadata key under which a table carries its JSON facts.
METADATA_KEY = b"kfops"


def write_parquet(
    frame: pd.DataFrame, uri: str, metadata: dict[str, Any] | None = None, *, overwrite: bool = True
) -> str:
    """Write ``frame`` as Parquet (with optional JSON metadata) to a path or URI, atomically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    if metadata is not None:
        existing = table.schema.metadata or {}
        table = table.replace_schema_metadata(
            {**existing, METADATA_KEY: json.dumps(metadata, sort_keys=True).encode()}
        )
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    return write_uri(uri, buffer.getvalue(), overwrite=overwrite)


def read_parquet(uri: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read a Parquet table and its JSON metadata (empty if it has none)."""
    import pyarrow.parquet as pq

    data = read_uri(uri)
    try:
        table = pq.read_table(io.BytesIO(data))
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise InputError(f"{uri} is not a readable Parquet file: {exc}") from None
    raw = (table.schema.metadata or {}).get(METADATA_KEY)
    return table.to_pandas(), (json.loads(raw) if raw else {})


def read_parquet_metadata(uri: str) -> dict[str, Any]:
    """Read only a Parquet table's JSON metadata (no pandas import, no row decoding)."""
    import pyarrow.parquet as pq

    data = read_uri(uri)
    try:
        schema = pq.read_schema(io.BytesIO(data))
    except Exception as exc:
        raise InputError(f"{uri} is not a readable Parquet file: {exc}") from None
    raw = (schema.metadata or {}).get(METADATA_KEY)
    return json.loads(raw) if raw else {}


def read_table_bytes(data: bytes, name: str) -> pd.DataFrame:
    """Parse CSV or Parquet bytes (chosen by ``name``'s suffix) into a DataFrame."""
    if name.lower().endswith((".parquet", ".pq")):
        import pyarrow.parquet as pq

        try:
            return pq.read_table(io.BytesIO(data)).to_pandas()
        except Exception as exc:
            raise InputError(f"{name} is not a readable Parquet file: {one_line(str(exc)[:200])}") from None
    if not data.strip():
        raise InputError(f"{name} is empty")
    if data[:2] == b"\x1f\x8b":
        raise InputError(f"{name} is gzip-compressed; decompress it or store it as Parquet")
    if data[:4] == b"PAR1":
        raise InputError(f"{name} is a Parquet file; give it a .parquet name")
    if b"\x00" in data[:65536]:  # never echo binary content
        raise InputError(f"{name} is not a readable CSV file: it holds binary data, not text")
    import pyarrow.csv as pcsv

    # Empty cells are missing values in string columns too (pyarrow's default
    # reads them as ""), so categorical features impute them like numeric ones.
    convert = pcsv.ConvertOptions(strings_can_be_null=True)
    try:
        return pcsv.read_csv(io.BytesIO(data), convert_options=convert).to_pandas()
    except Exception as exc:  # ArrowInvalid, UnicodeDecodeError, ...: keep the first line
        if isinstance(exc, UnicodeDecodeError) or "invalid UTF8" in str(exc) or "utf-8" in str(exc):
            raise InputError(f"{name} is not UTF-8 text; save it as UTF-8") from None
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise InputError(f"{name} is not a readable CSV file: {one_line(reason)}") from None
