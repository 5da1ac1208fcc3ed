"""The drill coach window on the headless desktop (Xvfb + openbox): a real
``python -m ergobreak.coach`` fed through the daemon's own link, found on screen by
its title, pressed with real X input (xdotool), and photographed."""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import Xlib.error
from PIL import Image

from ergobreak.artwork.figure import Look, scene
from ergobreak.artwork.raster import rasterize
from ergobreak.artwork.shapes import Rect
from ergobreak.coach import window as coach_window
from ergobreak.coach.link import CoachLink
from ergobreak.coach.protocol import End, Open, Show, StepInfo, Told
from ergobreak.commands import Request
from ergobreak.paths import paths

from .rig import Rig, count_pixels_near, wait_equal, wait_for
from .test_daemon_e2e import Daemon

TITLE = "Coach test drill — ergobreak"
STEPS = (
    StepInfo("March on the spot, knees to hip height.", 20.0, "left", "march"),
    StepInfo("Stand tall and breathe.", 10.0, None, None),
)


def opening(*, focus: bool = False, reduced_motion: bool = False, text_size: int = 100) -> Open:
    return Open(
        drill="coach_test",
        title="Coach test drill",
        safety="Stop if anything hurts.",
        steps=STEPS,
        stop_rules="Stop if pain builds or feels sharp.",
        focus=focus,
        reduced_motion=reduced_motion,
        text_size=text_size,
    )


def showing(step: int = 1, *, held: bool = False) -> Show:
    return Show(
        step=step, steps=2, step_left=15, step_length=20, drill_left=25, drill_length=35, held=held
    )


class Window:
    """The coach process behind the real link, and what it sent back."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.exits: list[int] = []
        self.gone = threading.Event()
        self.link = CoachLink(self.requests.append, self.exited)

    def exited(self, code: int) -> None:
        self.exits.append(code)
        self.gone.set()


@pytest.fixture
def coach() -> Iterator[Window]:
    window = Window()
    yield window
    window.link.close(wait=True)


def clients_titled(rig: Rig, title: str) -> list[int]:
    clients = rig.x_property(rig.root_id, "_NET_CLIENT_LIST")
    if not isinstance(clients, list):
        return []
    return [
        w
        for w in clients
        if title in (rig.x_property(w, "_NET_WM_NAME"), rig.x_property(w, "WM_NAME"))
    ]


def find_coach(rig: Rig) -> int:
    found = wait_for(lambda: clients_titled(rig, TITLE), 15, what="the coach window")
    assert len(found) == 1, found
    window = found[0]
    wait_for(lambda: rig.window_geometry(window)[2] > 300, 5, what="its size")
    return window


def descendants(rig: Rig, window: int) -> list[tuple[int, int, list[int]]]:
    """Every subwindow of ``window``: (id, parent, its children)."""
    out, stack = [], [window]
    while stack:
        win = stack.pop()
        try:
            children = [
                int(c.id)
                for c in rig.xdisplay.create_resource_object("window", win).query_tree().children
            ]
        except Xlib.error.XError:
            continue
        out.append((win, 0, children))
        stack.extend(children)
    return out


def subwindow_sized(rig: Rig, window: int, width: int, height: int) -> tuple[int, int]:
    """Root x, y of the subwindow of that size (Tk widgets are X windows)."""

    def find() -> tuple[int, int] | None:
        for win, _parent, _children in descendants(rig, window):
            x, y, w, h = rig.window_geometry(win)
            if (w, h) == (width, height):
                return x, y
        return None

    found = wait_for(find, 5, what=f"a {width}x{height} subwindow")
    assert found is not None
    return found


def button_row(rig: Rig, window: int, count: int) -> list[tuple[int, int]]:
    """The centres of a row of ``count`` buttons, left to right: the frame whose
    children are ``count`` windows of one height on one line."""

    def rows() -> list[list[tuple[int, int]]]:
        found = []
        for _win, _parent, children in descendants(rig, window):
            if len(children) != count:
                continue
            geos = [rig.window_geometry(c) for c in children]
            if len({(y, h) for _x, y, _w, h in geos}) == 1 and all(w < 150 for *_, w, _h in geos):
                found.append(sorted((x + w // 2, y + h // 2) for x, y, w, h in geos))
        return found

    found = wait_for(rows, 5, what=f"a row of {count} buttons")
    assert len(found) == 1, found
    return found[0]


def focused_xterm(rig: Rig) -> int:
    rig.launch("xterm", ["xterm", "-title", "focused-xterm", "-geometry", "40x10+50+50"])
    xterm = wait_for(lambda: clients_titled(rig, "focused-xterm"), 10, what="the xterm")[0]
    wait_equal(rig.active_window, xterm, 5, what="the xterm focused")
    return xterm


def test_the_window_opens_by_its_title_without_taking_focus(desktop: Rig, coach: Window) -> None:
    xterm = focused_xterm(desktop)
    coach.link.open(opening(focus=False))
    coach.link.send(showing())
    window = find_coach(desktop)
    x, y, w, h = desktop.window_geometry(window)
    assert (w, h) >= (340, 500)
    screen = desktop.xdisplay.screen()
    assert x + w > screen.width_in_pixels * 0.7  # bottom right
    assert y + h > screen.height_in_pixels * 0.7
    assert "_NET_WM_STATE_ABOVE" in desktop.wm_state(window)
    # the WM has mapped and drawn it, and the xterm keeps the keyboard
    desktop.screenshot()
    assert desktop.active_window() == xterm
    desktop.key("space")  # typed into the xterm: no pause request from the coach
    coach.link.close()
    assert coach.gone.wait(10)
    assert coach.requests == []
    assert coach.exits == [0]


def test_a_drill_started_by_a_click_takes_focus(desktop: Rig, coach: Window) -> None:
    focused_xterm(desktop)
    coach.link.open(opening(focus=True))
    coach.link.send(showing())
    window = find_coach(desktop)
    wait_equal(desktop.active_window, window, 5, what="the coach focused")


def test_the_figure_is_on_the_canvas(desktop: Rig, coach: Window) -> None:
    coach.link.open(opening(reduced_motion=True))
    coach.link.send(showing())
    window = find_coach(desktop)
    cx, cy = subwindow_sized(desktop, window, coach_window.WIDTH, coach_window.FIGURE_HEIGHT)
    size = coach_window.FIGURE
    left, top = cx + (coach_window.WIDTH - size) // 2 - 40, cy + 10
    look = Look.standard()
    still = scene("march", 0.0, side="left", size=size, look=look, still=True)
    expected = rasterize([Rect(0, 0, size, size, look.background), *still], size, size)
    want = Image.frombytes("RGBA", expected.size, expected.rgba)

    def drawn() -> tuple[int, int]:
        with Image.open(desktop.screenshot()) as shot:
            crop = shot.convert("RGB").crop((left, top, left + size, top + size))
        return tuple(  # type: ignore[return-value]
            count_pixels_near(crop, colour[:3], tolerance=30) for colour in (look.body, look.accent)
        )

    body = count_pixels_near(want, look.body[:3], tolerance=30)
    accent = count_pixels_near(want, look.accent[:3], tolerance=30)
    assert body > 500
    assert accent > 300

    def close_to_raster() -> bool:
        got_body, got_accent = drawn()
        return abs(got_body - body) < body * 0.15 and abs(got_accent - accent) < accent * 0.15

    wait_for(close_to_raster, 10, what=f"the figure drawn: {body} body, {accent} accent pixels")


def test_keys_and_buttons_each_act_once(desktop: Rig, coach: Window) -> None:
    coach.link.open(opening(focus=True))
    coach.link.send(showing())
    window = find_coach(desktop)
    wait_equal(desktop.active_window, window, 5, what="the coach focused")
    desktop.key("space")
    wait_for(lambda: coach.requests, 5, what="the pause")
    coach.link.send(showing(held=True))  # the core paused the drill
    desktop.key("space")
    desktop.key("Right")
    desktop.key("Escape")
    wait_for(lambda: len(coach.requests) >= 4, 5, what="four key presses")
    coach.link.send(showing(held=False))
    pause, nxt, stop = button_row(desktop, window, 3)
    for x, y in (pause, nxt, stop):
        desktop.mouse_move(x, y)
        desktop.click()
    wait_for(lambda: len(coach.requests) >= 7, 5, what="three clicks")
    coach.link.close()  # the last line it wrote comes before its end
    assert coach.gone.wait(10)
    assert [r.cmd for r in coach.requests] == [
        "drill_pause",
        "drill_resume",
        "next_step",
        "skip",
        "drill_pause",
        "next_step",
        "skip",
    ]


def test_feedback_it_hurt_shows_the_stop_rules_and_the_reply(desktop: Rig, coach: Window) -> None:
    coach.link.open(opening(focus=True))
    coach.link.send(showing(2))
    window = find_coach(desktop)
    coach.link.send(End("done"))
    *_others, hurt = button_row(desktop, window, 4)
    desktop.mouse_move(*hurt)
    desktop.click()
    wait_for(lambda: coach.requests, 5, what="the feedback")
    assert coach.requests == [Request("feedback", {"drill": "coach_test", "answer": "hurt"})]
    coach.link.send(Told("Left out of your drills for 14 days."))
    (done,) = button_row(desktop, window, 1)
    assert coach.link.alive  # it waits to be read
    desktop.mouse_move(*done)
    desktop.click()
    assert coach.gone.wait(10)
    assert coach.exits == [0]
    assert clients_titled(desktop, TITLE) == []


@pytest.mark.parametrize("outcome", ["skipped", "cancelled"])
def test_a_drill_that_did_not_finish_closes_the_window_at_once(
    desktop: Rig, coach: Window, outcome: str
) -> None:
    coach.link.open(opening())
    coach.link.send(showing())
    find_coach(desktop)
    coach.link.send(End(outcome))  # type: ignore[arg-type]
    assert coach.gone.wait(10)
    assert coach.exits == [0]


def test_the_window_exits_when_the_daemon_goes(desktop: Rig, coach: Window) -> None:
    coach.link.open(opening())
    coach.link.send(showing())
    find_coach(desktop)
    proc = coach.link.proc
    assert proc is not None
    assert proc.stdin is not None
    proc.stdin.close()  # the daemon's end of the pipe, as when it dies
    assert coach.gone.wait(10)
    assert coach.exits == [0]


# ---------------------------------------------------------------- with the daemon

DAEMON_CONFIG = """\
schema = 1
[activity]
idle_pause = "5m"
natural_break = "10m"
prompt_gap = "1s"
[posture]
enabled = false
[drill]
every = "{every}"
start_after_idle = "4m"
prelude = "5m"
window = {window}
[routines]
only = ["coach_test", "seated_reset"]
[schedule]
enabled = false
"""
CONTENT = """\
[[drill]]
id = "coach_test"
title = "Coach test drill"
category = "mobility"
summary = "A short drill for the coach window's tests."
tags = ["desk", "standing"]
safety = "Stop if anything hurts."
sources = ["https://example.org/coach-test"]
steps = [
    { seconds = 5, text = "Stand tall, feet hip-width.", pose = "stand" },
    { seconds = 6, text = "March on the spot, knees up.", side = "left", pose = "march" },
    { seconds = 49, text = "Rest, standing tall." },
]
"""


@pytest.fixture
def daemon(desktop: Rig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Daemon]:
    # its own state folder: log, history and state of this test only (the daemon
    # inherits this process's environment, and paths() here reads the same)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    content = Path(desktop.env["XDG_CONFIG_HOME"], "ergobreak", "content")
    content.mkdir(parents=True, exist_ok=True)
    (content / "coach_test.toml").write_text(CONTENT)
    home = tmp_path / "home"
    home.mkdir()
    yield Daemon(desktop, home)
    (content / "coach_test.toml").unlink()


def configure(daemon: Daemon, *, every: str = "1h", window: bool = True) -> None:
    daemon.config.write_text(
        DAEMON_CONFIG.format(every=every, window="true" if window else "false")
    )


def daemon_log() -> str:
    """The daemon's own log file (its stderr has only the start-up lines)."""
    log = paths().log_dir / "ergobreak.log"
    return log.read_text(errors="replace") if log.exists() else ""


def shows(daemon: Daemon) -> list[str]:
    """The steps the coach window said it showed, in order (``1 of 3``, ...)."""
    return re.findall(r"coach: shows step (\d+ of \d+)", daemon_log())


def asked(daemon: Daemon) -> list[str]:
    """The requests the daemon received from the window, in order."""
    return re.findall(r"coach window asks: (\w+)", daemon_log())


def outcomes(daemon: Daemon) -> list[str]:
    code, out, err = daemon.cli("stats", "export", "--format", "json")
    assert code == 0, err
    events = json.loads(out)["events"]
    return [e["outcome"] for e in events if e["kind"] == "drill_end"]


def test_a_drill_started_from_the_command_line_is_coached_on_the_cores_time(
    desktop: Rig, daemon: Daemon
) -> None:
    configure(daemon)
    xterm = focused_xterm(desktop)
    daemon.start()
    code, _out, err = daemon.cli("start", "coach_test")
    assert code == 0, err
    window = find_coach(desktop)
    assert desktop.active_window() == xterm  # not started by a click: no focus taken
    wait_equal(lambda: shows(daemon)[:1], ["0 of 3"], 5, what="the safety note")
    # the core moves it on: the safety note for its reading time (5 s), step 1 for 5 s
    wait_equal(lambda: shows(daemon)[:2], ["0 of 3", "1 of 3"], 8, what="step 1")
    began = time.monotonic()
    wait_equal(lambda: shows(daemon)[:3], ["0 of 3", "1 of 3", "2 of 3"], 8, what="step 2")
    assert 4.0 <= time.monotonic() - began <= 6.5
    nxt = button_row(desktop, window, 3)[1]
    desktop.mouse_move(*nxt)
    desktop.click()
    wait_equal(lambda: daemon.status()["step"], 3, 5, what="step 3 after Next")
    desktop.key("space")  # the click gave it the keyboard
    wait_equal(lambda: daemon.status()["drill_held"], True, 5, what="held")
    desktop.key("space")
    wait_equal(lambda: daemon.status()["drill_held"], False, 5, what="going again")
    desktop.key("Escape")
    wait_for(lambda: not clients_titled(desktop, TITLE), 10, what="the window gone")
    assert asked(daemon) == ["next_step", "drill_pause", "drill_resume", "skip"]
    assert daemon.status()["routine"] is None
    wait_equal(lambda: outcomes(daemon), ["skipped"], 10, what="the drill skipped in history")
    # the notification bubble still carried each step (for screen readers)
    assert any(n["body"].startswith("Step 3 of 3") for n in desktop.history())


def feedback_rows(daemon: Daemon) -> list[tuple[str, str]]:
    code, out, err = daemon.cli("stats", "export", "--format", "json")
    assert code == 0, err
    events = json.loads(out)["events"]
    return [(e["routine"], e["answer"]) for e in events if e["kind"] == "feedback"]


def test_a_drill_started_from_a_notification_button_takes_focus_and_asks_how_it_was(
    desktop: Rig, daemon: Daemon
) -> None:
    configure(daemon, every="10s")
    focused_xterm(desktop)
    desktop.mouse_move(400, 400)  # desk time counts from here
    daemon.start()
    # the prompt after 10 s of desk time; its Start now pressed as a user would
    wait_equal(lambda: daemon.status()["phase"], "prompted", 20, what="the drill prompt")
    assert daemon.status()["routine"] == "coach_test"
    desktop.invoke_action("start")
    window = find_coach(desktop)
    wait_equal(desktop.active_window, window, 5, what="the coach focused")
    for step in (1, 2, 3):  # Next, by key, once per press
        desktop.key("Right")
        wait_equal(lambda: daemon.status()["step"], step, 5, what=f"step {step}")
    desktop.key("Right")  # past the last step: done
    wait_equal(lambda: outcomes(daemon), ["done"], 10, what="the drill done")
    *_others, hurt = button_row(desktop, window, 4)
    desktop.mouse_move(*hurt)
    desktop.click()
    wait_for(lambda: "is left out of your drills until" in daemon_log(), 10, what="the reply")
    assert re.search(r"coach: told: Noted: it hurt\. Coach test drill is left out", daemon_log())
    assert feedback_rows(daemon) == [("coach_test", "hurt")]
    (done,) = button_row(desktop, window, 1)
    desktop.mouse_move(*done)
    desktop.click()
    wait_for(lambda: not clients_titled(desktop, TITLE), 10, what="the window gone")
    assert asked(daemon) == ["next_step"] * 4 + ["feedback"]
    wait_for(lambda: "coach window exited (0)" in daemon_log(), 5, what="the window reaped")
    for _ in range(2):  # it hurt: the rotation goes on without it
        assert daemon.cli("start")[0] == 0
        assert daemon.status()["routine"] == "seated_reset"
        assert daemon.cli("skip")[0] == 0


def test_no_window_when_drill_window_is_off(desktop: Rig, daemon: Daemon) -> None:
    configure(daemon, window=False)
    daemon.start()
    code, _out, err = daemon.cli("start", "coach_test")
    assert code == 0, err
    wait_equal(lambda: daemon.status()["step"], 1, 10, what="step 1")
    assert clients_titled(desktop, TITLE) == []
    assert "coach window" not in daemon_log()
    desktop.close_all_notifications()  # dunst lists closed ones only
    assert any(n["body"].startswith("Step 1 of 3") for n in desktop.history())


def test_no_window_without_a_display_only_notifications(
    desktop: Rig, daemon: Daemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(daemon)
    monkeypatch.setenv("ERGOBREAK_IDLE", "none")  # idle and quiet read X: not without one
    monkeypatch.setenv("ERGOBREAK_QUIET", "none")
    monkeypatch.setenv("ERGOBREAK_TRAY", "none")
    # the rig hands every client its DISPLAY: this one starts without
    argv = ["env", "-u", "DISPLAY", sys.executable, "-m", "ergobreak", "run"]
    desktop.launch("ergobreak", [*argv, "--config", str(daemon.config)])
    wait_for(lambda: daemon.cli("status")[0] == 0, 10, interval=0.05, what="the daemon's IPC")
    code, _out, err = daemon.cli("start", "coach_test")
    assert code == 0, err
    wait_for(lambda: "no coach window: no display" in daemon_log(), 5, what="the fallback said")
    wait_equal(lambda: daemon.status()["step"], 1, 10, what="step 1")
    assert clients_titled(desktop, TITLE) == []
    desktop.close_all_notifications()  # dunst lists closed ones only
    assert any(n["body"].startswith("Step 1 of 3") for n in desktop.history())


def seconds_shown(coach: coach_window.Coach) -> str:
    return str(coach.figure.itemcget("seconds", "text"))  # type: ignore[no-untyped-call]


def test_the_window_counts_down_only_from_what_it_was_told(desktop: Rig) -> None:
    import tkinter as tk

    now = [100.0]
    sent: list[Request] = []
    root = tk.Tk()
    try:
        coach = coach_window.Coach(root, sent.append, clock=lambda: now[0])
        coach.handle(opening(reduced_motion=True))
        coach.handle(showing())  # step 1: 15 s left of 20
        now[0] += 4.2
        coach._frame()  # what its next tick draws
        assert seconds_shown(coach) == "0:11"
        now[0] += 60  # long past the step's end, and no word from the core
        coach._frame()
        assert seconds_shown(coach) == "0:00"
        assert coach.where.cget("text") == "Step 1 of 2 · Left leg"  # never moves on itself
        coach.handle(showing(2, held=True))
        now[0] += 60
        coach._frame()
        assert seconds_shown(coach) == "0:15"  # held: frozen
        assert coach.where.cget("text") == "Step 2 of 2"
        assert coach.pause_button.cget("text") == "Resume"
        assert sent == []
    finally:
        root.destroy()


def test_closing_the_window_leaves_the_drill_running(desktop: Rig, coach: Window) -> None:
    coach.link.open(opening(focus=True))
    coach.link.send(showing())
    window = find_coach(desktop)
    wait_equal(desktop.active_window, window, 5, what="the coach focused")
    desktop.key("alt+F4")  # openbox asks it to close (WM_DELETE_WINDOW)
    assert coach.gone.wait(10)
    assert coach.exits == [0]
    assert coach.requests == []  # no skip: the drill goes on in its notifications


def test_large_text_grows_the_window_and_keeps_the_buttons_on_it(
    desktop: Rig, coach: Window
) -> None:
    coach.link.open(opening(text_size=200))
    coach.link.send(showing())
    window = find_coach(desktop)
    x, y, w, h = desktop.window_geometry(window)
    screen = desktop.xdisplay.screen()
    assert w >= 700
    assert y + h <= screen.height_in_pixels
    for bx, by in button_row(desktop, window, 3):
        assert x < bx < x + w
        assert y < by < y + h
    coach.link.send(End("done"))
    for bx, by in [*button_row(desktop, window, 4), *button_row(desktop, window, 1)]:
        assert x < bx < x + w
        assert y < by < y + h


def test_an_animation_frame_moves_the_figures_items_instead_of_making_new_ones(
    desktop: Rig,
) -> None:
    import tkinter as tk  # only this test draws in the test process

    from ergobreak.coach.canvas import draw  # it imports tkinter

    root = tk.Tk()
    try:
        canvas = tk.Canvas(root, width=200, height=200)
        look = Look.standard()
        draw(canvas, scene("march", 0.0, side="left", size=200, look=look), look.background, "fig")
        first = canvas.find_withtag("fig")
        before = [canvas.coords(item) for item in first]
        draw(canvas, scene("march", 0.5, side="left", size=200, look=look), look.background, "fig")
        assert canvas.find_withtag("fig") == first  # the same items...
        assert [canvas.coords(item) for item in first] != before  # ...moved
        draw(canvas, scene("stand", 0.0, side=None, size=200, look=look), look.background, "fig")
        assert len(canvas.find_withtag("fig")) == len(
            scene("stand", 0.0, side=None, size=200, look=look)
        )
    finally:
        root.destroy()
