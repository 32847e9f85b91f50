"""When a schedule hand-off may happen (kfops.handoff): cron ticks as KFP's controller computes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kfops import handoff

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def test_ticks_read_six_field_cron_with_seconds_first() -> None:
    """robfig/cron v1 (what the ScheduledWorkflow controller parses): seconds, minutes, hours, ..."""
    found = handoff.ticks("30 */5 * * * *", T0, T0 + timedelta(minutes=11))
    assert found == [
        T0 + timedelta(seconds=30),
        T0 + timedelta(minutes=5, seconds=30),
        T0 + timedelta(minutes=10, seconds=30),
    ]


def test_ticks_exclude_the_start_and_include_the_end() -> None:
    """``cron.Next(t)`` is strictly after ``t`` (cron_schedule.go), so a tick at the start is not next."""
    assert handoff.ticks("0 0 * * * *", T0, T0 + timedelta(hours=1)) == [T0 + timedelta(hours=1)]


def test_a_moment_far_from_any_tick_is_quiet_at_once() -> None:
    now = T0 + timedelta(minutes=20)
    assert handoff.quiet_moment(["0 0 * * * *"], now) == now


def test_a_tick_about_to_fire_is_waited_out() -> None:
    """Ten seconds before an hourly tick: hand over only once the tick is GUARD seconds past."""
    now = T0 - timedelta(seconds=10)
    moment = handoff.quiet_moment(["0 0 * * * *"], now)
    assert moment == T0 + timedelta(seconds=handoff.GUARD)
    assert handoff.affected(["0 0 * * * *"], moment, moment + timedelta(seconds=handoff.BUDGET)) == []


def test_a_tick_just_fired_is_given_time_to_be_processed() -> None:
    """Five seconds after a tick the controller may not have fired it yet: wait until GUARD has passed."""
    now = T0 + timedelta(seconds=5)
    assert handoff.quiet_moment(["0 0 * * * *"], now) == T0 + timedelta(seconds=handoff.GUARD)


def test_both_crons_of_a_changed_schedule_count() -> None:
    """Old hourly at :00, new at :30 past: near the new one's tick there is no quiet moment yet."""
    now = T0 + timedelta(minutes=29, seconds=50)
    moment = handoff.quiet_moment(["0 0 * * * *", "0 30 * * * *"], now)
    assert moment == T0 + timedelta(minutes=30, seconds=handoff.GUARD)


def test_a_cron_too_frequent_for_a_quiet_moment_is_reported() -> None:
    """Every 10 s leaves no window of GUARD + BUDGET + GUARD seconds: hand over anyway, warn."""
    assert handoff.quiet_moment(["*/10 * * * * *"], T0) is None
    assert handoff.affected(["*/10 * * * * *"], T0, T0 + timedelta(seconds=1)) != []


def test_kfops_waits_at_most_150_seconds_for_a_quiet_moment() -> None:
    """Ticks at :00, :01 and :02 push the quiet moment to 12:02:15; the wait is capped at 150 s
    (as the changelog promises), so from 11:59:45 it is found and from a second earlier it is not."""
    crons = ["0 0,1,2 * * * *"]
    assert handoff.quiet_moment(crons, T0 - timedelta(seconds=15)) == T0 + timedelta(minutes=2, seconds=15)
    assert handoff.quiet_moment(crons, T0 - timedelta(seconds=16)) is None


def test_a_quiet_moment_has_no_tick_within_15_seconds_before_or_45_after() -> None:
    """The window the changelog states: a tick 45 s after the start or 14 s before it is too
    close; one 46 s after or 15 s before (outside the open interval) is not."""
    start = T0 + timedelta(minutes=10)
    for seconds, quiet in ((45, False), (46, True), (-14, False), (-15, True)):
        tick = start + timedelta(seconds=seconds)
        cron = f"{tick.second} {tick.minute} {tick.hour} * * *"
        assert (handoff.quiet_moment([cron], start) == start) is quiet, seconds
