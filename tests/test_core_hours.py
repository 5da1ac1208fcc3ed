"""Working hours on the core's monotonic time base (R8): boundaries, clock jumps, reloads."""

from __future__ import annotations

import math
from datetime import datetime, timezone

from ergobreak.core.hours import WALL_JUMP, WorkingHours
from ergobreak.core.settings import ScheduleSettings

NINE_TO_FIVE = ScheduleSettings(days=frozenset(range(7)), hours=((9 * 60, 17 * 60),))
#: Monday 2026-01-05 08:00 UTC, as a wall-clock reading
EIGHT = datetime(2026, 1, 5, 8, 0, tzinfo=timezone.utc).timestamp()
HOUR = 3600.0


def hours_from_eight(t: float = 1000.0) -> WorkingHours:
    hours = WorkingHours(NINE_TO_FIVE, timezone.utc)
    hours.start(t, EIGHT)  # t and wall differ: boundaries land on the t base
    return hours


def test_the_next_change_is_placed_on_the_t_base() -> None:
    hours = hours_from_eight()
    assert not hours.inside
    assert hours.until == 1000.0 + HOUR
    assert hours.change_in(1000.0 + HOUR / 2) == HOUR / 2


def test_crossing_a_boundary_says_when_working_hours_end() -> None:
    hours = hours_from_eight()
    assert not hours.cross(hours.until)  # 09:00: they begin
    assert hours.inside
    assert hours.until == 1000.0 + 9 * HOUR
    assert hours.cross(hours.until)  # 17:00: they end
    assert not hours.inside


def test_a_wall_clock_jump_moves_the_boundary_and_small_drift_does_not() -> None:
    hours = hours_from_eight()
    hours.cross(hours.until)  # 09:00
    t = 1000.0 + 2 * HOUR
    assert not hours.follow_clock(t, EIGHT + 2 * HOUR + WALL_JUMP)  # drift: ignored
    assert hours.until == 1000.0 + 9 * HOUR
    assert hours.follow_clock(t, EIGHT + 10 * HOUR)  # set forward to 18:00
    assert not hours.inside
    assert hours.until == t + 15 * HOUR  # 09:00 tomorrow by the new clock


def test_a_new_schedule_is_applied_at_once() -> None:
    hours = hours_from_eight()
    assert not hours.reschedule(NINE_TO_FIVE, 1000.0)
    assert not hours.reschedule(ScheduleSettings(enabled=False), 1000.0)
    assert hours.inside
    assert hours.change_in(1000.0) is None
    assert hours.until == math.inf
