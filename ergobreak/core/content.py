"""What ergobreak asks people to do: posture cues and timed drills.

These are plain values. Loading and validating the shipped library lives in
:mod:`ergobreak.content`; the core only needs the rotation it was given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

Side = Literal["left", "right"]
#: how a drill felt ("How was it?"), as the window, the CLI and the history say it
Answer = Literal["easy", "right", "hard", "hurt"]
ANSWERS: tuple[Answer, ...] = get_args(Answer)
Category = Literal["hip_flexor", "hinge", "mobility", "glutes", "seated"]
CATEGORIES: tuple[Category, ...] = ("hip_flexor", "hinge", "mobility", "glutes", "seated")

#: what a cue or drill id looks like (also the form ``routines.only`` accepts)
ID_PATTERN = r"[a-z][a-z0-9_]{1,39}"

#: where a drill is done; every drill carries at least one
SPACE_TAGS: tuple[str, ...] = ("desk", "standing", "seated", "floor")
#: what a drill needs besides a desk and a chair
EQUIPMENT_TAGS: tuple[str, ...] = ("band", "stick", "wall")
#: positions and movements some people are told to avoid (``routines.exclude_tags``)
CAUTION_TAGS: tuple[str, ...] = (
    "kneeling",
    "lying-on-back",
    "deep-hip-flexion",
    "crossing-legs",
    "hip-adduction",
    "balance",
)
#: the whole tag vocabulary; content files may use no other tag
TAGS: tuple[str, ...] = SPACE_TAGS + EQUIPMENT_TAGS + CAUTION_TAGS

#: what a step or cue text should stay within
TEXT_TARGET = 120
#: the hard limit for anything shown as one notification
NOTICE_MAX = 140


@dataclass(frozen=True, slots=True, kw_only=True)
class Cue:
    """One short posture cue, shown on its own."""

    id: str
    text: str
    sources: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One timed step of a drill; ``side`` says which leg when it matters, ``pose``
    names the picture of it in the figure library (``ergobreak.artwork``), if any."""

    seconds: float
    text: str
    side: Side | None = None
    pose: str | None = None


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
    #: ids of the drill to offer instead after "Easy" or "Hard" feedback, if any
    easier: str | None = None
    harder: str | None = None

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


EYE_CUE = "Then look at something 6 m (20 ft) away for 20 s. Blink."


def step_notice(step: Step) -> str:
    """One step as a notification line: side and duration first, then what to do."""
    seconds = f"{step.seconds:g} s"
    side = f"{step.side.capitalize()} side, {seconds}" if step.side else seconds
    return f"{side}: {step.text}"


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

    def posture_text(self, cue: Cue) -> str:
        """The cue followed by the eye cue, when both fit in one notification."""
        both = f"{cue.text} {self.eye_cue}"
        return both if len(both) <= NOTICE_MAX else cue.text
