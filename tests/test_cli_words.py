"""What the command line says, against a real daemon: the composed App and its Engine
on a fake clock (tests/fake_desk.py), running on its own thread behind the real IPC
server, asked by the real command line in-process.

Every command that changes something answers with one line saying what it did;
``status`` says what the tray says; refusals say what is happening and what to do;
a message that names ergobreak is printed under no second prefix.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import pytest
from fake_desk import ALWAYS_ON_CONFIG, AppRig, start_app
from scaffold import cli

from ergobreak.core.duration import format_amount
from ergobreak.daemon import ipc
from ergobreak.daemon.instance import ensure_private_dir
from ergobreak.localtz import LocalTimezone
from ergobreak.paths import paths
from ergobreak.tray.model import headline, state_from_status

pytestmark = pytest.mark.usefixtures("isolated")

SNOOZE_20S = ALWAYS_ON_CONFIG + '\n[drill]\nsnooze = "20s"\n'
#: the words a raw state or cancel reason would show up as
RAW = re.compile(r"\b[a-z]+_[a-z_]+\b|\bin 0 s\b|\bin 0 min\b")


@dataclass
class Daemon:
    rig: AppRig
    server: ipc.Server
    thread: threading.Thread

    def status(self) -> dict[str, object]:
        return dict(self.rig.engine.status)


def serve(rig: AppRig) -> Daemon:
    """``rig``'s engine on its own thread behind the real IPC server; the server
    closes when the engine stops (a ``quit``)."""
    server = ipc.Server(ensure_private_dir(paths().runtime_dir), rig.app.handle_ipc)
    server.start()

    def run() -> None:
        try:
            rig.engine.run()
        finally:
            server.close()

    thread = threading.Thread(target=run, name="test-engine", daemon=True)
    thread.start()
    return Daemon(rig, server, thread)


@pytest.fixture
def prompted() -> Iterator[Daemon]:
    """A daemon whose first drill prompt is on screen (30 min of typing)."""
    rig = start_app(SNOOZE_20S)
    rig.work(30 * 60 + 30)
    assert rig.engine.core.view().state == "prompt"
    daemon = serve(rig)
    yield daemon
    if daemon.thread.is_alive():
        rig.engine.stop()
        daemon.thread.join(10)
    daemon.server.close()


def said(*argv: str) -> tuple[int, str, str]:
    code, out, err = cli(*argv)
    assert out.count("\n") + err.count("\n") >= 1, (argv, out, err)
    return code, out, err


def test_status_during_a_prompt_says_so_and_never_counts_down_to_zero(prompted: Daemon) -> None:
    code, out, err = said("status")
    assert (code, err) == (0, "")
    first = out.splitlines()[0]
    assert first.endswith(": Drill prompt on screen")
    assert "Start now, snooze (2 left) or skip" in out
    assert "next drill in" not in out
    assert not RAW.search(out), out
    # the tray's headline for the same status
    assert first.split(": ", 1)[1] == headline(state_from_status(prompted.status()))


def test_snooze_skip_and_start_say_what_they_did(prompted: Daemon) -> None:
    code, out, err = said("snooze")
    assert (code, err) == (0, "")
    assert out == f"Drill snoozed for {format_amount(20)} (1 snooze left).\n"

    code, out, err = said("skip")
    assert (code, err) == (0, "")
    every = prompted.rig.engine.core.settings.drill.every
    assert out == f"Drill skipped; next drill in {format_amount(every)}.\n"

    code, out, err = said("skip")
    assert code == 1
    assert (out, err) == ("", "ergobreak skip: Nothing to skip: no prompt or drill on.\n")

    code, out, err = said("start", "hinge_wall")
    title = prompted.rig.engine.core.content.drill("hinge_wall")
    assert title is not None
    assert (code, out, err) == (0, f"Drill started: {title.title}.\n", "")

    code, out, _ = said("status")
    # the drill opens with its safety note, read first
    assert re.search(r": Drill running: safety note, 0:\d\d left$", out.splitlines()[0]), out
    assert "next drill in" not in out

    code, out, err = said("posture")
    assert (code, out) == (1, "")
    assert err == (
        "ergobreak posture: A drill is running; ask for a posture check again when it ends.\n"
    )
    code, out, err = said("snooze")
    assert code == 1
    assert err == (
        "ergobreak snooze: A drill is running, so there is nothing to snooze; Skip stops it.\n"
    )


def test_pause_and_resume_say_until_when_and_what_comes_next(prompted: Daemon) -> None:
    code, out, err = said("pause", "30m")
    assert (code, err) == (0, "")
    wall = prompted.rig.clock.wall()
    until = datetime.fromtimestamp(wall + 1800, LocalTimezone())
    today = datetime.fromtimestamp(wall, LocalTimezone()).date()
    when = until.strftime("%H:%M") if until.date() == today else until.strftime("tomorrow %H:%M")
    assert out == f"Paused until {when}.\n"

    code, out, _ = said("status")
    assert out.splitlines()[0].endswith(f": Paused until {when}")
    assert "paused for another" not in out

    code, out, err = said("resume")
    assert (code, err) == (0, "")
    assert re.fullmatch(r"Resumed: next drill in \d+ min · posture check in \d+ min\.\n", out), out

    code, out, err = said("resume")
    assert (code, out) == (1, "")
    assert err == "ergobreak resume: Not paused, so there is nothing to resume.\n"


def test_posture_shows_the_cue_it_showed(prompted: Daemon) -> None:
    said("skip")
    code, out, err = said("posture")
    assert (code, err) == (0, "")
    shown = prompted.rig.notifier.shown[-1]
    assert shown.title == "Posture check"
    assert out == f"Posture check shown: {shown.body.splitlines()[0]}\n"


def test_the_snooze_button_and_menu_say_the_configured_length(prompted: Daemon) -> None:
    prompt = next(n for n in prompted.rig.notifier.shown if n.title.startswith("2-minute drill"))
    assert [a.label for a in prompt.actions] == ["Start now", "Snooze 20 s", "Skip"]


def test_quit_says_ergobreak_stopped_once_it_has(prompted: Daemon) -> None:
    code, out, err = said("quit")
    assert (code, err) == (0, "")
    assert out == "ergobreak stopped; its timers are kept for the next start.\n"
    prompted.thread.join(10)
    assert not prompted.thread.is_alive()
    code, out, err = said("status")
    assert code == 4
    assert err == f"{ipc.NOT_RUNNING}\n"  # under no second "ergobreak: " prefix


def test_not_running_is_said_once() -> None:
    ensure_private_dir(paths().runtime_dir)
    for command in ("status", "pause", "skip"):
        code, out, err = said(command)
        assert (code, out) == (4, "")
        assert err == f"{ipc.NOT_RUNNING}\n"
        assert not err.startswith("ergobreak: ergobreak")
