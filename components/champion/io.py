"""I/O layer of `champion`: re-score the champion, decide, record the promotion."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any

from components.champion.core import Challenge, challenge, parse_rules, promotion_record
from components.evaluate.core import evaluate_model
from components.shared.artifacts import load_model_dir
from components.shared.errors import InputError, KfopsError, ObjectExistsError
from components.shared.models import (
    champion_key,
    history_key,
    read_champion,
    read_history,
    version_metadata,
    version_prefix,
)
from components.shared.store import Store, open_store
from components.shared.tables import read_parquet
from components.shared.tasks import task_of

ATTEMPTS = 3  # a promotion that loses a race re-reads the new champion and challenges it


class ChampionMoved(KfopsError):
    """Another promotion or rollback took this generation first."""

    exit_code = 1


def actor() -> str:
    """Who acts: the CI actor, else the local (or container) user."""
    import getpass

    try:
        return os.environ.get("GITHUB_ACTOR") or getpass.getuser()
    except (KeyError, OSError):  # a container user without a passwd entry
        return "unknown"


def record_promotion(store: Store, record: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
    """Create the next generation's history record (create-if-absent), then mirror it.

    Raises:
        ChampionMoved: Someone else created that generation since ``current`` was read.
    """
    generation = int((current or {}).get("generation", 0)) + 1
    record = {**record, "generation": generation}
    data = json.dumps(record, indent=2, sort_keys=True).encode()
    try:
        store.write(history_key(record["model_name"], generation), data, overwrite=False)
    except ObjectExistsError:
        raise ChampionMoved(f"the champion of {record['model_name']} changed meanwhile") from None
    store.write(champion_key(record["model_name"]), data)  # a convenience mirror; history is the truth
    return record


def challenge_key(model_name: str, version: str) -> str:
    """Store key of the record of a version's challenge (promoted or refused, and why)."""
    return f"{version_prefix(model_name, 'x').rsplit('/', 1)[0]}/challenges/{version}.json"


def read_challenge(store_uri: str, model_name: str, version: str) -> dict[str, Any] | None:
    """The challenge record of ``version``, if it was challenged."""
    store = open_store(store_uri)
    key = challenge_key(model_name, version)
    return dict(json.loads(store.read(key))) if store.exists(key) else None


def _challenge_champion(
    store: Store, model_name: str, current: dict[str, Any], evaluation_uri: str, test_uri: str, rules: str
) -> Challenge:
    champion_version = str(current["version"])
    champion_model, champion_meta = load_model_dir(
        store.uri_for(version_prefix(model_name, champion_version))
    )
    test, _ = read_parquet(test_uri)
    try:
        rescored = evaluate_model(
            champion_model, test, list(champion_meta["features"]), str(champion_meta["label"])
        )
    except InputError as exc:  # e.g. the feature set changed: not comparable, so not promoted
        return Challenge(
            False,
            f"not comparable: champion {champion_version} cannot be scored on the candidate's test set "
            f"({exc}); promote by hand with `kfops champion promote {model_name}:VERSION` if intended",
            verdict="not comparable",
        )
    candidate, facts = read_parquet(evaluation_uri)
    task = task_of(facts)
    if rescored.task != task:
        return Challenge(
            False,
            f"not comparable: champion {champion_version} is a {rescored.task} model and the candidate "
            f"a {task} model; promote by hand with `kfops champion promote {model_name}:VERSION` if intended",
            verdict="not comparable",
        )
    return challenge(
        rescored.record,
        candidate,
        rescored.classes,
        [str(c) for c in facts.get("classes", [])],
        parse_rules(rules),
        task,
    )


def run_champion(
    store_uri: str,
    model_name: str,
    version: str,
    evaluation_uri: str,
    test_uri: str,
    *,
    rules: str = "",
    promote: bool = True,
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
        promote: Whether this run may replace the champion. Without it the challenge is
            still made and recorded, but a winning candidate is ``not promoted``.
        now: Clock override (tests).

    Returns:
        The challenge's outcome (recorded in the store either way; promotions also in the history).

    Raises:
        InputError: Bad rules or a missing version.
        ChampionMoved: The champion kept changing during every attempt.
    """
    parse_rules(rules)  # fail on bad rules before reading anything
    store = open_store(store_uri)
    candidate_meta = version_metadata(store, model_name, version)
    at = (now or datetime.now(UTC)).isoformat()
    for _ in range(ATTEMPTS):
        current = read_champion(store, model_name)
        if current is not None and current.get("version") == version:
            return Challenge(False, f"{version} is already the champion", verdict="already champion")
        if current is None:
            outcome = Challenge(True, "first champion: there was none")
        else:
            outcome = _challenge_champion(store, model_name, current, evaluation_uri, test_uri, rules)
        if outcome.promote and not promote:
            outcome = Challenge(
                False,
                f"would be promoted ({outcome.reason}), but this run was not asked to promote "
                f"(kfops run training --promote, or the pipeline parameter promote=true)",
                outcome.decisions,
                verdict="not promoted",
            )
        store.write(
            challenge_key(model_name, version),
            json.dumps(
                {
                    "model_name": model_name,
                    "candidate": version,
                    "champion": None if current is None else str(current["version"]),
                    "at": at,
                    **outcome.to_dict(),
                },
                indent=2,
                sort_keys=True,
            ).encode(),
        )
        if not outcome.promote:
            return outcome
        record = promotion_record(
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
            run_id=str(candidate_meta.get("run_id", "")),
            run_name=str(candidate_meta.get("run_name", "")),
        )
        try:
            record_promotion(store, record, current)
        except ChampionMoved:
            continue  # someone promoted meanwhile: challenge the new champion instead
        return outcome
    raise ChampionMoved(f"the champion of {model_name} kept changing; {version} was not promoted")


def history(store_uri: str, model_name: str) -> list[dict[str, Any]]:
    """Every promotion and rollback of a model, oldest first."""
    return read_history(open_store(store_uri), model_name)


def rollback_target(records: list[dict[str, Any]]) -> str | None:
    """The newest earlier champion that was neither the current one nor rolled away from."""
    if not records:
        return None
    current = records[-1]["version"]
    rolled_away = {r.get("previous") for r in records if r.get("action") == "rollback"}
    for record in reversed(records[:-1]):
        if record["version"] != current and record["version"] not in rolled_away:
            return str(record["version"])
    return None


def set_champion(
    store_uri: str, model_name: str, to: str, *, action: str, now: datetime | None = None
) -> dict[str, Any]:
    """Make ``to`` champion by hand (``rollback`` or ``promote``), recorded like any promotion.

    Raises:
        InputError: No such version, or it already is the champion.
        ChampionMoved: The champion changed while this ran.
    """
    store = open_store(store_uri)
    current = read_champion(store, model_name)
    target = version_metadata(store, model_name, to)
    if current is not None and to == current["version"]:
        raise InputError(f"{to} is already the champion of {model_name!r}")
    record = promotion_record(
        model_name=model_name,
        version=to,
        uri=str(target.get("uri", "")),
        metrics=dict(target.get("metrics", {})),
        previous=None if current is None else str(current["version"]),
        action=action,
        reason=f"{action} by {actor()}" + (f" (was {current['version']})" if current else ""),
        actor=actor(),
        at=(now or datetime.now(UTC)).isoformat(),
        run_id=str(target.get("run_id", "")),
        run_name=str(target.get("run_name", "")),
    )
    return record_promotion(store, record, current)


def rollback_champion(
    store_uri: str, model_name: str, to: str = "", *, now: datetime | None = None
) -> dict[str, Any]:
    """Make an earlier version champion again (default: the newest earlier one not rolled away from).

    Raises:
        InputError: No champion, no earlier champion, or an unknown version.
    """
    store = open_store(store_uri)
    records = read_history(store, model_name)
    if not records:
        raise InputError(f"model {model_name!r} has no champion in {store.uri}")
    to = to or rollback_target(records) or ""
    if not to:
        raise InputError(
            f"champion {records[-1]['version']} of {model_name!r} has no earlier champion to return to"
        )
    return set_champion(store_uri, model_name, to, action="rollback", now=now)
