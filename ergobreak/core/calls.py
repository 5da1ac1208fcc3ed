"""How long a call lasted, for the drill prompt that follows it (R9).

The machine tells it when a call begins and ends; a call that drops and comes back
within the catch-up delay (a reconnect) counts as one call.
"""

from __future__ import annotations

import math


class CallClock:
    """How long the current or last call lasted. A call that drops and comes back
    within the catch-up delay (a reconnect) is one call."""

    __slots__ = ("began", "ended", "first")

    def __init__(self) -> None:
        #: when the call in progress began (``None``: no call now)
        self.began: float | None = None
        #: when the last call began and ended
        self.first = 0.0
        self.ended = -math.inf

    def begin(self, t: float, rejoin: float) -> None:
        if self.began is None:
            self.began = self.first if t - self.ended <= rejoin else t

    def end(self, t: float) -> None:
        if self.began is not None:
            self.first, self.ended, self.began = self.began, t, None

    def holds(self, t: float, delay: float) -> bool:
        """A call is on at ``t``, or ended less than ``delay`` ago."""
        return self.began is not None or t < self.ended + delay

    def length(self, t: float) -> float:
        """How long the call on at ``t`` has lasted, else the last call."""
        if self.began is not None:
            return t - self.began
        return max(0.0, self.ended - self.first)
