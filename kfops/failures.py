"""``kfops notify-failures``: tell the team's webhook about failed pipeline runs, once each.

KFP forbids pipeline outputs from inside a ``dsl.ExitHandler``, and every kfops
pipeline returns its record, so failures are watched from outside: this command
(run on a schedule by ``.github/workflows/watch.yml``, or from a laptop) lists the
namespace's runs, posts each newly failed one to the webhook, and keeps a
watermark of end times in the metrics store (a long run created before the
watermark that fails after it is still reported). A run whose notification fails is tried again
next time: the watermark only moves past runs that were delivered.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from components.kfp_api import when
from components.shared.names import LAYOUT
from components.shared.store import open_store
from components.shared.webhook import notify
from kfops.kfp_session import connect

WATERMARK_KEY = f"{LAYOUT.metrics}/notifications/failed-runs.json"
FIRST_LOOKBACK = timedelta(hours=24)  # with no watermark yet, look back this far


def _finished(run: Any) -> datetime:
    """When the run ended (its creation time when the server gives no end time)."""
    return when(run.finished_at or run.created_at)


def failure_message(run: Any, host: str) -> dict[str, Any]:
    """Webhook payload for one failed run (Slack-compatible ``text``)."""
    error = getattr(run.error, "message", None) if run.error else None
    scheduled = f" (recurring run {run.recurring_run_id})" if run.recurring_run_id else ""
    link = f"{host.rstrip('/')}/#/runs/details/{run.run_id}"
    text = f"kfops: run {run.display_name} failed{scheduled}: {error or 'see the KFP UI'} ({link})"
    return {
        "text": text,
        "event": "run_failed",
        "run_id": run.run_id,
        "display_name": run.display_name,
        "recurring_run_id": run.recurring_run_id,
        "created_at": when(run.created_at).isoformat(),
        "error": error,
    }


def notify_failures(
    host: str, token: str, webhook_url: str, store: str, *, namespace: str = "", now: datetime | None = None
) -> dict[str, Any]:
    """Post every failed run newer than the watermark, oldest first; move the watermark.

    Returns:
        ``{"notified": [run ids], "pending": [run ids not delivered], "since": watermark}``.
    """
    backend = open_store(store)
    state = json.loads(backend.read(WATERMARK_KEY)) if backend.exists(WATERMARK_KEY) else {}
    since = when(state["since"]) if state.get("since") else (now or datetime.now(UTC)) - FIRST_LOOKBACK
    seen = set(state.get("seen", []))
    api, _ = connect(host, token, namespace)
    runs = api.list_runs(sort_by="created_at")
    failed = sorted(
        (r for r in runs if str(r.state) == "FAILED" and _finished(r) >= since and r.run_id not in seen),
        key=_finished,
    )
    notified: list[str] = []
    pending = [r.run_id for r in failed]
    for run in failed:
        if not notify(webhook_url, failure_message(run, host)):
            break  # keep it (and everything after it) for the next attempt
        notified.append(pending.pop(0))
        finished = _finished(run)
        if finished > since:
            since, seen = finished, set()
        seen.add(run.run_id)
    if notified:
        backend.write(WATERMARK_KEY, json.dumps({"since": since.isoformat(), "seen": sorted(seen)}).encode())
    return {"notified": notified, "pending": pending, "since": since.isoformat()}
