"""Tick computation of the ScheduledWorkflow controller, rule by rule from KFP 2.17.0.

Go sources (tag 2.17.0, commit 4a3592cb2dd0a91a4652ab93893ec8beda1f3158):
backend/src/crd/controller/scheduledworkflow/util/cron_schedule.go,
.../util/periodic_schedule.go, .../util/scheduled_workflow.go, and robfig/cron v1.2.0
(the version in KFP's go.mod:43) for the cron syntax.

The controller's time zone is the pod's local zone unless CRON_SCHEDULE_TIMEZONE is set
(upstream: backend/src/crd/controller/scheduledworkflow/util/const.go:32-38); the fake
uses UTC (a container's local zone).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from croniter import croniter

MAX_EPOCH = 2**63 - 1  # math.MaxInt64 / maxTime: "no next schedule"

# robfig/cron v1.2.0 parser.go: descriptors accepted by cron.Parse (defaultParser has
# the Descriptor option, parser.go:174-176).
_DESCRIPTORS = {
    "@yearly": "0 0 0 1 1 *",
    "@annually": "0 0 0 1 1 *",
    "@monthly": "0 0 0 1 * *",
    "@weekly": "0 0 0 * * 0",
    "@daily": "0 0 0 * * *",
    "@midnight": "0 0 0 * * *",
    "@hourly": "0 0 * * * *",
}
_GO_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)(h|m|s|ms|us|µs|ns))+$")


def _parse_go_duration(text: str) -> float:
    if not _GO_DURATION.match(text):
        raise ValueError(f"time: invalid duration {text!r}")
    scale = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
    return sum(float(n) * scale[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)(h|m|s|ms|us|µs|ns)", text))


@dataclass(frozen=True)
class CronSpec:
    """A parsed robfig/cron v1 spec: a 6-field expression (seconds first) or ``@every``."""

    fields: str | None
    every: float | None = None

    def next(self, after: float) -> float:
        """The first tick strictly after ``after`` (robfig Schedule.Next, whole seconds)."""
        if self.every is not None:
            # ConstantDelaySchedule.Next: t + delay, rounded down to the second
            # (robfig/cron v1.2.0 constantdelay.go); delays under 1s become 1s.
            return float(int(after) + max(1, int(self.every)))
        assert self.fields is not None
        start = datetime.fromtimestamp(int(after), UTC)
        return float(croniter(self.fields, start, second_at_beginning=True).get_next(float))


def parse_cron(spec: str) -> CronSpec:
    """cron.Parse of robfig/cron v1.2.0, which KFP uses to validate a schedule.

    upstream: backend/src/apiserver/server/api_converter.go:2087-2092 (validation at
    create time) and backend/src/crd/controller/scheduledworkflow/util/cron_schedule.go:84
    (the controller parses it again). defaultParser = Second | Minute | Hour | Dom | Month
    | DowOptional | Descriptor (robfig/cron v1.2.0 parser.go:174-176): 6 fields, seconds
    first, and the day-of-week may be omitted - so a 5-field *Unix* cron such as
    "0 3 * * *" is accepted but means second=0 minute=3 every hour (parser.go:94-108
    fills the missing day-of-week with "*").
    """
    if not spec:
        raise ValueError("Empty spec string")
    if spec.startswith("@"):
        if spec.startswith("@every "):
            return CronSpec(None, _parse_go_duration(spec.removeprefix("@every ").strip()))
        if spec in _DESCRIPTORS:
            return CronSpec(_DESCRIPTORS[spec])
        raise ValueError(f"Unrecognized descriptor: {spec}")
    fields = spec.split()
    if not 5 <= len(fields) <= 6:
        raise ValueError(f"Expected 5 to 6 fields, found {len(fields)}: {spec}")
    if len(fields) == 5:
        fields.append("*")
    # robfig v1 bounds: seconds 0-59, minutes 0-59, hours 0-23, dom 1-31, month 1-12,
    # dow 0-6 (parser.go:140-150); croniter would also accept dow 7.
    dow = fields[5]
    if re.search(r"(^|[,-/])7($|[,-/])", dow):
        raise ValueError(f"End of range (7) above maximum (6): {dow}")
    expr = " ".join(fields)
    if not croniter.is_valid(expr, second_at_beginning=True):
        raise ValueError(f"Failed to parse cron {spec!r}")
    return CronSpec(expr)


@dataclass
class Schedule:
    """The trigger and status of one ScheduledWorkflow (the controller's view)."""

    created: float  # creationTimestamp of the SWF (the API create time)
    cron: str | None = None
    interval: int | None = None  # periodic_schedule.interval_second
    start: float | None = None
    end: float | None = None
    no_catchup: bool = False
    enabled: bool = True
    last_triggered: float | None = None  # status.trigger.lastTriggeredTime

    def next_epoch(self, now: float) -> float:
        """getNextScheduledEpoch.

        upstream: backend/src/crd/controller/scheduledworkflow/util/scheduled_workflow.go:219-253
        """
        catchup = not self.no_catchup  # scheduled_workflow.go:220-223
        if self.interval is not None:  # scheduled_workflow.go:225-236
            return self._periodic(now, catchup)
        if self.cron is not None:  # scheduled_workflow.go:239-250
            return self._cron(now, catchup)
        # No trigger at all: a one-off run at creation (scheduled_workflow.go:252, 255-261).
        return MAX_EPOCH if self.last_triggered is not None else int(self.created)

    def _cron(self, now: float, catchup: bool) -> float:
        spec = parse_cron(self.cron or "")
        # getEffectiveLastJobTime: last triggered time, else start_time, else the
        # creation time (cron_schedule.go:62-76).
        if self.last_triggered is not None:
            effective = self.last_triggered
        elif self.start is not None:
            effective = self.start
        else:
            effective = int(self.created)
        # getNextScheduledTimeImp: from max(effective, start_time) (cron_schedule.go:92-95).
        base = effective
        if self.start is not None and self.start > base:
            base = self.start
        result = spec.next(base)  # cron_schedule.go:97
        end = self.end if self.end is not None else MAX_EPOCH
        if end < result:  # cron_schedule.go:98-105
            return MAX_EPOCH
        if catchup:  # cron_schedule.go:108-110: run the missed ticks one by one
            return result
        nxt = result  # cron_schedule.go:114-124: skip to the last tick due by now
        while True:
            after = spec.next(nxt)
            if after <= now and after <= end:
                nxt = after
            else:
                return nxt

    def _periodic(self, now: float, catchup: bool) -> float:
        interval = self.interval or 1  # periodic_schedule.go:70-76 (0 means 1s)
        # GetNextScheduledEpoch (periodic_schedule.go:42-51): last job, else start, else creation.
        if self.last_triggered is not None:
            effective = int(self.last_triggered)
        elif self.start is not None:
            effective = int(self.start)
        else:
            effective = int(self.created)
        # getNextScheduledEpoch (periodic_schedule.go:53-68): a start_time later than the last
        # triggered time is itself the next tick; otherwise last + interval (so the first
        # tick of a new run is start_time + interval, or creation + interval).
        if self.start is not None and self.start > effective:
            result = int(self.start)
        else:
            result = effective + interval
            if self.end is not None and self.end < result:
                return MAX_EPOCH
        if catchup:
            return result
        # GetNextScheduledEpochNoCatchup (periodic_schedule.go:78-97): when more than one
        # interval behind, fire once "now" (or at end_time) instead of every missed tick.
        if result + interval <= now:
            if self.end is not None and self.end < now:
                return int(self.end)
            return int(now)
        return result

    def due(self, now: float) -> list[float]:
        """Fire every tick due by ``now``, one per controller sync, like the controller.

        GetNextScheduledEpoch (scheduled_workflow.go:195-217): a disabled SWF never
        fires (:202-204) and its last triggered time stays unchanged, so time passes
        without firing; a fired tick becomes lastTriggeredTime (UpdateStatus,
        scheduled_workflow.go:314-318). The fake assumes every run finishes at once,
        so max_concurrency (:207-209) never holds a tick back.
        """
        fired: list[float] = []
        while self.enabled:
            nxt = self.next_epoch(now)
            if nxt >= MAX_EPOCH or nxt > now:  # :212-214 not yet time
                break
            fired.append(float(nxt))
            self.last_triggered = float(nxt)
        return fired

    def next_after(self, now: float) -> float | None:
        """The next tick the controller would report (status.trigger.nextTriggeredTime)."""
        nxt = self.next_epoch(now)
        return None if nxt >= MAX_EPOCH else float(nxt)
