"""Losing the display or a bus, for real: the X server and the session bus of a
desktop of their own are killed by PID under a running ``ergobreak run``, which
says so once and stops cleanly; a private bus standing in for the system bus is
killed and started again under the real edge, which reconnects and listens again."""

from __future__ import annotations

import logging
import re
import signal
import stat
import sys
from pathlib import Path

import pytest
from scaffold import cli

from ergobreak.core.events import ScreenLocked, Suspending
from ergobreak.daemon.logs import LOG_NAME
from ergobreak.platform import dbus_logind
from ergobreak.platform.edge import Lost
from ergobreak.platform.select import open_edge

from .rig import _DBUS_CONF, Bus, Rig, wait_for
from .test_edge_fakes import SESSION_PATH, Events, fake_logind

CONFIG = "schema = 1\n[schedule]\nenabled = false\n"
#: how long the daemon has to notice and stop (it hears at once; this is for load)
STOPS_WITHIN = 15.0


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A state folder of the daemon's own (its log is read there)."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("ERGOBREAK_CONFIG", raising=False)
    (tmp_path / "config.toml").write_text(CONFIG)
    return tmp_path


def run_daemon(rig: Rig, home: Path, *args: str) -> str:
    """Start ``ergobreak run`` on ``rig`` and wait until it answers; returns its log."""
    argv = [sys.executable, "-m", "ergobreak", "run", "--config", str(home / "config.toml")]
    rig.launch("ergobreak", [*argv, *args])
    with rig.apply_env():
        wait_for(lambda: cli("status")[0] == 0, 15, interval=0.05, what="the daemon's IPC")
    return str(home / "state" / "ergobreak" / "log" / LOG_NAME)


def stopped_cleanly(rig: Rig, log_file: str, line: str) -> str:
    """Wait for the daemon to end; check it ended well and said ``line`` once."""
    (proc,) = rig.procs["ergobreak"]
    wait_for(lambda: not proc.alive(), STOPS_WITHIN, what="ergobreak to stop")
    assert proc.popen is not None
    assert proc.popen.wait(5) == 0
    text = Path(log_file).read_text()
    assert text.count(line) == 1, text
    assert "Traceback" not in text, text
    assert text.rstrip().endswith("ergobreak stopped"), text
    return text


@pytest.mark.parametrize("tray", ["no tray", "xorg tray"])
def test_the_x_server_killed_stops_the_daemon_with_one_line(home: Path, tray: str) -> None:
    with Rig(("trayer",) if tray == "xorg tray" else ()) as session:
        args = ("--no-tray",) if tray == "no tray" else ()
        log_file = run_daemon(session, home, *args)
        if tray == "xorg tray":
            assert "tray: xorg" in Path(log_file).read_text()
        (xvfb,) = session.procs["x"]
        assert xvfb.signal(signal.SIGKILL)
        text = stopped_cleanly(
            session,
            log_file,
            f"the X display {session.display} went away; ergobreak stops with the session",
        )
        session.stop("ergobreak")
    assert "idle source" not in text  # the loss is the one thing said about it
    # and the log it was said in is the user's alone
    log_path = Path(log_file)
    assert stat.S_IMODE(log_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(log_path.parent.stat().st_mode) == 0o700


def test_the_session_bus_killed_stops_the_daemon_with_one_line(home: Path) -> None:
    with Rig(("dunst",)) as session:
        log_file = run_daemon(session, home, "--no-tray")
        assert "notifier: freedesktop" in Path(log_file).read_text()
        (bus,) = session.procs["bus"]
        assert bus.signal(signal.SIGKILL)
        stopped_cleanly(
            session,
            log_file,
            f"the session D-Bus at {session.bus_address.split(',guid=')[0]} went away;"
            " ergobreak stops with the session",
        )
        session.stop("ergobreak")


# --------------------------------------------------------------------------- system bus


class SystemBus:
    """A private bus at a fixed socket, standing in for the system bus: it can be
    killed and started again at the same address, as ``systemctl restart dbus``."""

    def __init__(self, rig: Rig, folder: Path) -> None:
        self.rig = rig
        self.config = folder / "system-bus.conf"
        self.config.write_text(_DBUS_CONF.format(socket=folder / "system_bus_socket"))
        self.address = f"unix:path={folder / 'system_bus_socket'}"
        self.runs = 0

    def start(self) -> None:
        self.runs += 1
        argv = ["dbus-daemon", f"--config-file={self.config}", "--nofork", "--nopidfile"]
        self.rig.launch("system-bus", argv)

        def answers() -> bool:
            with Bus(self.address):  # authenticates and says Hello
                return True

        wait_for(answers, 10, ignore=(OSError,), what="the system bus to answer")

    def kill(self) -> None:
        (proc,) = self.rig.procs["system-bus"]
        assert proc.signal(signal.SIGKILL)
        self.rig.stop("system-bus")  # reaps it; nothing is left to stop


@pytest.fixture
def system_bus(desktop: Rig, tmp_path: Path) -> SystemBus:
    bus = SystemBus(desktop, tmp_path)
    bus.start()
    return bus  # the desktop fixture stops it after the test


def test_the_system_bus_killed_and_restarted_is_reconnected(
    desktop: Rig,
    system_bus: SystemBus,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.delenv("XDG_SESSION_ID", raising=False)
    env = {
        **desktop.subprocess_env(),
        "DBUS_SYSTEM_BUS_ADDRESS": system_bus.address,
        "ERGOBREAK_IDLE": "none",
        "ERGOBREAK_QUIET": "none",
        "ERGOBREAK_NOTIFIER": "console",
        "ERGOBREAK_SESSION": "logind",
    }
    events, losses = Events(), list[Lost]()
    logind = fake_logind(desktop, address=system_bus.address).__enter__()
    edge = open_edge(lambda r: None, env=env)
    try:
        assert next(c for c in edge.choices if c.name == "logind").ok
        edge.start(events, on_lost=losses.append)
        with caplog.at_level(logging.WARNING, "ergobreak.platform"):
            system_bus.kill()
            wait_for(lambda: losses, 5, what="the loss to be reported")
            wait_for(lambda: logind.bus_gone, 5, what="the fake logind to see it too")
            logind.close()
            system_bus.start()  # same address, a new bus: a new logind, locked meanwhile
            logind = fake_logind(desktop, locked_hint=True, address=system_bus.address)
            logind.__enter__()
            assert events.next(timeout=10) == ScreenLocked()  # read again once back
            manager = (dbus_logind.MANAGER_PATH, dbus_logind.MANAGER_IFACE)
            logind.emit(*manager, "PrepareForSleep", "b", True)
            assert events.next() == Suspending()  # the subscriptions came over
        ((name, message, ends),) = [(x.connection, x.message, x.ends_session) for x in losses]
        assert (name, ends) == ("system bus", False)
        assert re.fullmatch(  # the reason is the socket's: a reset, or closed
            rf"lost the system D-Bus at {re.escape(system_bus.address)} \(.+\); reconnecting"
            r" \(sleep and lock signals are missed meanwhile\)",
            message,
        )
        assert edge.ended is None
        lines = [r.getMessage() for r in caplog.records]
        assert lines[0] == losses[0].message
        assert lines[1].startswith(f"the system D-Bus at {system_bus.address} is back after ")
        assert len(lines) == 2, lines
        assert SESSION_PATH in next(c for c in edge.choices if c.name == "logind").detail
    finally:
        edge.close()
        logind.close()
