"""I/O layer of `champion`: re-score the champion, decide, record the promotion."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any

from components.champion.core import Challenge, challenge, parse_rules, promotion_record
from components.evaluate.core import evaluate_model
from components.shared.artifacts import load_model_dir
from components.shared.errors import InputError
from components.shared.models import (
    champion_key,
    history_prefix,
    read_champion,
    version_metadata,
    version_prefix,
)
from components.shared.store import Store, open_store
from components.shared.tables import read_parquet


def actor() -> str:
    """Who acts: the CI actor, the pipeline run, or the local user."""
    return os.environ.get("GITHUB_ACTOR") or os.environ.get("USER") or "unknown"


def record_promotion(store: Store, record: dict[str, Any]) -> None:
    """Write the history entry (never overwritten), then move the pointer.

    A crash between the two leaves an extra history entry and the old champion,
    never a pointer without its record.
    """
    at = datetime.fromisoformat(record["promoted_at"])
    history_key = f"{history_prefix(record['model_name'])}/{at:%Y%m%dT%H%M%S%fZ}-{record['version']}.json"
    data = json.dumps(record, indent=2, sort_keys=True).encode()
    store.write(history_key, data, overwrite=False)
    store.write(champion_key(record["model_name"]), data)


def run_champion(
    store_uri: str,
    model_name: str,
    version: str,
    evaluation_uri: str,
    test_uri: str,
    *,
    rules: str = "",
    now: datetime | None = None,
) -> Challenge:
    """Make the stored ``version`` champion if it does not regress against the current one.

    Args:
        store_uri: Store root.
        model_name: Model name.
        version: The candidate's stored version (written by `model_storage`).
        evaluation_uri: The candidate's evaluation record (from `evaluate`).
        test_uri: The candidate's test set (from `split`), on which the champion is re-scored.
        rules: Gated metrics as JSON (empty: the gate's default).
        now: Clock override (tests).

    Returns:
        The challenge's outcome (also recorded in the store when it promotes).

    Raises:
        InputError: Bad rules, a missing version, or a champion that cannot be scored
            on the candidate's examples.
    """
    gated = parse_rules(rules)
    store = open_store(store_uri)
    candidate_meta = version_metadata(store, model_name, version)
    current = read_champion(store, model_name)
    at = (now or datetime.now(UTC)).isoformat()
    if current is not None and current.get("version") == version:
        return Challenge(False, f"{version} is already the champion")
    if current is None:
        outcome = Challenge(True, "first champion: there was none")
    else:
        champion_version = str(current["version"])
        champion_model, champion_meta = load_model_dir(
            store.uri_for(version_prefix(model_name, champion_version))
        )
        test, _ = read_parquet(test_uri)
        try:
            rescored = evaluate_model(
                champion_model, test, list(champion_meta["features"]), str(champion_meta["label"])
            )
        except InputError as exc:
            raise InputError(
                f"cannot re-score champion {champion_version} on the candidate's test set: {exc}"
            ) from None
        candidate, facts = read_parquet(evaluation_uri)
        outcome = challenge(
            rescored.record, candidate, rescored.classes, [str(c) for c in facts.get("classes", [])], gated
        )
    challenge_record = {
        "model_name": model_name,
        "candidate": version,
        "champion": None if current is None else str(current["version"]),
        "at": at,
        **outcome.to_dict(),
    }
    store.write(
        challenge_key(model_name, version), json.dumps(challenge_record, indent=2, sort_keys=True).encode()
    )
    if outcome.promote:
        record_promotion(
            store,
            promotion_record(
                model_name=model_name,
                version=version,
                uri=str(candidate_meta.get("uri", "")),
                metrics=dict(candidate_meta.get("metrics", {})),
                previous=None if current is None else str(current["version"]),
                action="promote",
                reason=outcome.reason,
                actor=actor(),
                at=at,
                decisions=[d.to_dict() for d in outcome.decisions],
            ),
        )
    return outcome


def challenge_key(model_name: str, version: str) -> str:
    """Store key of the record of a version's challenge (promoted or refused, and why)."""
    return f"{history_prefix(model_name).rsplit('/', 1)[0]}/challenges/{version}.json"


def read_challenge(store_uri: str, model_name: str, version: str) -> dict[str, Any] | None:
    """The challenge record of ``version``, if it was challenged."""
    store = open_store(store_uri)
    key = challenge_key(model_name, version)
    return dict(json.loads(store.read(key))) if store.exists(key) else None


def history(store_uri: str, model_name: str) -> list[dict[str, Any]]:
    """Every promotion and rollback of a model, oldest first."""
    store = open_store(store_uri)
    return [json.loads(store.read(k)) for k in store.list(history_prefix(model_name)) if k.endswith(".json")]


def rollback_champion(
    store_uri: str, model_name: str, to: str = "", *, now: datetime | None = None
) -> dict[str, Any]:
    """Make an earlier version champion again (default: the one before the current champion).

    Raises:
        InputError: No champion, no earlier champion, or an unknown version.
    """
    store = open_store(store_uri)
    current = read_champion(store, model_name)
    if current is None:
        raise InputError(f"model {model_name!r} has no champion in {store.uri}")
    if not to:
        to = str(current.get("previous") or "")
        if not to:
            raise InputError(f"champion {current['version']} of {model_name!r} has no previous champion")
    if to == current["version"]:
        raise InputError(f"{to} is already the champion of {model_name!r}")
    target = version_metadata(store, model_name, to)
    record = promotion_record(
        model_name=model_name,
        version=to,
        uri=str(target.get("uri", "")),
        metrics=dict(target.get("metrics", {})),
        previous=str(current["version"]),
        action="rollback",
        reason=f"rolled back from {current['version']}",
        actor=actor(),
        at=(now or datetime.now(UTC)).isoformat(),
    )
    record_promotion(store, record)
    return record
