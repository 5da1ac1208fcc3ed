"""The running desktop edge: the adapters :func:`~ergobreak.platform.select.open_edge`
chose, the wrappers that keep them safe to call, and the record of why they were chosen.

:class:`Edge` is what the daemon holds. Its readers never raise: a failing idle
source reads as wall-clock time, a failing quiet detector as off, each with one
warning per outage. :class:`FallbackNotifier` prints notifications while the server
is gone, :class:`AnyOf` merges the readers of one quiet source, and the session
watchers' events pass a de-duplicating filter before they reach the daemon.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ergobreak.core.events import (
    Observation,
    Quiet,
    Resumed,
    ScreenLocked,
    ScreenUnlocked,
    Suspending,
)
from ergobreak.platform.base import (
    ActivityWake,
    Emit,
    IdleSource,
    Notification,
    Notifier,
    QuietDetector,
    SessionWatcher,
    Unavailable,
)
from ergobreak.platform.timejump import TimeJump

log = logging.getLogger("ergobreak.platform")


class Closeable(Protocol):
    """A shared connection (a D-Bus link, the X display) the edge closes last."""

    def close(self) -> None: ...


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
    """No idle source: always "just typed", so every minute in working hours counts."""

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
    _resources: list[Closeable] = field(default_factory=list, repr=False)
    _quiet_state: dict[str, bool] = field(default_factory=dict, repr=False)
    _warned: set[str] = field(default_factory=set, repr=False)

    # -- session watchers
    def start(self, emit: Emit) -> None:
        """Start every watcher; ``emit`` is then called from bus threads (enqueue only).

        A watcher that cannot start is dropped, and its :class:`Choice` says so, so
        ``status`` and ``doctor`` never list a watcher that is not listening.
        """
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

    # -- readings (scheduler thread)
    def read_idle(self) -> float:
        """Idle seconds; 0 (wall-clock mode) while the source fails, warning once."""
        try:
            value = self.idle.idle_seconds()
        except Unavailable as exc:
            self._warn_once(f"idle:{self.idle.name}", "idle source %s failed: %s", exc)
            return 0.0
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

    def quiet_changes(self) -> list[Quiet]:
        """Quiet sources that turned on or off since the last call (detectors sharing
        a name, such as the three do-not-disturb readers, count as one source)."""
        now: dict[str, bool] = {}
        for detector in self.quiet:
            try:
                on = detector.active()
                self._warned.discard(f"quiet:{detector.name}")
            except Unavailable as exc:
                self._warn_once(f"quiet:{detector.name}", "quiet detector %s failed: %s", exc)
                on = False
            now[detector.name] = now.get(detector.name, False) or on
        changes = [
            Quiet(source=name, on=on)
            for name, on in now.items()
            if on != self._quiet_state.get(name, False)
        ]
        self._quiet_state = now
        return changes

    def slept(self) -> float | None:
        """Seconds the machine slept since the previous call (the time-jump backstop),
        or None; the daemon calls it once per wake-up."""
        return self.timejump.check()

    def close(self) -> None:
        for watcher in self.watchers:
            watcher.stop()
        for detector in self.quiet:
            detector.close()
        self.idle.close()
        self.notifier.stop()
        for resource in reversed(self._resources):
            resource.close()

    def _warn_once(self, key: str, message: str, exc: Exception) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning(message, key.partition(":")[2] or key, exc)
