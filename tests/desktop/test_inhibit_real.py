"""Idle inhibition read from the REAL services, on the rig's private session bus.

gnome-session 43 (``--builtin``, an empty session and no autostart) with its own
client ``gnome-session-inhibit --inhibit idle``, and xfce4-power-manager 4.18
(``--no-daemon``) with an application in another process that calls ``Inhibit`` and
keeps its connection, as a video player does. Both want a system bus: a private one,
with no services, is started for them. Every process is started and stopped by PID
(:meth:`Rig.launch` / :meth:`Rig.stop`); an inhibitor ends with its client's process.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from jeepney.io.blocking import open_dbus_connection  # type: ignore[import-untyped]
from shells.session import _SYSTEM_BUS_CONF

from ergobreak.platform import dbus_inhibit as di
from ergobreak.platform.dbus_link import DBusLink

from .rig import PACKAGES, Rig, wait_for
from .test_inhibit import watch

PACKAGES.update(
    {
        "gnome-session": "gnome-session-bin",
        "gnome-session-inhibit": "gnome-session-bin",
        "xfce4-power-manager": "xfce4-power-manager",
    }
)

#: an application in its own process: inhibits idle through PowerManagement.Inhibit,
#: says so on stdout, and holds its connection (and so the inhibitor) until killed
_PLAYER = f"""
import signal
from jeepney import DBusAddress, new_method_call
from jeepney.io.blocking import open_dbus_connection
conn = open_dbus_connection("SESSION")
api = DBusAddress({di.FDO_PATH!r}, {di.FDO_NAME!r}, {di.FDO_INTERFACE!r})
reply = conn.send_and_get_reply(new_method_call(api, "Inhibit", "ss", ("mpv", "Playing video")))
print("inhibited", reply.body[0], flush=True)
signal.pause()
"""


@pytest.fixture
def link(desktop: Rig) -> Iterator[DBusLink]:
    opened = DBusLink.open("SESSION")
    yield opened
    opened.close()


@pytest.fixture
def system_bus(desktop: Rig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A private system bus for what the rig launches during the test (stopped after it
    by the desktop baseline, like everything a test launches)."""
    socket = tmp_path / "system_bus"
    conf = tmp_path / "system-bus.conf"
    conf.write_text(_SYSTEM_BUS_CONF.format(socket=socket))
    desktop.launch(
        "system-bus",
        ["dbus-daemon", f"--config-file={conf}", "--nofork", "--nopidfile"],
    )
    address = f"unix:path={socket}"
    wait_for(partial(_connects, address), ignore=(OSError,), what="the system bus to listen")
    monkeypatch.setitem(desktop.env, "DBUS_SYSTEM_BUS_ADDRESS", address)
    return address


def _connects(address: str) -> bool:
    open_dbus_connection(address).close()
    return True


def _owned_by(desktop: Rig, name: str, service: str) -> bool:
    pids = {p.pid for p in desktop.procs.get(service, [])}
    return desktop.bus.owner_pid(name) in pids


def _said(log: Path, start: str) -> bool:
    """A line of ``log`` starts with ``start`` (the rig's own first line quotes argv)."""
    return any(line.startswith(start) for line in log.read_text().splitlines())


def _stop_service(desktop: Rig, service: str, name: str) -> None:
    desktop.stop(service)
    wait_for(lambda: not desktop.name_has_owner(name), what=f"{name} released")


def test_real_gnome_session_and_gnome_session_inhibit(
    desktop: Rig,
    system_bus: str,
    link: DBusLink,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a session of no components, looked up in XDG_CONFIG_HOME; nothing autostarted;
    # settings in memory (no dconf service on the private bus)
    sessions = tmp_path / "config" / "gnome-session" / "sessions"
    sessions.mkdir(parents=True)
    (sessions / "ergobreak-test.session").write_text(
        "[GNOME Session]\nName=ergobreak test\nRequiredComponents=\n"
    )
    autostart = tmp_path / "no-autostart"
    autostart.mkdir()
    monkeypatch.setitem(desktop.env, "XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setitem(desktop.env, "GSETTINGS_BACKEND", "memory")
    desktop.launch(
        "gnome-session",
        [
            *("gnome-session", "--builtin", "--session=ergobreak-test"),
            *("--disable-acceleration-check", f"--autostart={autostart}"),
        ],
    )
    try:
        wait_for(
            lambda: _owned_by(desktop, di.GNOME_NAME, "gnome-session"),
            10,
            what="gnome-session to own its name",
        )
        wakes, detector = watch(link, di.GnomeSessionInhibit)

        client = ["gnome-session-inhibit", "--inhibit", "idle", "sleep", "600"]
        wakes.after(lambda: desktop.launch("player", client), "InhibitorAdded")
        assert detector.active() is True

        wakes.after(lambda: desktop.stop("player"), "InhibitorRemoved")
        assert detector.active() is False
        detector.close()
    finally:
        _stop_service(desktop, "gnome-session", di.GNOME_NAME)


def test_real_xfce4_power_manager_and_an_inhibiting_application(
    desktop: Rig, system_bus: str, link: DBusLink
) -> None:
    desktop.launch("xfce4-power-manager", ["xfce4-power-manager", "--no-daemon"])
    try:
        wait_for(
            lambda: _owned_by(desktop, di.FDO_NAME, "xfce4-power-manager"),
            10,
            what="xfce4-power-manager to own its name",
        )
        wakes, detector = watch(link, di.PowerManagementInhibit)

        desktop.launch("player", [sys.executable, "-c", _PLAYER])
        player_log = desktop.log_path("player")
        wait_for(lambda: _said(player_log, "inhibited "), what="the player's Inhibit")
        # no HasInhibitChanged from 4.18: the reader asks again at each active()
        assert detector.active() is True

        desktop.stop("player")  # its connection closes: xfce4-power-manager drops it
        wait_for(lambda: detector.active() is False, what="the inhibitor to go with its app")
        assert "no signal yet" in detector.detail
        detector.close()
    finally:
        _stop_service(desktop, "xfce4-power-manager", di.FDO_NAME)
