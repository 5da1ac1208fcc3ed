"""Inputs to the core: observations of the desk and commands from the user.

Every input reaches :meth:`ergobreak.core.machine.DeskSession.handle` together with
two readings taken by the caller: ``t``, a monotonic time base in seconds that keeps
counting while the machine sleeps, and ``wall``, POSIX wall-clock seconds (only
used to place working hours in local time).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

from ergobreak.core.content import Content
from ergobreak.core.settings import Settings


@dataclass(frozen=True, slots=True)
class Sample:
    """An activity reading: seconds since the last keyboard or mouse input."""

    idle: float


@dataclass(frozen=True, slots=True)
class ScreenLocked:
    pass


@dataclass(frozen=True, slots=True)
class ScreenUnlocked:
    pass


@dataclass(frozen=True, slots=True)
class Suspending:
    """The machine is about to sleep (logind ``PrepareForSleep(true)`` and friends)."""


@dataclass(frozen=True, slots=True)
class Resumed:
    """The machine woke up."""


@dataclass(frozen=True, slots=True)
class Quiet:
    """A quiet source (``fullscreen``, ``dnd``, ``camera``, ...) turned on or off."""

    source: str
    on: bool


#: why someone sits at the desk without touching keyboard or mouse
SeatedReason = Literal["call", "watching"]


@dataclass(frozen=True, slots=True)
class Seated:
    """The person is at the desk without input, for ``reason``, from now on (``on``)
    or no longer: ``call`` (camera or microphone in use by another process) or
    ``watching`` (an application inhibits idle: a video, a presentation).

    While any reason holds, time is desk time and never away; a call also holds
    prompts (quiet source ``call``). Detectors report only on and off, like quiet
    sources; detectors sharing a reason (camera, microphone) are one reason.
    """

    reason: SeatedReason
    on: bool


# Commands: what the user asks for, from the tray, a notification button or the CLI.


@dataclass(frozen=True, slots=True)
class Start:
    """Start a drill now (the prompted one, the next in rotation, or ``routine``)."""

    routine: str | None = None


@dataclass(frozen=True, slots=True)
class Posture:
    """Show a posture check now."""


@dataclass(frozen=True, slots=True)
class Snooze:
    pass


@dataclass(frozen=True, slots=True)
class Skip:
    pass


@dataclass(frozen=True, slots=True)
class Pause:
    """No prompts and frozen timers for ``seconds`` (``None``: until resumed)."""

    seconds: float | None = None


@dataclass(frozen=True, slots=True)
class Resume:
    pass


@dataclass(frozen=True, slots=True)
class DrillPause:
    """Stop the running drill's clock (the coach window's Pause)."""


@dataclass(frozen=True, slots=True)
class DrillResume:
    """Start the held drill's clock again."""


@dataclass(frozen=True, slots=True)
class NextStep:
    """Show the next text of the running drill now (after the last step: done)."""


@dataclass(frozen=True, slots=True)
class Reconfigure:
    """New settings or content; timers keep what they have accrued."""

    settings: Settings
    content: Content | None = None


Command: TypeAlias = (
    Start | Posture | Snooze | Skip | Pause | Resume | DrillPause | DrillResume | NextStep
)
Observation: TypeAlias = (
    Sample | ScreenLocked | ScreenUnlocked | Suspending | Resumed | Quiet | Seated
)
#: what polled detectors report: a condition that turned on or off
Condition: TypeAlias = Quiet | Seated
Event: TypeAlias = Observation | Command | Reconfigure
