"""Durations: parsed from config and traces, and said to people, in one place.

Config values must carry a unit, so ``20`` can never silently mean 20 seconds when
someone meant minutes. Traces also accept a bare number of seconds.

Every surface (tray, notifications, CLI, history report, daemon log) says a
duration through one of these styles and never formats seconds itself, so two
surfaces cannot disagree about the same number:

- :func:`format_duration`: config syntax, ``"1h30m"`` (config messages, traces).
- :func:`format_amount`: a length in a sentence, ``"45 min"`` (reload messages, buttons).
- :func:`format_countdown`: time left, ``"3 min"``, rounded up (tray, ``status``).
- :func:`format_clock`: a timer or a timeline, ``"2:05"``, ``"1:00:00"``.
- :func:`format_compact`: desk time in tables and summary lines, ``"4h12m"``.

Time left is always rounded *up* (to the minute by :func:`format_countdown`, to
the second by ``format_clock(..., left=True)``): a countdown never says "0 min"
while time remains, and it reaches zero when the thing happens.
"""

from __future__ import annotations

import math
import re

_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|h|m|s)")
_WHOLE = re.compile(r"^\s*(?:\d+(?:\.\d+)?\s*(?:ms|h|m|s)\s*)+$")
#: float noise (60.000000001 s) must not push a rounded-up countdown a whole unit
_EPSILON = 1e-9


class DurationError(ValueError):
    """A string that is not a duration; the message says what was expected."""


def parse_duration(text: str, *, bare_seconds: bool = False) -> float:
    """Return the number of seconds in ``text``.

    Raises:
        DurationError: ``text`` is not a duration like ``"20m"`` (or, with
            ``bare_seconds``, a plain number of seconds).
    """
    stripped = text.strip().lower()
    if bare_seconds:
        try:
            value = float(stripped)
        except ValueError:
            pass
        else:
            if not 0 <= value < float("inf"):  # also rejects NaN
                raise DurationError(f'expected a duration like "20m", got "{text}"')
            return value
    if not _WHOLE.match(stripped):
        raise DurationError(f'expected a duration like "20m", got "{text}"')
    return sum(float(num) * _UNITS[unit] for num, unit in _PART.findall(stripped))


def _split(whole: int) -> tuple[int, int, int]:
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return hours, minutes, secs


def format_duration(seconds: float) -> str:
    """Config syntax, the inverse of :func:`parse_duration` for whole seconds.

    ``1800`` -> ``30m``, ``5400`` -> ``1h30m``, ``90`` -> ``1m30s``, ``0`` -> ``0s``,
    ``0.5`` -> ``0.5s``.
    """
    if seconds < 0:
        return "-" + format_duration(-seconds)
    whole = round(seconds)
    if abs(seconds - whole) > 1e-6:
        return f"{seconds:g}s"
    hours, minutes, secs = _split(whole)
    parts = []
    if hours:
        parts.append(f"{hours}h")
    if minutes:
        parts.append(f"{minutes}m")
    if secs or not parts:
        parts.append(f"{secs}s")
    return "".join(parts)


def format_amount(seconds: float) -> str:
    """A length of time in a sentence, exact to the second.

    ``2700`` -> ``45 min``, ``90`` -> ``90 s``, ``5400`` -> ``1 h 30 min``,
    ``150`` -> ``2 min 30 s``, ``3600`` -> ``1 h``. Under two minutes a length that
    is not a whole minute reads better in seconds.
    """
    whole = max(0, round(seconds))
    if whole < 120 and whole % 60:
        return f"{whole} s"
    hours, minutes, secs = _split(whole)
    named = ((hours, "h"), (minutes, "min"), (secs, "s"))
    return " ".join(f"{n} {unit}" for n, unit in named if n) or "0 min"


def format_countdown(seconds: float) -> str:
    """Time left in whole minutes, rounded up, at least ``1 min``.

    ``30`` -> ``1 min``, ``150`` -> ``3 min``, ``3600`` -> ``1 h``,
    ``3901`` -> ``1 h 6 min``. Whole minutes keep the text still between
    minute boundaries, so a tray that re-sends only what changed stays quiet.
    """
    total = max(1, math.ceil(seconds / 60 - _EPSILON))
    hours, minutes = divmod(total, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def format_clock(seconds: float, *, left: bool = False) -> str:
    """``m:ss``, or ``h:mm:ss`` from an hour on: a timer or a position in a timeline.

    ``40`` -> ``0:40``, ``125`` -> ``2:05``, ``3600`` -> ``1:00:00`` (never ``60:00``).
    Rounds to the nearest second; with ``left`` (a timer counting down) it rounds
    up like :func:`format_countdown`, so ``0.2`` seconds left shows ``0:01``.
    """
    whole = max(0, math.ceil(seconds - _EPSILON) if left else round(seconds))
    hours, minutes, secs = _split(whole)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def format_compact(seconds: float) -> str:
    """Desk time in whole minutes, compact for table columns and one-line summaries.

    ``0`` -> ``0m``, ``20`` -> ``<1m``, ``2880`` -> ``48m``, ``15120`` -> ``4h12m``,
    ``3600`` -> ``1h00m`` (two-digit minutes keep a column aligned).
    """
    if seconds <= 0:
        return "0m"
    minutes = round(seconds / 60)
    if minutes == 0:
        return "<1m"
    hours, mins = divmod(minutes, 60)
    return f"{hours}h{mins:02d}m" if hours else f"{mins}m"
