"""Pick the adapters for this machine at runtime, and remember what was picked and why.

Each role has a table from a name to the function that opens that adapter (raising
:class:`Unavailable` when it cannot work here); the override names below are the
tables' keys. :func:`open_edge` tries the candidates in order and keeps what works;
a :class:`~ergobreak.platform.edge.Choice` per role records the pick, the reason and
every candidate that was turned down (``ergobreak doctor`` prints them). Overrides,
for users and tests::

    ERGOBREAK_IDLE=x11|mutter|wayland-ext|wayland-kde|screensaver|windows|macos|none
    ERGOBREAK_NOTIFIER=freedesktop|plyer|console
    ERGOBREAK_SESSION=logind,screensaver | none
    ERGOBREAK_QUIET=fullscreen,dnd,windows_busy | none
    ERGOBREAK_SEATED=camera,inhibit | none

Nothing here raises for a missing desktop service: the fallback is always
something that works (wall-clock time, console notifications, the time-jump
backstop), and the Choice says so.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TextIO, TypeVar

from ergobreak.platform.base import (
    ActivityWake,
    IdleSource,
    Notifier,
    OnRequest,
    QuietDetector,
    SeatedDetector,
    SessionWatcher,
    Unavailable,
)
from ergobreak.platform.console import ConsoleNotifier
from ergobreak.platform.edge import (
    AnyOf,
    Choice,
    Connection,
    Edge,
    FallbackNotifier,
    WallClockIdle,
)
from ergobreak.platform.timejump import TimeJump

if TYPE_CHECKING:
    from ergobreak.platform.dbus_link import BusKind, DBusLink
    from ergobreak.platform.wayland import WaylandDisplay
    from ergobreak.platform.wayland_idle import Flavour
    from ergobreak.platform.x11 import X11Display

log = logging.getLogger("ergobreak.platform")

IDLE_ENV = "ERGOBREAK_IDLE"
NOTIFIER_ENV = "ERGOBREAK_NOTIFIER"
SESSION_ENV = "ERGOBREAK_SESSION"
QUIET_ENV = "ERGOBREAK_QUIET"
SEATED_ENV = "ERGOBREAK_SEATED"

A = TypeVar("A")
C = TypeVar("C", bound=Connection)
Tried = tuple[tuple[str, str], ...]


# --------------------------------------------------------------------------- context


class _Shared(Generic[C]):
    """One connection, opened on first use and shared; a failure is remembered, not
    retried (every adapter on a missing bus gives the same reason)."""

    def __init__(self, name: str, opener: Callable[[], C], opened: dict[str, Connection]) -> None:
        self._name = name
        self._opener = opener
        self._opened = opened
        self._value: C | Unavailable | None = None

    def get(self) -> C:
        if self._value is None:
            try:
                self._value = self._opener()
                self._opened[self._name] = self._value
            except Unavailable as exc:
                self._value = exc
        if isinstance(self._value, Unavailable):
            raise self._value
        return self._value


class _Context:
    """What the openers need: the environment, the callbacks to wire in, the console
    fallback, and the connections they share."""

    def __init__(
        self,
        env: Mapping[str, str],
        on_request: OnRequest,
        on_change: Callable[[], None] | None,
        console: ConsoleNotifier,
    ) -> None:
        self.env = env
        self.on_request = on_request
        self.on_change = on_change
        self.console = console
        #: every connection opened so far, by the edge's name for it, in order
        self.connections: dict[str, Connection] = {}
        self._session = _Shared("session bus", lambda: _bus("SESSION", env), self.connections)
        self._system = _Shared("system bus", lambda: _bus("SYSTEM", env), self.connections)
        self._x11 = _Shared("display", lambda: _display(env), self.connections)
        self._wayland = _Shared("wayland display", lambda: _compositor(env), self.connections)

    def session_bus(self) -> DBusLink:
        return self._session.get()

    def system_bus(self) -> DBusLink:
        return self._system.get()

    def x11(self) -> X11Display:
        return self._x11.get()

    def wayland(self) -> WaylandDisplay:
        return self._wayland.get()


def _bus(kind: BusKind, env: Mapping[str, str]) -> DBusLink:
    from ergobreak.platform.dbus_link import DBusLink  # noqa: PLC0415

    return DBusLink.open(kind, env)


def _display(env: Mapping[str, str]) -> X11Display:
    from ergobreak.platform.x11 import X11Display  # noqa: PLC0415

    return X11Display(env.get("DISPLAY", ""))


def _compositor(env: Mapping[str, str]) -> WaylandDisplay:
    from ergobreak.platform.wayland import WaylandDisplay  # noqa: PLC0415

    return WaylandDisplay.open(env)


@dataclass(frozen=True)
class _Found(Generic[A]):
    """An opened adapter, the line ``doctor`` shows for it, and the readers turned down
    on the way (the do-not-disturb flavours)."""

    adapter: A
    detail: str
    tried: Tried = ()


class _NoneWorked(Unavailable):
    """No reader of a source works here; ``tried`` says why, reader by reader."""

    def __init__(self, message: str, tried: Tried) -> None:
        super().__init__(message)
        self.tried = tried


def _wayland(env: Mapping[str, str]) -> bool:
    return bool(env.get("WAYLAND_DISPLAY")) or env.get("XDG_SESSION_TYPE") == "wayland"


def _gnome(env: Mapping[str, str]) -> bool:
    """A GNOME session (Ubuntu says ``ubuntu:GNOME``)."""
    return "GNOME" in env.get("XDG_CURRENT_DESKTOP", "").upper().split(":")


def _linux(platform: str) -> bool:
    return not platform.startswith(("win32", "darwin", "cygwin"))


def _listed(env: Mapping[str, str], key: str, default: list[str]) -> list[str]:
    """A comma-separated override such as ``fullscreen,dnd``, or ``none``."""
    raw = env.get(key, "").strip().lower()
    if not raw:
        return default
    if raw == "none":
        return []
    return [part.strip() for part in raw.split(",") if part.strip()]


# --------------------------------------------------------------------------- idle


def _x11_idle(ctx: _Context) -> IdleSource:
    from ergobreak.platform.x11 import X11Idle  # noqa: PLC0415

    return X11Idle(ctx.x11())


def _mutter_idle(ctx: _Context) -> IdleSource:
    from ergobreak.platform.dbus_idle import MutterIdle  # noqa: PLC0415

    return MutterIdle(ctx.session_bus())


def _wayland_idle(flavour: Flavour) -> Callable[[_Context], IdleSource]:
    def opener(ctx: _Context) -> IdleSource:
        from ergobreak.platform.wayland_idle import WaylandIdle  # noqa: PLC0415

        return WaylandIdle(ctx.wayland(), flavour)

    return opener


def _screensaver_idle(ctx: _Context) -> IdleSource:
    from ergobreak.platform.dbus_idle import ScreenSaverIdle  # noqa: PLC0415

    return ScreenSaverIdle(ctx.session_bus())


def _windows_idle(ctx: _Context) -> IdleSource:
    from ergobreak.platform.windows import WindowsIdle  # noqa: PLC0415

    return WindowsIdle()


def _mac_idle(ctx: _Context) -> IdleSource:
    from ergobreak.platform.macos import MacIdle  # noqa: PLC0415

    return MacIdle()


IDLE_OPENERS: dict[str, Callable[[_Context], IdleSource]] = {
    "x11": _x11_idle,
    "mutter": _mutter_idle,
    "wayland-ext": _wayland_idle("ext"),
    "wayland-kde": _wayland_idle("kde"),
    "screensaver": _screensaver_idle,
    "windows": _windows_idle,
    "macos": _mac_idle,
}
#: ``none`` is wall-clock mode, the fallback that needs no opener
IDLE_NAMES = (*IDLE_OPENERS, "none")


def _idle_candidates(platform: str, env: Mapping[str, str]) -> list[str]:
    if platform == "win32":
        return ["windows"]
    if platform == "darwin":
        return ["macos"]
    if _wayland(env):
        # XWayland's idle time only sees input sent to X clients: never guess it. Mutter's
        # is exact, the Wayland protocols' exact only after a few seconds: GNOME first.
        return ["mutter", "wayland-ext", "wayland-kde", "screensaver"]
    if _gnome(env):
        # GNOME on X11: Mutter's monitor is as exact as the X server's and also wakes us
        # at the first input, where MIT-SCREEN-SAVER would be polled while the user is away.
        return ["mutter", "x11", "screensaver"]
    return ["x11", "mutter", "screensaver"]


#: the idle sources of Windows and macOS, each the only candidate there
_OS_IDLE = ("windows", "macos")


def passed_over(
    choice: Choice, env: Mapping[str, str] | None = None, platform: str | None = None
) -> Tried:
    """Why each other candidate of ``choice``'s role is not the one used, in the order
    they are tried, for ``doctor``. For idle, unless forced: every other source of this
    OS -- the reason it failed, that it is no candidate in this kind of session, or that
    the picked one comes first; for the other roles, the ones tried (``choice.tried``)."""
    env = os.environ if env is None else env
    platform = platform or sys.platform
    if choice.role != "idle" or env.get(IDLE_ENV, "").strip():
        return choice.tried
    picked = choice.name if choice.ok else None
    candidates = _idle_candidates(platform, env)
    failed = dict(choice.tried)
    passed: list[tuple[str, str]] = []
    others = candidates if platform in ("win32", "darwin") else IDLE_OPENERS
    for name in others:
        if name == picked or (name in _OS_IDLE and others is IDLE_OPENERS):
            continue
        if name in failed:
            passed.append((name, failed[name]))
        elif name not in candidates:
            passed.append((name, _not_a_candidate(name, env)))
        elif picked is not None:
            passed.append((name, f"not tried: {picked} comes first"))
    return tuple(passed)


def _not_a_candidate(name: str, env: Mapping[str, str]) -> str:
    if name == "x11" and _wayland(env):
        return "Wayland session: Xwayland sees no input to Wayland windows"
    if name.startswith("wayland") and not _wayland(env):
        return "X11 session: the Wayland idle protocols are not there"
    return "not used in a Wayland session" if _wayland(env) else "not used in an X11 session"


def _choose_idle(ctx: _Context, platform: str) -> tuple[IdleSource, Choice]:
    env = ctx.env
    wanted = env.get(IDLE_ENV, "").strip().lower()
    if wanted == "none":
        return WallClockIdle(), Choice("idle", "none", True, f"wall-clock mode ({IDLE_ENV}=none)")
    candidates = [wanted] if wanted else _idle_candidates(platform, env)
    picked, tried = _first_working(
        candidates,
        IDLE_OPENERS,
        lambda name: f"unknown idle source {name!r}; choose from {', '.join(IDLE_NAMES)}",
        ctx,
    )
    if picked is not None:
        name, source = picked
        how = f"forced by {IDLE_ENV}" if wanted else "auto"
        wake = ", wakes on first input" if isinstance(source, ActivityWake) else ""
        more = getattr(source, "detail", "")  # what the reading means, where it is not plain
        detail = f"{how}{wake}; {more}" if more else f"{how}{wake}"
        return source, Choice("idle", name, True, detail, tried=tried)
    hint = (
        "on GNOME the Mutter idle monitor should be on the session bus; on KDE and "
        "wlroots compositors (sway) the Wayland idle protocol ext_idle_notifier_v1 or "
        "org_kde_kwin_idle at $WAYLAND_DISPLAY"
        if _wayland(env)
        else "run inside an X11 or GNOME/KDE session (DISPLAY / DBUS_SESSION_BUS_ADDRESS)"
    )
    detail = "no idle source: wall-clock mode (all time in working hours counts as desk time)"
    return WallClockIdle(), Choice("idle", "none", False, detail, hint, tried)


# --------------------------------------------------------------------------- notifier


def _freedesktop(ctx: _Context) -> _Found[Notifier]:
    from ergobreak.platform.dbus_notify import FreedesktopNotifier  # noqa: PLC0415

    notifier = FreedesktopNotifier(ctx.session_bus(), ctx.on_request)
    caps = sorted(notifier.capabilities.extra)
    return _Found(notifier, f"server {notifier.server}; capabilities: {', '.join(caps)}")


def _plyer(ctx: _Context) -> _Found[Notifier]:
    from ergobreak.platform.plyer_notify import PlyerNotifier  # noqa: PLC0415

    return _Found(PlyerNotifier(), "plyer (no buttons: use the tray menu or the CLI)")


def _console(ctx: _Context) -> _Found[Notifier]:
    return _Found(ctx.console, f"forced by {NOTIFIER_ENV}")


NOTIFIER_OPENERS: dict[str, Callable[[_Context], _Found[Notifier]]] = {
    "freedesktop": _freedesktop,
    "plyer": _plyer,
    "console": _console,
}
NOTIFIER_NAMES = tuple(NOTIFIER_OPENERS)


def _choose_notifier(ctx: _Context, platform: str) -> tuple[Notifier, Choice]:
    wanted = ctx.env.get(NOTIFIER_ENV, "").strip().lower()
    if wanted:
        candidates = [wanted]
    elif _linux(platform):
        candidates = ["freedesktop"]
    else:
        candidates = ["plyer"]
    picked, tried = _first_working(
        candidates,
        NOTIFIER_OPENERS,
        lambda name: f"unknown notifier {name!r}; choose from {', '.join(NOTIFIER_NAMES)}",
        ctx,
    )
    console = ctx.console
    if picked is not None:
        name, found = picked
        if found.adapter is console:
            return console, Choice("notifier", "console", True, found.detail, tried=tried)
        wrapped = FallbackNotifier(found.adapter, console)
        return wrapped, Choice("notifier", name, True, found.detail, tried=tried)
    reason = tried[-1][1] if tried else "none configured"
    log.warning("notifications will be printed to the console: %s", reason)
    hint = (
        "start a notification daemon (GNOME/KDE have one; elsewhere e.g. dunst or mako)"
        if _linux(platform)
        else "pip install plyer"
    )
    return console, Choice(
        "notifier", "console", False, f"printing notifications ({reason})", hint, tried
    )


# --------------------------------------------------------------------------- session


def _logind(ctx: _Context) -> _Found[SessionWatcher]:
    from ergobreak.platform.dbus_logind import LogindWatcher  # noqa: PLC0415

    logind = LogindWatcher(ctx.system_bus())
    return _Found(logind, logind.detail)


def _screensaver_lock(ctx: _Context) -> _Found[SessionWatcher]:
    from ergobreak.platform.dbus_lock import ScreenSaverLockWatcher  # noqa: PLC0415

    saver = ScreenSaverLockWatcher(ctx.session_bus())
    return _Found(saver, saver.detail)


#: all of them, in this order, are the default on Linux
SESSION_OPENERS: dict[str, Callable[[_Context], _Found[SessionWatcher]]] = {
    "logind": _logind,
    "screensaver": _screensaver_lock,
}
SESSION_NAMES = tuple(SESSION_OPENERS)


_SESSION_HINTS = {
    "logind": "without logind, sleep is caught by the time-jump backstop at the next wake-up",
    "screensaver": "lock is then known from logind only (or not at all)",
}


def _choose_watchers(ctx: _Context, platform: str) -> tuple[list[SessionWatcher], list[Choice]]:
    default = list(SESSION_NAMES) if _linux(platform) else []
    names = _listed(ctx.env, SESSION_ENV, default)
    return _open_each(
        "session",
        names,
        openers=SESSION_OPENERS,
        hints=_SESSION_HINTS,
        unknown=lambda name: (
            f"unknown session watcher {name!r}; choose from {', '.join(SESSION_NAMES)}"
        ),
        ctx=ctx,
    )


# --------------------------------------------------------------------------- quiet


def _fullscreen(ctx: _Context) -> _Found[QuietDetector]:
    from ergobreak.platform.x11 import X11Fullscreen  # noqa: PLC0415

    detail = "X11 _NET_WM_STATE_FULLSCREEN of the active window"
    if _wayland(ctx.env):
        detail += " (XWayland windows only)"
    return _Found(X11Fullscreen(ctx.x11()), detail)


def _dnd(ctx: _Context) -> _Found[QuietDetector]:
    """Every do-not-disturb flavour that can be read here, merged into one source."""
    from ergobreak.platform import dbus_dnd  # noqa: PLC0415

    link = ctx.session_bus()
    readers: list[tuple[str, Callable[[DBusLink, Callable[[], None] | None], QuietDetector]]] = [
        ("Notifications.Inhibited", dbus_dnd.notifications_inhibited),
        ("dunst paused", dbus_dnd.dunst_paused),
        ("GNOME show-banners (dconf)", lambda bus, hook: dbus_dnd.DconfBanners(bus, ctx.env, hook)),
        ("GNOME show-banners (portal)", dbus_dnd.PortalBanners),
    ]
    found: list[QuietDetector] = []
    details: list[str] = []
    tried: list[tuple[str, str]] = []
    for label, reader in readers:
        if label.endswith("(portal)") and "GNOME show-banners (dconf)" in details:
            tried.append((label, "not needed: read from dconf"))
            continue
        try:
            found.append(reader(link, ctx.on_change))
        except Unavailable as exc:
            tried.append((label, str(exc)))
            continue
        details.append(label)
    if not found:
        raise _NoneWorked("no do-not-disturb state readable", tuple(tried))
    merged = found[0] if len(found) == 1 else AnyOf("dnd", found)
    return _Found(merged, ", ".join(details), tuple(tried))


def _windows_busy(ctx: _Context) -> _Found[QuietDetector]:
    from ergobreak.platform.windows import WindowsBusy  # noqa: PLC0415

    return _Found(WindowsBusy(), "SHQueryUserNotificationState")


QUIET_OPENERS: dict[str, Callable[[_Context], _Found[QuietDetector]]] = {
    "fullscreen": _fullscreen,
    "dnd": _dnd,
    "windows_busy": _windows_busy,
}
QUIET_NAMES = tuple(QUIET_OPENERS)


_QUIET_HINTS = {
    "fullscreen": "needs an X11 session with an EWMH window manager",
    "dnd": "set do-not-disturb in the desktop (GNOME, KDE) or pause dunst (dunstctl)",
}


def _choose_quiet(ctx: _Context, platform: str) -> tuple[list[QuietDetector], list[Choice]]:
    if platform == "win32":
        default = ["windows_busy"]
    elif platform == "darwin":
        default = []
    else:
        default = ["fullscreen", "dnd"]
    names = _listed(ctx.env, QUIET_ENV, default)
    return _open_each(
        "quiet",
        names,
        openers=QUIET_OPENERS,
        hints=_QUIET_HINTS,
        unknown=lambda name: f"unknown quiet detector; choose from {', '.join(QUIET_NAMES)}",
        ctx=ctx,
    )


# --------------------------------------------------------------------------- seated


def _camera(ctx: _Context) -> _Found[SeatedDetector]:
    from ergobreak.platform.camera import CameraInUse  # noqa: PLC0415

    camera = CameraInUse()
    return _Found(camera, camera.detail)


def _inhibit(ctx: _Context) -> _Found[SeatedDetector]:
    """An application inhibits idle (a video, a presentation): the person is watching."""
    from ergobreak.platform.dbus_inhibit import NoInhibitReader, open_inhibit  # noqa: PLC0415

    try:
        inhibit = open_inhibit(ctx.session_bus(), ctx.env, ctx.on_change)
    except NoInhibitReader as exc:
        raise _NoneWorked(str(exc), exc.tried) from exc
    return _Found(inhibit, inhibit.detail, inhibit.tried)


SEATED_OPENERS: dict[str, Callable[[_Context], _Found[SeatedDetector]]] = {
    "camera": _camera,
    "inhibit": _inhibit,
}
SEATED_NAMES = tuple(SEATED_OPENERS)

_SEATED_HINTS = {
    "camera": "Linux only",
    "inhibit": "needs a session manager or power manager on the session bus"
    " (GNOME, KDE Plasma, XFCE)",
}


#: the seated detectors that look at the camera or microphone (setting quiet.calls)
CALL_DETECTORS = ("camera", "microphone")


def _choose_seated(
    ctx: _Context, platform: str, *, calls: bool
) -> tuple[list[SeatedDetector], list[Choice]]:
    """Why someone may sit without input: a call (camera, microphone) or watching.
    With ``calls`` off the camera and microphone are never opened nor read."""
    if platform in {"win32", "darwin"}:
        default: list[str] = []
    else:
        default = ["camera", "inhibit"]
    names = _listed(ctx.env, SEATED_ENV, default)
    off = [name for name in names if name in CALL_DETECTORS and not calls]
    names = [name for name in names if name not in off]
    detectors, choices = _open_each(
        "seated",
        names,
        openers=SEATED_OPENERS,
        hints=_SEATED_HINTS,
        unknown=lambda name: f"unknown seated detector; choose from {', '.join(SEATED_NAMES)}",
        ctx=ctx,
    )
    not_checked = "not checked: quiet.calls = false"
    return detectors, choices + [Choice("seated", name, False, not_checked) for name in off]


# --------------------------------------------------------------------------- opening


def _first_working(
    names: list[str],
    openers: Mapping[str, Callable[[_Context], A]],
    unknown: Callable[[str], str],
    ctx: _Context,
) -> tuple[tuple[str, A] | None, Tried]:
    """The first of ``names`` that opens, and why the ones before it did not."""
    tried: list[tuple[str, str]] = []
    for name in names:
        opener = openers.get(name)
        if opener is None:
            tried.append((name, unknown(name)))
            continue
        try:
            return (name, opener(ctx)), tuple(tried)
        except Unavailable as exc:
            tried.append((name, str(exc)))
    return None, tuple(tried)


def _open_each(
    role: str,
    names: list[str],
    *,
    openers: Mapping[str, Callable[[_Context], _Found[A]]],
    hints: Mapping[str, str],
    unknown: Callable[[str], str],
    ctx: _Context,
) -> tuple[list[A], list[Choice]]:
    """Every one of ``names`` that opens, and a Choice for each, working or not."""
    adapters: list[A] = []
    choices: list[Choice] = []
    for name in names:
        opener = openers.get(name)
        if opener is None:
            choices.append(Choice(role, name, False, unknown(name)))
            continue
        try:
            found = opener(ctx)
        except Unavailable as exc:
            tried = exc.tried if isinstance(exc, _NoneWorked) else ()
            choices.append(Choice(role, name, False, str(exc), hints.get(name), tried))
            continue
        adapters.append(found.adapter)
        choices.append(Choice(role, name, True, found.detail, tried=found.tried))
    return adapters, choices


def open_edge(
    on_request: OnRequest,
    *,
    on_change: Callable[[], None] | None = None,
    env: Mapping[str, str] | None = None,
    platform: str | None = None,
    stream: TextIO | None = None,
    calls: bool = True,
) -> Edge:
    """Choose and open every adapter for this machine. Never raises for a missing
    desktop: each role falls back and its :class:`Choice` says so.

    ``on_request`` receives notification button commands and ``on_change`` is called
    when an event-driven quiet detector changed; both run on a bus thread. With
    ``calls`` false (setting ``quiet.calls``) the camera and microphone are never opened.
    """
    env = os.environ if env is None else env
    platform = platform or sys.platform
    ctx = _Context(env, on_request, on_change, ConsoleNotifier(stream))
    idle, idle_choice = _choose_idle(ctx, platform)
    notifier, notifier_choice = _choose_notifier(ctx, platform)
    watchers, watcher_choices = _choose_watchers(ctx, platform)
    quiet, quiet_choices = _choose_quiet(ctx, platform)
    seated, seated_choices = _choose_seated(ctx, platform, calls=calls)
    timejump = TimeJump()
    backstop = Choice("session", "timejump", True, f"sleep backstop: {timejump.detail}")
    if idle_choice.ok is False:
        log.warning("%s", idle_choice.detail)
    return Edge(
        idle=idle,
        notifier=notifier,
        watchers=watchers,
        quiet=quiet,
        seated=seated,
        timejump=timejump,
        choices=[
            idle_choice,
            notifier_choice,
            *watcher_choices,
            backstop,
            *quiet_choices,
            *seated_choices,
        ],
        connections=ctx.connections,
    )
