"""A drill on screen: which text is showing, and when the next one begins.

A drill opens with its safety note, shown on its own for as long as it takes to
read (:func:`reading_seconds`), then its steps follow their own timings, whatever
the user does meanwhile. No text leaves the screen sooner than it can be read: a
step shorter than its reading time (the content checker refuses those, so only a
drill built by hand can have one) stays up for its reading time. The machine
decides what a change shows (nothing while the screen is locked) and what ends the
drill early.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ergobreak.core.content import Drill

#: the shortest time any drill text (the safety note, a step) stays on screen
READ_MIN = 5.0
#: the reading speed assumed for a text that appears while the person moves: the
#: subtitle rate (160-180 words a minute), well below silent reading (about 240)
WORDS_PER_MINUTE = 180


def reading_seconds(text: str) -> float:
    """How long ``text`` must stay on screen to be read: whole seconds, at least
    :data:`READ_MIN`."""
    words = len(text.split())
    return max(READ_MIN, float(math.ceil(words * 60 / WORDS_PER_MINUTE)))


@dataclass(frozen=True, slots=True)
class Timeline:
    """When each text of a drill shows, in seconds from its start: the safety note
    from 0 to ``safety``, step ``i`` from ``starts[i]``, the end at ``total``."""

    safety: float
    starts: tuple[float, ...]
    total: float

    @classmethod
    def of(cls, drill: Drill) -> Timeline:
        safety = reading_seconds(drill.safety)
        starts: list[float] = []
        at = safety
        for step in drill.steps:
            starts.append(at)
            at += max(step.seconds, reading_seconds(step.text))
        return cls(safety=safety, starts=tuple(starts), total=at)


class Playback:
    """The clock of a running drill. While held its time stands still: resuming
    moves ``start`` on by the time held, and Next moves it back so that the next
    text begins at once."""

    __slots__ = ("drill", "held_at", "start", "step", "timeline")

    def __init__(self, drill: Drill, start: float) -> None:
        self.drill = drill
        self.start = start
        self.timeline = Timeline.of(drill)
        #: index of the step showing; -1 while the safety note shows
        self.step = -1
        #: ``t`` at which the drill was paused, while it is
        self.held_at: float | None = None

    def _clock(self, t: float) -> float:
        return t if self.held_at is None else self.held_at

    @property
    def _end_offset(self) -> float:
        nxt = self.step + 1
        starts = self.timeline.starts
        return starts[nxt] if nxt < len(starts) else self.timeline.total

    @property
    def step_end(self) -> float:
        """``t`` at which the showing text ends (the next begins, or the drill ends);
        never while held."""
        return math.inf if self.held_at is not None else self.start + self._end_offset

    def step_left(self, t: float) -> float:
        return max(0.0, self.start + self._end_offset - self._clock(t))

    def drill_left(self, t: float) -> float:
        return max(0.0, self.start + self.timeline.total - self._clock(t))

    def hold(self, t: float) -> None:
        self.held_at = t

    def release(self, t: float) -> None:
        if self.held_at is not None:
            self.start += max(0.0, t - self.held_at)
            self.held_at = None

    def skip_to_next(self, t: float) -> None:
        """Let the showing text end at ``t`` (or where the clock stands, if held)."""
        self.start -= max(0.0, self.start + self._end_offset - self._clock(t))

    def advance(self, t: float) -> list[int]:
        """Move on to the step showing at ``t``; returns the indexes of the steps begun."""
        starts = self.timeline.starts
        now = self._clock(t)
        begun: list[int] = []
        while self.step + 1 < len(starts) and now >= self.start + starts[self.step + 1]:
            self.step += 1
            begun.append(self.step)
        return begun

    def over(self, t: float) -> bool:
        return self._clock(t) >= self.start + self.timeline.total
