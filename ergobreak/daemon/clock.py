"""The time base the core needs: monotonic seconds that keep counting during sleep.

Linux: CLOCK_BOOTTIME (CLOCK_MONOTONIC stops while suspended). macOS:
clock_gettime(CLOCK_MONOTONIC), which Apple documents as counting during sleep
(``time.monotonic`` there does not). Elsewhere ``time.monotonic`` (Windows' QPC
counts through sleep). The wall clock is only for working hours.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def wall(self) -> float: ...


def _pick_monotonic() -> Callable[[], float]:
    boottime = getattr(time, "CLOCK_BOOTTIME", None)
    if sys.platform.startswith("linux") and boottime is not None:
        return lambda: time.clock_gettime(boottime)
    if sys.platform == "darwin":
        return lambda: time.clock_gettime(time.CLOCK_MONOTONIC)
    return time.monotonic


class SystemClock:
    def __init__(self) -> None:
        self.monotonic = _pick_monotonic()

    def wall(self) -> float:
        return time.time()


class FakeClock:
    """A clock tests move by hand (it never goes backwards)."""

    def __init__(self, start: float = 1000.0, wall: float = 1_767_600_000.0) -> None:
        self._t = start
        self._offset = wall - start

    def monotonic(self) -> float:
        return self._t

    def wall(self) -> float:
        return self._t + self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time only moves forward")
        self._t += seconds

    def jump_wall(self, seconds: float) -> None:
        self._offset += seconds
