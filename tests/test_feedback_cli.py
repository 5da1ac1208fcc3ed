"""``ergobreak feedback``: the request as the wire takes it (commands.py), and what the
command line says against a real daemon (the composed App behind the real IPC server,
tests/test_cli_words.py's ``serve``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fake_desk import start_app
from scaffold import cli
from test_cli_words import Daemon, serve

from ergobreak.commands import FEEDBACK_ANSWERS, BadRequest, Request, from_wire
from ergobreak.content.library import safety_text
from ergobreak.core.content import ANSWERS
from ergobreak.daemon import ipc
from ergobreak.daemon.instance import ensure_private_dir
from ergobreak.paths import paths

pytestmark = pytest.mark.usefixtures("isolated")


def wire(**args: Any) -> dict[str, Any]:
    return {"v": 1, "cmd": "feedback", "args": args}


def test_the_wire_takes_the_four_answers_and_an_optional_drill_id() -> None:
    assert FEEDBACK_ANSWERS == ANSWERS  # the command vocabulary and the rules agree
    for answer in FEEDBACK_ANSWERS:
        assert from_wire(wire(answer=answer)) == Request("feedback", {"answer": answer})
    request = Request("feedback", {"answer": "hurt", "drill": "hinge_wall"})
    assert from_wire(request.to_wire()) == request


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({}, "feedback: answer must be one of easy, right, hard, hurt"),
        ({"answer": "Easy"}, "feedback: answer must be one of easy, right, hard, hurt"),
        ({"answer": 1}, "feedback: answer must be one of easy, right, hard, hurt"),
        ({"answer": "hurt", "drill": 7}, "feedback: drill must be a drill id"),
        ({"answer": "hurt", "drill": "../etc"}, "feedback: drill must be a drill id"),
        ({"answer": "hurt", "drill": ""}, "feedback: drill must be a drill id"),
    ],
)
def test_the_wire_refuses_what_is_not_an_answer(args: dict[str, Any], message: str) -> None:
    with pytest.raises(BadRequest, match="^" + message):
        from_wire(wire(**args))


@pytest.fixture
def daemon() -> Iterator[Daemon]:
    rig = start_app()
    running = serve(rig)
    yield running
    if running.thread.is_alive():
        rig.engine.stop()
        running.thread.join(10)
    running.server.close()


def test_feedback_says_what_it_did_or_what_to_do(daemon: Daemon) -> None:
    code, out, err = cli("feedback", "hard")
    assert (code, out) == (1, "")
    assert err == (
        "ergobreak feedback: No drill has ended since ergobreak started, so there is nothing"
        " to answer about; name the drill with --drill ID (see: ergobreak routines list).\n"
    )
    code, out, err = cli("feedback", "hurt", "--drill", "figure4_seated")
    assert (code, err) == (0, "")
    first, *rest = out.splitlines()
    assert first.startswith("Noted: it hurt. Seated figure-4 stretch is left out of your drills")
    assert rest == [safety_text()["stop_rules"]]
    code, out, err = cli("feedback", "easy", "--drill", "hinge_wall")
    assert (code, out, err) == (0, "Noted: easy. Next time: Bodyweight good morning instead.\n", "")
    code, out, err = cli("feedback", "right", "--drill", "nope_nope")
    assert (code, out) == (1, "")
    assert err == 'ergobreak feedback: No drill "nope_nope" (see: ergobreak routines list).\n'


def test_a_wrong_answer_is_a_usage_error_and_no_daemon_is_said_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _out, _err = cli("feedback", "meh")
    assert code == 2
    assert "invalid choice: 'meh'" in capsys.readouterr().err  # argparse's own stream
    ensure_private_dir(paths().runtime_dir)
    assert cli("feedback", "right") == (4, "", f"{ipc.NOT_RUNNING}\n")
