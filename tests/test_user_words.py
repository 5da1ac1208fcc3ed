"""Words a person reads, checked across the package: nothing sends an installed user
to a source checkout's ``docs/``, no raw state or source name reaches the tray or
``status``, refusals never say "Cannot ... now", and the tray and ``status`` say the
same thing for every state the core reaches."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path
from typing import Any, get_args

import pytest
from tray_views import VIEWS, WALL

import ergobreak
from ergobreak import present
from ergobreak.cli.control import done_text, status_text
from ergobreak.commands import Request
from ergobreak.config.template import render
from ergobreak.core import effects as fx
from ergobreak.core.machine import View
from ergobreak.daemon.clock import FakeClock
from ergobreak.daemon.engine import Engine
from ergobreak.sim.testing import make_machine
from ergobreak.tray.model import (
    QUIET_WORDS,
    TrayState,
    details,
    headline,
    menu_model,
    state_from_status,
    tooltip,
)

PACKAGE = Path(ergobreak.__file__).parent
#: an identifier with an underscore (``off_hours``, ``natural_break``, ``windows_busy``)
RAW_NAME = re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b")


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string nodes that are docstrings (read by developers, not users)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def user_strings() -> list[tuple[str, str]]:
    """(module, text) of every string literal in the package's code that is not a
    docstring: what the program can print, show or write for a person."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _docstrings(tree)
        for node in ast.walk(tree):
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and id(node) not in skip:
                found.append((str(path.relative_to(PACKAGE)), text))
    return found


def test_the_scan_sees_the_strings_it_checks() -> None:
    texts = [t for _, t in user_strings()]
    assert "Posture check" in texts  # a notification title
    assert any("ergobreak safety" in t for t in texts)


def test_no_user_facing_text_points_at_docs_of_a_source_checkout() -> None:
    pointing = [(m, t) for m, t in user_strings() if "docs/" in t]
    assert pointing == []
    assert "docs/" not in render(active=False)  # the config file a user gets


def every_state() -> list[TrayState]:
    """Every View the tray test helpers reach, plus quiet, off-hours and seated ones."""
    base = VIEWS["working"]
    extra = [
        dataclasses.replace(base, state="off_hours", hours_change_in=3600.0),
        dataclasses.replace(base, state="quiet", quiet=("fullscreen", "dnd")),
        dataclasses.replace(base, state="quiet", quiet=("windows_busy",)),
        dataclasses.replace(base, state="quiet", quiet=("call",), seated=("call",)),
        dataclasses.replace(base, seated=("watching",)),
        dataclasses.replace(base, state="starting"),
    ]
    views = [*VIEWS.values(), *extra]
    return [TrayState(view=v, wall=WALL, hours=((540, 1050),), snooze=20.0) for v in views]


@pytest.mark.parametrize("state", every_state(), ids=lambda s: s.view.state)
def test_no_raw_name_reaches_the_tray_or_status(state: TrayState) -> None:
    title, body = tooltip(state)
    menu = [e.label for e in menu_model(state)]
    status = status_text(_status_of(state))
    shown = "\n".join([title, body, *menu, *status.splitlines()[:3]])
    assert not RAW_NAME.search(shown), shown
    assert not re.search(r"\bin 0 (s|min)\b|\b0:00 left", shown), shown


def _status_of(state: TrayState) -> dict[str, Any]:
    """The status reply the engine would send for ``state`` (the View's fields by name)."""
    view = {f.name: getattr(state.view, f.name) for f in dataclasses.fields(View)}
    return {"version": "1", "wall": state.wall, "hours": state.hours, **view}


@pytest.mark.parametrize("state", every_state(), ids=lambda s: s.view.state)
def test_status_says_the_tray_headline_and_details(state: TrayState) -> None:
    lines = status_text(_status_of(state)).splitlines()
    rebuilt = state_from_status(_status_of(state), state.tz)
    assert lines[0] == f"ergobreak 1: {headline(rebuilt)}"
    assert headline(rebuilt) == headline(dataclasses.replace(state, snooze=None))
    assert lines[1 : 1 + len(details(state))] == [f"  {d}" for d in details(state)]


def test_calls_and_watching_are_said_in_words() -> None:
    by_state = {(s.view.state, s.view.seated): s for s in every_state()}
    call = by_state[("quiet", ("call",))]
    assert headline(call) == "In a call: prompts wait until it ends"
    watching = by_state[("working", ("watching",))]
    assert "Watching: desk time counts" in tooltip(watching)[1].splitlines()
    assert "  Watching: desk time counts" in status_text(_status_of(watching)).splitlines()
    [busy] = [s for s in every_state() if s.view.quiet == ("windows_busy",)]
    assert QUIET_WORDS["windows_busy"] in headline(busy)


def test_the_engine_status_round_trips_to_the_tray_words_at_every_wake_up() -> None:
    clock = FakeClock(wall=WALL)
    views: list[tuple[float, View]] = []
    engine = Engine(make_machine(), clock, on_step=lambda t, w, e, v: views.append((w, v)))
    engine.step()
    seen = set()
    for i in range(240):  # 2 h in half-minute wake-ups: prompts, snoozes, drills
        clock.advance(30)
        engine.step()
        wall, view = views[-1]
        tray = headline(TrayState(view=view, wall=wall))
        assert (
            status_text(engine.status).splitlines()[0]
            == f"ergobreak {engine.status['version']}: {tray}"
        )
        seen.add(view.state)
        if view.state == "prompt" and i % 3 == 0:
            engine.post(Request("start"))
    assert {"working", "prompt", "drill"} <= seen


@pytest.mark.parametrize("command", get_args(fx.CommandName))
def test_refusals_name_the_situation_not_the_command(command: fx.CommandName) -> None:
    note = present.rejected(fx.Rejected(command, "why and what to do"))
    assert not note.title.startswith("Cannot")
    assert command not in note.title.lower().split()[:1]
    assert note.body == "why and what to do"


def test_a_reply_with_wrong_types_is_still_printed_in_one_piece() -> None:
    odd = {"version": "9", "state": "paused", "paused_for": "soon", "wall": "now"}
    assert status_text(odd).splitlines()[0] == "ergobreak 9: in a state this command cannot read"
    assert done_text("pause", {"ok": True, "status": odd}) == "Done."
