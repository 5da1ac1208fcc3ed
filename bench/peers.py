"""Workrave, Safe Eyes and the floor, started in the rig's session with what they need.

Bench-only: Debian's ``workrave`` and ``safeeyes`` are not test packages (see
bench/README.md for installing them). Each is started the way its desktop file would
start it and confirmed to be really up -- Workrave owns ``org.workrave.Workrave`` and
has its XEmbed icon docked in the panel; Safe Eyes answers on its XML-RPC port -- or
reported as not started, with the reason.

What they need besides the rig's X, session bus, dunst, openbox and panel:

* a *system* bus: both connect to logind's ``PrepareForSleep`` on it, and Safe Eyes
  exits without one. A private ``dbus-daemon`` stands in for it (no service files, so
  nothing can be activated), the way the rig gives session buses;
* ``dconf-service`` on the session bus: Workrave keeps its settings in GSettings, and
  without the service every write fails (and is logged) instead of being stored;
* Safe Eyes 2.1 crashes on a first start unless ``~/.config/safeeyes/style`` exists.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import sys
import time
import xmlrpc.client
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import Xlib.error
from jeepney import DBusAddress, DBusErrorResponse  # type: ignore[import-untyped]

_SYSTEM_BUS_CONF = """<!DOCTYPE busconfig PUBLIC
 "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<!-- A stand-in system bus for the bench: private, no service files, nobody on it. -->
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <!-- a system bus denies receiving by default: replies would never arrive -->
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""

DCONF_SERVICE = ("/usr/libexec/dconf-service", "/usr/lib/dconf/dconf-service")
WORKRAVE_NAME = "org.workrave.Workrave"
SAFEEYES_RPC = "http://127.0.0.1:7200"  # Safe Eyes' default rpc_port
WATCHER_API = DBusAddress(
    "/StatusNotifierWatcher", "org.kde.StatusNotifierWatcher", "org.kde.StatusNotifierWatcher"
)
FLOOR = [sys.executable, "-c", "import time; time.sleep(600)"]

INSTALL = {
    "workrave": "apt-get install workrave",
    "safeeyes": "apt-get install safeeyes gir1.2-ayatanaappindicator3-0.1",
}


@dataclass
class Started:
    """One measured program: its PID when up, else why not."""

    name: str
    pid: int | None = None
    reason: str = ""
    start_to_ready_s: float | None = None
    ready: str = ""  # what showed it is up
    notes: str = ""

    @property
    def up(self) -> bool:
        return self.pid is not None


def start_system_bus(rig: Any) -> str:
    """A private stand-in system bus in the rig; returns its address."""
    conf = rig.state_dir / "system-bus.conf"
    socket = rig.state_dir / "system-bus"
    conf.write_text(_SYSTEM_BUS_CONF.format(socket=socket))
    rig.launch("system-bus", ["dbus-daemon", f"--config-file={conf}", "--nofork", "--nopidfile"])
    deadline = time.monotonic() + 10
    while not socket.exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"the stand-in system bus did not listen on {socket}")
        time.sleep(0.01)
    address = f"unix:path={socket}"
    rig.env["DBUS_SYSTEM_BUS_ADDRESS"] = address
    return address


def start_dconf(rig: Any, wait_for: Any) -> bool:
    """dconf-service on the rig's session bus (for Workrave's settings), if installed."""
    binary = next((p for p in DCONF_SERVICE if Path(p).exists()), None)
    if binary is None:
        return False
    rig.launch("dconf", [binary])
    wait_for(lambda: rig.name_has_owner("ca.desrt.dconf"), 10, what="dconf-service on the bus")
    return True


def dpkg_version(package: str) -> str:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", package],
            check=False,
            capture_output=True,
            text=True,
            timeout=10,
        )
        return out.stdout.strip()
    return ""


def _log_says(rig: Any, name: str, pattern: str) -> str:
    path = rig.log_path(name)
    text = path.read_text(errors="replace") if path.exists() else ""
    found = re.search(pattern, text)
    return found.group(0).strip() if found else ""


def launch_until(
    rig: Any, wait_for: Any, name: str, argv: list[str], *, up: Any, ready: str
) -> tuple[Started, Any]:
    """Launch ``argv`` in the rig and wait (20 s) until ``up(proc)``; time it.

    Returns the Started record (``pid`` None and ``reason`` set when it did not come up,
    or exited first) and the rig's Proc."""
    started = Started(name)
    t0 = time.monotonic()
    proc = rig.launch(name, argv)

    def check() -> bool:
        if not proc.alive():
            raise RuntimeError("exited")
        return bool(up(proc))

    try:
        wait_for(check, 20, interval=0.005, what=f"{name}: {ready}")
    except (TimeoutError, RuntimeError) as exc:
        started.reason = f"not up: {exc}; log {rig.log_path(name)}"
        return started, proc
    started.pid = proc.pid
    started.start_to_ready_s = time.monotonic() - t0
    started.ready = ready
    return started, proc


def start_workrave(rig: Any, wait_for: Any) -> Started:
    if shutil.which("workrave") is None:
        return Started("workrave", reason=f"not installed ({INSTALL['workrave']})")

    def docked(proc: Any) -> bool:
        if rig.bus.owner_pid(WORKRAVE_NAME) != proc.pid:
            return False
        return any(_in_panel(rig, w) for w in _windows_of(rig, "workrave", proc.pid))

    ready = f"owns {WORKRAVE_NAME}, XEmbed icon docked in the panel"
    return launch_until(rig, wait_for, "workrave", ["workrave"], up=docked, ready=ready)[0]


def _windows_of(rig: Any, wm_class: str, pid: int) -> list[int]:
    return [w for w in rig.find_windows(wm_class) if rig.window_pid(w) == pid]


def _in_panel(rig: Any, window: int) -> bool:
    """The window was reparented into a window of the panel (a docked XEmbed icon)."""
    panel_pids = {p.pid for p in rig.procs.get("xfce", []) + rig.procs.get("trayer", [])}
    win = rig.xdisplay.create_resource_object("window", window)
    try:
        parent = win.query_tree().parent
        while parent and int(parent.id) != rig.root_id:
            if rig.window_pid(int(parent.id)) in panel_pids:
                return True
            parent = parent.query_tree().parent
    except Xlib.error.XError:  # destroyed while we looked: not docked
        return False
    return False


def start_safeeyes(rig: Any, wait_for: Any) -> Started:
    if shutil.which("safeeyes") is None:
        return Started("safeeyes", reason=f"not installed ({INSTALL['safeeyes']})")
    (Path(rig.env["XDG_CONFIG_HOME"]) / "safeeyes" / "style").mkdir(parents=True, exist_ok=True)

    def answers(proc: Any) -> bool:
        try:
            return xmlrpc.client.ServerProxy(SAFEEYES_RPC).status() is not None
        except OSError:
            return False

    ready = "answers status() on its XML-RPC port"
    started, proc = launch_until(rig, wait_for, "safeeyes", ["safeeyes"], up=answers, ready=ready)
    if not started.up:
        return started

    # Its tray is the trayicon plugin (AppIndicator over SNI): say whether it docked.
    def registered() -> bool:
        return proc.pid in sni_pids(rig)

    try:  # the plugins load after the RPC server starts
        wait_for(registered, 3, interval=0.01, what="Safe Eyes' SNI item")
        started.ready += ", SNI item registered"
    except TimeoutError:
        failed = _log_says(rig, "safeeyes", r"Error in loading the plugin: \w+")
        started.notes = (
            f"no tray icon ({failed or 'no SNI item registered'}; "
            "Debian's Recommends gir1.2-ayatanaappindicator3-0.1 is missing?)"
        )
    return started


def sni_pids(rig: Any) -> set[int]:
    """PIDs of the programs whose StatusNotifierItems the panel's watcher lists (none
    without a watcher, e.g. under trayer)."""
    try:
        items = rig.bus.get_property(WATCHER_API, "RegisteredStatusNotifierItems")
    except DBusErrorResponse:
        return set()
    pids = set()
    for item in items:
        service = item.split("/", 1)[0]  # ":1.42/org/ayatana/..." or "org.kde.SNI-PID-1/..."
        pid = rig.bus.owner_pid(service)
        if pid is not None:
            pids.add(pid)
    return pids


def start_floor(rig: Any) -> Started:
    proc = rig.launch("floor", FLOOR)
    return Started("floor", pid=proc.pid, start_to_ready_s=None, ready="a sleeping python3")
