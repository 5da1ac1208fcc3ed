"""X11 on the real Xvfb + openbox: idle time follows xdotool input, fullscreen windows
put ergobreak in quiet mode, and a missing display or bus gives fallbacks that say so."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from ergobreak.core.events import Quiet
from ergobreak.platform.base import Notification, Unavailable
from ergobreak.platform.edge import Edge, Lost, WallClockIdle
from ergobreak.platform.select import open_edge
from ergobreak.platform.x11 import X11Display, X11Fullscreen, X11Idle

from .rig import Rig, wait_for


@pytest.fixture
def edge(desktop: Rig) -> Iterator[Edge]:
    opened = open_edge(lambda r: None)
    yield opened
    opened.close()


def idle(edge: Edge) -> float:
    value = edge.read_idle()
    assert value is not None, "the X idle source failed"
    return value


def test_x11_idle_grows_without_input_and_drops_after_mouse_move(desktop: Rig, edge: Edge) -> None:
    assert (edge.choices[0].name, edge.choices[0].detail) == ("x11", "auto")
    desktop.mouse_move(10, 10)
    first = idle(edge)
    grown = wait_for(lambda: (v := idle(edge)) >= first + 0.3 and v, what="idle to grow")
    assert grown >= 0.3
    sent = time.monotonic()
    desktop.mouse_move(200, 150)
    assert idle(edge) <= time.monotonic() - sent + 0.01  # reset by the move
    wait_for(lambda: idle(edge) >= 0.1, what="idle to grow again")
    sent = time.monotonic()
    desktop.key("shift")
    assert idle(edge) <= time.monotonic() - sent + 0.01


def test_x11_idle_matches_the_server_clock(desktop: Rig) -> None:
    x = X11Display()
    try:
        idle = X11Idle(x)
        before = desktop.x_idle_ms() / 1000
        reading = idle.idle_seconds()
        after = desktop.x_idle_ms() / 1000
        assert before <= reading <= after
    finally:
        x.close()


def test_fullscreen_window_means_quiet_and_leaving_it_ends_it(desktop: Rig, edge: Edge) -> None:
    assert edge.quiet_changes() == []
    win = desktop.open_window("video call")
    try:
        wait_for(lambda: desktop.active_window() == win, what="the window to be active")
        assert edge.quiet_changes() == []  # a normal window is no reason to hold prompts
        desktop.set_fullscreen(win, True)
        changes = wait_for(edge.quiet_changes, what="quiet to start")
        assert changes == [Quiet("fullscreen", True)]
        assert edge.quiet_changes() == []  # reported once
        desktop.set_fullscreen(win, False)
        assert wait_for(edge.quiet_changes, what="quiet to end") == [Quiet("fullscreen", False)]
    finally:
        desktop.close_window(win)


def test_fullscreen_follows_the_active_window(desktop: Rig) -> None:
    x = X11Display()
    try:
        fullscreen = X11Fullscreen(x)
        video = desktop.open_window("video", fullscreen=True)
        wait_for(lambda: desktop.active_window() == video)
        wait_for(fullscreen.active, what="the fullscreen video to count")
        editor = desktop.open_window("editor")  # gets focus: the video plays on behind it
        wait_for(lambda: desktop.active_window() == editor)
        assert not fullscreen.active()
        desktop.close_window(editor)
        desktop.close_window(video)
        wait_for(lambda: not fullscreen.active(), what="no active window, no quiet")
    finally:
        x.close()


def test_fullscreen_needs_a_window_manager(desktop: Rig) -> None:
    desktop.stop("openbox")  # the baseline fixture restarts it
    x = X11Display()
    try:
        with pytest.raises(Unavailable, match="no EWMH window manager"):
            X11Fullscreen(x)
    finally:
        x.close()


def test_x_server_gone_mid_run_reads_as_unknown_and_is_said_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    losses: list[Lost] = []
    with caplog.at_level("WARNING", "ergobreak.platform"), Rig(("openbox",)) as other:
        env = {
            **other.subprocess_env(),
            "ERGOBREAK_QUIET": "fullscreen",
            "ERGOBREAK_SEATED": "none",
            "ERGOBREAK_NOTIFIER": "console",  # this desktop has no notification server
        }
        edge = open_edge(lambda r: None, env=env)
        assert [c.name for c in edge.choices if c.ok] == [
            "x11",
            "console",
            "timejump",
            "fullscreen",
        ]
        edge.start(lambda _event: None, on_lost=losses.append)
        display = other.display
        try:
            assert other.procs["x"][0].signal(signal.SIGKILL)
            wait_for(lambda: losses, 5, what="the loss to be reported")  # before any query
            assert edge.read_idle() is None  # not "just typed": nobody can see
            assert edge.quiet_changes() == []
        finally:
            edge.close()
    message = f"the X display {display} went away; ergobreak stops with the session"
    assert losses == [Lost("display", message, ends_session=True)]
    assert [r.getMessage() for r in caplog.records] == [message]


# --------------------------------------------------------------------------- fallbacks


def test_no_display_and_no_bus_fall_back_and_say_so(desktop: Rig) -> None:
    env = {
        **desktop.subprocess_env(),
        "DISPLAY": "",
        "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent",
    }
    out = io.StringIO()
    edge = open_edge(lambda r: None, env=env, stream=out)
    try:
        idle, notifier = edge.choices[0], edge.choices[1]
        assert isinstance(edge.idle, WallClockIdle)
        assert (idle.name, idle.ok) == ("none", False)
        assert idle.detail.startswith("no idle source: wall-clock mode")
        assert dict(idle.tried)["x11"] == "no X display: $DISPLAY is not set"
        assert "unix:path=/nonexistent" in dict(idle.tried)["mutter"]
        assert (notifier.name, notifier.ok) == ("console", False)
        edge.notifier.show(Notification(title="hi"))
        assert out.getvalue() == "[ergobreak] hi\n"
    finally:
        edge.close()


def test_display_set_but_no_server(desktop: Rig) -> None:
    env = {**desktop.subprocess_env(), "DISPLAY": ":987"}
    edge = open_edge(lambda r: None, env=env)
    try:
        assert dict(edge.choices[0].tried)["x11"] == "no X server answers on display :987"
        assert (edge.choices[0].name, edge.choices[0].ok) == ("none", False)
    finally:
        edge.close()


def test_doctor_without_a_desktop_reports_fallbacks_and_succeeds(desktop: Rig) -> None:
    env = {
        **desktop.subprocess_env(),
        "DISPLAY": "",
        "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent",
    }
    text = subprocess.run(
        [sys.executable, "-m", "ergobreak", "doctor"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    lines = text.stdout.splitlines()
    assert any(
        line.split()[:3] == ["missing", "idle", "none"] and "wall-clock mode" in line
        for line in lines
    )
    assert any(line.split()[:3] == ["missing", "notifier", "console"] for line in lines)
    assert any("hint: start a notification daemon" in line for line in lines)
    assert text.stderr == ""  # the report says it all; no duplicate log warnings
    as_json = subprocess.run(
        [sys.executable, "-m", "ergobreak", "doctor", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    report = json.loads(as_json.stdout)
    assert report["ok"] is True
    assert report["checks"][0]["role"] == "tray"
    checks = {(c["role"], c["name"]): c for c in report["checks"]}
    assert checks[("idle", "none")]["ok"] is False
    assert checks[("idle", "none")]["idle_seconds"] == 0.0
    assert checks[("session", "timejump")]["ok"] is True
