"""Pick the adapters for this machine at runtime, and remember what was picked and why.

:func:`open_edge` tries each candidate in order and keeps the first that works; a
:class:`Choice` per role records the pick, the reason and every candidate that was
turned down (``ergobreak doctor`` prints them). Overrides, for users and tests::

    ERGOBREAK_IDLE=x11|mutter|screensaver|windows|macos|none
    ERGOBREAK_NOTIFIER=freedesktop|plyer|console
    ERGOBREAK_SESSION=logind,screensaver | none
    ERGOBREAK_QUIET=fullscreen,dnd,camera,windows_busy | none

Nothing here raises for a missing desktop service: the fallback is always
something that works (wall-clock time, console notifications, the time-jump
backstop), and the Choice says so.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

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
    OnRequest,
    QuietDetector,
    SessionWatcher,
    Unavailable,
)
from ergobreak.platform.console import ConsoleNotifier
from ergobreak.platform.timejump import TimeJump

log = logging.getLogger("ergobreak.platform")

IDLE_ENV = "ERGOBREAK_IDLE"
NOTIFIER_ENV = "ERGOBREAK_NOTIFIER"
SESSION_ENV = "ERGOBREAK_SESSION"
QUIET_ENV = "ERGOBREAK_QUIET"

IDLE_NAMES = ("x11", "mutter", "screensaver", "windows", "macos", "none")
NOTIFIER_NAMES = ("freedesktop", "plyer", "console")
SESSION_NAMES = ("logind", "screensaver")
QUIET_NAMES = ("fullscreen", "dnd", "camera", "windows_busy")


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
    _resources: list[Any] = field(default_factory=list, repr=False)
    _quiet_state: dict[str, bool] = field(default_factory=dict, repr=False)
    _warned: set[str] = field(default_factory=set, repr=False)

    # -- session watchers
    def start(self, emit: Emit) -> None:
        """Start every watcher; ``emit`` is then called from bus threads (enqueue only)."""
        dedup = _Dedup(emit)
        for watcher in list(self.watchers):
            try:
                watcher.start(dedup)
            except Unavailable as exc:
                log.warning("%s watcher could not start: %s", watcher.name, exc)
                self.watchers.remove(watcher)

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
        """Seconds of sleep no signal told us about (time-jump backstop), or None."""
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


# --------------------------------------------------------------------------- choosing


class _Opened:
    """Shared connections, opened on first use; a failure is remembered, not retried."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.resources: list[Any] = []
        self._cache: dict[str, Any] = {}

    def get(self, key: str, opener: Callable[[], Any]) -> Any:
        if key not in self._cache:
            try:
                self._cache[key] = opener()
                self.resources.append(self._cache[key])
            except Unavailable as exc:
                self._cache[key] = exc
        value = self._cache[key]
        if isinstance(value, Unavailable):
            raise value
        return value

    def session_bus(self) -> Any:
        from ergobreak.platform.dbus_link import DBusLink  # noqa: PLC0415

        return self.get("session", lambda: DBusLink.open("SESSION", self.env))

    def system_bus(self) -> Any:
        from ergobreak.platform.dbus_link import DBusLink  # noqa: PLC0415

        return self.get("system", lambda: DBusLink.open("SYSTEM", self.env))

    def x11(self) -> Any:
        from ergobreak.platform.x11 import X11Display  # noqa: PLC0415

        return self.get("x11", lambda: X11Display(self.env.get("DISPLAY", "")))

    def close(self) -> None:
        for resource in reversed(self.resources):
            resource.close()


def _wayland(env: Mapping[str, str]) -> bool:
    return bool(env.get("WAYLAND_DISPLAY")) or env.get("XDG_SESSION_TYPE") == "wayland"


def _linux(platform: str) -> bool:
    return not platform.startswith(("win32", "darwin", "cygwin"))


def _idle_candidates(platform: str, env: Mapping[str, str]) -> list[str]:
    if platform == "win32":
        return ["windows"]
    if platform == "darwin":
        return ["macos"]
    if _wayland(env):
        # XWayland's idle time only sees input sent to X clients: never guess it.
        return ["mutter", "screensaver"]
    return ["x11", "mutter", "screensaver"]


def _open_idle(name: str, opened: _Opened) -> IdleSource:
    if name == "x11":
        from ergobreak.platform.x11 import X11Idle  # noqa: PLC0415

        return X11Idle(opened.x11())
    if name == "mutter":
        from ergobreak.platform.dbus_idle import MutterIdle  # noqa: PLC0415

        return MutterIdle(opened.session_bus())
    if name == "screensaver":
        from ergobreak.platform.dbus_idle import ScreenSaverIdle  # noqa: PLC0415

        return ScreenSaverIdle(opened.session_bus())
    if name == "windows":
        from ergobreak.platform.windows import WindowsIdle  # noqa: PLC0415

        return WindowsIdle()
    if name == "macos":
        from ergobreak.platform.macos import MacIdle  # noqa: PLC0415

        return MacIdle()
    raise Unavailable(f"unknown idle source {name!r}; choose from {', '.join(IDLE_NAMES)}")


def choose_idle(
    opened: _Opened, platform: str, env: Mapping[str, str]
) -> tuple[IdleSource, Choice]:
    wanted = env.get(IDLE_ENV, "").strip().lower()
    if wanted == "none":
        return WallClockIdle(), Choice("idle", "none", True, f"wall-clock mode ({IDLE_ENV}=none)")
    candidates = [wanted] if wanted else _idle_candidates(platform, env)
    tried: list[tuple[str, str]] = []
    for name in candidates:
        try:
            source = _open_idle(name, opened)
        except Unavailable as exc:
            tried.append((name, str(exc)))
            continue
        how = f"forced by {IDLE_ENV}" if wanted else "auto"
        wake = ", wakes on first input" if isinstance(source, ActivityWake) else ""
        return source, Choice("idle", name, True, f"{how}{wake}", tried=tuple(tried))
    hint = (
        "on GNOME the Mutter idle monitor should be on the session bus; on KDE, "
        "org.freedesktop.ScreenSaver"
        if _wayland(env)
        else "run inside an X11 or GNOME/KDE session (DISPLAY / DBUS_SESSION_BUS_ADDRESS)"
    )
    detail = "no idle source: wall-clock mode (all time in working hours counts as desk time)"
    return WallClockIdle(), Choice("idle", "none", False, detail, hint, tuple(tried))


def choose_notifier(
    opened: _Opened,
    platform: str,
    env: Mapping[str, str],
    on_request: OnRequest,
    stream: TextIO | None,
) -> tuple[Notifier, Choice]:
    wanted = env.get(NOTIFIER_ENV, "").strip().lower()
    if wanted:
        candidates = [wanted]
    elif _linux(platform):
        candidates = ["freedesktop"]
    else:
        candidates = ["plyer"]
    tried: list[tuple[str, str]] = []
    console = ConsoleNotifier(stream)
    for name in candidates:
        try:
            notifier, detail = _open_notifier(name, opened, on_request, console)
        except Unavailable as exc:
            tried.append((name, str(exc)))
            continue
        if notifier is console:
            return console, Choice("notifier", "console", True, detail, tried=tuple(tried))
        wrapped = FallbackNotifier(notifier, console)
        return wrapped, Choice("notifier", name, True, detail, tried=tuple(tried))
    reason = tried[-1][1] if tried else "none configured"
    log.warning("notifications will be printed to the console: %s", reason)
    hint = (
        "start a notification daemon (GNOME/KDE have one; elsewhere e.g. dunst or mako)"
        if _linux(platform)
        else "pip install plyer"
    )
    return console, Choice(
        "notifier", "console", False, f"printing notifications ({reason})", hint, tuple(tried)
    )


def _open_notifier(
    name: str, opened: _Opened, on_request: OnRequest, console: ConsoleNotifier
) -> tuple[Notifier, str]:
    if name == "freedesktop":
        from ergobreak.platform.dbus_notify import FreedesktopNotifier  # noqa: PLC0415

        notifier = FreedesktopNotifier(opened.session_bus(), on_request)
        caps = sorted(notifier.capabilities.extra)
        return notifier, f"server {notifier.server}; capabilities: {', '.join(caps)}"
    if name == "plyer":
        from ergobreak.platform.plyer_notify import PlyerNotifier  # noqa: PLC0415

        return PlyerNotifier(), "plyer (no buttons: use the tray menu or the CLI)"
    if name == "console":
        return console, f"forced by {NOTIFIER_ENV}"
    raise Unavailable(f"unknown notifier {name!r}; choose from {', '.join(NOTIFIER_NAMES)}")


def _listed(env: Mapping[str, str], key: str, default: list[str]) -> list[str]:
    """A comma-separated override such as ``fullscreen,dnd``, or ``none``."""
    raw = env.get(key, "").strip().lower()
    if not raw:
        return default
    if raw == "none":
        return []
    return [part.strip() for part in raw.split(",") if part.strip()]


def choose_watchers(
    opened: _Opened, platform: str, env: Mapping[str, str]
) -> tuple[list[SessionWatcher], list[Choice]]:
    default = list(SESSION_NAMES) if _linux(platform) else []
    names = _listed(env, SESSION_ENV, default)
    watchers: list[SessionWatcher] = []
    choices: list[Choice] = []
    for name in names:
        try:
            watcher, detail = _open_watcher(name, opened)
        except Unavailable as exc:
            choices.append(Choice("session", name, False, str(exc), _SESSION_HINTS.get(name)))
            continue
        watchers.append(watcher)
        choices.append(Choice("session", name, True, detail))
    return watchers, choices


_SESSION_HINTS = {
    "logind": "without logind, sleep is caught by the time-jump backstop at the next wake-up",
    "screensaver": "lock is then known from logind only (or not at all)",
}


def _open_watcher(name: str, opened: _Opened) -> tuple[SessionWatcher, str]:
    if name == "logind":
        from ergobreak.platform.dbus_logind import LogindWatcher  # noqa: PLC0415

        logind = LogindWatcher(opened.system_bus())
        return logind, logind.detail
    if name == "screensaver":
        from ergobreak.platform.dbus_lock import ScreenSaverLockWatcher  # noqa: PLC0415

        saver = ScreenSaverLockWatcher(opened.session_bus())
        return saver, saver.detail
    raise Unavailable(f"unknown session watcher {name!r}; choose from {', '.join(SESSION_NAMES)}")


def choose_quiet(
    opened: _Opened,
    platform: str,
    env: Mapping[str, str],
    on_change: Callable[[], None] | None,
) -> tuple[list[QuietDetector], list[Choice]]:
    if platform == "win32":
        default = ["windows_busy"]
    elif platform == "darwin":
        default = []
    else:
        default = ["fullscreen", "dnd", "camera"]
    names = _listed(env, QUIET_ENV, default)
    detectors: list[QuietDetector] = []
    choices: list[Choice] = []
    for name in names:
        found, choice = _open_quiet(name, opened, env, on_change)
        detectors += found
        choices.append(choice)
    return detectors, choices


def _open_quiet(
    name: str, opened: _Opened, env: Mapping[str, str], on_change: Callable[[], None] | None
) -> tuple[list[QuietDetector], Choice]:
    try:
        if name == "fullscreen":
            from ergobreak.platform.x11 import X11Fullscreen  # noqa: PLC0415

            detector = X11Fullscreen(opened.x11())
            detail = "X11 _NET_WM_STATE_FULLSCREEN of the active window"
            if _wayland(env):
                detail += " (XWayland windows only)"
            return [detector], Choice("quiet", name, True, detail)
        if name == "dnd":
            return _open_dnd(opened, on_change)
        if name == "camera":
            from ergobreak.platform.camera import CameraInUse  # noqa: PLC0415

            camera = CameraInUse()
            return [camera], Choice("quiet", name, True, camera.detail)
        if name == "windows_busy":
            from ergobreak.platform.windows import WindowsBusy  # noqa: PLC0415

            return [WindowsBusy()], Choice("quiet", name, True, "SHQueryUserNotificationState")
    except Unavailable as exc:
        return [], Choice("quiet", name, False, str(exc), _QUIET_HINTS.get(name))
    return [], Choice(
        "quiet", name, False, f"unknown quiet detector; choose from {', '.join(QUIET_NAMES)}"
    )


_QUIET_HINTS = {
    "fullscreen": "needs an X11 session with an EWMH window manager",
    "dnd": "set do-not-disturb in the desktop (GNOME, KDE) or pause dunst (dunstctl)",
    "camera": "Linux only",
}


def _open_dnd(
    opened: _Opened, on_change: Callable[[], None] | None
) -> tuple[list[QuietDetector], Choice]:
    from ergobreak.platform import dbus_dnd  # noqa: PLC0415

    link = opened.session_bus()
    found: list[QuietDetector] = []
    details: list[str] = []
    tried: list[tuple[str, str]] = []
    readers: list[tuple[str, Callable[..., Any]]] = [
        ("Notifications.Inhibited", dbus_dnd.notifications_inhibited),
        ("dunst paused", dbus_dnd.dunst_paused),
        ("GNOME show-banners", dbus_dnd.PortalBanners),
    ]
    for label, factory in readers:
        try:
            detector = factory(link, on_change)
        except Unavailable as exc:
            tried.append((label, str(exc)))
            continue
        found.append(detector)
        details.append(label)
    if not found:
        return [], Choice(
            "quiet",
            "dnd",
            False,
            "no do-not-disturb state readable",
            _QUIET_HINTS["dnd"],
            tuple(tried),
        )
    merged: QuietDetector = found[0] if len(found) == 1 else AnyOf("dnd", found)
    return [merged], Choice("quiet", "dnd", True, ", ".join(details), tried=tuple(tried))


def open_edge(
    on_request: OnRequest,
    *,
    on_change: Callable[[], None] | None = None,
    env: Mapping[str, str] | None = None,
    platform: str | None = None,
    stream: TextIO | None = None,
) -> Edge:
    """Choose and open every adapter for this machine. Never raises for a missing
    desktop: each role falls back and its :class:`Choice` says so.

    ``on_request`` receives notification button commands and ``on_change`` is called
    when an event-driven quiet detector changed; both run on a bus thread.
    """
    env = os.environ if env is None else env
    platform = platform or sys.platform
    opened = _Opened(env)
    idle, idle_choice = choose_idle(opened, platform, env)
    notifier, notifier_choice = choose_notifier(opened, platform, env, on_request, stream)
    watchers, watcher_choices = choose_watchers(opened, platform, env)
    quiet, quiet_choices = choose_quiet(opened, platform, env, on_change)
    timejump = TimeJump()
    backstop = Choice("session", "timejump", True, f"sleep backstop: {timejump.detail}")
    if idle_choice.ok is False:
        log.warning("%s", idle_choice.detail)
    return Edge(
        idle=idle,
        notifier=notifier,
        watchers=watchers,
        quiet=quiet,
        timejump=timejump,
        choices=[idle_choice, notifier_choice, *watcher_choices, backstop, *quiet_choices],
        _resources=opened.resources,
    )
