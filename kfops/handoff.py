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

So kfops hands over by creating the new run (enabled) and deleting the old one
right after. The new run's first tick is the first after its creation ``C``; the old
run fires every tick until its deletion ``D``. Ticks up to ``C`` are the old run's,
ticks after ``D`` the new one's; a tick inside ``(C, D]`` (the delete request,
widened by the controller's reaction time and clock skew) could fire twice, and one
just before ``C`` that the controller has not fired yet could be lost. kfops
therefore hands over only in a quiet moment: it waits (at most :data:`MAX_WAIT`
seconds) until no tick of the old or new cron lies within :data:`GUARD` seconds
before the hand-off or :data:`GUARD` + :data:`BUDGET` seconds after its start. A
cron that fires more often than that leaves no quiet moment; the hand-off then goes
ahead and reports the ticks it may have affected, as it does when its requests
take longer than BUDGET.

``trigger.cron_schedule.start_time`` adds nothing here: in this order the new run's
creation time is already the right start, and a ``start_time`` before a slow
creation would make the new run catch up a tick the old run also fires.

The guarantee, stated once: **no tick is lost or doubled when the hand-off's
requests finish within BUDGET seconds of its start; otherwise at most the ticks
named in the hand-off's warning are affected.** Creating first means a failure
half-way leaves the old run scheduling (and, if the delete failed, both; the next
deploy deletes the extra one), never no run at all.
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
