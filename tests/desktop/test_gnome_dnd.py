"""GNOME's do-not-disturb switch, written the way GNOME writes it: ``gsettings set`` to
the real dconf-service, auto-started on a private session bus that lists the system's
service files (the rig's own bus has none, on purpose).

The detector must read the value at start and follow every change within a second,
with no polling: dconf-service's ``Notify`` signal, then the database file.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket as socket_module
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from scaffold import cannot_run

from ergobreak.platform.dbus_dnd import DconfBanners
from ergobreak.platform.dbus_link import DBusLink

from .rig import _DBUS_CONF as rig_bus_conf
from .rig import Rig, wait_for

SCHEMA = "org.gnome.desktop.notifications"
DCONF_SERVICE = Path("/usr/libexec/dconf-service")
#: the rig's private bus, plus the system's service files so dconf-service auto-starts
BUS_CONF = rig_bus_conf.replace(
    "<listen>", "<servicedir>/usr/share/dbus-1/services</servicedir>\n  <listen>"
)


@pytest.fixture
def gnome_env(desktop: Rig, tmp_path: Path) -> Iterator[dict[str, str]]:
    """A GNOME-like session env with its own HOME and config dir, and a session bus
    that starts dconf-service on demand (as a login session's bus does)."""
    if shutil.which("gsettings") is None:
        cannot_run("gsettings is not installed: apt-get install libglib2.0-bin")
    if not DCONF_SERVICE.exists():
        cannot_run("dconf-service is not installed: apt-get install dconf-service")
    assert "<servicedir>/usr/share/dbus-1/services</servicedir>" in BUS_CONF
    socket = tmp_path / "bus"
    conf = tmp_path / "bus.conf"
    conf.write_text(BUS_CONF.format(socket=socket))
    home, config = tmp_path / "home", tmp_path / "config"
    home.mkdir()
    # the bus passes its own environment to the services it starts
    desktop.launch(
        "dconf-bus",
        [
            "env",
            f"HOME={home}",
            f"XDG_CONFIG_HOME={config}",
            "dbus-daemon",
            f"--config-file={conf}",
            "--nofork",
            "--nopidfile",
        ],
    )
    # the socket file exists from bind(), connections work from listen(): connect
    wait_for(lambda: listening(socket), what="the dconf test bus to listen")
    yield {
        **desktop.subprocess_env(),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(config),
        "DBUS_SESSION_BUS_ADDRESS": f"unix:path={socket}",
        "XDG_CURRENT_DESKTOP": "ubuntu:GNOME",
    }
    desktop.stop("dconf-bus")  # and dconf-service, in its session


def listening(path: Path) -> bool:
    with socket_module.socket(socket_module.AF_UNIX) as probe:
        return probe.connect_ex(str(path)) == 0


def gsettings(env: dict[str, str], *args: str) -> None:
    subprocess.run(["gsettings", *args], env=env, check=True, timeout=10, capture_output=True)


@contextlib.contextmanager
def banners(env: dict[str, str], on_change: Callable[[], None]) -> Iterator[DconfBanners]:
    """The detector on its own link; the link is closed first, then the detector.

    That order works around a dbus_link defect seen here: jeepney's router iterates its
    filter dict while it dispatches a signal, so a subscription cancelled on another
    thread just after our handler woke the test ("dictionary changed size during
    iteration") kills the receiver thread. Reported; not this detector's to fix."""
    link = DBusLink.open("SESSION", env)
    dnd: DconfBanners | None = None
    try:
        dnd = DconfBanners(link, env, on_change)
        yield dnd
    finally:
        link.close()  # stops and joins the receiver thread
        if dnd is not None:
            dnd.close()


def test_dnd_follows_show_banners_within_a_second(gnome_env: dict[str, str]) -> None:
    gsettings(gnome_env, "set", SCHEMA, "show-banners", "false")  # DND before we start
    changed = threading.Event()
    with banners(gnome_env, changed.set) as dnd:
        assert dnd.active() is True  # read at start
        for value, quiet in (("true", False), ("false", True), ("true", False)):
            changed.clear()
            gsettings(gnome_env, "set", SCHEMA, "show-banners", value)
            # within a second of the write (gsettings returns once dconf has it; its own
            # start-up is not the detector's time, and is slow on a loaded machine)
            assert changed.wait(1.0), f"no change heard after show-banners={value}"
            assert dnd.active() is quiet
        gsettings(gnome_env, "set", SCHEMA, "show-banners", "false")
        wait_for(dnd.active, 1.0, what="DND on again")
        changed.clear()
        gsettings(gnome_env, "reset", SCHEMA, "show-banners")  # back to GNOME's default
        assert changed.wait(1.0)
        assert dnd.active() is False


def test_dconf_profile_picks_the_database(gnome_env: dict[str, str], tmp_path: Path) -> None:
    """DCONF_PROFILE (a path here) names another user database: writes and reads follow."""
    profile = tmp_path / "profile"
    profile.write_text("# a second user database\nuser-db:work\n")
    env = {**gnome_env, "DCONF_PROFILE": str(profile)}
    changed = threading.Event()
    with banners(env, changed.set) as dnd:
        assert dnd.active() is False
        gsettings(env, "set", SCHEMA, "show-banners", "false")
        assert changed.wait(1.0)
        assert dnd.active() is True
        assert (Path(env["XDG_CONFIG_HOME"]) / "dconf" / "work").is_file()
        assert not (Path(env["XDG_CONFIG_HOME"]) / "dconf" / "user").exists()


def test_doctor_names_gnome_dnd_and_passes_over_the_portal(gnome_env: dict[str, str]) -> None:
    gsettings(gnome_env, "set", SCHEMA, "show-banners", "false")
    report = json.loads(
        subprocess.run(
            [sys.executable, "-m", "ergobreak", "doctor", "--json"],
            env={**gnome_env, "ERGOBREAK_SESSION": "none", "ERGOBREAK_QUIET": "dnd"},
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
    )
    (dnd,) = [c for c in report["checks"] if c["role"] == "quiet"]
    assert (dnd["name"], dnd["ok"], dnd["active"]) == ("dnd", True, True)
    assert "GNOME show-banners (dconf)" in dnd["detail"].split(", ")
    tried = {t["name"]: t["reason"] for t in dnd["tried"]}
    assert tried["GNOME show-banners (portal)"] == "not needed: read from dconf"
