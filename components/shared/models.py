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
from components.shared.store import LAYOUT, Store

CHAMPION_FILE = "champion.json"
HISTORY_DIR = "champion-history"

#: Model names become S3 key parts and KServe InferenceService names: DNS-label rules.
MODEL_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def check_model_name(name: str) -> str:
    """Return ``name`` if it is a valid model name.

    Raises:
        InputError: Not lowercase letters, digits and '-', 1-63 characters.
    """
    if not MODEL_NAME.match(name):
        raise InputError(
            f"invalid model name {name!r}: use 1-63 lowercase letters, digits and '-', "
            "starting and ending with a letter or digit"
        )
    return name


def version_prefix(model_name: str, version: str) -> str:
    """Store key prefix of one model version: ``models/<name>/<version>``."""
    return f"{LAYOUT.models}/{check_model_name(model_name)}/{version}"


def champion_key(model_name: str) -> str:
    """Store key of a model's champion pointer."""
    return f"{LAYOUT.models}/{check_model_name(model_name)}/{CHAMPION_FILE}"


def history_prefix(model_name: str) -> str:
    """Store prefix of a model's promotion records."""
    return f"{LAYOUT.models}/{check_model_name(model_name)}/{HISTORY_DIR}"


def read_champion(store: Store, model_name: str) -> dict[str, Any] | None:
    """The champion pointer of ``model_name`` (``None`` when there is no champion yet)."""
    key = champion_key(model_name)
    if not store.exists(key):
        return None
    try:
        return dict(json.loads(store.read(key)))
    except json.JSONDecodeError as exc:
        raise InputError(f"malformed champion pointer {store.uri_for(key)}: {exc}") from None


def version_metadata(store: Store, model_name: str, version: str) -> dict[str, Any]:
    """Metadata of one stored model version.

    Raises:
        InputError: The version does not exist (or is incomplete).
    """
    key = f"{version_prefix(model_name, version)}/{METADATA_FILE}"
    if not store.exists(key):
        raise InputError(f"model {model_name!r} has no version {version!r} in {store.uri}")
    return dict(json.loads(store.read(key)))


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
