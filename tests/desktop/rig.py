"""A private headless desktop (Xvfb + D-Bus + optional dunst/openbox/trayer/xfce4-panel).

Tests start it and always stop it themselves, so nothing depends on the machine's own
session: every daemon gets a private state directory with private XDG dirs, a private bus
without service directories (nothing can be auto-started behind our back) and its own log.
Readiness is always checked against the real thing (a display number written, a bus name
owned by *our* process, an X selection owned by *our* client), never with a sleep.

Every PID is recorded with its start time (field 22 of /proc/PID/stat) in
``STATE/pids.json``; teardown only signals a PID whose start time still matches and that is
not a zombie, so PID reuse and unreaped zombies (bare containers) cannot fool it.

Command line (for bench scripts and manual debugging)::

    eval "$(python tests/desktop/rig.py up --with dunst,openbox)"
    notify-send hello
    python tests/desktop/rig.py down "$ERGOBREAK_RIG_DIR"
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import json
import os
import re
import select
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import Xlib.display
import Xlib.error
import Xlib.X
import Xlib.Xatom
from jeepney import (  # type: ignore[import-untyped]
    DBusAddress,
    DBusErrorResponse,
    HeaderFields,
    MatchRule,
    MessageType,
    message_bus,
    new_method_call,
)
from jeepney.io.blocking import DBusConnection, open_dbus_connection  # type: ignore[import-untyped]
from jeepney.wrappers import unwrap_msg  # type: ignore[import-untyped]
from PIL import Image, ImageChops
from Xlib.ext.res import LocalClientPIDMask
from Xlib.protocol.event import ClientMessage
from Xlib.protocol.request import DestroyWindow

T = TypeVar("T")

#: components that can be started on top of X + D-Bus, in the order they are started
COMPONENTS = ("openbox", "dunst", "trayer", "xfce")

#: binary -> Debian package (tests/debian-packages.txt), for the "missing binary" message
PACKAGES = {
    "Xvfb": "xvfb",
    "dbus-daemon": "dbus",
    "dunst": "dunst",
    "openbox": "openbox",
    "trayer": "trayer",
    "xfce4-panel": "xfce4-panel",
    "xfconfd": "xfconf",
    "xdotool": "xdotool",
    "import": "imagemagick",
    "notify-send": "libnotify-bin",
    "setpriv": "util-linux",
}

NOTIFICATIONS = "org.freedesktop.Notifications"
SNI_WATCHER = "org.kde.StatusNotifierWatcher"
XFCONF = "org.xfce.Xfconf"
_NOTIFY_PATH = "/org/freedesktop/Notifications"
NOTIFY_API = DBusAddress(_NOTIFY_PATH, bus_name=NOTIFICATIONS, interface=NOTIFICATIONS)
DUNST_API = DBusAddress(_NOTIFY_PATH, bus_name=NOTIFICATIONS, interface="org.dunstproject.cmd0")
WATCHER_API = DBusAddress("/StatusNotifierWatcher", bus_name=SNI_WATCHER, interface=SNI_WATCHER)
PROPERTIES = "org.freedesktop.DBus.Properties"

#: popup backgrounds fixed in our dunstrc, so screenshot tests can look for them
DUNST_COLORS = {"low": (0x22, 0x22, 0x22), "normal": (0x28, 0x55, 0x77), "critical": (0x90, 0, 0)}

SCREEN = (1280, 800)

#: variables a parent session may leak that would make clients bypass the private desktop
_LEAKY_VARS = (
    "WAYLAND_DISPLAY",
    "SESSION_MANAGER",
    "DBUS_STARTER_ADDRESS",
    "DBUS_STARTER_BUS_TYPE",
    "DBUS_SESSION_BUS_PID",
)


class RigError(RuntimeError):
    """The desktop could not be started or stopped as promised."""


class MissingBinary(RigError):
    """A program is not installed; the message names the Debian package (never skip)."""


# --------------------------------------------------------------------------- polling


def wait_for(
    predicate: Callable[[], T],
    timeout: float = 5.0,
    interval: float = 0.01,
    *,
    what: str | None = None,
    ignore: tuple[type[BaseException], ...] = (),
) -> T:
    """Poll ``predicate`` until it returns something truthy, and return that.

    The only sanctioned way to wait in desktop tests: it ends as soon as the condition
    holds and, on timeout, says what was awaited and what was seen last. Exceptions listed
    in ``ignore`` count as "not yet" (and are reported); anything else propagates.
    """
    deadline = time.monotonic() + timeout
    last: object = None
    error: BaseException | None = None
    while True:
        try:
            last = predicate()
            if last:
                return last
            error = None
        except ignore as exc:
            error = exc
        if time.monotonic() >= deadline:
            name = what or getattr(predicate, "__qualname__", repr(predicate))
            detail = f"last error: {error!r}" if error else f"last value: {last!r}"
            raise TimeoutError(f"timed out after {timeout:g}s waiting for {name} ({detail})")
        time.sleep(interval)


def wait_equal(
    get: Callable[[], T], expected: object, timeout: float = 5.0, *, what: str | None = None
) -> T:
    """Poll until ``get() == expected``; a timeout reports the last value got."""
    seen: list[T] = []

    def same() -> bool:
        seen[:] = [get()]
        return seen[0] == expected

    name = what or getattr(get, "__qualname__", repr(get))
    try:
        wait_for(same, timeout, what=f"{name} == {expected!r}")
    except TimeoutError as exc:
        raise TimeoutError(f"{exc.args[0].split(' (')[0]}; last got {seen[-1]!r}") from None
    return seen[-1]


# --------------------------------------------------------------------------- processes


@dataclass(frozen=True)
class ProcStat:
    state: str
    session: int
    start: int


def proc_stat(pid: int) -> ProcStat | None:
    """Fields 3 (state), 6 (session) and 22 (start time) of /proc/PID/stat, or None."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes().decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # comm may contain spaces and parens
    return ProcStat(state=fields[0], session=int(fields[3]), start=int(fields[19]))


@dataclass
class Proc:
    """One process the rig started (or found in the session of one it started)."""

    component: str
    name: str
    pid: int
    start: int
    popen: subprocess.Popen[bytes] | None = field(default=None, repr=False, compare=False)

    def alive(self) -> bool:
        """True while this very process (same start time) exists and is not a zombie."""
        if self.popen is not None and self.popen.poll() is not None:
            return False  # reaped just now
        st = proc_stat(self.pid)
        return st is not None and st.start == self.start and st.state not in "ZX"

    def signal(self, sig: int) -> bool:
        """Send ``sig`` only if the PID still names the process we started.

        A pidfd pins the process while its start time is checked, so a recycled PID can
        never be hit; without pidfd support we fall back to kill(2) right after the check.
        """
        try:
            fd: int | None = os.pidfd_open(self.pid)
        except ProcessLookupError:
            return False
        except OSError:
            fd = None
        try:
            if not self.alive():
                return False
            if fd is None:
                os.kill(self.pid, sig)
            else:
                signal.pidfd_send_signal(fd, sig)
            return True
        except ProcessLookupError:
            return False
        finally:
            if fd is not None:
                os.close(fd)

    def record(self) -> dict[str, Any]:
        return {
            "component": self.component,
            "name": self.name,
            "pid": self.pid,
            "start": self.start,
        }


def session_members(*leaders: Proc) -> list[Proc]:
    """Live descendants that stayed in a leader's session (e.g. xfce4-panel's wrapper).

    Every daemon starts in its own session, so its helpers can be found and stopped with
    it instead of lingering (the panel's plugin wrapper takes ~2 s to notice on its own).
    One scan of /proc covers all ``leaders``; a leader whose PID now names another
    process is skipped, since its session id may then belong to someone else.
    """
    by_session = {}
    for leader in leaders:
        st = proc_stat(leader.pid)
        if st is None or st.start == leader.start:
            by_session[leader.pid] = leader
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) in by_session:
            continue
        st = proc_stat(int(entry.name))
        owner = by_session.get(st.session) if st else None
        if st and owner and st.start >= owner.start and st.state not in "ZX":
            try:
                comm = Path(entry.path, "comm").read_text().strip()
            except OSError:
                continue
            found.append(Proc(owner.component, comm, int(entry.name), st.start))
    return found


def stop_processes(procs: Sequence[Proc], grace: float = 5.0) -> list[Proc]:
    """Stop ``procs`` in reverse order: SIGTERM, SIGKILL after ``grace``; return survivors.

    Each process is stopped together with its session members, and our own children are
    reaped (``Popen.poll``) so they do not linger as zombies.
    """
    survivors: list[Proc] = []
    for leader in reversed(procs):
        group = [leader, *session_members(leader)]
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 2.0)):
            for proc in group:
                proc.signal(sig)
            deadline = time.monotonic() + wait
            while any(p.alive() for p in group) and time.monotonic() < deadline:
                time.sleep(0.005)
            group = [p for p in group if p.alive()]
            if not group:
                break
        survivors += group
        if leader.popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                leader.popen.wait(0.5)  # reap
    return survivors


def require(binary: str) -> str:
    """Absolute path of ``binary``, or a loud MissingBinary naming the Debian package."""
    if binary == "xfconfd":  # not on PATH; lives in a multiarch libdir
        hits = glob.glob("/usr/lib/*/xfce4/xfconf/xfconfd") + glob.glob(
            "/usr/lib/xfce4/xfconf/xfconfd"
        )
        if hits:
            return hits[0]
    elif path := shutil.which(binary):
        return path
    package = PACKAGES.get(binary, "?")
    raise MissingBinary(
        f"{binary} is not installed: apt-get install {package} "
        "(tests/debian-packages.txt lists everything the desktop tests need)"
    )


def _remove_stale_x_socket(display: str) -> None:
    """After a SIGKILLed Xvfb its socket stays; remove it only if nobody answers on it."""
    path = Path(f"/tmp/.X11-unix/X{display.lstrip(':')}")
    if not path.exists():
        return
    with socket.socket(socket.AF_UNIX) as sock:
        try:
            sock.connect(str(path))
        except ConnectionRefusedError:
            path.unlink(missing_ok=True)
        except OSError:
            pass


# --------------------------------------------------------------------------- D-Bus


def _plain(entry: Mapping[str, tuple[str, Any]]) -> dict[str, Any]:
    """a{sv} as jeepney returns it ({key: (signature, value)}) -> {key: value}."""
    return {key: value for key, (_sig, value) in entry.items()}


class Bus:
    """A jeepney connection to the rig's bus, buffering every signal it receives.

    Signals are kept from the moment of connecting, because dunst sends
    ``NotificationClosed`` before the reply to the call that caused it. dunst sends
    ``ActionInvoked``/``NotificationClosed`` only to the connection that called Notify, so
    wait for them on that connection. Not thread-safe.
    """

    def __init__(self, address: str, timeout: float = 5.0) -> None:
        self.timeout = timeout
        self.conn: DBusConnection = open_dbus_connection(address)
        self._signals: deque[Any] = deque(maxlen=10_000)
        self._filter = self.conn.filter(MatchRule(type="signal"), queue=self._signals)
        self.call_bus("AddMatch", MatchRule(type="signal", interface=NOTIFICATIONS))

    def close(self) -> None:
        self._filter.close()
        self.conn.close()

    def __enter__(self) -> Bus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- calls
    def call(
        self, address: Any, method: str, signature: str | None = None, *args: Any
    ) -> tuple[Any, ...]:
        """Call ``method`` and return the reply body; error replies raise DBusErrorResponse."""
        msg = new_method_call(address, method, signature, args)
        return tuple(unwrap_msg(self.conn.send_and_get_reply(msg, timeout=self.timeout)))

    def call_bus(self, method: str, *args: Any) -> tuple[Any, ...]:
        """Call a method of the bus daemon itself (NameHasOwner, GetNameOwner, ...)."""
        msg = getattr(message_bus, method)(*args)
        return tuple(unwrap_msg(self.conn.send_and_get_reply(msg, timeout=self.timeout)))

    def get_property(self, address: Any, name: str) -> Any:
        (_sig, value), *_ = self.call(
            DBusAddress(address.object_path, address.bus_name, PROPERTIES),
            "Get",
            "ss",
            address.interface,
            name,
        )
        return value

    def name_has_owner(self, name: str) -> bool:
        return bool(self.call_bus("NameHasOwner", name)[0])

    def owner_pid(self, name: str) -> int | None:
        """PID of the process owning ``name`` on this bus, or None if unowned."""
        try:
            (owner,) = self.call_bus("GetNameOwner", name)
            return int(self.call_bus("GetConnectionUnixProcessID", owner)[0])
        except DBusErrorResponse:
            return None

    # -- notifications
    def notify(
        self,
        summary: str,
        body: str = "",
        *,
        app_name: str = "rig-test",
        replaces_id: int = 0,
        icon: str = "",
        actions: Mapping[str, str] | Sequence[tuple[str, str]] = (),
        hints: Mapping[str, tuple[str, Any]] | None = None,
        expire_timeout: int = -1,
    ) -> int:
        """org.freedesktop.Notifications.Notify; ``actions`` maps key -> label, ``hints``
        name -> (D-Bus signature, value), e.g. ``{"urgency": ("y", 2)}``. Returns the id."""
        pairs = actions.items() if isinstance(actions, Mapping) else actions
        flat = [part for pair in pairs for part in pair]
        (nid,) = self.call(
            NOTIFY_API,
            "Notify",
            "susssasa{sv}i",
            app_name,
            replaces_id,
            icon,
            summary,
            body,
            flat,
            dict(hints or {}),
            expire_timeout,
        )
        return int(nid)

    def close_notification(self, nid: int) -> None:
        self.call(NOTIFY_API, "CloseNotification", "u", nid)

    # -- signals
    def clear_signals(self) -> None:
        """Forget buffered signals (e.g. NotificationClosed from an earlier test)."""
        self._signals.clear()

    def wait_signal(
        self,
        member: str,
        where: Callable[[tuple[Any, ...]], bool] | None = None,
        *,
        interface: str = NOTIFICATIONS,
        timeout: float = 5.0,
    ) -> tuple[Any, ...]:
        """Return (and consume) the body of the first buffered or arriving signal
        ``interface.member`` whose body satisfies ``where``."""
        deadline = time.monotonic() + timeout
        while True:
            for msg in list(self._signals):
                hdr = msg.header.fields
                if (
                    msg.header.message_type == MessageType.signal
                    and hdr.get(HeaderFields.interface) == interface
                    and hdr.get(HeaderFields.member) == member
                    and (where is None or where(tuple(msg.body)))
                ):
                    self._signals.remove(msg)
                    return tuple(msg.body)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = [
                    f"{m.header.fields.get(HeaderFields.member)}{tuple(m.body)!r}"
                    for m in self._signals
                ]
                raise TimeoutError(
                    f"no {interface}.{member} signal matching within {timeout:g}s; buffered: {seen}"
                )
            with contextlib.suppress(TimeoutError):
                self.conn.recv_messages(timeout=remaining)


# --------------------------------------------------------------------------- images


def count_pixels_near(
    png: str | os.PathLike[str] | Image.Image,
    rgb: tuple[int, int, int],
    tolerance: int = 40,
    box: tuple[int, int, int, int] | None = None,
) -> int:
    """Pixels whose every channel is within ``tolerance`` of ``rgb`` (in ``box`` =
    left, top, right, bottom). Uses per-band lookup tables, so a full screen takes ms."""
    if isinstance(png, Image.Image):
        image = png.convert("RGB")
    else:
        with Image.open(png) as opened:
            image = opened.convert("RGB")
    if box is not None:
        image = image.crop(box)
    masks = [
        band.point([255 if abs(v - want) <= tolerance else 0 for v in range(256)])
        for band, want in zip(image.split(), rgb, strict=True)
    ]
    both = ImageChops.logical_and(masks[0].convert("1"), masks[1].convert("1"))
    hits = ImageChops.logical_and(both, masks[2].convert("1"))
    return hits.histogram()[255]


# --------------------------------------------------------------------------- the rig

_DBUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<!-- A private session bus: no <servicedir>, so a missing server fails with ServiceUnknown
     instead of auto-starting the machine's dunst/workrave/dconf. -->
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""

_DUNSTRC = """# Written by tests/desktop/rig.py: deterministic, nothing expires because of idleness.
[global]
    monitor = 0
    follow = none
    notification_limit = 0
    idle_threshold = 0
    history_length = 200
    sticky_history = yes
    stack_duplicates = false
    show_indicators = no
    mouse_left_click = close_current
    mouse_middle_click = do_action, close_current
    mouse_right_click = close_all
    dmenu = {dmenu}
[urgency_low]
    background = "#222222"
    foreground = "#888888"
    timeout = 10
[urgency_normal]
    background = "#285577"
    foreground = "#ffffff"
    timeout = 10
[urgency_critical]
    background = "#900000"
    foreground = "#ffffff"
    frame_color = "#ff0000"
    timeout = 0
"""

# dunst lists one line per action, "#<label> (<summary>) [<id>,<key>]", and runs the
# selected line. The test writes "<id|*> <key>" to dmenu-choice; "*" = newest offering it.
_FAKE_DMENU = '''"""Fake dmenu for dunst: picks the action a test asked for (rig.invoke_action)."""
import os, re, sys

state = {state!r}
menu = sys.stdin.read()
try:
    with open(os.path.join(state, "dmenu-choice")) as f:
        want_id, _, want_key = f.read().rstrip("\\n").partition(" ")
except FileNotFoundError:
    want_id, want_key = "", ""
best = None
for line in menu.splitlines():
    m = re.search(r"\\[(\\d+),(.*)\\]$", line)
    if m and m.group(2) == want_key and want_id in ("*", m.group(1)):
        if best is None or int(m.group(1)) > best[0]:
            best = (int(m.group(1)), line)
picked = best[1] if best else ""
with open(os.path.join(state, "dmenu-menu"), "w") as f:
    f.write(menu)
with open(os.path.join(state, "dmenu-picked.tmp"), "w") as f:
    f.write(picked)
os.replace(os.path.join(state, "dmenu-picked.tmp"), os.path.join(state, "dmenu-picked"))
print(picked)
'''

_XFCE_PANEL_XML = """<?xml version="1.0" encoding="UTF-8"?>
<!-- One panel with only the systray plugin (SNI watcher + host); skips first-start setup. -->
<channel name="xfce4-panel" version="1.0">
  <property name="configver" type="int" value="2"/>
  <property name="panels" type="array">
    <value type="int" value="1"/>
    <property name="panel-1" type="empty">
      <property name="position" type="string" value="p=6;x=0;y=0"/>
      <property name="length" type="uint" value="100"/>
      <property name="position-locked" type="bool" value="true"/>
      <property name="size" type="uint" value="32"/>
      <property name="plugin-ids" type="array">
        <value type="int" value="1"/>
      </property>
    </property>
  </property>
  <property name="plugins" type="empty">
    <property name="plugin-1" type="string" value="systray"/>
  </property>
</channel>
"""

_TRAYER_ARGS = [
    *("--edge", "top", "--align", "right", "--widthtype", "request", "--height", "32"),
    *("--SetDockType", "true", "--SetPartialStrut", "false", "--transparent", "false"),
    *("--tint", "0x000000", "--expand", "true", "--monitor", "primary"),
]

#: log file names that callers may also ask for by component name
_LOG_ALIASES = {"x": "Xvfb", "bus": "dbus-daemon", "xfce": "xfce4-panel"}


class Rig:
    """A private headless desktop; use as a context manager.

    ``Rig(("dunst", "openbox"))`` starts Xvfb, a private dbus-daemon and the listed
    components (any of :data:`COMPONENTS`); each component can later be started, stopped
    and restarted on its own. Several rigs can run side by side.

    ``tie_to_parent`` makes the daemons get SIGTERM when the *thread* that started them
    ends (PR_SET_PDEATHSIG), so a hard-killed pytest leaves no orphans; start and restart
    components from the main thread. The CLI turns it off.
    """

    def __init__(
        self,
        components: Iterable[str] = (),
        *,
        keep_state: bool = False,
        tie_to_parent: bool = True,
        timeout: float = 15.0,
        grace: float = 5.0,
    ) -> None:
        self.wanted = _check_components(components)
        self.keep_state = keep_state
        self.tie_to_parent = tie_to_parent
        self.timeout = timeout
        self.grace = grace
        self.state_dir = Path()
        self.display = ""
        self.bus_address = ""
        self.env: dict[str, str] = {}
        self.procs: dict[str, list[Proc]] = {}  # component -> processes, in start order
        self.started: list[Proc] = []  # every process ever spawned, for leftovers()
        self._bus: Bus | None = None
        self._x: Xlib.display.Display | None = None
        self._history_floor = 0
        self._shots = 0

    # -- lifecycle
    def __enter__(self) -> Rig:
        self.start_all()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start_all(self) -> None:
        """Start X, the bus and the wanted components; on any failure stop what started."""
        try:
            self._make_state_dir()
            self._start_x()
            self._start_bus()
            for name in COMPONENTS:
                if name in self.wanted:
                    self.start(name)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Stop everything in reverse start order and check nothing survived.

        Raises RigError naming any survivor; removes the state dir unless ``keep_state``.
        """
        survivors: list[Proc] = []
        for name in reversed(list(self.procs)):
            if name == "bus" and self._bus is not None:
                self._bus.close()
                self._bus = None
            if name == "x" and self._x is not None:
                with contextlib.suppress(Exception):
                    self._x.close()
                self._x = None
            survivors += stop_processes(self.procs.pop(name), self.grace)
        if self.display:
            _remove_stale_x_socket(self.display)
        self._save_record()
        leftovers = survivors or self.leftovers()
        if self.state_dir.name and not self.keep_state and not leftovers:
            shutil.rmtree(self.state_dir, ignore_errors=True)
        if leftovers:
            raise RigError(f"still alive after teardown: {leftovers}")

    def start(self, component: str) -> None:
        """Start one component and wait until it is really ready."""
        _check_components([component])
        if self.is_running(component):
            raise RigError(f"{component} is already running")
        if {component, *self.procs} >= {"trayer", "xfce"}:
            raise RigError("trayer and xfce both want to own _NET_SYSTEM_TRAY_S0: pick one")
        self.procs[component] = []
        try:
            getattr(self, f"_start_{component}")()
        except BaseException:
            self.stop(component, released=False)
            raise
        self._save_record()

    def stop(self, component: str, *, released: bool = True) -> None:
        """Stop one component and raise RigError if any of its processes survived.

        With ``released``, also wait until the bus daemon and X server have noticed (its
        bus names and X selections are free), so the next check sees the stopped state.
        """
        procs = self.procs.pop(component, [])
        survivors = stop_processes(procs, self.grace)
        self._save_record()
        if survivors:
            raise RigError(f"{component}: still alive after stop: {survivors}")
        check = getattr(self, f"_released_{component}", None)
        if procs and released and check is not None:
            wait_for(check, 5.0, what=f"{component} to release its names")

    def launch(self, name: str, argv: Sequence[str]) -> Proc:
        """Start a long-running client, e.g. the daemon under test, the way the rig starts
        its own daemons: desktop env, stdin /dev/null, output to ``log_path(name)``, own
        session, tracked. Stop it with ``stop(name)``; ``close()`` stops it first."""
        if name in (*COMPONENTS, "x", "bus") or name in self.procs:
            raise RigError(f"{name!r} is taken; pick another name")
        return self._spawn(name, argv, name=name)

    def restart(self, component: str) -> None:
        self.stop(component)
        self.start(component)

    def is_running(self, component: str) -> bool:
        return any(p.alive() for p in self.procs.get(component, []))

    def all_procs(self) -> list[Proc]:
        return [p for procs in self.procs.values() for p in procs]

    def leftovers(self) -> list[Proc]:
        """Everything this rig ever started (and their session helpers) that is still
        alive; the running components while up, nothing after :meth:`close`."""
        return [p for p in self.started if p.alive()] + session_members(*self.started)

    def log_path(self, name: str) -> Path:
        """Log file of a daemon ("dunst", "xfconfd", "xfce4-panel", "Xvfb", ... or "xfce")."""
        return self.state_dir / "logs" / f"{_LOG_ALIASES.get(name, name)}.log"

    def log_tails(self, lines: int = 30) -> str:
        """The end of every log, for printing when a test fails."""
        out = []
        for path in sorted((self.state_dir / "logs").glob("*.log")):
            tail = path.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"--- {path.name}\n" + "\n".join(tail))
        return "\n".join(out)

    # -- environment
    def subprocess_env(self) -> dict[str, str]:
        """os.environ with the desktop's variables, for starting the daemon under test."""
        env = {k: v for k, v in os.environ.items() if k not in _LEAKY_VARS}
        env.update(self.env)
        return env

    @contextlib.contextmanager
    def apply_env(self) -> Iterator[None]:
        """Point this process (os.environ) at the desktop for the duration of the block."""
        saved = {k: os.environ.get(k) for k in (*self.env, *_LEAKY_VARS)}
        os.environ.update(self.env)
        for key in _LEAKY_VARS:
            os.environ.pop(key, None)
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    # -- starting
    def _make_state_dir(self) -> None:
        self.state_dir = Path(tempfile.mkdtemp(prefix="ergobreak-rig-"))
        for sub in ("config", "data", "cache", "runtime", "logs"):
            (self.state_dir / sub).mkdir()
        (self.state_dir / "runtime").chmod(0o700)  # XDG_RUNTIME_DIR must be 0700
        self.env = {
            "XDG_CONFIG_HOME": str(self.state_dir / "config"),
            "XDG_DATA_HOME": str(self.state_dir / "data"),
            "XDG_CACHE_HOME": str(self.state_dir / "cache"),
            "XDG_RUNTIME_DIR": str(self.state_dir / "runtime"),
            "XDG_CONFIG_DIRS": "",
            "NO_AT_BRIDGE": "1",
            "PYSTRAY_BACKEND": "xorg",
            # never unset: an unset address makes libdbus clients X11-autolaunch a bus
            "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent",
        }

    def _spawn(
        self,
        component: str,
        argv: Sequence[str],
        pass_fds: Sequence[int] = (),
        name: str | None = None,
    ) -> Proc:
        """Start a daemon: stdin /dev/null, output to its log, own session, private env."""
        argv = [require(argv[0]), *argv[1:]]
        name = name or Path(argv[0]).name
        log = self.log_path(name)
        # setpriv (util-linux) sets PR_SET_PDEATHSIG and execs, so the PID stays the
        # daemon's and no preexec_fn (unsafe with threads) is needed.
        tie = [require("setpriv"), "--pdeathsig", "TERM", "--"] if self.tie_to_parent else []
        with open(log, "ab") as out:
            out.write(f"=== {time.strftime('%H:%M:%S')} {shlex.join(argv)}\n".encode())
            out.flush()
            popen = subprocess.Popen(
                [*tie, *argv],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.subprocess_env(),
                cwd=self.state_dir,
                pass_fds=pass_fds,
                start_new_session=True,
            )
        st = proc_stat(popen.pid)
        proc = Proc(component, name, popen.pid, st.start if st else -1, popen)
        self.procs.setdefault(component, []).append(proc)
        self.started.append(proc)
        self._save_record()
        return proc

    def _read_line(self, fd: int, proc: Proc, what: str) -> str:
        """Read the line a daemon writes to a pipe once it is ready (EOF = it died)."""
        data = b""
        deadline = time.monotonic() + self.timeout
        while not data.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise RigError(
                    f"{proc.name}: no {what} after {self.timeout:g}s\n{self._tail(proc)}"
                )
            chunk = os.read(fd, 1024)
            if not chunk:
                raise RigError(f"{proc.name} exited before writing its {what}\n{self._tail(proc)}")
            data += chunk
        return data.decode().strip()

    def _ready(self, proc: Proc, predicate: Callable[[], object], what: str) -> None:
        """Wait until ``predicate`` holds, failing fast (with the log) if ``proc`` dies."""

        def check() -> object:
            if not proc.alive():
                raise RigError(f"{proc.name} died before {what}\n{self._tail(proc)}")
            return predicate()

        try:
            wait_for(check, self.timeout, what=f"{proc.name}: {what}")
        except TimeoutError as exc:
            raise RigError(f"{exc}\n{self._tail(proc)}") from None

    def _tail(self, proc: Proc) -> str:
        path = self.log_path(proc.name)
        lines = path.read_text(errors="replace").splitlines()[-20:] if path.exists() else []
        return f"--- {path}\n" + "\n".join(lines)

    def _start_x(self) -> None:
        read_fd, write_fd = os.pipe()
        try:
            width, height = SCREEN
            proc = self._spawn(
                "x",
                [
                    *("Xvfb", "-displayfd", str(write_fd), "-screen", "0"),
                    *(f"{width}x{height}x24", "-nolisten", "tcp", "-noreset", "-s", "0"),
                ],
                pass_fds=[write_fd],
            )
            os.close(write_fd)
            write_fd = -1
            self.display = ":" + self._read_line(read_fd, proc, "display number")
        finally:
            os.close(read_fd)
            if write_fd >= 0:
                os.close(write_fd)
        self.env["DISPLAY"] = self.display
        self._x = Xlib.display.Display(self.display)

    def _start_bus(self) -> None:
        config = self.state_dir / "bus.conf"
        config.write_text(_DBUS_CONF.format(socket=self.state_dir / "bus"))
        read_fd, write_fd = os.pipe()
        try:
            argv = ["dbus-daemon", f"--config-file={config}", "--nofork", "--nopidfile"]
            proc = self._spawn("bus", [*argv, f"--print-address={write_fd}"], [write_fd])
            os.close(write_fd)
            write_fd = -1
            self.bus_address = self._read_line(read_fd, proc, "bus address")
        finally:
            os.close(read_fd)
            if write_fd >= 0:
                os.close(write_fd)
        self.env["DBUS_SESSION_BUS_ADDRESS"] = self.bus_address
        self._bus = Bus(self.bus_address)

    def _start_dunst(self) -> None:
        dmenu = self.state_dir / "fake-dmenu.py"
        dmenu.write_text(_FAKE_DMENU.format(state=str(self.state_dir)))
        rc = self.state_dir / "dunstrc"
        rc.write_text(_DUNSTRC.format(dmenu=shlex.join([sys.executable, "-I", "-S", str(dmenu)])))
        proc = self._spawn("dunst", ["dunst", "-config", str(rc), "-print"])
        self._ready(proc, lambda: self._owned_by(NOTIFICATIONS, proc), f"owns {NOTIFICATIONS}")
        self._history_floor = 0  # a new dunst counts ids from 1 again

    def _released_dunst(self) -> bool:
        return not self.bus.name_has_owner(NOTIFICATIONS)

    def _start_openbox(self) -> None:
        proc = self._spawn("openbox", ["openbox", "--sm-disable"])
        self._ready(proc, lambda: self._wm_check_by(proc), "sets _NET_SUPPORTING_WM_CHECK")

    def _released_openbox(self) -> bool:
        return self.selection_owner("WM_S0") == 0

    def _start_trayer(self) -> None:
        proc = self._spawn("trayer", ["trayer", *_TRAYER_ARGS])
        self._ready(
            proc,
            lambda: self._client_of(self.selection_owner("_NET_SYSTEM_TRAY_S0"), proc),
            "owns _NET_SYSTEM_TRAY_S0",
        )

    def _released_trayer(self) -> bool:
        return self.selection_owner("_NET_SYSTEM_TRAY_S0") == 0

    def _start_xfce(self) -> None:
        channel = Path(self.env["XDG_CONFIG_HOME"], "xfce4/xfconf/xfce-perchannel-xml")
        channel.mkdir(parents=True, exist_ok=True)
        (channel / "xfce4-panel.xml").write_text(_XFCE_PANEL_XML)
        xfconfd = self._spawn("xfce", ["xfconfd"])
        self._ready(xfconfd, lambda: self._owned_by(XFCONF, xfconfd), f"owns {XFCONF}")
        panel = self._spawn("xfce", ["xfce4-panel", "--disable-wm-check", "--sm-client-disable"])
        self._ready(
            panel,
            lambda: (
                self._owned_by(SNI_WATCHER, panel)
                and self.bus.get_property(WATCHER_API, "IsStatusNotifierHostRegistered")
                and self._panel_window(panel)
            ),
            "registers a StatusNotifierWatcher with a host and shows its window",
        )

    def _released_xfce(self) -> bool:
        return not (self.bus.name_has_owner(SNI_WATCHER) or self.bus.name_has_owner(XFCONF))

    # -- ownership checks (robust against a just-stopped predecessor still being listed)
    @staticmethod
    def _belongs(pid: int | None, proc: Proc) -> bool:
        """``pid`` is ``proc`` or a helper in its session."""
        st = proc_stat(pid) if pid else None
        return st is not None and st.session == proc.pid and st.start >= proc.start

    def _owned_by(self, name: str, proc: Proc) -> bool:
        return self._belongs(self.bus.owner_pid(name), proc)

    def _client_of(self, window: int, proc: Proc) -> bool:
        return bool(window) and self._belongs(self.window_pid(window), proc)

    def _wm_check_by(self, proc: Proc) -> bool:
        check = self.x_property(self.root_id, "_NET_SUPPORTING_WM_CHECK")
        return isinstance(check, list) and bool(check) and self._client_of(check[0], proc)

    def _panel_window(self, proc: Proc) -> bool:
        return any(self._client_of(w, proc) for w in self.find_windows("Xfce4-panel"))

    # -- record for `down` and for humans
    def _save_record(self) -> None:
        if not self.state_dir.name or not self.state_dir.exists():
            return
        record = {
            "state_dir": str(self.state_dir),
            "display": self.display,
            "bus": self.bus_address,
            "procs": [p.record() for p in self.all_procs()],
        }
        tmp = self.state_dir / "pids.json.tmp"
        tmp.write_text(json.dumps(record, indent=1))
        tmp.replace(self.state_dir / "pids.json")

    # -- D-Bus helpers
    @property
    def bus(self) -> Bus:
        """The rig's own connection (signals of notifications it sent arrive here)."""
        if self._bus is None:
            raise RigError("the bus is not running")
        return self._bus

    def connect_bus(self) -> Bus:
        """A fresh, separate connection (close it, or use ``with``)."""
        return Bus(self.bus_address)

    def name_has_owner(self, name: str) -> bool:
        return self.bus.name_has_owner(name)

    def notify(self, summary: str, body: str = "", **kwargs: Any) -> int:
        """Send a notification over the rig's connection; see :meth:`Bus.notify`."""
        return self.bus.notify(summary, body, **kwargs)

    def wait_signal(self, member: str, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
        """See :meth:`Bus.wait_signal`."""
        return self.bus.wait_signal(member, *args, **kwargs)

    def dunst_property(self, name: str) -> Any:
        """displayedLength, historyLength, waitingLength or paused."""
        return self.bus.get_property(DUNST_API, name)

    def close_all_notifications(self) -> None:
        """Close every displayed popup; dunst moves them to its history."""
        self.bus.call(DUNST_API, "NotificationCloseAll")

    def mark_history(self) -> None:
        """From now on, :meth:`history` only returns notifications newer than the current
        ones (dunst 1.9 has no way to clear its history; restarting it costs more)."""
        self._history_floor = max((n["id"] for n in self.history(everything=True)), default=0)

    def history(self, *, everything: bool = False) -> list[dict[str, Any]]:
        """dunst's history as plain dicts, most recently closed first.

        dunst 1.9 gives id, summary, body, message, appname, category, icon_path,
        default_action_name, timestamp, timeout (µs) and progress -- no urgency or actions.
        Only *closed or expired* notifications are in it: call
        :meth:`close_all_notifications` first. Entries from before :meth:`mark_history`
        are left out unless ``everything``."""
        (entries,) = self.bus.call(DUNST_API, "NotificationListHistory")
        plain = [_plain(e) for e in entries]
        return [n for n in plain if everything or n["id"] > self._history_floor]

    def invoke_action(self, key: str, notification_id: int | None = None) -> int:
        """Invoke action ``key`` of a displayed notification (default: the newest one that
        offers it) through dunst's context menu and the fake dmenu, as a user would.

        Returns the notification id; the client gets ``ActionInvoked(id, key)``.
        """
        if not self.dunst_property("displayedLength"):
            raise RigError(f"no notification is displayed, so action {key!r} cannot be invoked")
        picked = self.state_dir / "dmenu-picked"
        picked.unlink(missing_ok=True)
        wanted = "*" if notification_id is None else str(notification_id)
        (self.state_dir / "dmenu-choice").write_text(f"{wanted} {key}\n")
        self.bus.call(DUNST_API, "ContextMenuCall")
        wait_for(picked.exists, self.timeout, what="dunst to run the fake dmenu")
        line = picked.read_text().strip()
        if not line:
            menu = (self.state_dir / "dmenu-menu").read_text()
            raise RigError(f"no displayed notification offers action {key!r}; menu:\n{menu}")
        match = re.search(r"\[(\d+),", line)
        assert match, line
        return int(match.group(1))

    # -- X helpers
    @property
    def xdisplay(self) -> Xlib.display.Display:
        """The rig's own Xlib connection (owns windows made by :meth:`open_window`)."""
        if self._x is None:
            raise RigError("X is not running")
        return self._x

    @property
    def root_id(self) -> int:
        return int(self.xdisplay.screen().root.id)

    def atom(self, name: str) -> int:
        return int(self.xdisplay.intern_atom(name))

    def atom_name(self, atom: int) -> str:
        return str(self.xdisplay.get_atom_name(atom))

    def x_property(self, window: int, name: str) -> list[int] | str | None:
        """Like xprop: a window property as a list of numbers or a string, None if unset."""
        win = self.xdisplay.create_resource_object("window", window)
        try:
            prop = win.get_full_property(self.atom(name), Xlib.X.AnyPropertyType)
        except Xlib.error.XError:
            return None
        if prop is None:
            return None
        if isinstance(prop.value, bytes):
            return prop.value.decode()
        if isinstance(prop.value, str):
            return prop.value
        return [int(v) for v in prop.value]

    def active_window(self) -> int | None:
        """_NET_ACTIVE_WINDOW (needs openbox); None when unset or 0."""
        value = self.x_property(self.root_id, "_NET_ACTIVE_WINDOW")
        return int(value[0]) if isinstance(value, list) and value and value[0] else None

    def wm_state(self, window: int) -> set[str]:
        """_NET_WM_STATE as atom names, e.g. {"_NET_WM_STATE_FULLSCREEN"}."""
        value = self.x_property(window, "_NET_WM_STATE")
        return {self.atom_name(a) for a in value} if isinstance(value, list) else set()

    def selection_owner(self, selection: str) -> int:
        """Window owning an X selection such as _NET_SYSTEM_TRAY_S0, 0 if none."""
        owner = self.xdisplay.get_selection_owner(self.atom(selection))
        return int(owner if isinstance(owner, int) else owner.id)

    def find_windows(self, wm_class: str) -> list[int]:
        """Viewable windows anywhere in the tree (docked icons, reparented clients) whose
        WM_CLASS instance or class is ``wm_class``."""
        found = []
        stack = [self.xdisplay.screen().root]
        while stack:
            win = stack.pop()
            try:
                stack.extend(win.query_tree().children)
                if wm_class in (win.get_wm_class() or ()) and (
                    win.get_attributes().map_state == Xlib.X.IsViewable
                ):
                    found.append(int(win.id))
            except Xlib.error.XError:
                continue  # destroyed while we looked
        return found

    def window_pid(self, window: int) -> int | None:
        """PID of the client that created ``window`` (X-Resource extension)."""
        try:
            reply = self.xdisplay.res_query_client_ids(
                [{"client": window, "mask": LocalClientPIDMask}]
            )
        except Xlib.error.XError:
            return None
        values = [v for item in reply.ids for v in item.value]
        return int(values[0]) if values else None

    def open_window(
        self,
        title: str = "rig-test",
        *,
        fullscreen: bool = False,
        geometry: tuple[int, int, int, int] = (100, 100, 320, 240),
        color: tuple[int, int, int] = (0, 200, 0),
    ) -> int:
        """Map a plain top-level window (solid ``color``) and wait until it is viewable.

        ``fullscreen`` sets _NET_WM_STATE_FULLSCREEN before mapping, which openbox honours.
        """
        screen = self.xdisplay.screen()
        x, y, w, h = geometry
        red, green, blue = color
        win = screen.root.create_window(
            x, y, w, h, 0, screen.root_depth, background_pixel=(red << 16) | (green << 8) | blue
        )
        win.set_wm_name(title)
        win.set_wm_class("rig-test", "RigTest")
        if fullscreen:
            win.change_property(
                self.atom("_NET_WM_STATE"),
                Xlib.Xatom.ATOM,
                32,
                [self.atom("_NET_WM_STATE_FULLSCREEN")],
            )
        win.map()
        self.xdisplay.sync()
        wait_for(
            lambda: (
                win.get_attributes().map_state == Xlib.X.IsViewable
                and self._managed(win.id) is not False
            ),
            self.timeout,
            what=f"window {title!r} to be viewable and managed",
        )
        return int(win.id)

    def close_window(self, window: int) -> None:
        """Destroy a window from :meth:`open_window` and wait until the WM let go of it.

        The XID is deliberately never handed back to python-xlib, which would reuse it for
        the next window at once: the WM, still unmanaging the old window, then erases
        _NET_WM_STATE from the new one (a pre-map fullscreen request got lost ~1 in 10).
        """
        DestroyWindow(display=self.xdisplay.display, window=window)
        self.xdisplay.sync()
        wait_for(
            lambda: not self._managed(window),
            self.timeout,
            what=f"the window manager to forget window {window:#x}",
        )

    def _managed(self, window: int) -> bool | None:
        """Whether the WM lists ``window`` in _NET_CLIENT_LIST; None without a WM."""
        clients = self.x_property(self.root_id, "_NET_CLIENT_LIST")
        if not isinstance(clients, list) or not self.selection_owner("WM_S0"):
            return None
        return window in clients

    def set_fullscreen(self, window: int, on: bool = True) -> None:
        """Ask the WM (EWMH client message) to add or remove fullscreen state."""
        root = self.xdisplay.screen().root
        message = ClientMessage(
            window=self.xdisplay.create_resource_object("window", window),
            client_type=self.atom("_NET_WM_STATE"),
            data=(32, [1 if on else 0, self.atom("_NET_WM_STATE_FULLSCREEN"), 0, 1, 0]),
        )
        mask = Xlib.X.SubstructureRedirectMask | Xlib.X.SubstructureNotifyMask
        root.send_event(message, event_mask=mask)
        self.xdisplay.sync()

    def window_geometry(self, window: int) -> tuple[int, int, int, int]:
        """x, y (relative to the root), width, height."""
        win = self.xdisplay.create_resource_object("window", window)
        geo = win.get_geometry()
        pos = win.translate_coords(self.xdisplay.screen().root, 0, 0)
        return (-int(pos.x), -int(pos.y), int(geo.width), int(geo.height))

    def x_idle_ms(self) -> int:
        """Milliseconds since the last input event (MIT-SCREEN-SAVER), what idle detectors
        read."""
        return int(self.xdisplay.screen().root.screensaver_query_info().idle)

    def run(self, *argv: str, timeout: float = 10.0) -> subprocess.CompletedProcess[str]:
        """Run a short-lived desktop client (xdotool, notify-send, ...) and require success."""
        return subprocess.run(
            [require(argv[0]), *argv[1:]],
            env=self.subprocess_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )

    def mouse_move(self, x: int, y: int) -> None:
        """Move the pointer to ``(x, y)``, or a pixel beside it if it is there already:
        ``--sync`` waits for the pointer to arrive, forever when it does not move (a
        move is also the input the tests mean to make)."""
        where = self.run("xdotool", "getmouselocation", "--shell").stdout.split()
        if f"X={x}" in where and f"Y={y}" in where:
            x += 1
        self.run("xdotool", "mousemove", "--sync", str(x), str(y))

    def click(self, button: int = 1) -> None:
        self.run("xdotool", "click", str(button))

    def key(self, *keys: str) -> None:
        """xdotool key names, e.g. ``rig.key("ctrl+alt+b")``."""
        self.run("xdotool", "key", *keys)

    def screenshot(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Save the whole screen as PNG (ImageMagick ``import``); default: in the state dir."""
        if path is None:
            self._shots += 1
            path = self.state_dir / f"screenshot-{self._shots:03d}.png"
        self.run("import", "-window", "root", str(path))
        return Path(path)


def _check_components(names: Iterable[str]) -> tuple[str, ...]:
    names = tuple(names)
    unknown = set(names) - set(COMPONENTS)
    if unknown:
        raise ValueError(f"unknown components {sorted(unknown)}; choose from {COMPONENTS}")
    return names


# --------------------------------------------------------------------------- CLI


def down(state_dir: Path, grace: float = 5.0, keep: bool = False) -> list[Proc]:
    """Stop a rig left running by ``up`` (from its pids.json); return survivors."""
    record = json.loads((state_dir / "pids.json").read_text())
    procs = [Proc(**p) for p in record["procs"]]
    survivors = stop_processes(procs, grace)
    if record.get("display"):
        _remove_stale_x_socket(record["display"])
    if not survivors and not keep:
        shutil.rmtree(state_dir, ignore_errors=True)
    return survivors


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up_cmd = sub.add_parser("up", help="start a desktop; print only `export` lines")
    up_cmd.add_argument("--with", dest="components", default="", help=",".join(COMPONENTS))
    down_cmd = sub.add_parser("down", help="stop the desktop recorded in STATEDIR")
    down_cmd.add_argument("state_dir", nargs="?", default=os.environ.get("ERGOBREAK_RIG_DIR"))
    down_cmd.add_argument("--keep", action="store_true", help="keep the state dir and logs")
    args = parser.parse_args(argv)

    if args.command == "down":
        if not args.state_dir:
            parser.error("STATEDIR missing and $ERGOBREAK_RIG_DIR not set")
        survivors = down(Path(args.state_dir), keep=args.keep)
        for proc in survivors:
            print(f"still alive: {proc}", file=sys.stderr)
        return 1 if survivors else 0

    components = [c for c in args.components.split(",") if c]
    rig = Rig(components, keep_state=True, tie_to_parent=False)
    try:
        rig.start_all()
    except RigError as exc:
        print(f"rig up failed: {exc}", file=sys.stderr)
        if rig.state_dir.name:  # Path() until created: never rmtree(".")
            shutil.rmtree(rig.state_dir, ignore_errors=True)  # nothing runs; logs printed
        return 1
    # The daemons outlive us on purpose; do not let Popen.__del__ warn about it.
    warnings.simplefilter("ignore", ResourceWarning)
    exports = {
        **rig.env,
        "ERGOBREAK_RIG_DIR": str(rig.state_dir),
        "ERGOBREAK_RIG_PIDS": " ".join(f"{p.name}:{p.pid}" for p in rig.all_procs()),
    }
    for key, value in exports.items():
        print(f"export {key}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
