"""The small interfaces every desktop adapter implements, and the values they exchange.

Threading contract (the daemon relies on it):

* Everything a Protocol here names as a method is called from *one* thread, the
  daemon's scheduler thread: ``idle_seconds()``, ``active()``, ``show()``, ``close()``.
  Each is cheap (a round trip to the X server or the session bus, bounded by a
  timeout), so the daemon calls them at every wake-up instead of polling elsewhere.
* Callbacks the daemon hands in (``emit``, ``on_request``, ``on_change``, activity
  wake-ups) run on an adapter's own thread -- the receiver thread of a D-Bus
  connection (one per bus, shared by all adapters on it) or the plyer worker -- and
  must only enqueue.
* Nothing here busy-waits or polls on a timer of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypeAlias, runtime_checkable

from ergobreak.commands import Request
from ergobreak.core.events import Observation, SeatedReason

Urgency = Literal["low", "normal", "critical"]

#: how a watcher reports lock, unlock, sleep and wake (the daemon stamps the time)
Emit: TypeAlias = Callable[[Observation], None]
#: where notification buttons send the command they stand for
OnRequest: TypeAlias = Callable[[Request], None]


class Unavailable(RuntimeError):
    """This adapter cannot work here; the message says why (and what to install/run)."""


@dataclass(frozen=True, slots=True)
class Action:
    """A notification button: ``key`` goes over the wire, ``request`` to the core."""

    key: str
    label: str
    request: Request


@dataclass(frozen=True, slots=True, kw_only=True)
class Notification:
    """What to show, independent of the backend that shows it.

    ``icon`` is an icon id from :mod:`ergobreak.platform.icons` (e.g.
    ``"drill-hip_flexor"``) or a file path. ``timeout`` is in seconds: ``None`` leaves
    it to the server, ``0`` keeps the bubble until it is dismissed or replaced.
    ``slot`` names a bubble that later notifications update in place (a drill's
    prompt, steps and end share the slot ``"drill"``).
    """

    title: str
    body: str = ""
    actions: tuple[Action, ...] = ()
    icon: str | None = None
    urgency: Urgency = "normal"
    timeout: float | None = None
    category: str | None = None
    slot: str | None = None


@dataclass(frozen=True, slots=True)
class Dismiss:
    """Close the bubble in ``slot`` (a prompt that was snoozed, ignored, cancelled)."""

    slot: str


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a notifier can show. Without ``actions`` a notification goes out without
    its buttons. ``persistence``: the server keeps a notification until the user
    acknowledges it or we take it back (a ``timeout=0`` prompt is not lost unseen);
    without it, a prompt may be gone before the user looks."""

    actions: bool = False
    replace: bool = False
    icons: bool = False
    markup: bool = False
    persistence: bool = False
    extra: frozenset[str] = field(default_factory=frozenset)


class IdleSource(Protocol):
    """Seconds since the last keyboard or mouse input -- never anything about content."""

    name: str

    def idle_seconds(self) -> float:
        """Current idle time.

        Raises:
            Unavailable: the source stopped working (display gone, service left).
        """
        ...

    def close(self) -> None: ...


@runtime_checkable
class ActivityWake(Protocol):
    """Optional: an idle source that can report the first input after now.

    With it the daemon needs no polling while the user is away
    (``DeskSession(..., away_poll=None)``).
    """

    def wake_on_activity(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once, from the adapter's thread, at the next user input.

        Arming again before it fired replaces the earlier callback.
        """
        ...


class SessionWatcher(Protocol):
    """Lock/unlock and sleep/wake signals, delivered through ``emit``."""

    name: str

    def start(self, emit: Emit) -> None:
        """Subscribe; from now on ``emit`` is called (on the bus thread) per event.

        Raises:
            Unavailable: the service is not there.
        """
        ...

    def stop(self) -> None: ...


class QuietDetector(Protocol):
    """A reason to hold prompts (``fullscreen``, ``dnd``, ``camera``, ...)."""

    name: str

    def active(self) -> bool:
        """Whether it is quiet now; cheap enough to call at every wake-up.

        Raises:
            Unavailable: the detector stopped working.
        """
        ...

    def close(self) -> None: ...


class SeatedDetector(Protocol):
    """A reason the person sits at the desk without input (:class:`Seated`): ``call``
    (camera or microphone in use by another process) or ``watching`` (an application
    inhibits idle). Detectors sharing a reason count as one."""

    name: str
    reason: SeatedReason

    @property
    def detail(self) -> str:
        """What it watches, for ``doctor`` (``PulseAudio at /run/user/1000/pulse/native``)."""
        ...

    def active(self) -> bool:
        """Whether the reason holds now; cheap enough to call at every wake-up.

        Raises:
            Unavailable: the detector stopped working.
        """
        ...

    def close(self) -> None: ...


class Notifier(Protocol):
    """Shows :class:`Notification`s; buttons come back through ``on_request``."""

    name: str
    capabilities: Capabilities

    def show(self, note: Notification) -> int:
        """Show ``note``; return a handle for :meth:`update` and :meth:`close`.

        Raises:
            Unavailable: the notification server is gone.
        """
        ...

    def update(self, handle: int, note: Notification) -> int:
        """Replace bubble ``handle`` in place where the backend can (else show a new one);
        return the handle that now stands for it.

        Raises:
            Unavailable: the notification server is gone.
        """
        ...

    def close(self, handle: int) -> None: ...

    def stop(self) -> None: ...
