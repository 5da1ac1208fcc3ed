"""``ergobreak config check|show|paths|init|set|unset`` end to end, through ``cli.main``."""

from __future__ import annotations

import json
import os
import sys
from functools import partial
from pathlib import Path

import pytest
from scaffold import cli as run_cli

from ergobreak import paths
from ergobreak.config import layers, policy, template
from ergobreak.config.schema import KEYS, defaults, to_toml
from ergobreak.tomlfile.read import tomllib

pytestmark = pytest.mark.usefixtures("isolated")
cli = partial(run_cli, "config")


@pytest.fixture(autouse=True)
def _root_owned(monkeypatch: pytest.MonkeyPatch) -> None:
    # Files made by the test runner count as root-owned (the runner may not be root).
    monkeypatch.setattr(policy, "unsafe_reason", lambda path, root=None: None)


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    """The user's config file (not created)."""
    return tmp_path / "home" / "config.toml"


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def install_policy(tmp_path: Path, text: str) -> Path:
    return write(tmp_path / "etc" / "ergobreak" / "policy.toml", text)


# ---------------------------------------------------------------------- check


def test_check_a_valid_file(cfg: Path) -> None:
    write(cfg, '[drill]\nevery = "45m"\n')
    assert cli("check") == (0, f"{cfg}: OK\n", "")


def test_check_without_a_user_file_checks_the_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ERGOBREAK_CONFIG")  # the default path, which is not there
    default = tmp_path / "home" / "xdg_config_home" / "ergobreak" / "config.toml"
    assert cli("check") == (0, f"{default}: OK\n", "")


def test_check_reports_every_error_and_exits_1(cfg: Path) -> None:
    write(cfg, '[drill]\nevery = "twenty"\nmax_snoozes = 11\nevry = "1m"\n')
    code, out, err = cli("check")
    assert code == 1
    assert out == f"{cfg}: invalid (2 errors, 1 warning)\n"
    assert err.splitlines()[0] == (
        f'{cfg}:2:9: error: drill.every: expected a duration like "20m", got "twenty"'
    )
    assert f"{cfg}:3:15: error: drill.max_snoozes: must be at most 10, got 11" in err
    assert "     = did you mean drill.every?" in err


def test_warnings_alone_do_not_fail(cfg: Path) -> None:
    write(cfg, 'schema = 1\nfuture_option = true\n[drill]\nevery = "45m"\n')
    code, out, err = cli("check")
    assert code == 0
    assert out == f"{cfg}: OK (1 warning)\n"
    assert err.startswith(f"{cfg}:2:1: warning: future_option: unknown key (ignored)\n")


def test_check_json(cfg: Path) -> None:
    write(cfg, '[drill]\nevery = "twenty"\n[posture]\nevry = "1m"\n')
    code, out, err = cli("check", "--json")
    assert (code, err) == (1, "")
    data = json.loads(out)
    assert data == {
        "ok": False,
        "strict": False,
        "files": [str(cfg)],
        "policy": [],
        "errors": 1,
        "warnings": 1,
        "diagnostics": [
            {
                "path": str(cfg),
                "line": 2,
                "col": 9,
                "severity": "error",
                "key": "drill.every",
                "message": 'expected a duration like "20m", got "twenty"',
                "hint": None,
            },
            {
                "path": str(cfg),
                "line": 4,
                "col": 1,
                "severity": "warning",
                "key": "posture.evry",
                "message": "unknown key (ignored)",
                "hint": "did you mean posture.every?",
            },
        ],
    }


def test_check_several_files(tmp_path: Path) -> None:
    good = write(tmp_path / "a.toml", '[drill]\nevery = "45m"\n')
    warn = write(tmp_path / "b.toml", "[drill]\nevry = 1\n")
    bad = write(tmp_path / "c.toml", "[drill]\nevery = 1\n")
    assert cli("check", str(good), str(warn))[0] == 0
    code, out, err = cli("check", str(good), str(bad), str(warn), str(tmp_path / "none.toml"))
    assert code == 1
    assert out == (
        f"{good}, {bad}, {warn}, {tmp_path / 'none.toml'}: invalid (2 errors, 1 warning)\n"
    )
    assert [line.split(": ")[0] for line in err.splitlines() if ": " in line] == [
        f"{bad}:2:9",
        f"{warn}:2:1",
        str(tmp_path / "none.toml"),
    ]
    assert f"{tmp_path / 'none.toml'}: error: file not found" in err
    data = json.loads(cli("check", "--json", str(good), str(bad))[1])
    assert data["files"] == [str(good), str(bad)]
    assert [d["path"] for d in data["diagnostics"]] == [str(bad)]


def test_check_a_draft_policy_as_it_would_be_deployed(tmp_path: Path, cfg: Path) -> None:
    # An installed policy is not mixed into the check of a draft.
    install_policy(tmp_path, '[enforced.drill]\nevery = "twenty"\n')
    draft = write(
        tmp_path / "draft.toml",
        'schema = 1\n[enforced.drill]\nevery = "2h"\n[limits.drill]\nevery = { max = "1h" }\n',
    )
    code, out, err = cli("check", "--policy", str(draft))
    assert code == 1
    assert out == f"{draft}: invalid (1 error)\n"
    assert err.startswith(f"{draft}:3:9: error: enforced.drill.every: enforced value 2h")
    ok = write(tmp_path / "ok.toml", Path("config/policy.example.toml").read_text())
    assert cli("check", "--policy", str(ok)) == (0, f"{ok}: OK\n", "")
    # A draft together with a user file: how that user would fare.
    write(cfg, "[quiet]\nenabled = false\n[drill]\nevery = 3\n")
    code, out, _ = cli("check", "--policy", str(ok), str(cfg))
    assert code == 1
    assert out == f"{ok}, {cfg}: invalid (1 error)\n"


def test_check_uses_the_installed_policy(tmp_path: Path, cfg: Path) -> None:
    install_policy(tmp_path, 'schema = 1\n[enforced.activity]\nidle_pause = "6m"\n')
    write(cfg, '[activity]\nnatural_break = "5m"\n')
    code, _, err = cli("check")
    assert code == 1
    assert "activity.natural_break: must be longer than activity.idle_pause (6m), got 5m" in err


def test_check_never_prints_a_traceback_for_unreadable_files(tmp_path: Path) -> None:
    folder = tmp_path / "folder.toml"
    folder.mkdir()
    binary = write(tmp_path / "bin.toml", b"\x00\xff\xfe[drill]\n")
    code, _out, err = cli("check", str(folder), str(binary))
    assert code == 1
    assert "Traceback" not in err
    assert f"{folder}: error: not a regular file: it is a directory; nothing was read" in err
    assert f"{binary}:1:2: error: invalid TOML: the file is not UTF-8 text (byte 0xff)" in err


# ----------------------------------------------------------------------- show


def test_show_prints_the_effective_settings_as_toml(cfg: Path) -> None:
    write(cfg, '[drill]\nevery = "45m"\n')
    code, out, err = cli("show")
    assert (code, err) == (0, "")
    assert out.startswith(f"# Effective ergobreak settings\n# user file: {cfg}\n")
    shown = tomllib.loads(out)
    flat = {f"{t}.{k}": v for t, table in shown.items() for k, v in table.items()}
    assert flat == {k: to_toml(k, v) for k, v in {**defaults(), "drill.every": 2700.0}.items()}


def test_show_origin(tmp_path: Path, cfg: Path) -> None:
    pfile = install_policy(
        tmp_path,
        'schema = 1\n[meta]\norganization = "Example Corp"\n'
        '[defaults.drill]\nsnooze = "10m"\n[limits.drill]\nmax_snoozes = { max = 3 }\n',
    )
    write(cfg, '[drill]\nevery = "45m"\n')
    code, out, err = cli("show", "--origin", "--set", "posture.every=25m")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[:4] == [
        "# Managed by Example Corp",
        "# Effective ergobreak settings",
        f"# user file: {cfg}",
        f"# policy: {pfile} (Example Corp)",
    ]
    assert 'every = "25m"                     # command line' in lines
    assert f'every = "45m"                     # user  {cfg}:2' in lines
    assert f'snooze = "10m"                    # policy default  {pfile}:5' in lines
    assert "max_snoozes = 2                   # default (policy range: at most 3)" in lines
    assert 'prelude = "1m"                    # default' in lines
    assert lines[-1].startswith("# Drill rotation: hipflexor_standing, hinge_wall, ")


def test_show_json(tmp_path: Path, cfg: Path) -> None:
    pfile = install_policy(
        tmp_path,
        'schema = 1\n[enforced.quiet]\nenabled = true\n[limits.posture]\nevery = { min = "10m" }\n',
    )
    write(cfg, '[quiet]\nenabled = false\n[posture]\nevery = "5m"\n')
    code, out, err = cli("show", "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert set(data) == {
        "user_file",
        "user_file_exists",
        "policy_files",
        "policy_sources",
        "organization",
        "contact",
        "values",
        "origins",
        "locked",
        "limits",
        "ignored",
        "clamped",
        "rotation",
        "diagnostics",
    }
    assert list(data["values"]) == [key.name for key in KEYS]
    assert data["values"]["posture.every"] == "10m"
    assert data["origins"]["posture.every"] == {"layer": "limit", "path": str(pfile), "line": 5}
    assert data["locked"] == {"quiet.enabled": {"layer": "enforced", "path": str(pfile), "line": 3}}
    assert data["limits"] == {
        "posture.every": {"range": "at least 10m", "layer": "limit", "path": str(pfile), "line": 5}
    }
    assert data["ignored"] == [
        {
            "key": "quiet.enabled",
            "value": False,
            "from": {"layer": "user", "path": str(cfg), "line": 2},
            "locked_by": {"layer": "enforced", "path": str(pfile), "line": 3},
        }
    ]
    assert data["clamped"] == [
        {
            "key": "posture.every",
            "wanted": "5m",
            "value": "10m",
            "from": {"layer": "user", "path": str(cfg), "line": 4},
            "limit": {"layer": "limit", "path": str(pfile), "line": 5},
        }
    ]
    assert data["rotation"][0] == "hipflexor_standing"
    assert data["diagnostics"] == []


def test_show_set_is_checked_like_a_file(cfg: Path) -> None:
    write(cfg, "")
    code, out, err = cli("show", "--set", "drill.every=twenty")
    assert (code, out) == (1, "")
    assert err == (
        'command line: error: drill.every: expected a duration like "20m", got "twenty"\n'
        "ergobreak config show: the settings above have errors; nothing shown\n"
    )
    code, _, err = cli("show", "--set", "drill.evry=1m")
    assert code == 1
    assert "command line: error: drill.evry: unknown key\n     = did you mean drill.every?" in err
    code, _, err = cli("show", "--set", "drill.every")
    assert code == 1
    assert 'expected --set KEY=VALUE (e.g. drill.every=45m), got "drill.every"' in err


def test_show_refuses_a_broken_user_file(cfg: Path) -> None:
    write(cfg, "[drill\n")
    code, out, err = cli("show")
    assert (code, out) == (1, "")
    assert err.endswith("ergobreak config show: the settings above have errors; nothing shown\n")


# ---------------------------------------------------------------------- paths


def test_paths(tmp_path: Path, cfg: Path) -> None:
    code, out, err = cli("paths", "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert set(data) == {
        "config_file",
        "config_dir",
        "user_content_dir",
        "policy_file",
        "policy_d",
        "policy_content_dir",
        "state_dir",
        "log_dir",
        "runtime_dir",
    }
    assert data["config_file"] == str(cfg)
    assert data["policy_file"] == str(tmp_path / "etc" / "ergobreak" / "policy.toml")
    assert data["policy_d"] == str(tmp_path / "etc" / "ergobreak" / "policy.d")
    assert data["runtime_dir"] == str(tmp_path / "run" / "ergobreak")
    other = tmp_path / "other.toml"
    assert json.loads(cli("paths", "--json", "--config", str(other))[1])["config_file"] == str(
        other
    )
    code, out, _ = cli("paths")
    assert code == 0
    assert out.splitlines()[0] == f"config file         {cfg}  (not present)"
    assert len(out.splitlines()) == len(data)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux paths")
def test_policy_paths_are_fixed_whatever_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.undo()  # the real policy_dir, not the test's
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv("ERGOBREAK_CONFIG", str(tmp_path / "policy.toml"))
    found = paths.paths(tmp_path / "x" / "config.toml")
    assert found.policy_file == Path("/etc/ergobreak/policy.toml")
    assert found.policy_d == Path("/etc/ergobreak/policy.d")
    assert policy.discover_policy_files() == [
        p for p in [Path("/etc/ergobreak/policy.toml")] if p.is_file()
    ] + sorted(Path("/etc/ergobreak/policy.d").glob("[!.]*.toml"))


# ----------------------------------------------------------------------- init


def test_init_writes_a_commented_file_that_loads_to_the_defaults(cfg: Path) -> None:
    code, out, err = cli("init")
    assert (code, err) == (0, "")
    assert out.startswith(f"Wrote {cfg}\n")
    text = cfg.read_text(encoding="utf-8")
    assert text == template.render(active=False)
    data = tomllib.loads(text)
    assert data == {"schema": 1, **{table: {} for table in data if table != "schema"}}
    e = layers.load(cfg, policy_files=[])
    assert dict(e.values) == defaults()
    assert e.diagnostics == ()
    assert cli("check") == (0, f"{cfg}: OK\n", "")
    assert oct(cfg.stat().st_mode & 0o777) == oct(0o644)


def test_init_refuses_to_overwrite_without_force(cfg: Path) -> None:
    write(cfg, "# mine\n")
    code, out, err = cli("init")
    assert (code, out) == (1, "")
    assert err == f"ergobreak config init: {cfg} already exists (use --force to replace it)\n"
    assert cfg.read_text() == "# mine\n"
    assert cli("init", "--force")[0] == 0
    assert cfg.read_text() == template.render(active=False)


def test_init_honours_config(tmp_path: Path) -> None:
    other = tmp_path / "deep" / "er" / "my.toml"
    assert cli("init", "--config", str(other))[0] == 0
    assert other.is_file()


# ------------------------------------------------------------------ set/unset

HAND_WRITTEN = """\
# My ergobreak settings -- written by hand
schema = 1

[drill]   # drills
every   =   "40m"     # a bit more often
  snooze = "5m"

# posture: the default rhythm
[posture]
enabled = true

[schedule]
days = [
    "mon",  # office
    "tue",
]
"""


def changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    assert len(a) == len(b)
    return [(x, y) for x, y in zip(a, b, strict=False) if x != y]


def test_set_changes_only_that_value_and_keeps_everything_else(cfg: Path) -> None:
    write(cfg, HAND_WRITTEN)
    assert cli("set", "drill.every", "45m") == (0, f'drill.every = "45m" in {cfg}\n', "")
    after = cfg.read_text()
    assert changed_lines(HAND_WRITTEN, after) == [
        ('every   =   "40m"     # a bit more often\n', 'every   =   "45m"     # a bit more often\n')
    ]
    assert layers.load(cfg, policy_files=[]).values["drill.every"] == 2700.0


def test_set_adds_a_missing_key_to_its_table_and_touches_nothing_else(cfg: Path) -> None:
    write(cfg, HAND_WRITTEN)
    assert cli("set", "posture.every", "25m")[0] == 0
    after = cfg.read_text()
    assert after == HAND_WRITTEN.replace("enabled = true\n", 'enabled = true\nevery = "25m"\n')
    assert cli("set", "quiet.enabled", "false")[0] == 0
    assert cfg.read_text() == after + "\n[quiet]\nenabled = false\n"


def test_unset_removes_only_that_line(cfg: Path) -> None:
    write(cfg, HAND_WRITTEN)
    code, out, err = cli("unset", "drill.snooze")
    assert (code, err) == (0, "")
    assert out == f"drill.snooze removed from {cfg}: the default or IT's recommendation applies\n"
    assert cfg.read_text() == HAND_WRITTEN.replace('  snooze = "5m"\n', "")
    assert cli("unset", "drill.snooze") == (
        0,
        f"drill.snooze is not set in {cfg}: nothing to change\n",
        "",
    )


def test_crlf_files_stay_crlf(cfg: Path) -> None:
    text = HAND_WRITTEN.replace("\n", "\r\n")
    write(cfg, text.encode())
    assert cli("set", "drill.every", "45m")[0] == 0
    assert cli("set", "quiet.enabled", "false")[0] == 0
    raw = cfg.read_bytes()
    assert raw.count(b"\n") == raw.count(b"\r\n")
    assert raw.startswith(HAND_WRITTEN.split("\n", 1)[0].encode() + b"\r\n")


def test_set_uncomments_the_template_line_in_place(cfg: Path) -> None:
    assert cli("init")[0] == 0
    before = cfg.read_text()
    assert cli("set", "drill.every", "45m")[0] == 0
    assert changed_lines(before, cfg.read_text()) == [('# every = "30m"\n', 'every = "45m"\n')]
    assert cli("set", "schedule.days", "mon-thu")[0] == 0
    assert cli("set", "routines.only", '["hinge_wall", "leg_swings"]')[0] == 0
    assert changed_lines(before, cfg.read_text()) == [
        ('# every = "30m"\n', 'every = "45m"\n'),
        (
            '# days = ["mon", "tue", "wed", "thu", "fri"]\n',
            'days = ["mon", "tue", "wed", "thu"]\n',
        ),
        ("# only = []\n", 'only = ["hinge_wall", "leg_swings"]\n'),
    ]
    assert cli("set", "drill.every", "50m")[0] == 0  # now an active line: edited in place
    assert changed_lines(before, cfg.read_text())[0] == ('# every = "30m"\n', 'every = "50m"\n')


def test_set_without_a_file_starts_from_the_template(cfg: Path) -> None:
    assert cli("set", "posture.every", "25m")[0] == 0
    assert cfg.read_text() == template.render(active=False).replace(
        '# every = "20m"', 'every = "25m"'
    )


def test_unset_without_a_file_writes_nothing(cfg: Path) -> None:
    assert cli("unset", "drill.every") == (
        0,
        f"drill.every is not set in {cfg}: nothing to change\n",
        "",
    )
    assert not cfg.exists()
    assert not cfg.parent.exists()


def fingerprint(path: Path) -> tuple[bytes, int, int]:
    info = path.stat()
    return path.read_bytes(), info.st_ino, info.st_mtime_ns


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("drill.every", "twenty", 'drill.every: expected a duration like "20m", got "twenty"'),
        ("drill.max_snoozes", "11", "drill.max_snoozes: must be at most 10, got 11"),
        ("posture.enabled", "yes", 'posture.enabled: expected true or false, got "yes"'),
        ("schedule.hours", "9-5", 'schedule.hours: expected hours like "09:00-17:30", got "9-5"'),
        ("drill.evry", "45m", "drill.evry: unknown key\n     = did you mean drill.every?"),
        ("routines.categories", "[]", "routines.categories: expected at least one category"),
    ],
)
def test_bad_values_are_rejected_and_the_file_is_untouched(
    cfg: Path, key: str, value: str, message: str
) -> None:
    write(cfg, HAND_WRITTEN)
    before = fingerprint(cfg)
    code, out, err = cli("set", key, value)
    assert (code, out) == (1, "")
    assert err.startswith(f"command line: error: {message}")
    assert fingerprint(cfg) == before


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        # alone fine, but it breaks a rule with the built-in natural_break (5m)
        (
            ("activity.idle_pause", "10m"),
            "activity.idle_pause: must be shorter than activity.natural_break (5m), got 10m",
        ),
        # alone fine, but with the file's prefer_seated no drill is left
        (("routines.exclude_tags", '["seated"]'), "routines: no drill is eligible"),
    ],
)
def test_a_value_that_breaks_the_whole_config_is_rejected(
    cfg: Path, argv: tuple[str, str], message: str
) -> None:
    text = "[routines]\nprefer_seated = true\n"
    write(cfg, text)
    before = fingerprint(cfg)
    code, out, err = cli("set", *argv)
    assert (code, out) == (1, "")
    assert message in err
    assert err.endswith(f"ergobreak config: {cfg} was not changed\n")
    assert fingerprint(cfg) == before


def test_a_value_that_clashes_with_policy_is_rejected(tmp_path: Path, cfg: Path) -> None:
    pfile = install_policy(tmp_path, 'schema = 1\n[enforced.activity]\nidle_pause = "3m"\n')
    code, _, err = cli("set", "activity.natural_break", "2m")
    assert code == 1
    assert "activity.natural_break: must be longer than activity.idle_pause (3m), got 2m" in err
    assert f"activity.idle_pause = 3m comes from your organization's policy ({pfile}:3)" in err
    assert not cfg.exists()


@pytest.mark.parametrize(
    "text", ["[drill\nevery = 1\n", '[drill]\nevery = "twenty"\n', b"\xff\xfe[drill]\n"]
)
def test_a_file_that_already_has_errors_is_not_edited(cfg: Path, text: str | bytes) -> None:
    write(cfg, text)
    before = fingerprint(cfg)
    code, out, err = cli("set", "posture.every", "25m")
    assert (code, out) == (1, "")
    assert err.startswith(f"{cfg}:")
    assert err.endswith(f"ergobreak config: {cfg} was not changed\n")
    assert "Traceback" not in err
    assert fingerprint(cfg) == before


@pytest.mark.parametrize("action", [("set", "quiet.enabled", "false"), ("unset", "quiet.enabled")])
def test_locked_keys_are_refused_naming_the_policy_line(
    tmp_path: Path, cfg: Path, action: tuple[str, ...]
) -> None:
    pfile = install_policy(tmp_path, "schema = 1\n\n[enforced.quiet]\nenabled = true\n")
    write(cfg, "[quiet]\nenabled = true\n")
    before = fingerprint(cfg)
    code, out, err = cli(*action)
    assert (code, out) == (3, "")
    assert err == (
        f"ergobreak config: quiet.enabled is set by your organization's policy"
        f" ({pfile}:4) and cannot be changed here\n"
    )
    assert fingerprint(cfg) == before


def test_set_a_limited_key_notes_the_range(tmp_path: Path, cfg: Path) -> None:
    install_policy(tmp_path, 'schema = 1\n[limits.drill]\nevery = { max = "1h" }\n')
    code, out, err = cli("set", "drill.every", "2h")
    assert (code, err) == (0, "")
    assert out == (
        f'drill.every = "2h" in {cfg}\n'
        "note: your organization's policy keeps drill.every within at most 1h\n"
    )
    assert layers.load(cfg).values["drill.every"] == 3600.0


def test_writes_are_atomic(cfg: Path) -> None:
    write(cfg, HAND_WRITTEN)
    cfg.chmod(0o600)
    inode = cfg.stat().st_ino
    assert cli("set", "drill.every", "45m")[0] == 0
    assert cfg.stat().st_ino != inode  # replaced by rename, not rewritten in place
    assert cfg.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in cfg.parent.iterdir()) == ["config.toml"]
    inode = cfg.stat().st_ino
    assert cli("unset", "drill.every")[0] == 0
    assert cfg.stat().st_ino != inode
    assert sorted(p.name for p in cfg.parent.iterdir()) == ["config.toml"]


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(
    cfg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(cfg, HAND_WRITTEN)
    before = fingerprint(cfg)

    def boom(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    code, out, err = cli("set", "drill.every", "45m")
    assert (code, out) == (1, "")
    assert err == f"ergobreak config: cannot write {cfg}: no space left on device\n"
    assert fingerprint(cfg) == before
    assert sorted(p.name for p in cfg.parent.iterdir()) == ["config.toml"]


def test_set_and_unset_honour_config(tmp_path: Path, cfg: Path) -> None:
    other = tmp_path / "other.toml"
    assert cli("set", "--config", str(other), "drill.every", "45m")[0] == 0
    assert 'every = "45m"' in other.read_text()
    assert not cfg.exists()
    assert cli("unset", "--config", str(other), "drill.every")[0] == 0
    assert layers.load(other, policy_files=[]).values["drill.every"] == 1800.0


def test_set_values_as_people_type_them(cfg: Path) -> None:
    for key, typed, stored in [
        ("drill.every", "45m", '"45m"'),
        ("drill.every", '"1h30m"', '"1h30m"'),
        ("drill.max_snoozes", "3", "3"),
        ("posture.enabled", "false", "false"),
        ("schedule.days", "mon-fri", '["mon", "tue", "wed", "thu", "fri"]'),
        ("schedule.days", '["sat", "sun"]', '["sat", "sun"]'),
        ("schedule.hours", "09:00-12:00", '["09:00-12:00"]'),
        ("routines.equipment", "band", '["band"]'),
    ]:
        code, out, err = cli("set", key, typed)
        assert (code, err) == (0, ""), key
        assert out == f"{key} = {stored} in {cfg}\n"
        assert f"{key.split('.')[1]} = {stored}\n" in cfg.read_text()


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("set", "drill.every")[0] == 2
    assert cli("frobnicate")[0] == 2
    assert "usage:" in capsys.readouterr().err
