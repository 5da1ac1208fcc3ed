"""The machine's own time zone, with its DST rules, as a :class:`datetime.tzinfo`.

``datetime.now().astimezone().tzinfo`` is a fixed offset and goes wrong at the
next DST change; this asks the C library (``time.localtime``) for every instant,
so it follows the system's zone database on every OS.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, tzinfo

_ZERO = timedelta(0)


class LocalTimezone(tzinfo):
    """Local time as the operating system defines it (pattern from the datetime docs)."""

    def _probe(self, dt: datetime) -> time.struct_time:
        naive = dt.replace(tzinfo=None)
        stamp = time.mktime((*naive.timetuple()[:8], -1))
        return time.localtime(stamp)

    def utcoffset(self, dt: datetime | None) -> timedelta:
        if dt is None:
            return timedelta(seconds=-time.timezone)
        return timedelta(seconds=self._probe(dt).tm_gmtoff)

    def dst(self, dt: datetime | None) -> timedelta:
        if dt is None:
            return _ZERO
        probe = self._probe(dt)
        if probe.tm_isdst > 0:
            return timedelta(seconds=probe.tm_gmtoff + time.timezone)
        return _ZERO

    def tzname(self, dt: datetime | None) -> str:
        if dt is None:
            return time.tzname[0]
        return self._probe(dt).tm_zone

    def fromutc(self, dt: datetime) -> datetime:
        stamp = (dt.replace(tzinfo=None) - datetime(1970, 1, 1)).total_seconds()
        local = time.localtime(stamp)
        return datetime(*local[:6], microsecond=dt.microsecond, tzinfo=self)

    def __repr__(self) -> str:
        return "LocalTimezone()"


def get_timezone(name: str | None) -> tzinfo:
    """A zone by IANA name (``"Europe/Berlin"``), or the system's own for ``None``.

    Raises:
        ValueError: for an unknown zone name.
    """
    if name is None or name == "local":
        return LocalTimezone()
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # noqa: PLC0415 - only when named

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f'unknown time zone "{name}" (expected a name like "Europe/Berlin")'
        ) from None
