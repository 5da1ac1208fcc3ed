"""The backstop for missed sleep signals: compare a clock that stops during sleep with
one that does not, at each wake-up of the daemon (no thread, no timer).

Per platform the pair is exact where the OS offers it -- Linux CLOCK_MONOTONIC vs
CLOCK_BOOTTIME, macOS CLOCK_UPTIME_RAW vs CLOCK_MONOTONIC, Windows
QueryUnbiasedInterruptTime vs GetTickCount64 -- and monotonic vs wall clock
elsewhere (then a manual clock change of more than ``threshold`` also looks like
sleep, which costs at most a cancelled prompt).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

Clock = Callable[[], float]


def default_clocks() -> tuple[Clock, Clock, str]:
    """(stops in sleep, keeps counting, description) for this platform."""
    if sys.platform.startswith("linux") and hasattr(time, "CLOCK_BOOTTIME"):
        boot = time.CLOCK_BOOTTIME
        return (
            lambda: time.clock_gettime(time.CLOCK_MONOTONIC),
            lambda: time.clock_gettime(boot),
            "CLOCK_MONOTONIC vs CLOCK_BOOTTIME",
        )
    if sys.platform == "darwin" and hasattr(time, "CLOCK_UPTIME_RAW"):
        uptime = time.CLOCK_UPTIME_RAW
        return (
            lambda: time.clock_gettime(uptime),
            lambda: time.clock_gettime(time.CLOCK_MONOTONIC),
            "CLOCK_UPTIME_RAW vs CLOCK_MONOTONIC",
        )
    if sys.platform == "win32":
        from ergobreak.platform.windows import sleep_clocks  # noqa: PLC0415

        clocks = sleep_clocks()
        if clocks is not None:
            return (*clocks, "QueryUnbiasedInterruptTime vs GetTickCount64")
    return time.monotonic, time.time, "monotonic vs wall clock"


class TimeJump:
    """Call :meth:`check` at every wake-up; it returns the seconds slept since the
    previous call, or None."""

    name = "timejump"

    def __init__(
        self,
        steady: Clock | None = None,
        reference: Clock | None = None,
        threshold: float = 30.0,
    ) -> None:
        if steady is None or reference is None:
            steady, reference, self.detail = default_clocks()
        else:
            self.detail = "custom clocks"
        self._steady = steady
        self._reference = reference
        self.threshold = threshold
        self._last = (steady(), reference())

    def check(self) -> float | None:
        now = (self._steady(), self._reference())
        lost = (now[1] - self._last[1]) - (now[0] - self._last[0])
        self._last = now
        return lost if lost > self.threshold else None  # a clock set back is no sleep
