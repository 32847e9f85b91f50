"""Where models live in the store: names, version keys, and the champion pointer.

A version is ``models/<name>/<version>/{model.joblib,metadata.json}``.
``models/<name>/champion.json`` names the current champion; every promotion (and
rollback) also leaves an immutable record under ``models/<name>/champion-history/``,
written first, so the pointer never names a version without a record of why.
"""

from __future__ import annotations

import json
import re
from typing import Any

from components.shared.artifacts import METADATA_FILE
from components.shared.errors import InputError
from components.shared.names import LAYOUT
from components.shared.store import Store

CHAMPION_FILE = "champion.json"
HISTORY_DIR = "champion-history"

#: Model names become S3 key parts and KServe InferenceService names: DNS-label rules.
MODEL_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")


def check_model_name(name: str) -> str:
    """Return ``name`` if it is a valid model name.

    Raises:
        InputError: Not lowercase letters, digits and '-', 1-63 characters.
    """
    if not isinstance(name, str) or not MODEL_NAME.fullmatch(name):
        raise InputError(
            f"invalid model name {name!r}: use 1-63 lowercase letters, digits and '-', "
            "starting and ending with a letter or digit"
        )
    return name


#: Versions are one key part: ``YYYYMMDD-HHMMSS-<hex>`` as stored, never a path.
VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def check_version(version: str) -> str:
    """Return ``version`` if it can name a stored version (one key part, no path).

    Raises:
        InputError: Empty, too long, or with characters other than letters, digits, '.', '_', '-'.
    """
    if not VERSION.fullmatch(version) or ".." in version:
        raise InputError(f"invalid model version {version!r}: use letters, digits, '.', '_' and '-'")
    return version


def version_prefix(model_name: str, version: str) -> str:
    """Store key prefix of one model version: ``models/<name>/<version>``."""
    return f"{LAYOUT.models}/{check_model_name(model_name)}/{check_version(version)}"


def champion_key(model_name: str) -> str:
    """Store key of a model's champion pointer."""
    return f"{LAYOUT.models}/{check_model_name(model_name)}/{CHAMPION_FILE}"


def history_prefix(model_name: str) -> str:
    """Store prefix of a model's promotion records."""
    return f"{LAYOUT.models}/{check_model_name(model_name)}/{HISTORY_DIR}"


def history_key(model_name: str, generation: int) -> str:
    """Key of the ``generation``-th promotion or rollback (created once, never replaced)."""
    return f"{history_prefix(model_name)}/{generation:08d}.json"


def read_history(store: Store, model_name: str) -> list[dict[str, Any]]:
    """Every promotion and rollback of ``model_name``, oldest first."""
    records = []
    for key in store.list(history_prefix(model_name)):
        if key.endswith(".json"):
            try:
                record = json.loads(store.read(key))
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise InputError(f"malformed champion record {store.uri_for(key)}: {exc}") from None
            if not isinstance(record, dict) or not isinstance(record.get("version"), str):
                raise InputError(
                    f"malformed champion record {store.uri_for(key)}: not an object with a 'version'"
                )
            records.append(record)
    return records


def read_champion(store: Store, model_name: str) -> dict[str, Any] | None:
    """The champion of ``model_name``: its newest history record (``None`` before the first).

    The history, not the ``champion.json`` mirror, is the truth: each record is
    created under the next generation number with create-if-absent, so two
    concurrent promotions cannot both succeed, and a crash after the record and
    before the mirror leaves a consistent state.
    """
    history = read_history(store, model_name)
    return history[-1] if history else None


def version_metadata(store: Store, model_name: str, version: str) -> dict[str, Any]:
    """Metadata of one stored model version.

    Raises:
        InputError: The version does not exist (or is incomplete).
    """
    key = f"{version_prefix(model_name, version)}/{METADATA_FILE}"
    if not store.exists(key):
        raise InputError(f"model {model_name!r} has no version {version!r} in {store.uri}")
    try:
        return dict(json.loads(store.read(key)))
    except json.JSONDecodeError as exc:
        raise InputError(f"malformed {store.uri_for(key)}: {exc}") from None


def resolve_model(store: Store, reference: str) -> dict[str, Any]:
    """Metadata of the version ``MODEL[:VERSION]`` names (no version: the champion).

    Raises:
        InputError: Bad reference, no champion, or no such version.
    """
    name, _, version = reference.partition(":")
    check_model_name(name)
    if not version:
        champion = read_champion(store, name)
        if champion is None:
            raise InputError(
                f"model {name!r} has no champion in {store.uri}; train one or name a version (MODEL:VERSION)"
            )
        version = str(champion["version"])
    return version_metadata(store, name, version)
