"""When a recurring run can be replaced without losing or doubling a scheduled tick.

KFP cannot edit a recurring run (kubeflow/pipelines#7441), so a changed schedule is
a new run and the old one's deletion. What the ScheduledWorkflow controller does
at tag 2.17.0 (``backend/src/crd/controller/scheduledworkflow/util/cron_schedule.go``
and ``scheduled_workflow.go``):

- a run's next tick is ``cron.Next(max(last triggered, start_time))``; before its
  first tick "last triggered" is ``start_time`` when set, else the creation time;
- with ``no_catchup`` a run whose next tick is already past fires once, at once
  (the latest due tick); a deleted run fires nothing more;
- cron has six fields, seconds first (robfig/cron v1), evaluated in the
  controller's time zone (UTC unless ``CRON_SCHEDULE_TIMEZONE`` is set).

So kfops hands over at a moment ``H``: the new run gets ``start_time = H`` and the
old one is deleted right after. The old run has fired every tick up to ``H``; the
new one fires every tick after ``H``. The one risk is a tick inside the hand-off
itself (between ``H`` and the old run's deletion, widened by the controller's
reaction time and clock skew): it could run twice or not at all. kfops therefore
hands over only in a quiet moment, waiting (at most :data:`MAX_WAIT` seconds) until
no tick of the old or new cron lies within :data:`GUARD` seconds before ``H`` or
:data:`GUARD` + :data:`BUDGET` seconds after it. A cron that fires more often than
that leaves no quiet moment; then the hand-off goes ahead and reports the tick it
may have affected. The guarantee, stated once: **no tick is lost or doubled when
the hand-off's requests finish within BUDGET seconds; otherwise at most the ticks
reported in the hand-off's warning are affected.**
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

GUARD = 15.0  # controller reaction time plus clock skew, either side of the hand-off (seconds)
BUDGET = 30.0  # time the hand-off's own requests may take (seconds)
MAX_WAIT = 150.0  # longest wait for a quiet moment before handing over anyway (seconds)


def ticks(cron: str, after: datetime, until: datetime) -> list[datetime]:
    """The ticks of a KFP cron (six fields, seconds first) in ``(after, until]``, in UTC."""
    from croniter import croniter

    found: list[datetime] = []
    schedule = croniter(cron, after.astimezone(UTC), second_at_beginning=True)
    while len(found) < 10_000:
        tick = schedule.get_next(datetime)
        if tick > until:
            break
        found.append(tick)
    return found


def quiet_moment(crons: list[str], now: datetime) -> datetime | None:
    """The earliest moment from ``now`` with no tick of ``crons`` too close; ``None`` if none soon."""
    moment = now
    limit = now + timedelta(seconds=MAX_WAIT)
    while moment <= limit:
        near = [
            t
            for cron in crons
            for t in ticks(
                cron, moment - timedelta(seconds=GUARD), moment + timedelta(seconds=GUARD + BUDGET)
            )
        ]
        if not near:
            return moment
        moment = max(near) + timedelta(seconds=GUARD)
    return None


def affected(crons: list[str], start: datetime, end: datetime) -> list[datetime]:
    """Ticks that fell too close to a hand-off that ran from ``start`` to ``end``."""
    return sorted(
        {
            t
            for cron in crons
            for t in ticks(cron, start - timedelta(seconds=GUARD), end + timedelta(seconds=GUARD))
        }
    )
