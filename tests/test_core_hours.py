"""Working hours on the core's monotonic time base (R8): boundaries, clock jumps, reloads."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ergobreak.core.hours import WALL_JUMP, WorkingHours, parse_hours, working_state
from ergobreak.core.settings import ScheduleSettings
from ergobreak.localtz import LocalTimezone

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


# --------------------------------------------------------------------------- DST
# Real zone data for two zones, through zoneinfo and through the C library (the
# daemon's own LocalTimezone); each day below is a Sunday with a DST change.

BERLIN, NEW_YORK = "Europe/Berlin", "America/New_York"
SPRING = {BERLIN: date(2026, 3, 29), NEW_YORK: date(2026, 3, 8)}  # 02:00 -> 03:00
FALL = {BERLIN: date(2026, 10, 25), NEW_YORK: date(2026, 11, 1)}  # repeats 02:00 / 01:00
#: the hour each zone's clock shows twice on its fall-back night
REPEATED = {BERLIN: 2, NEW_YORK: 1}


@pytest.fixture(params=["zoneinfo", "libc"])
def zone(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[str], tzinfo]]:
    """A zone by name, as ZoneInfo or as the C library's local time (TZ set, tzset)."""

    def get(name: str) -> tzinfo:
        if request.param == "zoneinfo":
            return ZoneInfo(name)
        monkeypatch.setenv("TZ", name)
        time.tzset()
        return LocalTimezone()

    yield get
    monkeypatch.undo()
    time.tzset()


def utc(day: date, hour: int, minute: int = 0) -> float:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=timezone.utc).timestamp()


def spans(start: str, end: str) -> ScheduleSettings:
    """Every day, one span; ``start``/``end`` as in the config (``"02:30"``)."""
    (a, b) = parse_hours(f"{start}-{end}")
    return ScheduleSettings(days=frozenset(range(7)), hours=((a, b),))


def inside_seconds(schedule: ScheduleSettings, tz: tzinfo, begin: float, end: float) -> float:
    """How long working hours last in ``[begin, end)``, following their boundaries."""
    total, wall = 0.0, begin
    while wall < end:
        inside, change = working_state(schedule, wall, tz)
        nxt = min(change, end)
        if inside:
            total += nxt - wall
        wall = nxt
    return total


@pytest.mark.parametrize(
    ("name", "first_instant"),
    [(BERLIN, (1, 0)), (NEW_YORK, (7, 0))],  # 03:00 CEST and 03:00 EDT, in UTC
)
def test_hours_that_start_in_the_skipped_hour_begin_when_the_clock_jumps(
    zone: Callable[[str], tzinfo], name: str, first_instant: tuple[int, int]
) -> None:
    tz, day = zone(name), SPRING[name]
    schedule = spans("02:30", "04:00")
    midnight = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(name)).timestamp()
    inside, change = working_state(schedule, midnight, tz)
    assert (inside, change) == (False, utc(day, *first_instant))  # not 30 min late
    inside, end = working_state(schedule, change, tz)
    assert inside
    assert end - change == HOUR  # 03:00-04:00: that night the span is an hour long


@pytest.mark.parametrize("name", [BERLIN, NEW_YORK])
def test_a_span_inside_the_skipped_hour_does_not_happen_that_night(
    zone: Callable[[str], tzinfo], name: str
) -> None:
    tz, day = zone(name), SPRING[name]
    night = utc(day, 0) - 6 * HOUR, utc(day, 0) + 18 * HOUR
    assert inside_seconds(spans("02:10", "02:50"), tz, *night) == 0.0
    assert (
        inside_seconds(spans("02:10", "02:50"), tz, night[0] + 7 * 86400, night[1] + 7 * 86400) > 0
    )


@pytest.mark.parametrize("name", [BERLIN, NEW_YORK])
def test_the_repeated_hour_of_a_fall_back_night_is_counted_once(
    zone: Callable[[str], tzinfo], name: str
) -> None:
    tz, day = zone(name), FALL[name]
    hour = REPEATED[name]
    # From half past the repeated hour's start to half past its end: one real hour,
    # though the clock shows the first half of it twice that night.
    schedule = spans(f"{hour - 1:02d}:30", f"{hour:02d}:30")
    night = utc(day, 0) - 6 * HOUR, utc(day, 0) + 18 * HOUR
    assert inside_seconds(schedule, tz, *night) == HOUR
    # ...and it is the first showing: the second one is outside working hours.
    first = working_state(schedule, night[0], tz)[1]
    assert datetime.fromtimestamp(first, ZoneInfo(name)).fold == 0
    second_showing = first + HOUR + HOUR / 2  # hour:00 again, on the second pass
    assert not working_state(schedule, second_showing, tz)[0]


@settings(deadline=None)
@given(
    name=st.sampled_from([BERLIN, NEW_YORK]),
    change=st.sampled_from(["spring", "fall"]),
    start=st.integers(0, 24 * 60 - 1),
    length=st.integers(1, 12 * 60),
)
@example(name=BERLIN, change="spring", start=150, length=450)  # 02:30 in Berlin
@example(name=NEW_YORK, change="spring", start=150, length=450)  # 02:30 in New York
@example(name=BERLIN, change="fall", start=150, length=60)  # in the repeated hour
def test_every_boundary_is_the_first_instant_the_clock_reaches_it(
    name: str, change: str, start: int, length: int
) -> None:
    """Against a minute-by-minute walk of the real clock (changes fall on whole minutes)."""
    tz = ZoneInfo(name)
    day = (SPRING if change == "spring" else FALL)[name]
    end = (start + length) % (24 * 60)
    schedule = ScheduleSettings(days=frozenset(range(7)), hours=((start, end),))
    midnight = datetime(day.year, day.month, day.day)

    def first_showing(local: datetime, walk: float) -> float:
        while datetime.fromtimestamp(walk, tz).replace(tzinfo=None) < local:
            walk += 60
        return walk

    begins = first_showing(midnight + timedelta(minutes=start), utc(day, 0) - 14 * HOUR)
    ends = first_showing(midnight + timedelta(minutes=start + length), begins)
    before = begins - 12 * HOUR  # outside the span, unless it is long and wraps
    inside, change_at = working_state(schedule, before, tz)
    if inside:
        return
    if begins < ends:
        assert change_at == begins
        assert working_state(schedule, begins, tz) == (True, ends)
    else:  # wholly inside the skipped hour: not that night
        assert change_at > begins
