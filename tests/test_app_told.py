"""What the running app tells about its settings (issue 17): each warning once (a
bubble, ``status``, the log), a broken or unsafe policy that never unlocks what the
last good one enforced (also across restarts), and the user's values that the policy
locks or clamps. The real App, Engine and core on a fake clock (tests/fake_desk.py),
with real policy files in the isolated admin folder, checked for ownership as the
daemon checks them (root owns them here, as on a managed machine)."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import pytest
from fake_desk import ALWAYS_ON_CONFIG, AppRig, start_app
from scaffold import cli, require_root

from ergobreak import paths as paths_module
from ergobreak.cli.control import status_text
from ergobreak.daemon.last_policy import NAME as LAST_POLICY
from ergobreak.paths import paths

pytestmark = pytest.mark.usefixtures("isolated")

TYPOS = ALWAYS_ON_CONFIG + '\n[drill]\nevrey = "20m"\n\n[postrue]\nevery = "5m"\n'
WARNED = "ergobreak: check your settings"
POLICY_TOLD = "ergobreak: organization settings"
KEPT = "Your organization's settings could not be read; the previous ones stay in force."
POLICY = (
    'schema = 1\n[meta]\norganization = "Example Corp"\n'
    '[enforced.drill]\nevery = "1h"\n[limits.posture]\nevery = { max = "40m" }\n'
)


@pytest.fixture(autouse=True)
def _root() -> None:
    require_root("policy files the daemon trusts (owned by root)")


def install_policy(text: str, name: str = "policy.toml") -> Path:
    where = paths()
    path = where.policy_file if name == "policy.toml" else where.policy_d / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o644)
    return path


def told(rig: AppRig, title: str) -> list[str]:
    return [n.body for n in rig.notifier.shown if n.title == title]


def status(rig: AppRig) -> dict[str, Any]:
    value: dict[str, Any] = rig.request("status")["status"]
    return value


# ---------------------------------------------------------------- warnings (item 1)


def test_a_typo_at_start_is_told_once_in_a_bubble_in_status_and_in_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="ergobreak"):
        rig = start_app(TYPOS)
    (body,) = told(rig, WARNED)
    assert body.splitlines()[0] == (
        "config.toml:7: drill.evrey: unknown key (ignored) — did you mean drill.every?"
    )
    warnings = status(rig)["warnings"]
    assert [(w["file"], w["line"], w["key"]) for w in warnings] == [
        (str(rig.config_file), 7, "drill.evrey"),
        (str(rig.config_file), 9, "postrue"),
    ]
    logged = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("drill.evrey" in r.getMessage() for r in logged)


def test_the_bubble_names_file_line_and_fix_and_counts_the_rest() -> None:
    rig = start_app(TYPOS + "\n[quiet]\nenabeld = true\n")
    (body,) = told(rig, WARNED)
    assert body.splitlines() == [
        "config.toml:7: drill.evrey: unknown key (ignored) — did you mean drill.every?",
        "config.toml:9: postrue: unknown table (ignored) — did you mean [posture]?",
        "and 1 more: ergobreak config check",
    ]
    assert len(status(rig)["warnings"]) == 3


def test_a_warning_is_not_told_again_until_its_file_changes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rig = start_app(TYPOS)
    assert len(told(rig, WARNED)) == 1
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ergobreak"):
        assert rig.request("reload")["ok"] is True  # an unrelated reload: the same file
        install_policy(POLICY)  # and one the policy caused
        assert rig.request("reload")["ok"] is True
    assert len(told(rig, WARNED)) == 1
    assert not [r for r in caplog.records if "drill.evrey" in r.getMessage()]
    assert len(status(rig)["warnings"]) == 2
    rig.write_config(TYPOS + "\n[quiet]\nenabeld = true\n")  # the file changed
    assert rig.request("reload")["ok"] is True
    assert len(told(rig, WARNED)) == 2  # all three again: the file is not what it was
    assert told(rig, WARNED)[-1].endswith("\nand 1 more: ergobreak config check")


def test_a_reload_that_introduces_a_warning_tells_it_once() -> None:
    rig = start_app()
    assert told(rig, WARNED) == []
    assert status(rig)["warnings"] == []
    rig.write_config(TYPOS)
    reply = rig.request("reload")
    assert reply["warnings"] == [
        f"{rig.config_file}:7:1: warning: drill.evrey: unknown key (ignored)",
        f"{rig.config_file}:9:1: warning: postrue: unknown table (ignored)",
    ]
    assert rig.request("reload")["warnings"] == reply["warnings"]  # said, not told again
    (body,) = told(rig, WARNED)
    assert "did you mean drill.every?" in body
    assert "evrey" in status_text(status(rig))


# -------------------------------------------------------------- fail-closed (item 2)


def break_policy(path: Path, how: str) -> None:
    if how == "not TOML":
        path.write_text(POLICY.replace('every = "1h"', 'every = "1h'), encoding="utf-8")
    elif how == "mode 666":
        path.chmod(0o666)
    elif how == "owned by a user":
        os.chown(path, 1000, 1000)
    elif how == "not UTF-8":
        path.write_bytes(POLICY.encode().replace(b"Example", b"Ex\xffample"))
    elif how == "a pipe":
        path.unlink()
        os.mkfifo(path, 0o644)
    else:
        raise AssertionError(how)


BREAKS = ["not TOML", "mode 666", "owned by a user", "not UTF-8", "a pipe"]


@pytest.mark.parametrize("how", BREAKS)
def test_a_broken_policy_keeps_the_last_good_one_in_force(
    how: str, caplog: pytest.LogCaptureFixture
) -> None:
    policy = install_policy(POLICY)
    rig = start_app(ALWAYS_ON_CONFIG + '\n[drill]\nevery = "20m"\n')
    assert rig.engine.core.settings.drill.every == 3600  # enforced over the user's 20m
    assert (status(rig)["policy_current"], status(rig)["policy_errors"]) == (True, [])
    break_policy(policy, how)
    with caplog.at_level(logging.ERROR, logger="ergobreak"):
        assert rig.request("reload")["ok"] is True
        assert rig.request("reload")["policy_current"] is False
    assert rig.engine.core.settings.drill.every == 3600  # still locked
    now = status(rig)
    assert now["policy_current"] is False
    errors = now["policy_errors"]
    assert errors
    assert all(e["file"] == str(policy) for e in errors)
    assert now["organization"] == "Example Corp"
    (body,) = told(rig, POLICY_TOLD)  # once, for two reloads
    assert body.startswith(KEPT)
    assert not any(n.body.startswith("Settings updated") for n in rig.notifier.shown)
    assert [r for r in caplog.records if r.levelno == logging.ERROR]
    assert f"  policy error: {policy}" in status_text(now)


def test_a_restart_with_a_broken_policy_keeps_the_last_good_one() -> None:
    policy = install_policy(POLICY)
    start_app(ALWAYS_ON_CONFIG + '\n[posture]\nevery = "2h"\n')
    saved = paths().state_dir / LAST_POLICY
    assert saved.stat().st_mode & 0o777 == 0o600
    break_policy(policy, "not TOML")
    rig = start_app(None)  # a new daemon, the same files
    assert rig.engine.core.settings.drill.every == 3600
    assert rig.engine.core.settings.posture.every == 40 * 60  # the kept limit clamps
    assert status(rig)["policy_current"] is False
    assert told(rig, POLICY_TOLD)[0].startswith(KEPT)
    # Fixed: the files on disk are in force again, and become the last good policy.
    install_policy(POLICY.replace('"1h"', '"45m"'))
    assert rig.request("reload")["changes"] == "drills every 45 min"
    assert (status(rig)["policy_current"], status(rig)["policy_errors"]) == (True, [])
    assert '\\"45m\\"' in saved.read_text(encoding="utf-8")


def test_a_damaged_copy_of_the_last_good_policy_is_not_used() -> None:
    policy = install_policy(POLICY)
    saved = paths().state_dir / LAST_POLICY
    saved.parent.mkdir(parents=True)
    saved.write_text(json.dumps({"v": 1, "files": [{"path": 3}]}), encoding="utf-8")
    break_policy(policy, "not TOML")
    rig = start_app(None)
    assert rig.engine.core.settings.drill.every == 30 * 60  # nothing good to keep
    assert status(rig)["policy_current"] is False
    (body,) = told(rig, POLICY_TOLD)
    assert body.startswith("Some of your organization's settings could not be read")


def test_one_bad_entry_in_a_policy_d_file_shows_in_status() -> None:
    install_policy(POLICY)
    rig = start_app()
    extra = install_policy('schema = 1\n[enforced.posture]\nevery = "soon"\n', "50-posture.toml")
    rig.request("reload")
    now = status(rig)
    assert now["policy_current"] is False
    (error,) = now["policy_errors"]
    assert (error["file"], error["line"], error["key"]) == (str(extra), 3, "enforced.posture.every")
    assert rig.engine.core.settings.drill.every == 3600
    assert len(told(rig, POLICY_TOLD)) == 1


def test_doctor_shows_the_policy_errors_and_what_stays_in_force() -> None:
    policy = install_policy(POLICY)
    start_app()
    break_policy(policy, "mode 666")
    code, out, _err = cli("doctor")
    assert code in (0, 1)
    lines = out.splitlines()
    (refused,) = [ln for ln in lines if ln.startswith("error    policy")]
    assert f"{policy}: error: policy file refused:" in refused
    assert "writable by group or others" in refused
    saved = paths().state_dir / LAST_POLICY
    assert any(f"the last good policy ({saved}) stays in force" in ln for ln in lines)
    code, out, _err = cli("doctor", "--json")
    config = json.loads(out)["config"]
    assert config["policy_current"] is False
    assert config["policy_errors"] == [refused.split(None, 2)[2]]


# ------------------------------------------------------ locked and clamped (item 5)


def test_a_hand_edit_of_a_locked_key_is_told_once_on_reload() -> None:
    install_policy(POLICY)
    rig = start_app()
    rig.write_config(ALWAYS_ON_CONFIG + '\n[drill]\nevery = "20m"\n')
    rig.request("reload")
    rig.request("reload")
    (body,) = told(rig, WARNED)
    assert body == ("config.toml:7: drill.every is set by your organization; your value is ignored")
    assert rig.engine.core.settings.drill.every == 3600


def test_a_clamped_value_says_by_whom_and_to_what() -> None:
    install_policy(POLICY.replace('"40m"', '"1h"'))
    rig = start_app()
    rig.write_config(ALWAYS_ON_CONFIG + '\n[posture]\nevery = "3h"\n')
    rig.request("reload")
    (body,) = told(rig, WARNED)
    assert body == "config.toml:7: posture.every = 3h is limited to 1 h by your organization"
    assert rig.engine.core.settings.posture.every == 3600
    words = [w["message"] for w in status(rig)["warnings"]]
    assert words == ["posture.every = 3h is limited to 1 h by your organization"]


def test_config_show_starts_with_who_manages_the_settings() -> None:
    install_policy(POLICY)
    # $ERGOBREAK_CONFIG names the file: it must exist (one that names nothing is an error)
    config = Path(os.environ[paths_module.CONFIG_ENV])
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("", encoding="utf-8")
    code, out, err = cli("config", "show")
    assert code == 0, err
    assert out.splitlines()[0] == "# Managed by Example Corp"
    install_policy(POLICY.replace('organization = "Example Corp"', 'contact = "it@example.com"'))
    assert cli("config", "show")[1].splitlines()[0] == "# Managed by your organization"


def test_a_first_policy_with_a_bad_entry_applies_what_can_be_read() -> None:
    rig = start_app()  # no policy yet: the last good policy is none at all
    install_policy(POLICY + '[enforced.posture]\nevery = "soon"\n')
    rig.request("reload")
    assert rig.engine.core.settings.drill.every == 3600  # the good entries apply
    now = status(rig)
    assert now["policy_current"] is False
    assert [e["key"] for e in now["policy_errors"]] == ["enforced.posture.every"]
    (body,) = told(rig, POLICY_TOLD)
    assert body.startswith("Some of your organization's settings could not be read; the rest")


def test_a_file_of_thousands_of_typos_is_told_in_one_bubble_and_counted_in_status() -> None:
    rig = start_app(ALWAYS_ON_CONFIG + "[drill]\n" + "".join(f"k{i} = 1\n" for i in range(5000)))
    (body,) = told(rig, WARNED)
    assert body.splitlines()[-1] == "and 4998 more: ergobreak config check"
    now = status(rig)
    assert (len(now["warnings"]), now["warnings_total"]) == (20, 5000)
    assert "(and 4999 more: ergobreak config check)" in status_text(now)
    assert len(rig.request("reload")["warnings"]) == 20


def test_a_policy_that_turns_ergobreak_off_while_it_runs_stops_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The machine switch at a reload: the daemon stops, as it would not have started."""
    rig = start_app()
    install_policy("schema = 1\n\n[enforced.machine]\nenabled = false\n")
    with caplog.at_level(logging.WARNING, "ergobreak"):
        rig.request("reload")
        assert not rig.engine.stopping  # the quit comes next, as from `ergobreak quit`
        rig.engine.step()
    assert rig.engine.stopping
    assert any(
        "ergobreak is turned off by your organization (policy: " in r.getMessage()
        for r in caplog.records
    )
