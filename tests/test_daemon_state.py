"""The timers' state file: a damaged one is moved aside as ``state.json.corrupt-<time>``
and reported once, and the daemon starts fresh; ``restore()`` takes only what
``snapshot()`` writes."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from fake_desk import start_app
from fuzzing import (
    FUZZ,
    GOOD_SNAPSHOT,
    ISSUE_STATE,
    JSON_TOKENS,
    examples,
    hostile_json,
    mutated,
    noise,
)
from hypothesis import example, given

from ergobreak.daemon.state import MAX_BYTES, StateFile
from ergobreak.paths import paths
from ergobreak.sim.testing import make_machine

pytestmark = pytest.mark.usefixtures("isolated")

GOOD_FILE = json.dumps({"v": 1, "core": GOOD_SNAPSHOT}).encode()
RESET = "ergobreak: timers reset"


def state_file(data: bytes) -> StateFile:
    path = paths().state_dir / "state.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return StateFile(path)


def aside(state: StateFile) -> list[Path]:
    return sorted(state.path.parent.glob("state.json.corrupt-*"))


def test_a_good_file_gives_the_snapshot_and_a_missing_one_nothing() -> None:
    state = state_file(GOOD_FILE)
    assert state.load() == GOOD_SNAPSHOT
    state.path.unlink()
    assert state.load() is None
    assert state.problem is None
    assert aside(state) == []


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"{not json", "not JSON (Expecting property name"),
        (b'{"v": 1, "core": ' + b"9" * 5000 + b"}", "not JSON (Exceeds the limit (4300 digits)"),
        (b'{"v": 1, "core": 3}', 'no "core" object'),
        (b'{"v": 2, "core": {}}', "not ergobreak state (expected an object with v = 1)"),
        (b"[1, 2]", "not ergobreak state"),
        (b'{"v": 1, "core": {"x": [[[[[]]]]]}}', "nested more than 4 levels deep"),
        (b'{"v": 1, "core": {"routine": "\xff"}}', "not UTF-8 text"),
        (b" " * (MAX_BYTES + 1), "state.json is 64.1 KB; the limit is 64 KB"),
    ],
)
def test_a_damaged_file_is_moved_aside_and_says_why(data: bytes, reason: str) -> None:
    state = state_file(data)
    assert state.load() is None
    assert state.problem is not None
    assert reason in state.problem
    (moved,) = aside(state)
    assert moved.read_bytes() == data
    assert state.problem.endswith(f"; it was moved to {moved.name}")
    assert not state.path.exists()


def test_a_directory_where_the_file_should_be_is_moved_aside_too() -> None:
    state = state_file(b"")
    state.path.unlink()
    state.path.mkdir()
    assert state.load() is None
    assert state.problem is not None
    assert "not a regular file: it is a directory" in state.problem
    assert [p.is_dir() for p in aside(state)] == [True]
    state.save({"v": 1, "core": GOOD_SNAPSHOT})
    assert state.load() == GOOD_SNAPSHOT


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("v", 2, "v: expected 1, got 2"),
        ("saved_wall", None, "saved_wall: expected a number of seconds, got None"),
        ("saved_wall", "yesterday", "saved_wall: expected a number of seconds, got 'yesterday'"),
        ("drill_desk", math.nan, "drill_desk: expected a number of seconds, not negative, got nan"),
        ("drill_desk", math.inf, "drill_desk: expected a number of seconds, not negative, got inf"),
        ("posture_desk", -1.0, "posture_desk: expected a number of seconds, not negative"),
        ("away_for", 10**400, "away_for: expected a number of seconds"),
        ("snoozes", True, "snoozes: expected a whole number, not negative, got True"),
        ("snoozes", 1.5, "snoozes: expected a whole number"),
        ("cue_index", -1, "cue_index: expected a whole number, not negative, got -1"),
        ("drill_index", 1 << 40, "drill_index: expected a whole number"),
        ("routine", {"id": "x"}, "routine: expected a drill id or null, got {'id': 'x'}"),
        ("paused_left", "soon", "paused_left: expected a number of seconds, got 'soon'"),
        ("snooze_desk", [1], "snooze_desk: expected a number of seconds, not negative, got [1]"),
    ],
)
def test_restore_refuses_a_bad_field_and_changes_nothing(
    field: str, value: Any, expected: str
) -> None:
    core = make_machine()
    core.sample(100.0, 1_767_600_000.0, 0.0)
    before = core.view()
    with pytest.raises(ValueError, match="^" + re.escape(expected)):
        core.restore({**GOOD_SNAPSHOT, field: value}, 200.0, 1_767_600_100.0)
    assert core.view() == before


def test_restore_needs_the_time_of_the_save() -> None:
    snap = {k: v for k, v in GOOD_SNAPSHOT.items() if k != "saved_wall"}
    with pytest.raises(ValueError, match="saved_wall: expected the time of the save, got None"):
        make_machine().restore(snap, 0.0, 1_767_600_000.0)


def test_a_good_snapshot_restores_and_a_paused_one_stays_paused() -> None:
    core = make_machine()
    core.restore(dict(GOOD_SNAPSHOT), 10.0, 1_767_600_060.0)
    assert core.view().drill_desk == 900.0
    paused = make_machine()
    paused.restore({**GOOD_SNAPSHOT, "paused_left": "forever"}, 10.0, 1_767_600_060.0)
    assert paused.view().paused


@pytest.mark.parametrize("case", sorted(ISSUE_STATE))
def test_the_issue_cases_start_the_daemon_fresh_and_tell_the_user_once(case: str) -> None:
    state = state_file(ISSUE_STATE[case])
    rig = start_app(state=state)
    (moved,) = aside(state)
    assert moved.read_bytes() == ISSUE_STATE[case]
    assert rig.notifier.titles() == [RESET]
    assert moved.name in rig.notifier.shown[0].body
    assert rig.engine.core.view().drill_desk == 0.0
    rig.work(30 * 60 + 30)  # and it keeps prompting
    assert rig.notifier.titles()[1:3] == ["Posture check", rig.notifier.titles()[2]]
    assert rig.notifier.titles()[2].startswith("2-minute drill: ")
    assert rig.request("status")["ok"] is True
    assert rig.notifier.titles().count(RESET) == 1


def test_saved_timers_carry_over_through_the_app() -> None:
    state = state_file(GOOD_FILE)
    rig = start_app(state=state)
    assert rig.notifier.titles() == []
    assert aside(state) == []
    assert rig.engine.core.view().drill_desk > 0


@FUZZ
@given(data=hostile_json() | mutated(GOOD_FILE, JSON_TOKENS) | noise())
@examples("data", ISSUE_STATE)
@example(data=json.dumps({"v": 1, "core": {**GOOD_SNAPSHOT, "drill_desk": 1800}}).encode())
def test_any_state_file_starts_the_daemon(data: bytes) -> None:
    state = state_file(data)
    rig = start_app(state=state)
    titles = rig.notifier.titles()
    assert (state.problem is not None) == (RESET in titles)
    # Only timers read from a good file can be due at once (a drill_desk of 1800 is);
    # timers started fresh prompt nothing.
    prompts = [t for t in titles if t != RESET]
    assert not prompts or state.problem is None, titles
    assert all(t.startswith(("2-minute drill", "Posture check")) for t in prompts), titles
    rig.work(120)
    assert rig.request("status")["ok"] is True
