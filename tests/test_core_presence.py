"""Presence: which instants are desk time (R1) and when an away period is a natural break (R2)."""

from __future__ import annotations

import math

from ergobreak.core.presence import Presence
from ergobreak.core.settings import ActivitySettings

ACTIVITY = ActivitySettings(idle_pause=60.0, natural_break=300.0)


def present_at(t: float) -> Presence:
    presence = Presence(ACTIVITY)
    presence.start(t, idle=0.0)
    return presence


def test_desk_time_runs_until_idle_pause_after_the_last_input() -> None:
    presence = present_at(100.0)
    assert presence.desk_time(100.0, 130.0) == 30.0
    assert presence.desk_time(100.0, 400.0) == 60.0  # then the user counts as gone
    assert presence.desk_time(200.0, 300.0) == 0.0
    assert presence.gone_at == 160.0
    assert not presence.away(160.0)
    assert presence.away(160.5)


def test_nothing_is_desk_time_while_locked_or_asleep() -> None:
    presence = present_at(100.0)
    presence.lock(100.0)
    assert presence.desk_time(100.0, 130.0) == 0.0
    assert presence.away(101.0)
    presence.unlock(110.0)
    presence.sleep(110.0)
    assert presence.desk_time(110.0, 130.0) == 0.0
    presence.wake(120.0)
    assert presence.awake
    assert presence.desk_time(120.0, 130.0) == 10.0


def test_an_away_period_is_a_natural_break_once() -> None:
    presence = present_at(100.0)
    assert presence.break_at == 400.0
    assert presence.take_break(399.0) is None
    assert presence.take_break(400.0) == 300.0
    assert presence.take_break(900.0) is None  # the same away period
    assert presence.break_at == math.inf
    presence.arrive(1000.0)  # back: a new away period may become a break
    assert presence.take_break(1300.0) == 300.0


def test_what_happened_before_the_start_is_not_an_away_period() -> None:
    presence = Presence(ACTIVITY)
    presence.start(100.0, idle=3600.0)  # idle for an hour when we started
    assert presence.take_break(500.0) is None
    assert presence.away_for(500.0) == 400.0  # away counts from the start only
    presence = Presence(ACTIVITY)
    presence.start(100.0, idle=None)
    assert presence.last_input == -math.inf
    assert presence.away_for(100.0) == 0.0


def test_input_on_the_lock_screen_or_before_waking_is_not_presence() -> None:
    presence = present_at(0.0)
    presence.lock(100.0)
    assert presence.input_seen(50.0, since=40.0) is None  # typing the password
    presence.unlock(60.0)
    assert presence.input_seen(55.0, since=60.0) is None  # before the unlock
    assert presence.input_seen(61.0, since=60.0) == 61.0
    presence.sleep(110.0)
    presence.wake(200.0)
    assert presence.input_seen(150.0, since=200.0) is None


def test_input_just_before_the_last_processed_instant_counts_then() -> None:
    presence = present_at(0.0)
    assert presence.input_seen(90.0, since=100.0) == 100.0  # within idle_pause
    assert presence.input_seen(30.0, since=100.0) is None  # long past: only noted
    assert presence.last_input == 30.0


def test_a_drill_keeps_the_break_taken_a_pause_does_not() -> None:
    presence = present_at(0.0)
    assert presence.take_break(300.0) == 300.0
    presence.busy_until(500.0)  # a drill started from the tray ran until 500
    assert presence.away_from == 500.0
    assert presence.take_break(900.0) is None
    presence.restart(1000.0)  # a pause ended
    assert presence.take_break(1300.0) == 300.0
