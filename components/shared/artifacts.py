"""File names inside directory artifacts, and loading a model directory.

A directory artifact (a KFP output path, a local folder or an ``s3://`` prefix)
holds a joblib file plus a JSON file of facts about it.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from components.shared.errors import InputError
from components.shared.store import read_uri, write_uri

TRANSFORMER_FILE = "preprocessor.joblib"
PREPROCESSING_FILE = "preprocessing.json"
MODEL_FILE = "model.joblib"  # the name KServe's sklearn server looks for
METADATA_FILE = "metadata.json"


def write_joblib_dir(
    directory: str, joblib_name: str, obj: object, json_name: str, facts: dict[str, Any]
) -> None:
    """Write ``obj`` (joblib) and ``facts`` (JSON) into a directory or ``s3://`` prefix."""
    import joblib

    base = directory.rstrip("/")
    if "://" not in base:
        Path(base).mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    joblib.dump(obj, buffer)
    write_uri(f"{base}/{joblib_name}", buffer.getvalue())
    write_uri(f"{base}/{json_name}", json.dumps(facts, indent=2, sort_keys=True).encode())


def read_joblib(uri: str) -> Any:
    """Load a joblib file from a path or URI."""
    import joblib

    try:
        return joblib.load(io.BytesIO(read_uri(uri)))
    except (EOFError, ValueError, TypeError, KeyError, ImportError) as exc:
        raise InputError(f"cannot load {uri}: {type(exc).__name__}: {exc}") from None


def load_model_dir(model_dir: str) -> tuple[Any, dict[str, Any]]:
    """Load ``model.joblib`` and ``metadata.json`` from a model directory or prefix."""
    base = model_dir.rstrip("/")
    try:
        metadata = json.loads(read_uri(f"{base}/{METADATA_FILE}"))
    except json.JSONDecodeError as exc:
        raise InputError(f"malformed {base}/{METADATA_FILE}: {exc}") from None
    return read_joblib(f"{base}/{MODEL_FILE}"), metadata
