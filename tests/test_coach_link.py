"""The daemon's side of the coach window, against a real child process that plays
the window: lines both ways, bad lines dropped, the child reaped, its death seen."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from ergobreak.coach.link import CoachLink, available
from ergobreak.coach.protocol import Show, Told, decode
from ergobreak.commands import Request

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
