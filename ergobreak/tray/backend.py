"""Which tray backend to use here, why, and the pystray-style ``Icon`` for it.

Rules, first match wins:

1. ``ERGOBREAK_TRAY=sni|appindicator|gtk|xorg|none`` forces a backend.
2. Windows and macOS: pystray's native backend, with UI mutations marshalled to the
   UI thread (:mod:`ergobreak.tray.dispatch`).
3. A StatusNotifierWatcher with a registered host on the session bus: **SNI** (KDE,
   GNOME with the AppIndicator extension, XFCE, Cinnamon, waybar; X11 or Wayland).
   ``wait_for_watcher`` seconds are spent waiting for one to appear (login races).
4. pystray's appindicator, then gtk (need PyGObject), then xorg (XEmbed, needs an X
   display; icon only, no menu). ``PYSTRAY_BACKEND`` narrows this to one.
5. A watcher without a host yet, or no X display at all: SNI anyway (it registers
   whenever a watcher and host show up).
6. Nothing: no tray; the ``ergobreak`` CLI is the control path.

:func:`describe_backend` reports the choice for ``ergobreak doctor``.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ergobreak.tray.facade import PystrayIcon, SniIcon, TrayIcon

BACKENDS = ("sni", "appindicator", "gtk", "xorg", "win32", "darwin", "none")
PYSTRAY_LINUX = ("appindicator", "gtk", "xorg")

#: what each backend can do, for doctor and for callers that adapt (e.g. no menu)
CAPABILITIES: dict[str, dict[str, bool]] = {
    "sni": {"menu": True, "default_action": True, "tooltip": True, "attention": True},
    "appindicator": {"menu": True, "default_action": False, "tooltip": False, "attention": False},
    "gtk": {"menu": True, "default_action": True, "tooltip": True, "attention": False},
    "xorg": {"menu": False, "default_action": True, "tooltip": False, "attention": False},
    "win32": {"menu": True, "default_action": True, "tooltip": True, "attention": False},
    "darwin": {"menu": True, "default_action": False, "tooltip": True, "attention": False},
    "none": {"menu": False, "default_action": False, "tooltip": False, "attention": False},
}

WATCHER = "org.kde.StatusNotifierWatcher"


@dataclass(frozen=True, slots=True)
class Choice:
    """A backend, the reason it was picked, and notes on the ones passed over."""

    backend: str
    reason: str
    notes: tuple[str, ...] = field(default=())
    #: the backends tried before this one, each with why it was passed over
    passed: tuple[tuple[str, str], ...] = field(default=())

    def describe(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "reason": self.reason,
            "capabilities": dict(CAPABILITIES[self.backend]),
            "notes": list(self.notes),
            "tried": [{"name": name, "reason": why} for name, why in self.passed],
        }


# --------------------------------------------------------------------------- probes


@dataclass(frozen=True, slots=True)
class WatcherProbe:
    bus: bool  # the session bus answered
    watcher: bool
    host: bool | None  # None: could not tell
    problem: str | None = None


def probe_watcher(address: str | None, wait: float = 0.0) -> WatcherProbe:
    """Is a StatusNotifierWatcher with a tray host on the bus at ``address``?

    Waits up to ``wait`` seconds for both to appear (at login the panel may start
    after us, and registers its host just after its watcher), blocked on the bus's
    signals: no polling.
    """
    if not address:
        return WatcherProbe(False, False, None, "no session bus (DBUS_SESSION_BUS_ADDRESS unset)")
    from jeepney import (  # type: ignore[import-untyped]  # noqa: PLC0415
        DBusAddress,
        MatchRule,
        message_bus,
        new_method_call,
    )
    from jeepney.io.blocking import open_dbus_connection  # type: ignore[import-untyped]  # noqa: PLC0415
    from jeepney.wrappers import unwrap_msg  # type: ignore[import-untyped]  # noqa: PLC0415

    try:
        conn = open_dbus_connection(address)
    except (OSError, ValueError, KeyError, TimeoutError) as exc:
        return WatcherProbe(False, False, None, f"cannot reach the session bus: {exc}")
    deadline = time.monotonic() + wait
    props = DBusAddress("/StatusNotifierWatcher", WATCHER, "org.freedesktop.DBus.Properties")
    owner_rule = MatchRule(
        type="signal", interface="org.freedesktop.DBus", member="NameOwnerChanged"
    )
    owner_rule.add_arg_condition(0, WATCHER)
    host_rule = MatchRule(type="signal", interface=WATCHER, member="StatusNotifierHostRegistered")

    def call(msg: Any) -> Any:
        return unwrap_msg(conn.send_and_get_reply(msg, timeout=2.0))

    def until(queue: Any, done: Callable[[Any], bool]) -> bool:
        while (left := deadline - time.monotonic()) > 0:
            try:
                if done(conn.recv_until_filtered(queue, timeout=left)):
                    return True
            except TimeoutError:
                break
        return False

    with conn, conn.filter(owner_rule, bufsize=16) as owners, conn.filter(host_rule) as hosts:
        if wait > 0:  # subscribe before looking, so nothing slips between
            call(message_bus.AddMatch(owner_rule))
            call(message_bus.AddMatch(host_rule))
        owned = bool(call(message_bus.NameHasOwner(WATCHER))[0]) or until(
            owners, lambda msg: bool(msg.body[2])
        )
        if not owned:
            return WatcherProbe(True, False, None, "no StatusNotifierWatcher on the session bus")
        try:
            (_sig, host), *_ = call(
                new_method_call(props, "Get", "ss", (WATCHER, "IsStatusNotifierHostRegistered"))
            )
        except Exception as exc:  # a watcher still starting up, or a broken one
            return WatcherProbe(True, True, None, f"watcher did not say if a host is there: {exc}")
        host = bool(host) or bool(hosts) or until(hosts, lambda _msg: True)
        return WatcherProbe(True, True, host)


@contextlib.contextmanager
def _pystray_backend(name: str) -> Iterator[None]:
    """``import pystray`` picks its backend from PYSTRAY_BACKEND at import time: set it
    to our choice for the import (a later import reuses the loaded package)."""
    old = os.environ.get("PYSTRAY_BACKEND")
    os.environ["PYSTRAY_BACKEND"] = name
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("PYSTRAY_BACKEND", None)
        else:
            os.environ["PYSTRAY_BACKEND"] = old


def _load_pystray(name: str) -> Any:
    """The pystray backend module ``name`` (xorg: ergobreak's fixed subclass module)."""
    with _pystray_backend(name):
        if name == "xorg":
            return importlib.import_module("ergobreak.tray.xorg")
        return importlib.import_module(f"pystray._{name}")


def probe_pystray(name: str, env: Mapping[str, str]) -> str | None:
    """None if pystray's ``name`` backend loads here, else why not."""
    if name in ("appindicator", "gtk") and importlib.util.find_spec("gi") is None:
        return f"pystray {name}: PyGObject (gi) is not installed"
    if name == "xorg" and not env.get("DISPLAY"):
        return "pystray xorg: no X display (DISPLAY unset)"
    try:
        _load_pystray(name)
    except Exception as exc:  # xorg raises Xlib display errors, not ImportError
        return f"pystray {name}: {type(exc).__name__}: {exc}"
    return None


def _xembed_tray_owner(display: str) -> bool | None:
    try:
        import Xlib.display  # noqa: PLC0415

        conn = Xlib.display.Display(display)
    except Exception:
        return None
    try:
        atom = conn.intern_atom(f"_NET_SYSTEM_TRAY_S{conn.get_default_screen()}")
        return bool(conn.get_selection_owner(atom))
    finally:
        conn.close()


# --------------------------------------------------------------------------- choice


def choose_backend(
    env: Mapping[str, str] | None = None,
    *,
    platform: str = sys.platform,
    wait_for_watcher: float = 0.0,
) -> Choice:
    """Pick the tray backend (see the module docstring for the rules)."""
    env = os.environ if env is None else env
    forced = env.get("ERGOBREAK_TRAY", "").strip().lower()
    if forced:
        if forced not in BACKENDS:
            raise ValueError(f"ERGOBREAK_TRAY={forced!r}: choose one of {', '.join(BACKENDS)}")
        return Choice(forced, f"forced by ERGOBREAK_TRAY={forced}")
    if platform == "win32":
        return Choice("win32", "Windows: the notification area (pystray's win32 backend)")
    if platform == "darwin":
        return Choice("darwin", "macOS: the menu bar (pystray's darwin backend)")

    notes: list[str] = []
    passed: list[tuple[str, str]] = []
    probe = probe_watcher(env.get("DBUS_SESSION_BUS_ADDRESS"), wait_for_watcher)
    if probe.watcher and probe.host is not False:
        return Choice("sni", "a StatusNotifierWatcher with a tray host is on the session bus")
    notes.append(probe.problem or "a StatusNotifierWatcher is on the bus, but no tray host yet")
    passed.append(("sni", notes[-1]))

    wanted = env.get("PYSTRAY_BACKEND", "").strip()
    candidates = (wanted,) if wanted in PYSTRAY_LINUX else PYSTRAY_LINUX
    if wanted and wanted not in PYSTRAY_LINUX:
        notes.append(f"PYSTRAY_BACKEND={wanted!r} is not a Linux tray; trying all")
    for name in candidates:
        problem = probe_pystray(name, env)
        if problem is None:
            return Choice(name, _pystray_reason(name, env, wanted), tuple(notes), tuple(passed))
        notes.append(problem)
        passed.append((name, problem.removeprefix(f"pystray {name}: ")))

    if probe.watcher:
        reason = "a StatusNotifierWatcher is up; its host should follow"
        return Choice("sni", reason, tuple(notes), tuple(passed[1:]))
    if not env.get("DISPLAY") and probe.bus:
        reason = "no X display, so only SNI can work: it registers when a watcher appears"
        return Choice("sni", reason, tuple(notes), tuple(passed[1:]))
    reason = "no tray is available here: use the ergobreak command"
    return Choice("none", reason, tuple(notes), tuple(passed))


def _pystray_reason(name: str, env: Mapping[str, str], wanted: str) -> str:
    how = f"PYSTRAY_BACKEND={wanted}" if wanted else "no StatusNotifierWatcher"
    if name == "xorg":
        tray = _xembed_tray_owner(env.get("DISPLAY", ""))
        where = (
            "an XEmbed tray is up"
            if tray
            else "no XEmbed tray yet: the icon docks when one appears"
        )
        return f"{how}: pystray's XEmbed backend, icon only (no menu; {where})"
    return f"{how}: pystray's {name} backend (PyGObject)"


@dataclass(frozen=True, slots=True)
class Host:
    """Whether something on this desktop really shows the icon of a backend."""

    present: bool | None  # None: could not tell
    detail: str


def tray_host(backend: str, env: Mapping[str, str]) -> Host:
    """Is the host that shows ``backend``'s icon there? A StatusNotifierWatcher alone
    shows nothing: a host (a panel's tray) must have registered with it; an XEmbed
    icon needs the ``_NET_SYSTEM_TRAY_S<screen>`` selection owned."""
    if backend in ("win32", "darwin"):
        return Host(True, "the system's own tray")
    if backend == "none":
        return Host(False, "no tray backend")
    hosts: list[Host] = []
    if backend in ("sni", "appindicator"):  # libappindicator speaks SNI, then XEmbed
        hosts.append(_sni_host(env))
    if backend in ("xorg", "gtk", "appindicator"):
        hosts.append(_xembed_host(env))
    found = [h for h in hosts if h.present]
    if found:
        return found[0]
    unknown = [h for h in hosts if h.present is None]
    return Host(None if unknown else False, "; ".join(h.detail for h in hosts))


def _sni_host(env: Mapping[str, str]) -> Host:
    probe = probe_watcher(env.get("DBUS_SESSION_BUS_ADDRESS"))
    if probe.host:
        return Host(True, "a StatusNotifierHost is registered with the watcher")
    if probe.watcher and probe.host is False:
        return Host(False, "a StatusNotifierWatcher without a registered host (no panel tray)")
    return Host(None if probe.watcher else False, probe.problem or "no StatusNotifierWatcher")


def _xembed_host(env: Mapping[str, str]) -> Host:
    display = env.get("DISPLAY", "")
    owned = _xembed_tray_owner(display) if display else None
    if owned:
        return Host(True, "an XEmbed tray owns the _NET_SYSTEM_TRAY selection")
    if owned is None:
        return Host(False, "no X display for an XEmbed tray")
    return Host(False, "no XEmbed tray (nobody owns the _NET_SYSTEM_TRAY selection)")


def describe_backend(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The backend this process would use, why, what it can do, and whether a host is
    there to show it (for doctor)."""
    env = os.environ if env is None else env
    choice = choose_backend(env)
    host = tray_host(choice.backend, env)
    return {**choice.describe(), "host": host.present, "host_detail": host.detail}


# --------------------------------------------------------------------------- icons


def create_icon(
    choice: Choice, name: str, icon: Any = None, title: str | None = None, menu: Any = None
) -> TrayIcon:
    """A pystray-style icon on ``choice``'s backend."""
    if choice.backend == "sni":
        return SniIcon(name, icon, title, menu)
    if choice.backend == "none":
        return NullIcon(name, icon, title, menu)
    from ergobreak.tray.facade import _as_menu, _pil_images  # noqa: PLC0415

    images = _pil_images(icon)
    largest = max(images, key=lambda im: im.width) if images else None
    module = _load_pystray(choice.backend)
    cls = module.XorgIcon if choice.backend == "xorg" else module.Icon
    impl = cls(name, largest, title, _as_menu(menu))
    if choice.backend == "xorg":
        impl.images = images
    if choice.backend == "win32":
        from ergobreak.tray.dispatch import win32_dispatcher  # noqa: PLC0415

        return PystrayIcon(impl, win32_dispatcher(impl), tooltip_limit=127)
    if choice.backend == "darwin":
        from ergobreak.tray.dispatch import darwin_dispatcher  # noqa: PLC0415

        return PystrayIcon(impl, darwin_dispatcher(), stop_on_ui_thread=True)
    # appindicator shows no tooltip and xorg only sets WM_NAME: keep those one line
    return PystrayIcon(impl, tooltip_body=choice.backend == "gtk")


def Icon(name: str, icon: Any = None, title: str | None = None, menu: Any = None) -> TrayIcon:
    """``pystray.Icon`` with ergobreak's backend choice."""
    return create_icon(choose_backend(), name, icon, title, menu)


class NullIcon:
    """No tray: ``run`` just starts ``setup`` and waits for :meth:`stop`, so the
    daemon's main thread works the same way with or without an icon."""

    HAS_MENU = False
    HAS_DEFAULT_ACTION = False

    def __init__(self, name: str, icon: Any = None, title: str | None = None, menu: Any = None):
        self._name = name
        self.icon = icon
        self.title = title or ""
        self.menu = menu
        self.visible = False
        self._stopped = threading.Event()

    @property
    def name(self) -> str:
        return self._name

    def run(self, setup: Callable[[Any], None] | None = None) -> None:
        if setup is not None:
            threading.Thread(target=setup, args=(self,), name="tray-setup").start()
        self._stopped.wait()

    def stop(self) -> None:
        self._stopped.set()

    def update_menu(self) -> None:
        pass

    def set_tooltip(self, title: str, text: str) -> None:
        self.title = title

    def set_attention(self, on: bool) -> None:
        pass

    def __call__(self) -> None:
        pass
