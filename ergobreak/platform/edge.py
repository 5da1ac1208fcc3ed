"""The running desktop edge: the adapters :func:`~ergobreak.platform.select.open_edge`
chose, the wrappers that keep them safe to call, and the record of why they were chosen.

:class:`Edge` is what the daemon holds. Its readers never raise: a failing idle
source reads as unknown (the daemon then sees no input, so the user turns away), a
failing quiet detector as off, each with one warning per outage.
:class:`FallbackNotifier` prints notifications while the server is gone,
:class:`AnyOf` merges the readers of one quiet source, and the session watchers'
events pass a de-duplicating filter before they reach the daemon.

The connections the adapters share can go away under them; what that means is
decided here, per connection (:data:`ENDS_SESSION`), and said once as a
:class:`Lost`: the X server, the Wayland compositor and the session bus live exactly
as long as the login session (the display server ends with it; the session bus is the
session's, or the user's until the last login ends), so losing any of them is the
session's end and the daemon stops with it. The system bus outlives every session and
comes back when it is restarted, so it is reconnected, with backoff, and logind read
again.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

from ergobreak.core.events import (
    Condition,
    Observation,
    Quiet,
    Resumed,
    ScreenLocked,
    ScreenUnlocked,
    Seated,
    SeatedReason,
    Suspending,
)
from ergobreak.platform.base import (
    ActivityWake,
    Emit,
    IdleSource,
    Notification,
    Notifier,
    QuietDetector,
    SeatedDetector,
    SessionWatcher,
    Unavailable,
)
from ergobreak.platform.timejump import TimeJump

K = TypeVar("K", bound=str)

log = logging.getLogger("ergobreak.platform")


class Connection(Protocol):
    """A connection adapters share (the X display, a D-Bus link); the edge closes it
    last, and hears when it goes away."""

    #: what it is, for messages ("the X display :0", "the system D-Bus at ...")
    label: str

    def on_lost(self, hook: Callable[[str], None]) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class Reconnecting(Connection, Protocol):
    """A connection that can be restored (a D-Bus link)."""

    def keep_connected(self) -> None: ...

    def on_back(self, hook: Callable[[], None]) -> None: ...


#: whether losing each shared connection ends the session (see the module docstring)
ENDS_SESSION = {
    "display": True,
    "wayland display": True,
    "session bus": True,
    "system bus": False,
}


@dataclass(frozen=True, slots=True)
class Lost:
    """A shared connection went away; ``message`` is the one line that says so."""

    connection: str
    message: str
    #: the login session ended with it: the daemon stops
    ends_session: bool


@dataclass(frozen=True, slots=True)
class Choice:
    """What was picked for one role (``idle``, ``notifier``, ``session``, ``quiet``)."""

    role: str
    name: str
    ok: bool
    detail: str
    hint: str | None = None
    #: candidates turned down, with the reason
    tried: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "name": self.name,
            "ok": self.ok,
            "detail": self.detail,
            "hint": self.hint,
            "tried": [{"name": n, "reason": r} for n, r in self.tried],
        }


class WallClockIdle:
    """No idle source at all (chosen at start, and said so): always "just typed", so
    every minute in working hours counts."""

    name = "none"

    def idle_seconds(self) -> float:
        return 0.0

    def close(self) -> None:
        pass


class FallbackNotifier:
    """The chosen notifier, with a console fallback when its server goes away.

    The first failure logs one warning and prints the notification instead; later
    notifications try the server again (it may have restarted) and say so once it
    answers. Fallback handles are negative, so they never collide with the server's.
    """

    def __init__(self, primary: Notifier, fallback: Notifier) -> None:
        self.primary = primary
        self.fallback = fallback
        self.name = primary.name
        self.capabilities = primary.capabilities
        self._down = False
        self._fallback_ids = 0

    def show(self, note: Notification) -> int:
        return self._try(lambda: self.primary.show(note), note)

    def update(self, handle: int, note: Notification) -> int:
        if handle < 0:
            return self.show(note)
        return self._try(lambda: self.primary.update(handle, note), note)

    def close(self, handle: int) -> None:
        if handle > 0:
            self.primary.close(handle)

    def stop(self) -> None:
        self.primary.stop()
        self.fallback.stop()

    def _try(self, send: Callable[[], int], note: Notification) -> int:
        try:
            handle = send()
        except Unavailable as exc:
            if not self._down:
                log.warning(
                    "%s notifications failed (%s); printing them instead until it is back",
                    self.primary.name,
                    exc,
                )
                self._down = True
            self.fallback.show(note)
            self._fallback_ids -= 1
            return self._fallback_ids
        if self._down:
            log.warning("%s notifications work again", self.primary.name)
            self._down = False
        return handle


class AnyOf:
    """Several readers of one quiet source (the do-not-disturb flavours) as one detector,
    so the daemon sees each source name once. A reader that fails counts as off; only
    when all fail is the source unavailable."""

    def __init__(self, name: str, detectors: list[QuietDetector]) -> None:
        self.name = name
        self.detectors = detectors

    def active(self) -> bool:
        errors: list[str] = []
        on = False
        for detector in self.detectors:
            try:
                on = detector.active() or on
            except Unavailable as exc:
                errors.append(str(exc))
        if errors and len(errors) == len(self.detectors):
            raise Unavailable("; ".join(errors))
        return on

    def close(self) -> None:
        for detector in self.detectors:
            detector.close()


class _Dedup:
    """Pass lock and sleep events on only when they change the state (several watchers
    may report the same lock); thread-safe, since each bus has its own thread."""

    def __init__(self, emit: Emit) -> None:
        self._emit = emit
        self._lock = threading.Lock()
        self._locked = False
        self._asleep = False

    def __call__(self, event: Observation) -> None:
        with self._lock:
            if isinstance(event, (ScreenLocked, ScreenUnlocked)):
                locked = isinstance(event, ScreenLocked)
                if locked == self._locked:
                    return
                self._locked = locked
            elif isinstance(event, (Suspending, Resumed)):
                asleep = isinstance(event, Suspending)
                if asleep == self._asleep:
                    return
                self._asleep = asleep
        self._emit(event)


@dataclass
class Edge:
    """Everything the daemon needs from the desktop, already chosen and opened."""

    idle: IdleSource
    notifier: Notifier
    watchers: list[SessionWatcher]
    quiet: list[QuietDetector]
    timejump: TimeJump
    choices: list[Choice]
    #: the shared connections by :data:`ENDS_SESSION` name, in the order opened
    connections: dict[str, Connection] = field(default_factory=dict, repr=False)
    #: why the person may sit without input: a call (camera, microphone), watching
    seated: list[SeatedDetector] = field(default_factory=list)
    #: the loss that ended the session, once one has
    ended: Lost | None = None
    _ending: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _quiet_state: dict[str, bool] = field(default_factory=dict, repr=False)
    _seated_state: dict[SeatedReason, bool] = field(default_factory=dict, repr=False)
    #: setting quiet.calls: the call detectors (camera, microphone) are read
    _calls: bool = field(default=True, repr=False)
    _warned: set[str] = field(default_factory=set, repr=False)

    # -- session watchers
    def start(self, emit: Emit, on_lost: Callable[[Lost], None] | None = None) -> None:
        """Start every watcher; ``emit`` is then called from bus threads (enqueue only).

        A watcher that cannot start is dropped, and its :class:`Choice` says so, so
        ``status`` and ``doctor`` never list a watcher that is not listening.
        ``on_lost`` hears of each shared connection that goes away, after the one
        warning that says so (from the thread that noticed: enqueue only).
        """
        for name, connection in self.connections.items():
            connection.on_lost(self._on_lost(name, connection, on_lost))
            if not ENDS_SESSION[name] and isinstance(connection, Reconnecting):
                self._keep(connection)
        dedup = _Dedup(emit)
        for watcher in list(self.watchers):
            try:
                watcher.start(dedup)
            except Unavailable as exc:
                log.warning("%s watcher could not start: %s", watcher.name, exc)
                self.watchers.remove(watcher)
                self.choices = [
                    dataclasses.replace(c, ok=False, detail=f"could not start: {exc}")
                    if (c.role, c.name) == ("session", watcher.name)
                    else c
                    for c in self.choices
                ]

    def _on_lost(
        self, name: str, connection: Connection, report: Callable[[Lost], None] | None
    ) -> Callable[[str], None]:
        def lost(reason: str) -> None:
            if ENDS_SESSION[name]:
                message = f"{connection.label} went away; ergobreak stops with the session"
                loss = Lost(name, message, ends_session=True)
                with self._ending:  # at logout the display and the bus go together
                    if self.ended is not None:
                        return  # the session's end was said already
                    self.ended = loss
            else:
                message = (
                    f"lost {connection.label} ({reason}); reconnecting"
                    " (sleep and lock signals are missed meanwhile)"
                )
                loss = Lost(name, message, ends_session=False)
            log.warning("%s", message)
            if report is not None:
                report(loss)

        return lost

    def _keep(self, connection: Reconnecting) -> None:
        """Reconnect whenever it goes away, and say when it is back."""
        lost_at = 0.0

        def lost(_reason: str) -> None:
            nonlocal lost_at
            lost_at = time.monotonic()

        def back() -> None:
            log.warning("%s is back after %.0f s", connection.label, time.monotonic() - lost_at)

        connection.on_lost(lost)
        connection.on_back(back)
        connection.keep_connected()

    # -- readings (scheduler thread)
    def read_idle(self) -> float | None:
        """Idle seconds, or None while the source cannot be read (warning once)."""
        try:
            value = self.idle.idle_seconds()
        except Unavailable as exc:
            self._warn_once(
                f"idle:{self.idle.name}",
                "idle source %s failed (%s); the user counts as away until it answers",
                exc,
            )
            return None
        self._warned.discard(f"idle:{self.idle.name}")
        return max(0.0, value)

    @property
    def can_wake_on_activity(self) -> bool:
        return isinstance(self.idle, ActivityWake)

    def wake_on_activity(self, callback: Callable[[], None]) -> bool:
        """Arm the idle source's one-shot activity wake-up; False if it has none."""
        if not isinstance(self.idle, ActivityWake):
            return False
        try:
            self.idle.wake_on_activity(callback)
        except Unavailable as exc:
            self._warn_once("wake", "activity wake-up failed: %s", exc)
            return False
        return True

    def quiet_changes(self) -> list[Condition]:
        """Quiet sources and seated reasons that turned on or off since the last call.

        Detectors sharing a name (the do-not-disturb readers) or a reason (camera and
        microphone both mean ``call``) count as one; a detector that fails counts as
        off, with one warning per outage.
        """
        quiet = self._read("quiet", [(d.name, d.name, d) for d in self.quiet])
        seated = self._read(
            "seated",
            [(d.reason, d.name, d) for d in self.seated if self._calls or d.reason != "call"],
        )
        changes: list[Condition] = [
            Quiet(source=name, on=on)
            for name, on in quiet.items()
            if on != self._quiet_state.get(name, False)
        ]
        # A reason no detector reads any more (quiet.calls turned off) has ended.
        ended = {reason: False for reason, on in self._seated_state.items() if on}
        changes += [
            Seated(reason=reason, on=on)
            for reason, on in {**ended, **seated}.items()
            if on != self._seated_state.get(reason, False)
        ]
        self._quiet_state, self._seated_state = quiet, seated
        return changes

    def set_calls(self, on: bool) -> None:
        """Setting ``quiet.calls`` changed on reload: off stops reading the camera and
        microphone at once (a call in progress ends); on reads those opened at start."""
        if on and not self._calls and not any(d.reason == "call" for d in self.seated):
            log.info(
                "quiet.calls = true: the camera and microphone are checked from the next start"
            )
        self._calls = on

    def _read(
        self, role: str, detectors: list[tuple[K, str, QuietDetector | SeatedDetector]]
    ) -> dict[K, bool]:
        now: dict[K, bool] = {}
        for key, name, detector in detectors:
            try:
                on = detector.active()
                self._warned.discard(f"{role}:{name}")
            except Unavailable as exc:
                self._warn_once(f"{role}:{name}", f"{role} detector %s failed: %s", exc)
                on = False
            now[key] = now.get(key, False) or on
        return now

    def slept(self) -> float | None:
        """Seconds the machine slept since the previous call (the time-jump backstop),
        or None; the daemon calls it once per wake-up."""
        return self.timejump.check()

    def close(self) -> None:
        for watcher in self.watchers:
            watcher.stop()
        for detector in [*self.quiet, *self.seated]:
            detector.close()
        self.idle.close()
        self.notifier.stop()
        for connection in reversed(self.connections.values()):
            connection.close()

    def _warn_once(self, key: str, message: str, exc: Exception) -> None:
        if key not in self._warned:
            self._warned.add(key)
            if self.ended is None:  # else the loss has said it all
                log.warning(message, key.partition(":")[2] or key, exc)
