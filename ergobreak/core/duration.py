"""Durations as people write them in config and traces: ``"20m"``, ``"90s"``, ``"1h30m"``.

Config values must carry a unit, so ``20`` can never silently mean 20 seconds when
someone meant minutes. Traces also accept a bare number of seconds.
"""

from __future__ import annotations

import re

_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|h|m|s)")
_WHOLE = re.compile(r"^\s*(?:\d+(?:\.\d+)?\s*(?:ms|h|m|s)\s*)+$")


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


def format_duration(seconds: float) -> str:
    """Format seconds compactly, the inverse of :func:`parse_duration` for whole seconds."""
    if seconds < 0:
        return "-" + format_duration(-seconds)
    whole = round(seconds)
    if abs(seconds - whole) > 1e-6:
        return f"{seconds:g}s"
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    if hours:
        parts.append(f"{hours}h")
    if minutes:
        parts.append(f"{minutes}m")
    if secs or not parts:
        parts.append(f"{secs}s")
    return "".join(parts)


def format_clock(seconds: float) -> str:
    """``h:mm:ss`` or ``m:ss`` for timelines and countdowns."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"
