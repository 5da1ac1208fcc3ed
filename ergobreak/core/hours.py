"""Working hours in local time (R8): outside them nothing is counted or prompted.

:func:`working_state` is a pure function of a wall-clock reading. Intervals are
laid out in local wall time and each boundary is converted to POSIX time on its
own, so DST days are as long as they really are and 09:00 stays 09:00. Where the
clock jumps, a boundary is the first instant the clock shows that time or a later
one: a time the clock skips (02:30 on a spring-forward night) is the moment it
skips to (03:00), and a time it shows twice (a fall-back night) is its first
showing, so a repeated hour is inside a span once, not twice.
:class:`WorkingHours` follows it on the core's monotonic time base.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone, tzinfo

from ergobreak.core.settings import ScheduleSettings

_DAY_MINUTES = 24 * 60
_DAY = 86_400.0
_NAIVE_EPOCH = datetime(1970, 1, 1)
#: Wall-clock drift (against ``t``) beyond which working hours are re-evaluated.
WALL_JUMP = 1.0


def _local(stamp: float, tz: tzinfo) -> datetime:
    return datetime.fromtimestamp(stamp, tz).replace(tzinfo=None)


def _offset(stamp: float, tz: tzinfo) -> float:
    """Seconds the clock in ``tz`` is ahead of UTC at ``stamp``."""
    utc = datetime.fromtimestamp(stamp, timezone.utc).replace(tzinfo=None)
    return (_local(stamp, tz) - utc).total_seconds()


def _epoch(local: datetime, tz: tzinfo) -> float:
    """The first POSIX instant at which the clock in ``tz`` shows ``local`` or later.

    Only ``fromtimestamp`` (UTC to local, which every tzinfo answers exactly) is
    asked: the other way, ``replace(tzinfo=tz).timestamp()``, puts a skipped time
    an hour late with zoneinfo and an hour early with the C library, and picks
    either showing of a repeated time.
    """
    naive = (local - _NAIVE_EPOCH).total_seconds()  # ``local`` read as if it were UTC
    # The offsets in force around it: one, or the two on either side of a change.
    offsets = {_offset(stamp, tz) for stamp in (naive - _DAY, naive, naive + _DAY)}
    candidates = sorted(naive - offset for offset in offsets)
    shown = [stamp for stamp in candidates if _local(stamp, tz) == local]
    if shown:
        return shown[0]
    # Skipped: the clock jumps past ``local`` between the candidates; find the jump.
    lo, hi = candidates[0], candidates[-1]
    while hi - lo > 1.0:
        mid = math.floor((lo + hi) / 2)
        if _local(mid, tz) >= local:
            hi = mid
        else:
            lo = mid
    return hi


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
        if start_e >= end_e:
            continue  # the whole span lies in an hour the clock skipped
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


class WorkingHours:
    """Inside working hours or not, and the ``t`` of the next change.

    The next boundary is placed on the monotonic base once (``wall - t`` is the
    ``offset``), so no duration ever depends on the wall clock. When the wall clock
    steps (manual change, NTP), only the boundary is placed again. Every method that
    re-evaluates returns ``True`` when working hours were on and are now over, so
    the machine can close an open cycle.
    """

    __slots__ = ("inside", "offset", "schedule", "tz", "until")

    def __init__(self, schedule: ScheduleSettings, tz: tzinfo) -> None:
        self.schedule = schedule
        self.tz = tz
        #: ``wall - t`` when the boundary was last placed
        self.offset = 0.0
        self.inside = True
        #: ``t`` of the next change (``inf``: none)
        self.until = math.inf

    def start(self, t: float, wall: float) -> None:
        self.offset = wall - t
        self.refresh(t)

    def refresh(self, t: float) -> bool:
        before = self.inside
        inside, change = working_state(self.schedule, t + self.offset, self.tz)
        self.inside = inside
        self.until = change - self.offset if not math.isinf(change) else math.inf
        return before and not inside

    def cross(self, t: float) -> bool:
        """``t`` reached :attr:`until`: working hours begin or end."""
        ended = self.refresh(t)
        if self.until <= t:  # pragma: no cover - defensive
            self.until = t + 1.0
        return ended

    def follow_clock(self, t: float, wall: float) -> bool:
        """Place the boundary again if the wall clock jumped since the last reading."""
        offset = wall - t
        if abs(offset - self.offset) <= WALL_JUMP:
            return False
        self.offset = offset
        return self.refresh(t)

    def reschedule(self, schedule: ScheduleSettings, t: float) -> bool:
        if schedule == self.schedule:
            return False
        self.schedule = schedule
        return self.refresh(t)

    def change_in(self, t: float) -> float | None:
        """Seconds until working hours begin or end (``None``: never)."""
        return None if math.isinf(self.until) else max(0.0, self.until - t)


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
