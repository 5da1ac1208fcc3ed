"""The daemon's side of the coach window, against a real child process that plays
the window: lines both ways, bad lines dropped, the child reaped, its death seen."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from desktop.rig import wait_for

from ergobreak.coach.coaching import Coaching
from ergobreak.coach.link import CoachLink, available
from ergobreak.coach.protocol import Close, End, Open, Show, StepInfo, Told, decode
from ergobreak.commands import Request
from ergobreak.content import default_content
from ergobreak.content.library import safety_text
from ergobreak.core import effects as fx
from ergobreak.core import events as ev
from ergobreak.core.content import Content, Drill, Step
from ergobreak.sim.testing import make_machine

#: a stand-in window: records what it is told, presses Next once the first show
#: arrives, writes a bad line, exits 0 on close (or with the code a told text gives)
CHILD = """
import json, sys
log = open(sys.argv[1], "w")
for line in sys.stdin:
    log.write(line); log.flush()
    msg = json.loads(line)
    if msg["msg"] == "show":
        print("this is not json")
        print(json.dumps({"v": 1, "cmd": "next_step_please", "args": {}}))
        print(json.dumps({"v": 1, "cmd": "skip", "args": {}}), flush=True)
    if msg["msg"] == "told":
        sys.exit(int(msg["text"]))
    if msg["msg"] == "close":
        break
"""

SHOW = Show(step=0, steps=3, step_left=5, step_length=5, drill_left=40, drill_length=40)


class Seen:
    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.exits: list[int] = []
        self.exited = threading.Event()

    def request(self, request: Request) -> None:
        self.requests.append(request)

    def exit(self, code: int) -> None:
        self.exits.append(code)
        self.exited.set()


def _link(tmp_path: Path, seen: Seen) -> tuple[CoachLink, Path]:
    log = tmp_path / "child.log"
    argv = [sys.executable, "-c", CHILD, str(log)]
    return CoachLink(seen.request, seen.exit, argv=argv), log


def test_requests_come_back_validated_and_the_child_is_reaped(tmp_path: Path) -> None:
    seen = Seen()
    link, log = _link(tmp_path, seen)
    link.open(SHOW)
    assert link.alive
    link.close()
    assert seen.exited.wait(10)
    # the bad line and the unknown command were dropped; the skip came through once
    assert seen.requests == [Request("skip")]
    assert seen.exits == [0]
    assert link.proc is not None
    assert link.proc.returncode == 0  # waited for: no zombie left
    told = [decode(line) for line in log.read_text().splitlines()]
    assert told[0] == SHOW
    assert told[-1].name == "close"
    assert not link.send(SHOW)  # gone: sending says so and raises nothing


def test_a_child_that_dies_is_reported_with_its_code(tmp_path: Path) -> None:
    seen = Seen()
    link, _log = _link(tmp_path, seen)
    link.open(Told("3"))
    assert seen.exited.wait(10)
    assert seen.exits == [3]
    assert not link.alive
    link.close(wait=True)  # closing a dead one is harmless


def test_available_needs_a_display_on_linux() -> None:
    if not sys.platform.startswith("linux"):
        return
    assert available({}) == (False, "no display")
    assert available({"WAYLAND_DISPLAY": "wayland-0"}) == (False, "Wayland without XWayland")
    assert available({"DISPLAY": ":3"}) == (True, "on :3")


# ------------------------------------------------------------------ Coaching

DRILL = Drill(
    id="three_steps",
    title="Three steps",
    category="hinge",
    steps=(
        Step(seconds=10, text="one", pose="stand"),
        Step(seconds=20, text="two", side="left", pose="march"),
        Step(seconds=30, text="three"),
    ),
    safety="Stop if it hurts.",  # read in 5 s
)
VALUES: dict[str, object] = {
    "drill.window": True,
    "drill.text_size": 140,
    "drill.high_contrast": True,
    "drill.reduced_motion": False,
}
#: a stand-in window that records every line and goes when told to close
RECORDER = """
import json, sys
log = open(sys.argv[1], "a")
for line in sys.stdin:
    log.write(line); log.flush()
    if json.loads(line)["msg"] == "close":
        break
"""


def test_coaching_tells_the_window_what_the_core_decided(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISPLAY", ":99")  # available() asks; the stand-in needs none
    log = tmp_path / "window.log"
    asked: list[Request] = []

    def ask(request: Request) -> dict[str, object]:
        asked.append(request)
        return {"ok": True}

    coaching = Coaching(
        ask, lambda: VALUES, lambda: False, argv=[sys.executable, "-c", RECORDER, str(log)]
    )
    base = default_content()
    core = make_machine(content=Content(cues=base.cues, drills=(DRILL,)))
    core.sample(0.0, 0.0, 0.0)

    def step(t: float, event: ev.Event | None = None) -> None:
        out = core.handle(t, t, event) if event is not None else core.sample(t, t, 0.0)
        coaching.on_step(out, core.view(t))

    step(1.0, ev.Start())  # requested, but not by a click: no focus
    step(9.0)  # 3 s into step 1
    step(9.0, ev.DrillPause())
    step(9.0, ev.NextStep())  # Next while held: the core decides what shows
    step(9.0, ev.Skip())
    coaching.close(wait=True)
    said = [decode(line) for line in log.read_text().splitlines()]
    opened = said[0]
    assert isinstance(opened, Open)
    assert (opened.drill, opened.focus, opened.text_size, opened.high_contrast) == (
        "three_steps",
        False,
        140,
        True,
    )
    assert opened.steps[1] == StepInfo("two", 20.0, "left", "march")
    assert opened.stop_rules == safety_text()["stop_rules"]
    shows = [m for m in said if isinstance(m, Show)]
    total = 5.0 + 60.0
    assert shows[0] == Show(0, 3, 5.0, 5.0, total, total, held=False)
    assert shows[1] == Show(1, 3, 7.0, 10.0, total - 8.0, total, held=False)
    assert shows[2] == Show(1, 3, 7.0, 10.0, total - 8.0, total, held=True)
    assert shows[3].step == 2
    assert shows[3].step_length == 20.0
    assert [m for m in said if isinstance(m, End)] == [End("skipped")]
    assert said[-1] == Close()
    assert asked == []  # the stand-in pressed nothing


def test_no_window_when_it_is_off_or_there_is_no_display(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "window.log"
    argv = [sys.executable, "-c", RECORDER, str(log)]
    start = fx.DrillStart(DRILL, requested=True)
    base = default_content()
    core = make_machine(content=Content(cues=base.cues, drills=(DRILL,)))
    monkeypatch.setenv("DISPLAY", ":99")
    off = Coaching(lambda r: {}, lambda: {**VALUES, "drill.window": False}, lambda: True, argv)
    off.on_step([start], core.view(0.0))
    monkeypatch.delenv("DISPLAY")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    headless = Coaching(lambda r: {}, lambda: VALUES, lambda: True, argv)
    headless.on_step([start], core.view(0.0))
    assert (off.link, headless.link) == (None, None)
    assert not log.exists()


def test_the_daemon_loads_no_coach_at_idle_and_never_tk() -> None:
    check = (
        "import sys, ergobreak.app\n"
        "idle = sorted(m for m in sys.modules if m.startswith(('ergobreak.coach', 'tkinter')))\n"
        "import ergobreak.coach.coaching\n"
        "print(idle, 'tkinter' in sys.modules, '_tkinter' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["[]", "False", "False"]


def test_a_window_that_dies_leaves_notifications_only_for_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("DISPLAY", ":99")
    dies = [sys.executable, "-c", "import sys; sys.stdin.readline(); sys.exit(1)"]
    coaching = Coaching(lambda r: {}, lambda: VALUES, lambda: False, argv=dies)
    base = default_content()
    core = make_machine(content=Content(cues=base.cues, drills=(DRILL,)))
    start = fx.DrillStart(DRILL, requested=False)
    coaching.on_step([start], core.view(0.0))
    link = coaching.link
    assert link is not None
    assert link.proc is not None
    link.proc.wait(10)
    wait_for(lambda: coaching.broken, 10, what="the reader to reap it and say so")
    coaching.on_step([start], core.view(0.0))  # the next drill: no window
    assert coaching.link is None
    failed = [r for r in caplog.records if "coach window failed" in r.getMessage()]
    assert len(failed) == 1
