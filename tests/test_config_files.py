"""Settings files as people keep them: symbolic links (dotfile managers), paths named
on purpose that are not there, things that are not files at all, an editor that
fails; and ``config check --strict``.

Each command runs as ``python -m ergobreak`` in a child process when a hang is the
failure being tested (a FIFO): the child's timeout is the deadline.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from scaffold import cli, isolate

from ergobreak.config import layers, loader
from ergobreak.paths import CONFIG_ENV

#: how long a refused FIFO may take to answer (it is refused before it is opened)
DEADLINE = 20.0


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate(tmp_path, monkeypatch)


def child(*argv: str, env: dict[str, str] | None = None) -> tuple[int, str, str, float]:
    """``ergobreak ARGV`` in a child process, with :data:`DEADLINE` as its timeout."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "ergobreak", *argv],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=False,
        env={**os.environ, **(env or {}), "EDITOR": "true", "VISUAL": ""},
        stdin=subprocess.DEVNULL,
    )
    return done.returncode, done.stdout, done.stderr, time.monotonic() - started


# ----------------------------------------------------------- not regular files


@pytest.mark.parametrize(
    "argv",
    [
        ("config", "check", "{fifo}"),
        ("config", "check", "--policy", "{fifo}"),
        ("config", "show", "--config", "{fifo}"),
        ("config", "set", "--config", "{fifo}", "drill.every", "40m"),
        ("config", "edit", "--config", "{fifo}"),
    ],
    ids=["check", "check-policy", "show", "set", "edit"],
)
def test_a_fifo_is_refused_at_once_and_never_read(tmp_path: Path, argv: tuple[str, ...]) -> None:
    fifo = tmp_path / "config.toml.fifo"
    os.mkfifo(fifo)
    code, out, err, took = child(*(a.format(fifo=fifo) for a in argv))
    assert code == 1, out + err
    assert "not a regular file: it is a FIFO (named pipe); nothing was read" in err
    assert took < DEADLINE
    assert stat.S_ISFIFO(fifo.stat().st_mode)  # still a FIFO: nothing replaced it


def test_a_device_is_refused_by_its_kind() -> None:
    code, out, err = cli("config", "check", os.devnull)
    assert code == 1
    assert f"{os.devnull}: error: not a regular file: it is a character device" in err
    assert out == f"{os.devnull}: invalid (1 error)\n"


def test_a_directory_is_named_as_such(tmp_path: Path) -> None:
    folder = tmp_path / "config.toml"
    folder.mkdir()
    code, _out, err = cli("config", "show", "--config", str(folder))
    assert code == 1
    assert "not a regular file: it is a directory; nothing was read" in err


# ------------------------------------------------------------ symbolic links


def _linked(tmp_path: Path) -> tuple[Path, Path]:
    """``home/config.toml`` -> ``dotfiles/ergobreak.toml`` (another folder)."""
    target = tmp_path / "dotfiles" / "ergobreak.toml"
    target.parent.mkdir()
    target.write_text('# mine\n[drill]\nevery = "30m"\n', encoding="utf-8")
    link = tmp_path / "home" / "config.toml"
    link.parent.mkdir()
    link.symlink_to(target)
    return link, target


def test_config_set_writes_through_a_symlink_to_its_target(tmp_path: Path) -> None:
    link, target = _linked(tmp_path)
    code, out, err = cli("config", "set", "drill.every", "40m")
    assert (code, err) == (0, "")
    assert 'drill.every = "40m"' in out
    assert link.is_symlink()
    assert os.readlink(link) == str(target)
    assert target.read_text(encoding="utf-8") == '# mine\n[drill]\nevery = "40m"\n'
    # the atomic write happened beside the target: nothing left beside the link
    assert sorted(p.name for p in link.parent.iterdir()) == ["config.toml"]
    assert sorted(p.name for p in target.parent.iterdir()) == ["ergobreak.toml"]


def test_config_unset_writes_through_a_symlink(tmp_path: Path) -> None:
    link, target = _linked(tmp_path)
    code, _out, err = cli("config", "unset", "drill.every")
    assert (code, err) == (0, "")
    assert link.is_symlink()
    assert "every" not in target.read_text(encoding="utf-8")


def test_config_init_force_writes_through_a_symlink(tmp_path: Path) -> None:
    link, target = _linked(tmp_path)
    code, _out, err = cli("config", "init", "--force")
    assert (code, err) == (0, "")
    assert link.is_symlink()
    assert target.read_text(encoding="utf-8").count("# every = ") == 2  # the template


def test_config_set_says_when_the_new_value_is_suspicious(tmp_path: Path) -> None:
    code, out, err = cli("config", "set", "drill.snooze", "30m")
    assert code == 0
    assert out.startswith('drill.snooze = "30m" in ')
    assert (
        "warning: drill.snooze: 30m is not shorter than drill.every (30m): a snoozed drill"
        " comes back no sooner than the next drill would\n"
    ) in err
    assert 'snooze = "30m"' in (tmp_path / "home" / "config.toml").read_text(encoding="utf-8")


def _editor(tmp_path: Path, body: str) -> str:
    script = tmp_path / "editor.sh"
    script.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    script.chmod(0o755)
    return str(script)


def test_config_edit_writes_through_a_symlink(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    link, target = _linked(tmp_path)
    editor = _editor(tmp_path, 'printf \'[drill]\\nevery = "50m"\\n\' > "$1"')
    monkeypatch.setenv("VISUAL", editor)
    code, out, err = cli("config", "edit")
    assert (code, err) == (0, "")
    assert out.startswith("Saved ")
    assert link.is_symlink()
    assert target.read_text(encoding="utf-8") == '[drill]\nevery = "50m"\n'
    assert sorted(p.name for p in link.parent.iterdir()) == ["config.toml"]


@pytest.mark.parametrize(
    "argv",
    [
        ("config", "check"),
        ("config", "show"),
        ("config", "set", "drill.every", "40m"),
        ("config", "unset", "drill.every"),
        ("config", "edit"),
        ("config", "init"),
    ],
    ids=["check", "show", "set", "unset", "edit", "init"],
)
def test_a_dangling_symlink_is_an_error_on_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: tuple[str, ...]
) -> None:
    gone = tmp_path / "dotfiles" / "gone.toml"
    link = tmp_path / "home" / "config.toml"
    link.parent.mkdir()
    link.symlink_to(gone)
    monkeypatch.setenv("VISUAL", "true")
    code, out, err = cli(*argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.endswith(f"{link} is a symbolic link to {gone}, which does not exist\n")
    assert not gone.exists()
    assert link.is_symlink()


# ----------------------------------------------------- paths named on purpose


@pytest.mark.parametrize("command", ["check", "show"])
def test_an_explicit_config_that_does_not_exist_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = cli("config", command, "--config", "nope.toml")
    assert (code, out) == (2, "")
    assert err == (
        f"ergobreak config {command}: --config names nope.toml, which does not exist"
        " (to start one: ergobreak config init --config nope.toml)\n"
    )


@pytest.mark.parametrize("command", ["check", "show"])
def test_ergobreak_config_naming_nothing_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    named = tmp_path / "elsewhere" / "config.toml"
    monkeypatch.setenv(CONFIG_ENV, str(named))
    code, out, err = cli("config", command)
    assert (code, out) == (2, "")
    assert err == (
        f"ergobreak config {command}: ${CONFIG_ENV} names {named}, which does not exist"
        " (to start one: ergobreak config init)\n"
    )


def test_the_default_path_missing_still_means_the_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CONFIG_ENV)
    default = tmp_path / "home" / "xdg_config_home" / "ergobreak" / "config.toml"
    assert not default.exists()
    code, out, err = cli("config", "check")
    assert (code, out, err) == (0, f"{default}: OK\n", "")
    code, out, _err = cli("config", "show")
    assert code == 0
    assert "(not found: defaults apply)" in out


def test_config_set_creates_a_file_named_on_purpose(tmp_path: Path) -> None:
    # the one thing a missing named file is for: writing it
    code, _out, err = cli("config", "set", "drill.every", "40m")
    assert (code, err) == (0, "")
    assert 'every = "40m"' in (tmp_path / "home" / "config.toml").read_text(encoding="utf-8")


def test_the_daemon_loader_names_the_same_problems() -> None:
    """What the daemon's start can use to refuse a missing ``--config`` file."""
    missing = Path("nope.toml")
    assert loader.missing_user_file(missing, named_by=None) is None
    assert loader.missing_user_file(missing, named_by="--config") == (
        "--config names nope.toml, which does not exist"
        " (to start one: ergobreak config init --config nope.toml)"
    )


# ------------------------------------------------------------------- editor


@pytest.mark.parametrize("status", [1, 3, 42])
def test_config_edit_returns_the_editors_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    user = tmp_path / "home" / "config.toml"
    user.parent.mkdir()
    user.write_text('[drill]\nevery = "30m"\n', encoding="utf-8")
    editor = _editor(tmp_path, f"printf 'broken = [' > \"$1\"; exit {status}")
    monkeypatch.setenv("VISUAL", editor)
    code, _out, err = cli("config", "edit")
    assert code == status
    assert f"the editor exited with status {status}" in err
    assert user.read_text(encoding="utf-8") == '[drill]\nevery = "30m"\n'


def test_config_edit_of_a_good_save_returns_0(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    editor = _editor(tmp_path, 'printf \'[drill]\\nevery = "45m"\\n\' > "$1"')
    monkeypatch.setenv("VISUAL", editor)
    code, _out, err = cli("config", "edit")
    assert (code, err) == (0, "")
    assert (tmp_path / "home" / "config.toml").read_text(encoding="utf-8") == (
        '[drill]\nevery = "45m"\n'
    )


# ------------------------------------------------------------------- strict


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_strict_makes_warnings_fail_and_says_so_in_json(tmp_path: Path) -> None:
    typo = _write(tmp_path, "typo.toml", '[drill]\nevrey = "30m"\n')
    assert cli("config", "check", str(typo))[0] == 0
    code, out, _err = cli("config", "check", "--strict", "--json", str(typo))
    assert code == 1
    report = json.loads(out)
    assert (report["ok"], report["strict"], report["errors"], report["warnings"]) == (
        False,
        True,
        0,
        1,
    )
    assert report["diagnostics"][0]["hint"] == "did you mean drill.every?"


def test_strict_policy_fails_on_a_misspelt_enforced_table(tmp_path: Path) -> None:
    draft = _write(tmp_path, "policy.toml", "schema = 1\n[enforced.quiett]\nenabled = true\n")
    code, out, err = cli("config", "check", "--strict", "--policy", str(draft))
    assert code == 1
    assert "enforced.quiett: unknown table (ignored)" in err
    assert "did you mean [enforced.quiet]?" in err
    assert out.endswith(": invalid (1 warning, warnings fail with --strict)\n")


def test_strict_does_not_count_the_note_on_a_drafts_owner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The install sets the owner: a draft the admin owns still passes --strict."""
    draft = _write(tmp_path, "policy.toml", 'schema = 1\n[enforced.drill]\nevery = "45m"\n')
    draft.chmod(0o666)  # writable by others: refused once installed
    code, out, err = cli("config", "check", "--strict", "--policy", str(draft))
    assert "once installed this would be refused" in err
    assert (code, out) == (0, f"{draft}: OK (1 warning)\n")


@pytest.mark.parametrize(
    "shipped", ["config/ergobreak.toml", "config/policy.example.toml"], ids=["user", "policy"]
)
def test_the_shipped_examples_pass_strict(shipped: str) -> None:
    path = Path(__file__).resolve().parent.parent / shipped
    flag = ["--policy"] if "policy" in shipped else []
    code, out, err = cli("config", "check", "--strict", *flag, str(path))
    assert (code, err) == (0, ""), out
    assert out.endswith(": OK\n")


@pytest.mark.parametrize(
    "script",
    [
        "packaging/ansible/deploy.yml",
        "packaging/macos/install-ergobreak.sh",
        "packaging/windows/install-ergobreak.ps1",
    ],
)
def test_every_shipped_validator_checks_the_policy_strictly(script: str) -> None:
    text = (Path(__file__).resolve().parent.parent / script).read_text(encoding="utf-8")
    checks = [line for line in text.splitlines() if "config check" in line]
    assert checks
    assert all("config check --strict --policy" in line for line in checks), checks


# --------------------------------------------------- suspicious, from the loader


def test_suspicious_values_come_back_from_the_daemons_load(tmp_path: Path) -> None:
    user = _write(tmp_path, "config.toml", '[schedule]\nhours = "17:30-09:00"\n')
    result = layers.try_load(user, policy_files=[])
    assert isinstance(result, layers.Effective)
    assert [(d.line, d.key, d.severity, d.message, d.hint) for d in result.warnings] == [
        (
            2,
            "schedule.hours",
            "warning",
            '"17:30-09:00" runs overnight: 15h30m, into the next day',
            'for daytime hours write "09:00-17:30"',
        )
    ]
    # the single-file loader says the same
    assert loader.load_file(user).diagnostics == list(result.warnings)


def test_suspicious_values_at_the_policy_line_when_the_user_wrote_nothing(
    tmp_path: Path,
) -> None:
    draft = _write(tmp_path, "policy.toml", '[enforced.activity]\nprompt_gap = "40m"\n')
    result = layers.try_load(None, policy_files=[draft])
    assert isinstance(result, layers.Effective)
    assert [(d.path, d.line, d.key, d.message) for d in result.warnings] == [
        (
            str(draft),
            2,
            "enforced.activity.prompt_gap",
            "40m is not shorter than drill.every (30m): drills come no more often than"
            " every 40m, and no posture check fits between them",
        )
    ]


def test_the_built_in_defaults_are_not_suspicious() -> None:
    result = layers.try_load(None, policy_files=[])
    assert isinstance(result, layers.Effective)
    assert result.diagnostics == ()
