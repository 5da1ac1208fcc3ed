"""Idle inhibition read from the REAL gnome-session, on the rig's private session bus.

gnome-session 43 (``--builtin``, an empty session and no autostart) with its own
client ``gnome-session-inhibit --inhibit idle``. It wants a system bus: a private one,
with no services, is started for it. Every process is started and stopped by PID
(:meth:`Rig.launch` / :meth:`Rig.stop`); the inhibitor ends with its client's process.

xfce4-power-manager 4.18.1 (``--no-daemon``) on this rig answers ``HasInhibit`` true
for an application's ``Inhibit``, but dies of SIGSEGV as that application's inhibitor
goes, so it has no test here yet (tests/desktop/test_inhibit.py's stand-in covers it).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest
from jeepney.io.blocking import open_dbus_connection  # type: ignore[import-untyped]
from shells.session import _SYSTEM_BUS_CONF

from ergobreak.platform import dbus_inhibit as di
from ergobreak.platform.dbus_link import DBusLink

from . import test_inhibit
from .rig import PACKAGES, Rig, wait_for
from .test_inhibit import watch

link = test_inhibit.link  # the fixture: a DBusLink of our own to the rig's bus

PACKAGES.update(
    {
        "gnome-session": "gnome-session-bin",
        "gnome-session-inhibit": "gnome-session-bin",
    }
)


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
        # off because the inhibitor went with its client, not because the service did
        assert _owned_by(desktop, di.GNOME_NAME, "gnome-session")
        detector.close()
    finally:
        _stop_service(desktop, "gnome-session", di.GNOME_NAME)
