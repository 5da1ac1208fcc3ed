"""``ergobreak doctor`` reports what the daemon would really use, without a desktop.

The desktop suite runs it against real X, D-Bus and dunst; here the edge is made of
fakes, so each check's origin is plain.
"""

from __future__ import annotations

import argparse
import io
import json
from typing import Any

import pytest
from platform_fakes import Watcher

from ergobreak.cli import doctor
from ergobreak.platform import select
from ergobreak.platform.console import ConsoleNotifier
from ergobreak.platform.edge import Choice, Edge, WallClockIdle
from ergobreak.platform.timejump import TimeJump

CONFIG_OK = {"ok": True, "path": "config.toml (not there: defaults)", "detail": "defaults"}

NO_WAYLAND = "X11 session: the Wayland idle protocols are not there"


def report(monkeypatch: pytest.MonkeyPatch, edge: Edge) -> dict[str, Any]:
    monkeypatch.setattr(select, "open_edge", lambda on_request, stream=None: edge)
    monkeypatch.setattr(doctor, "config_check", lambda: CONFIG_OK)
    out, err = io.StringIO(), io.StringIO()
    code = doctor.run(argparse.Namespace(json=True, notify=False), out, err)
    assert code == 0, err.getvalue()
    result: dict[str, Any] = json.loads(out.getvalue())
    return result


def test_a_watcher_the_daemon_could_not_start_is_reported_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ERGOBREAK_TRAY", "none")
    logind, saver = Watcher("logind", refuse=False), Watcher("screensaver", refuse=True)
    edge = Edge(
        idle=WallClockIdle(),
        notifier=ConsoleNotifier(io.StringIO()),
        watchers=[logind, saver],
        quiet=[],
        timejump=TimeJump(lambda: 0.0, lambda: 0.0),
        choices=[
            Choice("session", "logind", True, "sleep and lock"),
            Choice("session", "screensaver", True, "lock from org.gnome.ScreenSaver"),
        ],
    )
    checks = {(c["role"], c["name"]): c for c in report(monkeypatch, edge)["checks"]}
    assert checks[("session", "logind")]["ok"] is True
    assert checks[("session", "screensaver")]["ok"] is False
    assert checks[("session", "screensaver")]["detail"] == "could not start: AddMatch refused"
    assert logind.emit is not None  # started, as the daemon starts it
    assert logind.stopped  # the report closes what it opened


def test_the_tray_check_is_the_daemons_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERGOBREAK_TRAY", "none")
    monkeypatch.delenv("XDG_CURRENT_DESKTOP", raising=False)
    assert doctor.tray_check() == {
        "role": "tray",
        "name": "none",
        "ok": False,
        "detail": "forced by ERGOBREAK_TRAY=none",
        "hint": doctor.NO_TRAY_FALLBACK,
        "tried": [],
        "host": False,
        "capabilities": {
            "menu": False,
            "default_action": False,
            "tooltip": False,
            "attention": False,
        },
    }
    monkeypatch.setenv("ERGOBREAK_TRAY", "toolbar")
    monkeypatch.setenv("XDG_CURRENT_DESKTOP", "ubuntu:GNOME")
    failed = doctor.tray_check()
    assert (failed["ok"], failed["hint"]) == (False, doctor.GNOME_TRAY_HINT)
    monkeypatch.setenv("XDG_CURRENT_DESKTOP", "sway")
    monkeypatch.setenv("ERGOBREAK_TRAY", "sni")  # forced, yet no host shows it
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
    no_host = doctor.tray_check()
    assert (no_host["name"], no_host["ok"], no_host["host"]) == ("sni", False, False)
    assert no_host["hint"] == f"{doctor.SWAY_TRAY_HINT}; {doctor.NO_HOST_FALLBACK}"
    assert failed["detail"].startswith("tray check failed: ValueError(\"ERGOBREAK_TRAY='toolbar'")


def test_each_category_shows_what_is_used_then_what_was_passed_over(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ERGOBREAK_TRAY", "none")
    monkeypatch.delenv("XDG_CURRENT_DESKTOP", raising=False)
    edge = Edge(
        idle=WallClockIdle(),
        notifier=ConsoleNotifier(io.StringIO()),
        watchers=[],
        quiet=[],
        timejump=TimeJump(lambda: 0.0, lambda: 0.0),
        choices=[
            Choice(
                "idle",
                "mutter",
                True,
                "auto",
                tried=(("x11", "Xwayland has no MIT-SCREEN-SAVER"), ("screensaver", "later")),
            ),
            Choice("session", "logind", False, "no system bus", "logind hint"),
            Choice("session", "timejump", True, "sleep backstop"),
            Choice("quiet", "dnd", False, "none readable", tried=(("dunst paused", "no dunst"),)),
        ],
    )
    monkeypatch.setattr(select, "open_edge", lambda on_request, stream=None: edge)
    monkeypatch.setattr(doctor, "config_check", lambda: CONFIG_OK)
    out = io.StringIO()
    assert doctor.run(argparse.Namespace(json=False, notify=False), out, io.StringIO()) == 0
    lines = [line.rstrip() for line in out.getvalue().splitlines()]
    pad = " " * 32
    assert lines == [
        "missing  tray      none          forced by ERGOBREAK_TRAY=none",
        f"{pad}hint: {doctor.NO_TRAY_FALLBACK}",
        "OK       idle      mutter        auto; idle now 0 s",
        f"{pad}passed over: x11 (Xwayland has no MIT-SCREEN-SAVER)",
        f"{pad}passed over: wayland-ext ({NO_WAYLAND})",
        f"{pad}passed over: wayland-kde ({NO_WAYLAND})",
        f"{pad}passed over: screensaver (later)",
        "OK       session   timejump      sleep backstop",
        f"{pad}passed over: logind (no system bus)",
        "missing  quiet     none          no quiet source works here: prompts are never held",
        f"{pad}passed over: dnd (none readable)",
        f"{pad}  passed over: dunst paused (no dunst)",
        "OK       config    config.toml (not there: defaults)",
        f"{pad}defaults",
    ]
    out = io.StringIO()
    assert doctor.run(argparse.Namespace(json=True, notify=False), out, io.StringIO()) == 0
    paths = json.loads(out.getvalue())["paths"]
    assert paths["idle"] == {
        "chosen": ["mutter"],
        "tried": [
            {"name": "x11", "reason": "Xwayland has no MIT-SCREEN-SAVER"},
            {"name": "wayland-ext", "reason": NO_WAYLAND},
            {"name": "wayland-kde", "reason": NO_WAYLAND},
            {"name": "screensaver", "reason": "later"},
        ],
    }
    assert paths["session"] == {
        "chosen": ["timejump"],
        "tried": [{"name": "logind", "reason": "no system bus"}],
    }
    assert paths["tray"] == {"chosen": ["none"], "tried": []}
