"""IT's switches, with a real policy file in the isolated admin folder
(``tmp/etc/ergobreak``): the machine switch (``[enforced.machine] enabled = false``)
for ``ergobreak run``, ``ergobreak autostart``, a user's file and ``config set``; and
the per-feature switches: history, its first-run notice, the call check, floor drills.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from fake_desk import start_app
from scaffold import cli

from ergobreak import app as app_module
from ergobreak.autostart.xdg import FILE_NAME
from ergobreak.cli.common import EXIT_FAILURE, EXIT_LOCKED, EXIT_OK
from ergobreak.config.layers import load
from ergobreak.config.switches import machine_switch, turned_off
from ergobreak.content import library
from ergobreak.history.store import HistoryStore
from ergobreak.tomlfile.wording import short_path

pytestmark = pytest.mark.usefixtures("isolated")

OFF = """\
schema = 1

[meta]
organization = "Example Corp"
contact = "https://it.example.com/ergobreak"

[enforced.machine]
enabled = false
"""
#: the line of ``enabled = false`` in OFF
OFF_LINE = 8


def install_policy(tmp: Path, text: str) -> Path:
    """A real policy file where this machine's policy lives (root-owned when tests run
    as root, 0644, in 0755 folders: what the loader's ownership check accepts)."""
    folder = tmp / "etc" / "ergobreak"
    folder.mkdir(parents=True, exist_ok=True)
    for path in (tmp / "etc", folder):
        path.chmod(0o755)
    policy = folder / "policy.toml"
    policy.write_text(text, encoding="utf-8")
    policy.chmod(0o644)
    return policy


def user_config(tmp: Path, text: str) -> Path:
    path = tmp / "home" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def reason(policy: Path, line: int = OFF_LINE) -> str:
    return f"ergobreak is turned off by your organization (policy: {policy}:{line})"


@pytest.fixture
def xdg(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Scratch XDG autostart folders; returns the system entry's path."""
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(isolated / "etc" / "xdg"))
    monkeypatch.setattr("sys.platform", "linux")
    return isolated / "etc" / "xdg" / "autostart" / FILE_NAME


# ------------------------------------------------------------------ the machine switch


def test_run_exits_at_once_with_one_line_and_exit_0(isolated: Path) -> None:
    policy = install_policy(isolated, OFF)
    code, out, err = cli("run", "--no-tray")
    assert (code, out, err) == (EXIT_OK, "", reason(policy) + "\n")
    # nothing started: no instance lock or socket, no log, no state
    assert not (isolated / "run").exists()
    assert not (isolated / "home" / "xdg_state_home").exists()


def test_run_with_the_switch_on_or_absent_is_not_turned_off(isolated: Path) -> None:
    assert machine_switch() is None  # no policy at all
    install_policy(isolated, OFF.replace("enabled = false", "enabled = true"))
    assert machine_switch() is None
    policy = install_policy(isolated, OFF)
    off = machine_switch()
    assert off is not None
    assert off.where == f"{policy}:{OFF_LINE}"
    assert off.contact == "https://it.example.com/ergobreak"


def test_a_user_file_can_neither_turn_it_off_nor_back_on(isolated: Path) -> None:
    config = user_config(isolated, "schema = 1\n\n[machine]\nenabled = false\n")
    effective = load(config, with_content=False)
    assert turned_off(effective) is None
    (warning,) = [d for d in effective.warnings if d.key == "machine.enabled"]
    assert warning.message == "only IT policy can set this (ignored)"
    assert warning.hint is not None
    assert "ergobreak quit" in warning.hint
    assert "autostart" in warning.hint
    assert cli("run", "--no-tray", "--set", "machine.enabled=false")[0] == 2  # refused

    policy = install_policy(isolated, OFF)
    user_config(isolated, "schema = 1\n\n[machine]\nenabled = true\n")
    code, _, err = cli("run", "--no-tray", "--set", "machine.enabled=true")
    assert (code, err) == (EXIT_OK, reason(policy) + "\n")


def test_config_set_refuses_it_with_its_own_hint(isolated: Path) -> None:
    code, _, err = cli("config", "set", "machine.enabled", "false")
    assert code != EXIT_OK
    assert "only IT policy can set this" in err
    assert "ergobreak quit" in err
    code, _, err = cli("config", "set", "autostart.enabled", "true")
    assert code != EXIT_OK
    assert "ergobreak autostart enable" in err


def test_a_broken_user_file_does_not_hide_the_switch(isolated: Path) -> None:
    policy = install_policy(isolated, OFF)
    user_config(isolated, "[drill\nevery = \n")
    assert cli("run", "--no-tray") == (EXIT_OK, "", reason(policy) + "\n")


def test_config_check_accepts_the_switch_and_show_names_its_line(isolated: Path) -> None:
    policy = install_policy(isolated, OFF)
    assert cli("config", "check", "--policy", str(policy)) == (EXIT_OK, f"{policy}: OK\n", "")
    user_config(isolated, "")  # $ERGOBREAK_CONFIG names it: it must exist
    code, out, _ = cli("config", "show", "--origin")
    assert code == EXIT_OK
    lines = out.splitlines()
    line = lines[lines.index("[machine]") + 1]
    assert line.startswith("enabled = false ")
    assert f"{policy}:{OFF_LINE}" in line


def test_autostart_status_reports_disabled_by_policy_for_user_and_system(xdg: Path) -> None:
    auto = partial(cli, "autostart")
    assert auto("enable")[0] == EXIT_OK
    assert auto("enable", "--system")[0] == EXIT_OK
    assert auto("status")[0] == EXIT_OK  # control: without the switch it starts
    assert auto("status", "--system")[0] == EXIT_OK

    policy = install_policy(xdg.parents[3], OFF)
    for extra in ((), ("--system",)):
        code, out, _ = auto("status", *extra)
        assert code == EXIT_FAILURE, extra
        lines = out.splitlines()
        assert lines[0] == f"Starts at login for this user: no, disabled by policy ({policy}:8)"
        assert str(xdg) in out  # the entries are still listed, as they are
        assert f"Policy: {reason(policy)}" in out
        assert "  contact: https://it.example.com/ergobreak" in lines
    code, out, _ = auto("status", "--json")
    report = json.loads(out)
    assert code == EXIT_FAILURE
    assert (report["enabled"], report["system"]) == (False, False)
    assert report["disabled_by_policy"] == {
        "where": f"{policy}:{OFF_LINE}",
        "contact": "https://it.example.com/ergobreak",
    }


def test_autostart_enable_under_the_switch_writes_the_entry_and_says_so(xdg: Path) -> None:
    policy = install_policy(xdg.parents[3], OFF)
    code, out, _ = cli("autostart", "enable", "--system")
    assert code == EXIT_OK  # IT may stage the entry before switching ergobreak on
    assert xdg.is_file()
    assert f"note: {reason(policy)}: at login it exits at once" in out.splitlines()
    report = json.loads(cli("autostart", "enable", "--system", "--json")[1])
    assert report["changed"] is False
    assert report["notes"][-1] == f"{reason(policy)}: at login it exits at once"
    assert json.loads(cli("autostart", "status", "--json")[1])["disabled_by_policy"]


def test_the_autostart_lock_still_applies_beside_the_switch(xdg: Path) -> None:
    install_policy(xdg.parents[3], OFF + "\n[enforced.autostart]\nenabled = true\n")
    assert cli("autostart", "disable")[0] == EXIT_LOCKED


def test_autostart_kept_off_by_policy_but_still_on_says_so(xdg: Path) -> None:
    assert cli("autostart", "enable", "--system")[0] == EXIT_OK
    policy = install_policy(xdg.parents[3], "schema = 1\n\n[enforced.autostart]\nenabled = false\n")
    code, out, _ = cli("autostart", "status", "--system")
    assert code == EXIT_OK  # the entry is there and starts it: said as it is
    note = next(line for line in out.splitlines() if line.startswith("note: policy"))
    assert note.startswith(f"note: policy ({policy}:4) keeps autostart off, but xdg still starts")
    assert "[enforced.machine] enabled = false" in note


# ------------------------------------------------------------------ feature switches


HISTORY_OFF = """\
schema = 1

[enforced.history]
enabled = false
first_run_notice = false
"""


def test_history_off_by_policy_stats_say_why(isolated: Path) -> None:
    policy = install_policy(isolated, HISTORY_OFF)
    user_config(isolated, "schema = 1\n[history]\nenabled = true\nfirst_run_notice = true\n")
    db = isolated / "history.db"
    code, _, err = cli("stats", "--db", str(db))
    assert code == EXIT_OK
    assert err == (
        "ergobreak stats: history is off, nothing new is recorded (history.enabled = false,"
        f" set by your organization's policy at {policy}:4)\n"
    )  # and no first-run notice: the policy switched it off too
    with HistoryStore.open(db) as store:
        assert store.claim_notice("cli")  # not claimed: never shown


def test_history_off_in_the_users_own_file_is_named_too(isolated: Path) -> None:
    config = user_config(isolated, "schema = 1\n\n[history]\nenabled = false\n")
    code, _, err = cli("stats", "--db", str(isolated / "history.db"))
    assert code == EXIT_OK
    lines = err.splitlines()
    assert lines[0] == (
        "ergobreak stats: history is off, nothing new is recorded (history.enabled = false,"
        f" set in {config}:4)"
    )
    assert len(lines) > 1  # the first-run notice is still the user's to see


def test_history_on_prints_the_first_run_notice_once(isolated: Path) -> None:
    db = isolated / "history.db"
    first = cli("stats", "--db", str(db))[2]
    assert first.startswith("ergobreak keeps a history of your breaks")
    assert cli("stats", "--db", str(db))[2] == ""


def test_the_call_check_and_notice_are_lockable_keys(isolated: Path) -> None:
    policy = install_policy(isolated, "schema = 1\n\n[enforced.quiet]\ncalls = false\n")
    user_config(isolated, "schema = 1\n\n[quiet]\ncalls = true\n")
    effective = load(isolated / "home" / "config.toml", with_content=False)
    assert effective.values["quiet.calls"] is False
    assert effective.locked["quiet.calls"].where() == f"{policy}:4"
    assert [i.key for i in effective.ignored] == ["quiet.calls"]
    code, _, err = cli("config", "set", "quiet.calls", "true")
    assert code == EXIT_LOCKED
    assert f"{policy}:4" in err


FLOOR = [d.id for d in library.builtin_library().drills if "floor" in d.tags]


def test_floor_drills_off_by_policy_leave_the_rotation_even_if_the_user_wants_them(
    isolated: Path,
) -> None:
    assert FLOOR, "the shipped library has floor drills"
    user_config(isolated, "schema = 1\n\n[routines]\nfloor = true\n")
    mine = load(isolated / "home" / "config.toml")
    assert mine.content is not None
    assert set(FLOOR) & {d.id for d in mine.content.drills}  # control: the user gets them
    install_policy(isolated, "schema = 1\n\n[enforced.routines]\nfloor = false\n")
    managed = load(isolated / "home" / "config.toml")
    assert managed.content is not None
    rotation = {d.id for d in managed.content.drills}
    assert rotation
    assert not set(FLOOR) & rotation
    assert managed.filters.floor is False


def test_floor_drills_listed_by_name_are_still_left_out_under_the_policy(isolated: Path) -> None:
    ids = ", ".join(f'"{d}"' for d in [*FLOOR, "hinge_wall"])
    config = user_config(isolated, f"schema = 1\n\n[routines]\nfloor = true\nonly = [{ids}]\n")
    install_policy(isolated, "schema = 1\n\n[enforced.routines]\nfloor = false\n")
    effective = load(config)
    assert effective.content is not None
    assert [d.id for d in effective.content.drills] == ["hinge_wall"]
    code, out, _ = cli("routines", "list")
    assert code == EXIT_OK
    table = [line for line in out.splitlines() if line[:1].isdigit() or line[:1] == "-"]
    rows = {line.split()[1]: line for line in table}
    assert [i for i in rows if not rows[i].startswith("-")] == ["hinge_wall"]
    for drill_id in FLOOR:
        assert f"  {drill_id}" in out.split("Left out:", 1)[1]


def test_the_daemons_first_run_notice_stays_in_its_log_when_switched_off(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hooks: dict[str, Callable[[str, str], None]] = {}

    class Recorder:
        """Stands in for the history thread: only the message hook is under test."""

        def __init__(self, **kwargs: Any) -> None:
            hooks["on_message"] = kwargs["on_message"]

    monkeypatch.setattr("ergobreak.history.recorder.HistoryRecorder", Recorder)
    for policy, shown in (
        ("schema = 1\n", ["ergobreak history", "ergobreak history"]),
        ("schema = 1\n[enforced.history]\nfirst_run_notice = false\n", ["ergobreak history"]),
    ):
        install_policy(isolated, policy)
        rig = start_app()
        before = len(rig.notifier.shown)
        assert rig.app.effective is not None
        app_module._open_history(rig.app, rig.app.effective)
        hooks["on_message"]("first_run", "ergobreak keeps a history of your breaks")
        hooks["on_message"]("recovered", "the damaged history store was moved aside")
        assert rig.notifier.titles()[before:] == shown, policy
        rig.engine.stop()


def test_run_with_a_config_that_is_not_there_says_so(isolated: Path) -> None:
    missing = isolated / "nope.toml"
    code, out, err = cli("run", "--no-tray", "--config", str(missing))
    assert (code, out) == (2, "")
    assert err.startswith("ergobreak run: --config names ")
    assert err.endswith(
        ", which does not exist (to start one: ergobreak config init"
        f" --config {short_path(missing)})\n"
    )
    assert err.count("\n") == 1
