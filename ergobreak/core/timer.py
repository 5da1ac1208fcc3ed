"""One desk-time counter running toward its interval.

The core runs three: the posture timer (R3), the drill timer (R4) and, while a
drill is snoozed, the snooze timer. :mod:`~ergobreak.core.presence` and the
machine decide which instants are desk time (R1) and when a timer restarts (R2,
R5); a timer only adds up what it is given and says how far it is from its
interval. ``due`` is a level, not an edge: a prompt held back (quiet, prompt gap)
stays due until the machine acts on it.
"""

from __future__ import annotations


class DeskTimer:
    __slots__ = ("elapsed", "interval")

    def __init__(self, interval: float) -> None:
        #: desk seconds after which the timer is due; the machine updates it on reload
        self.interval = interval
        #: desk seconds since the last reset; the machine adds to it directly (on the
        #: per-sample hot path a method call would show)
        self.elapsed = 0.0

    @property
    def due(self) -> bool:
        return self.elapsed >= self.interval

    def remaining(self, early: float = 0.0) -> float:
        """Desk seconds until ``early`` seconds before the interval; negative once past."""
        return self.interval - early - self.elapsed

    def left(self) -> float:
        """Desk seconds until due, never negative (for display)."""
        return max(0.0, self.interval - self.elapsed)

    def reset(self) -> None:
        self.elapsed = 0.0

    def expire(self) -> None:
        """Make the timer due now (a prompt withdrawn to be offered again at once)."""
        self.elapsed = self.interval
