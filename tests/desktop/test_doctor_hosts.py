"""``ergobreak doctor`` says the tray is OK only when a host really shows the icon.

Against the rig's real hosts: xfce4-panel (a StatusNotifierWatcher with a registered
host, and an XEmbed tray), trayer (XEmbed only), a bare StatusNotifierWatcher served
here on the private bus (a watcher without a host shows nothing, like a panel with
no tray plugin), and nothing at all -- a bare Wayland display, as weston or a sway
without a bar, where only SNI could ever work and nobody serves it.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from jeepney import (  # type: ignore[import-untyped]
    HeaderFields,
    MessageType,
    new_error,
    new_method_return,
)

from ergobreak.cli import doctor

from .rig import SNI_WATCHER, Rig


def run_doctor(rig: Rig, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ergobreak", "doctor", *args],
        env={**rig.subprocess_env(), "ERGOBREAK_SESSION": "none", **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )


def tray(rig: Rig, **env: str) -> dict[str, Any]:
    report = json.loads(run_doctor(rig, "--json", **env).stdout)
    check: dict[str, Any] = report["checks"][0]
    assert check["role"] == "tray"
    assert report["paths"]["tray"]["chosen"] == [check["name"]]
    return check


def tray_lines(rig: Rig, **env: str) -> list[str]:
    """The text report's tray block: its line and the indented ones under it."""
    lines = run_doctor(rig, **env).stdout.splitlines()
    assert lines[0].split()[1] == "tray"
    block = [lines[0]]
    for line in lines[1:]:
        if not line.startswith(" "):
            break
        block.append(line.strip())
    return block


@contextlib.contextmanager
def bare_watcher(rig: Rig) -> Iterator[None]:
    """A StatusNotifierWatcher that no host ever registered with, answering what the
    spec's watcher answers (Properties.Get of its three properties, registrations)."""
    values: Mapping[str, tuple[str, Any]] = {
        "IsStatusNotifierHostRegistered": ("b", False),
        "RegisteredStatusNotifierItems": ("as", []),
        "ProtocolVersion": ("i", 0),
    }
    stop = threading.Event()
    with rig.connect_bus() as bus:
        assert bus.call_bus("RequestName", SNI_WATCHER, 4) == (1,)  # primary owner

        def serve() -> None:
            while not stop.is_set():
                try:
                    msg = bus.conn.receive(timeout=0.2)
                except TimeoutError:
                    continue
                if msg.header.message_type is not MessageType.method_call:
                    continue
                member = msg.header.fields.get(HeaderFields.member)
                if member == "Get" and msg.body[1] in values:
                    bus.conn.send(new_method_return(msg, "v", (values[msg.body[1]],)))
                elif member == "RegisterStatusNotifierItem":
                    bus.conn.send(new_method_return(msg))
                else:
                    error = "org.freedesktop.DBus.Error.UnknownMethod"
                    bus.conn.send(new_error(msg, error, "s", (f"no {member}",)))

        server = threading.Thread(target=serve, name="bare-watcher")
        server.start()
        try:
            yield
        finally:
            stop.set()
            server.join(5)
    assert not server.is_alive()


def test_a_watcher_with_a_registered_host_is_a_tray(sni_host: Rig) -> None:
    check = tray(sni_host)
    assert (check["name"], check["ok"], check["host"]) == ("sni", True, True)
    assert check["detail"] == "a StatusNotifierWatcher with a tray host is on the session bus"
    assert check["hint"] is None
    assert tray_lines(sni_host)[0].split()[:3] == ["OK", "tray", "sni"]


def test_a_watcher_without_a_host_is_no_tray(desktop: Rig) -> None:
    with bare_watcher(desktop):
        # no X display (Wayland): SNI is all there is, and nothing shows its items
        check = tray(desktop, DISPLAY="")
        assert (check["name"], check["ok"], check["host"]) == ("sni", False, False)
        assert "a StatusNotifierWatcher without a registered host" in check["detail"]
        assert check["hint"] == doctor.NO_HOST_FALLBACK
        # with X but no XEmbed tray either: the XEmbed icon has nowhere to dock
        lines = tray_lines(desktop)
    assert lines[0].split()[:3] == ["missing", "tray", "xorg"]
    assert lines[1] == (
        "passed over: sni (a StatusNotifierWatcher is on the bus, but no tray host yet)"
    )
    assert lines[-1] == f"hint: {doctor.NO_HOST_FALLBACK}"


def test_an_xembed_tray_is_a_tray_and_none_is_not(trayer: Rig) -> None:
    check = tray(trayer)
    assert (check["name"], check["ok"], check["host"]) == ("xorg", True, True)
    assert "an XEmbed tray is up" in check["detail"]
    trayer.stop("trayer")
    gone = tray(trayer)
    assert (gone["name"], gone["ok"], gone["host"]) == ("xorg", False, False)
    assert gone["tried"] == [
        {"name": "sni", "reason": "no StatusNotifierWatcher on the session bus"}
    ]
    assert gone["hint"] == doctor.NO_HOST_FALLBACK


def test_a_bare_wayland_display_has_no_tray_host(desktop: Rig) -> None:
    """weston, or sway without a bar: a Wayland display, a session bus, no watcher."""
    wayland = {
        "DISPLAY": "",
        "WAYLAND_DISPLAY": "wayland-none",
        "XDG_SESSION_TYPE": "wayland",
        "XDG_CURRENT_DESKTOP": "sway",
    }
    lines = tray_lines(desktop, **wayland)
    assert lines[0].split()[:3] == ["missing", "tray", "sni"]
    assert "no StatusNotifierWatcher" in lines[0]
    assert lines[-1] == f"hint: {doctor.SWAY_TRAY_HINT}; {doctor.NO_HOST_FALLBACK}"
    text = run_doctor(desktop, **wayland).stdout
    assert "passed over: x11 (Wayland session: Xwayland sees no input to Wayland windows)" in text
