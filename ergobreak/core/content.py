"""What ergobreak asks people to do: posture cues and timed drills.

These are plain values. Loading and validating the shipped library lives in
:mod:`ergobreak.library`; the core only needs the rotation it was given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Side = Literal["left", "right"]
Category = Literal["hip_flexor", "hinge", "mobility", "glutes", "seated"]
CATEGORIES: tuple[Category, ...] = ("hip_flexor", "hinge", "mobility", "glutes", "seated")


@dataclass(frozen=True, slots=True, kw_only=True)
class Cue:
    """One short posture cue, shown on its own."""

    id: str
    text: str
    sources: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One timed step of a drill; ``side`` says which leg when it matters."""

    seconds: float
    text: str
    side: Side | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Drill:
    """A guided movement break made of timed steps (2 minutes for shipped drills)."""

    id: str
    title: str
    category: Category
    steps: tuple[Step, ...]
    safety: str
    tags: frozenset[str] = frozenset()
    sources: tuple[str, ...] = ()
    summary: str = ""

    @property
    def seconds(self) -> float:
        return sum(step.seconds for step in self.steps)

    @property
    def offsets(self) -> tuple[float, ...]:
        """Start time of each step, in seconds from the start of the drill."""
        starts: list[float] = []
        elapsed = 0.0
        for step in self.steps:
            starts.append(elapsed)
            elapsed += step.seconds
        return tuple(starts)


EYE_CUE = "Then look at something about 6 m (20 ft) away for 20 s, and blink."


@dataclass(frozen=True, slots=True, kw_only=True)
class Content:
    """The cues and drills the scheduler rotates through.

    ``drills`` is the rotation, in order. ``library`` holds every drill that may be
    started by id (``ergobreak start ID``), including opt-in ones outside the rotation.
    """

    cues: tuple[Cue, ...]
    drills: tuple[Drill, ...]
    library: tuple[Drill, ...] = ()
    eye_cue: str = EYE_CUE
    _by_id: dict[str, Drill] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.cues:
            raise ValueError("content needs at least one posture cue")
        if not self.drills:
            raise ValueError("content needs at least one drill")
        by_id = {drill.id: drill for drill in self.library}
        by_id.update({drill.id: drill for drill in self.drills})
        object.__setattr__(self, "_by_id", by_id)

    def drill(self, drill_id: str) -> Drill | None:
        """The drill with this id, from the rotation or the wider library."""
        return self._by_id.get(drill_id)
