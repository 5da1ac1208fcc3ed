"""Working hours in local time, as a pure function of a wall-clock reading.

Intervals are laid out in local wall time and each boundary is converted to POSIX
time on its own, so DST days are as long as they really are and 09:00 stays 09:00.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, tzinfo

from ergobreak.core.settings import ScheduleSettings

_DAY_MINUTES = 24 * 60


def _epoch(local: datetime, tz: tzinfo) -> float:
    return local.replace(tzinfo=tz).timestamp()


def working_state(schedule: ScheduleSettings, wall: float, tz: tzinfo) -> tuple[bool, float]:
    """Return ``(inside working hours, POSIX time of the next change)``.

    The next change is ``inf`` when nothing will ever change (hours disabled, or
    no working day at all).
    """
    if not schedule.enabled:
        return True, math.inf
    local = datetime.fromtimestamp(wall, tz).replace(tzinfo=None)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    spans: list[tuple[float, float]] = []
    # Yesterday's spans may run past midnight; a week and a bit covers any pattern.
    for offset in range(-1, 9):
        day = midnight + timedelta(days=offset)
        if day.weekday() not in schedule.days:
            continue
        for start, end in schedule.hours:
            stop = end + _DAY_MINUTES if end <= start else end
            spans.append(
                (
                    _epoch(day + timedelta(minutes=start), tz),
                    _epoch(day + timedelta(minutes=stop), tz),
                )
            )
    spans.sort()
    merged: list[list[float]] = []
    for start_e, end_e in spans:
        if merged and start_e <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end_e)
        else:
            merged.append([start_e, end_e])
    for start_e, end_e in merged:
        if start_e <= wall < end_e:
            return True, end_e
        if wall < start_e:
            return False, start_e
    return False, math.inf


def parse_hours(text: str) -> tuple[int, int]:
    """Parse ``"09:00-17:30"`` into minutes after midnight; ``24:00`` may end a span.

    Raises:
        ValueError: with a message saying what was expected.
    """
    parts = text.replace(" ", "").split("-")
    if len(parts) != 2:
        raise ValueError(f'expected hours like "09:00-17:30", got "{text}"')
    minutes = []
    for part in parts:
        hh, sep, mm = part.partition(":")
        if not sep or not hh.isdigit() or not mm.isdigit() or len(mm) != 2:
            raise ValueError(f'expected hours like "09:00-17:30", got "{text}"')
        value = int(hh) * 60 + int(mm)
        if int(mm) >= 60 or value > _DAY_MINUTES:
            raise ValueError(f'"{part}" is not a time of day (00:00 to 24:00) in "{text}"')
        minutes.append(value)
    start, end = minutes
    if start == _DAY_MINUTES:
        raise ValueError(f'a span cannot start at 24:00 in "{text}"')
    if start == end:
        raise ValueError(f'a span needs different start and end times, got "{text}"')
    return start, end


def format_hours(span: tuple[int, int]) -> str:
    start, end = span
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"
