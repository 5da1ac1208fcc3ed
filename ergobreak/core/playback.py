"""A drill on screen: which step is showing, and when the next one begins.

Steps follow their own timings from the moment the drill started, whatever the
user does meanwhile; the machine decides what a step change shows (nothing while
the screen is locked) and what ends the drill early.
"""

from __future__ import annotations

from ergobreak.core.content import Drill


class Playback:
    __slots__ = ("drill", "offsets", "start", "step")

    def __init__(self, drill: Drill, start: float) -> None:
        self.drill = drill
        self.start = start
        #: index of the step showing
        self.step = 0
        self.offsets = drill.offsets

    @property
    def step_end(self) -> float:
        """``t`` at which the showing step ends (the next begins, or the drill ends)."""
        nxt = self.step + 1
        offsets = self.offsets
        return self.start + (offsets[nxt] if nxt < len(offsets) else self.drill.seconds)

    def advance(self, t: float) -> list[int]:
        """Move on to the step showing at ``t``; returns the indexes of the steps begun."""
        offsets = self.offsets
        begun: list[int] = []
        while self.step + 1 < len(offsets) and t >= self.start + offsets[self.step + 1]:
            self.step += 1
            begun.append(self.step)
        return begun

    def over(self, t: float) -> bool:
        return t >= self.start + self.drill.seconds
