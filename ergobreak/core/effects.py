"""Outputs of the core: what the edges should show, and what happened.

Each effect has an ``event`` name (the names used in simulator output, logs and
history) and :meth:`fields` for JSON. Effects are emitted at the ``t`` of the input
that produced them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal, TypeAlias

from ergobreak.core.content import Cue, Drill, Step
from ergobreak.core.playback import Timeline

# Closed vocabularies, so that mypy catches a misspelt value before a user sees it.
Outcome = Literal["done", "skipped", "ignored", "cancelled"]
#: why a cycle was ``cancelled``
CancelReason = Literal["paused", "asleep", "off_hours", "natural_break", "disabled", "held"]
PromptKind = Literal["posture", "drill"]
#: the coarse state the tray and ``status`` show (``starting`` only before the first input)
CoarseState = Literal[
    "starting", "paused", "off_hours", "drill", "prompt", "quiet", "away", "snoozed", "working"
]
#: the core commands a :class:`Rejected` can name
CommandName = Literal[
    "start",
    "posture",
    "snooze",
    "skip",
    "pause",
    "resume",
    "drill_pause",
    "drill_resume",
    "next_step",
]


#: seconds a posture check stays on screen (the notification's timeout); one shown
#: less than this long ago is on screen, and is withdrawn when quiet or a lock begins
POSTURE_SHOWN = 20.0


@dataclass(frozen=True, slots=True)
class PostureCheck:
    """Show one posture cue (plus the eye cue) for :data:`POSTURE_SHOWN` seconds;
    ``requested`` when the user asked."""

    event: ClassVar[str] = "posture_check"
    cue: Cue
    requested: bool = False

    def fields(self) -> dict[str, object]:
        return {"cue": self.cue.id, "text": self.cue.text, "requested": self.requested}


@dataclass(frozen=True, slots=True)
class DrillPrompt:
    """Offer a drill; ``attempt`` counts re-offers after snoozes and quiet periods.
    ``after_call``: the drill fell due during a call that just ended, this many
    seconds long (for "You sat through a 50-minute call"). ``seated``: why the
    person sits without input as it shows (``watching``): then inactivity does not
    start the drill, only the Start button does."""

    event: ClassVar[str] = "drill_prompt"
    drill: Drill
    attempt: int
    snoozes_left: int
    after_call: float | None = None
    seated: tuple[str, ...] = ()

    def fields(self) -> dict[str, object]:
        out: dict[str, object] = {
            "routine": self.drill.id,
            "title": self.drill.title,
            "seconds": self.drill.seconds,
            "attempt": self.attempt,
            "snoozes_left": self.snoozes_left,
        }
        if self.after_call is not None:
            out["after_call"] = round(float(self.after_call), 3)
        if self.seated:
            out["seated"] = list(self.seated)
        return out


@dataclass(frozen=True, slots=True)
class DrillStart:
    """A drill begins with its safety note, alone on screen for its reading time
    (``timeline.safety``); step 1 follows it, and the drill ends at ``timeline.total``."""

    event: ClassVar[str] = "drill_start"
    drill: Drill
    requested: bool = False

    @property
    def timeline(self) -> Timeline:
        return Timeline.of(self.drill)

    def fields(self) -> dict[str, object]:
        timeline = self.timeline
        return {
            "routine": self.drill.id,
            "title": self.drill.title,
            "requested": self.requested,
            "safety": self.drill.safety,
            "safety_seconds": timeline.safety,
            "seconds": timeline.total,
        }


@dataclass(frozen=True, slots=True)
class DrillStep:
    """Step ``index`` of ``total`` begins; it lasts ``step.seconds`` (and stays on
    screen at least its reading time: :class:`~ergobreak.core.playback.Timeline`)."""

    event: ClassVar[str] = "drill_step"
    drill: Drill
    index: int
    total: int
    step: Step

    def fields(self) -> dict[str, object]:
        return {
            "routine": self.drill.id,
            "step": self.index + 1,
            "of": self.total,
            "seconds": self.step.seconds,
            "side": self.step.side,
            "text": self.step.text,
        }


@dataclass(frozen=True, slots=True)
class DrillHeld:
    """The running drill was paused (``held``) or goes on again; its clock stands
    still while held."""

    event: ClassVar[str] = "drill_held"
    drill: Drill
    held: bool

    def fields(self) -> dict[str, object]:
        return {"routine": self.drill.id, "held": self.held}


@dataclass(frozen=True, slots=True)
class DrillEnd:
    """A drill cycle is over. ``cancelled`` carries a ``reason`` (paused, asleep, ...)."""

    event: ClassVar[str] = "drill_end"
    drill: Drill
    outcome: Outcome
    reason: CancelReason | None = None

    def fields(self) -> dict[str, object]:
        out: dict[str, object] = {"routine": self.drill.id, "outcome": self.outcome}
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass(frozen=True, slots=True)
class NaturalBreak:
    """The user was away long enough: the posture and drill timers and the desk time
    since the last break start again from zero."""

    event: ClassVar[str] = "natural_break"
    away: float

    def fields(self) -> dict[str, object]:
        return {"away": round(self.away, 3)}


@dataclass(frozen=True, slots=True)
class Snoozed:
    event: ClassVar[str] = "snoozed"
    drill: Drill
    count: int
    max: int
    auto: bool
    seconds: float

    def fields(self) -> dict[str, object]:
        return {
            "routine": self.drill.id,
            "count": self.count,
            "max": self.max,
            "auto": self.auto,
            "seconds": self.seconds,
        }


@dataclass(frozen=True, slots=True)
class Paused:
    """Paused; ``until`` is on the ``t`` time base, ``None`` means until resumed."""

    event: ClassVar[str] = "paused"
    until: float | None
    seconds: float | None

    def fields(self) -> dict[str, object]:
        return {"seconds": self.seconds}


@dataclass(frozen=True, slots=True)
class Resumed:
    event: ClassVar[str] = "resumed"
    auto: bool

    def fields(self) -> dict[str, object]:
        return {"auto": self.auto}


@dataclass(frozen=True, slots=True)
class Deferred:
    """A prompt fell due while quiet; it is held and offered once quiet ends."""

    event: ClassVar[str] = "deferred"
    kind: PromptKind
    sources: tuple[str, ...]

    def fields(self) -> dict[str, object]:
        return {"kind": self.kind, "quiet": list(self.sources)}


#: why a prompt on screen was withdrawn: the quiet sources that began, or the lock
WITHDRAWN_LOCKED = "locked"


@dataclass(frozen=True, slots=True)
class Withdrawn:
    """A prompt on screen is taken back unanswered: quiet began (``why``: its sources)
    or the screen locked (``why``: ``("locked",)``). It is offered again afterwards by
    the ordinary rules (quiet's catch-up, the prompt gap), without using a snooze."""

    event: ClassVar[str] = "withdrawn"
    kind: PromptKind
    why: tuple[str, ...]

    def fields(self) -> dict[str, object]:
        return {"kind": self.kind, "why": list(self.why)}


@dataclass(frozen=True, slots=True)
class Rejected:
    """A command that makes no sense now; the reason is for the user."""

    event: ClassVar[str] = "rejected"
    command: CommandName
    reason: str

    def fields(self) -> dict[str, object]:
        return {"command": self.command, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class StateChanged:
    """The coarse state shown in the tray changed (``working`` -> ``paused``, ...)."""

    event: ClassVar[str] = "state"
    state: CoarseState
    previous: CoarseState

    def fields(self) -> dict[str, object]:
        return {"state": self.state, "previous": self.previous}


Effect: TypeAlias = (
    PostureCheck
    | DrillPrompt
    | DrillStart
    | DrillStep
    | DrillHeld
    | DrillEnd
    | NaturalBreak
    | Snoozed
    | Paused
    | Resumed
    | Deferred
    | Withdrawn
    | Rejected
    | StateChanged
)
PROMPTS = (PostureCheck, DrillPrompt)
