"""``ergobreak autostart`` end to end on scratch XDG directories: exit codes, the
policy lock (exit 3), method switching, and the command an entry runs."""

from __future__ import annotations

import json
import os
from functools import partial
from pathlib import Path

import pytest
from scaffold import cli as run_cli

from ergobreak.autostart import policy
from ergobreak.autostart.base import default_argv
from ergobreak.autostart.policy import PolicyLock, lock_of
from ergobreak.autostart.xdg import FILE_NAME, is_on, parse
from ergobreak.cli.common import EXIT_FAILURE, EXIT_LOCKED, EXIT_OK, EXIT_USAGE

LOCK_ON = PolicyLock(True, "/etc/ergobreak/policy.toml:12", "https://it.example.com/ergobreak")


class Dirs:
    def __init__(self, tmp_path: Path) -> None:
        self.home = tmp_path / "home"
        self.system = tmp_path / "etc" / "xdg"
        self.user_file = self.home / "autostart" / FILE_NAME
        self.system_file = self.system / "autostart" / FILE_NAME
        self.unit = self.home / "systemd" / "user" / "ergobreak.service"


@pytest.fixture
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Dirs:
    d = Dirs(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(d.home))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(d.system))
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setattr(policy, "read_lock", lambda: None)
    monkeypatch.setattr(policy, "read_switch", lambda: None)
    return d


cli = partial(run_cli, "autostart")


def test_status_exit_codes(dirs: Dirs) -> None:
    assert cli("status")[0] == EXIT_FAILURE
    assert cli("enable")[0] == EXIT_OK
    code, out, _ = cli("status")
    assert code == EXIT_OK
    assert "Starts at login for this user: yes (xdg)" in out
    assert cli("status", "--system")[0] == EXIT_FAILURE
    assert cli("enable", "--system")[0] == EXIT_OK
    assert cli("status", "--system")[0] == EXIT_OK


def test_status_json_for_scripts(dirs: Dirs) -> None:
    cli("enable", "--system")
    cli("disable")
    code, out, _ = cli("status", "--json")
    report = json.loads(out)
    assert code == EXIT_FAILURE
    assert report["enabled"] is False
    assert report["system"] is True
    assert report["policy"] is None
    xdg = report["methods"][0]
    assert xdg["method"] == "xdg"
    kinds = [(f["scope"], f["kind"], f["enabled"]) for f in xdg["found"]]
    assert kinds == [("system", "entry", True), ("user", "override", False)]
    assert report["command"][-2:] == ["run", "--autostart"]


def test_enable_json_says_what_changed(dirs: Dirs) -> None:
    first = json.loads(cli("enable", "--json")[1])
    assert first["changed"] is True
    assert first["actions"] == [f"wrote {dirs.user_file}"]
    second = json.loads(cli("enable", "--json")[1])
    assert second["changed"] is False


def test_policy_lock_refuses_disable_with_exit_3(
    dirs: Dirs, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli("enable", "--system")
    before = dirs.system_file.read_bytes()
    monkeypatch.setattr(policy, "read_lock", lambda: LOCK_ON)
    for args in (("disable",), ("disable", "--system"), ("disable", "--method", "systemd")):
        code, _, err = cli(*args)
        assert code == EXIT_LOCKED
        assert "/etc/ergobreak/policy.toml:12" in err
        assert "it.example.com" in err
    assert not dirs.user_file.exists()
    assert dirs.system_file.read_bytes() == before
    assert cli("enable")[0] == EXIT_OK  # agrees with the policy


def test_policy_lock_off_refuses_enable(dirs: Dirs, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(policy, "read_lock", lambda: PolicyLock(False, "p.toml:3"))
    code, _, err = cli("enable")
    assert code == EXIT_LOCKED
    assert "keeps autostart off (p.toml:3)" in err
    assert not dirs.user_file.exists()


def test_a_users_override_under_policy_is_reported_not_deleted(
    dirs: Dirs, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli("enable", "--system")
    cli("disable")  # before IT locked it
    override = dirs.user_file.read_bytes()
    monkeypatch.setattr(policy, "read_lock", lambda: LOCK_ON)
    code, out, _ = cli("status")
    assert code == EXIT_FAILURE
    assert "Policy: autostart kept on by /etc/ergobreak/policy.toml:12" in out
    assert "reported, not changed" in out
    assert str(dirs.user_file) in out
    report = json.loads(cli("status", "--json")[1])
    assert report["policy"]["where"] == "/etc/ergobreak/policy.toml:12"
    # IT re-deploying the system entry leaves it in place too
    code, out, _ = cli("enable", "--system")
    assert code == EXIT_OK
    assert "left in place" in out
    assert dirs.user_file.read_bytes() == override


def test_a_real_policy_file_locks_autostart(tmp_path: Path) -> None:
    from ergobreak.config.layers import load

    draft = tmp_path / "policy.toml"
    draft.write_text("schema = 1\n\n[enforced.autostart]\nenabled = true\n", encoding="utf-8")
    lock = lock_of(load(None, policy_files=[draft], with_content=False))
    assert lock == PolicyLock(True, f"{draft}:4", None)


def test_switching_method_leaves_one_entry(dirs: Dirs, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ergobreak.autostart.systemd._reload_user_manager", lambda: None)
    cli("enable", "--system")
    code, out, _ = cli("enable", "--method", "systemd")
    assert code == EXIT_OK
    assert f"wrote {dirs.unit}" in out
    assert not is_on(parse(dirs.user_file.read_text(encoding="utf-8")))  # XDG off for me
    report = json.loads(cli("status", "--json")[1])
    assert [m["enabled"] for m in report["methods"]] == [False, True]
    code, out, _ = cli("enable")  # back to XDG
    assert code == EXIT_OK
    assert not dirs.unit.exists()
    assert not dirs.user_file.exists()
    report = json.loads(cli("status", "--json")[1])
    assert [m["enabled"] for m in report["methods"]] == [True, False]


def test_disable_without_method_switches_every_method_off(
    dirs: Dirs, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ergobreak.autostart.systemd._reload_user_manager", lambda: None)
    cli("enable", "--method", "systemd")
    cli("enable", "--system")
    assert cli("disable")[0] == EXIT_OK
    assert not dirs.unit.exists()
    assert cli("status")[0] == EXIT_FAILURE


def test_system_disable_removes_the_machine_entry(dirs: Dirs) -> None:
    cli("enable", "--system")
    code, out, _ = cli("disable", "--system")
    assert code == EXIT_OK
    assert out == f"removed {dirs.system_file}\n"
    assert cli("status", "--system")[0] == EXIT_FAILURE
    assert cli("disable", "--system")[0] == EXIT_OK  # idempotent


def test_usage_errors(dirs: Dirs) -> None:
    assert cli("enable", "--method", "registry")[0] == EXIT_USAGE
    code, _, err = cli("enable", "--system", "--method", "systemd")
    assert code == EXIT_USAGE
    assert "per user" in err
    assert cli("frobnicate")[0] == EXIT_USAGE
    assert cli()[0] == EXIT_USAGE


def test_a_write_that_fails_exits_1(dirs: Dirs) -> None:
    dirs.system.mkdir(parents=True)
    (dirs.system / "autostart").write_text("not a directory", encoding="utf-8")
    code, _, err = cli("enable", "--system")
    assert code == EXIT_FAILURE
    assert "ergobreak autostart enable" in err


def test_default_command_is_the_running_script_unresolved(tmp_path: Path) -> None:
    venv_bin = tmp_path / "opt" / "pipx" / "venvs" / "ergobreak" / "bin"
    venv_bin.mkdir(parents=True)
    script = venv_bin / "ergobreak"
    script.write_text("#!/bin/sh\n", encoding="utf-8")
    script.chmod(0o755)
    link = tmp_path / "usr" / "local" / "bin" / "ergobreak"
    link.parent.mkdir(parents=True)
    link.symlink_to(script)
    python = str(venv_bin / "python")
    # the stable link IT's PATH has, not the venv behind it
    assert default_argv(str(link), python, "linux") == (str(link), "run", "--autostart")
    # `python -m ergobreak`: the script beside the interpreter
    main_py = str(tmp_path / "ergobreak" / "__main__.py")
    assert default_argv(main_py, python, "linux") == (str(script), "run", "--autostart")
    # no script at all: the interpreter itself
    bare = str(tmp_path / "python3")
    assert default_argv(main_py, bare, "linux") == (bare, "-m", "ergobreak", "run", "--autostart")
    assert os.path.isabs(default_argv()[0])
