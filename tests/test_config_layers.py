"""Layering: defaults < policy [defaults] < user file < --set < policy [enforced],
within policy [limits]; policy discovery, ownership, and the reload contract."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import stat
from functools import partial
from pathlib import Path

import pytest
from scaffold import cli

from ergobreak import paths
from ergobreak.config.layers import Effective, load, try_load
from ergobreak.config.origin import Origin
from ergobreak.config.policy import describe_limit, unsafe_reason
from ergobreak.config.schema import defaults
from ergobreak.tomlfile import ConfigError, Diagnostic

needs_root = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0,
    reason="creating files owned by another user needs root",
)


pytestmark = pytest.mark.usefixtures("isolated")
show = partial(cli, "config", "show")


@pytest.fixture
def etc(tmp_path: Path) -> Path:
    """The admin policy folder (``/etc/ergobreak`` in production)."""
    folder = tmp_path / "etc" / "ergobreak"
    folder.mkdir(parents=True)
    folder.chmod(0o755)
    return folder


def write(path: Path, text: str, mode: int = 0o644) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def policy(tmp_path: Path, text: str, name: str = "policy.toml") -> Path:
    """A draft policy file (given explicitly, so not checked for ownership)."""
    return write(tmp_path / "drafts" / name, text)


def user(tmp_path: Path, text: str) -> Path:
    return write(tmp_path / "home" / "config.toml", text)


def headlines(diags: tuple[Diagnostic, ...] | list[Diagnostic]) -> list[str]:
    return [d.headline() for d in diags]


# ------------------------------------------------------------------ precedence


def test_defaults_alone() -> None:
    e = load(None, policy_files=[])
    assert dict(e.values) == defaults()
    assert {o.layer for o in e.origins.values()} == {"default"}
    assert e.diagnostics == ()
    assert not e.managed
    assert e.content is not None
    assert e.content.drills


@pytest.mark.parametrize(
    ("layers_present", "value", "layer"),
    [
        ((), 1800.0, "default"),
        (("policy",), 2700.0, "policy default"),
        (("policy", "user"), 2400.0, "user"),
        (("policy", "user", "cli"), 2100.0, "command line"),
        (("policy", "user", "cli", "enforced"), 3000.0, "enforced"),
        (("user", "enforced"), 3000.0, "enforced"),
        (("cli", "enforced"), 3000.0, "enforced"),
    ],
)
def test_each_layer_beats_the_one_below(
    tmp_path: Path, layers_present: tuple[str, ...], value: float, layer: str
) -> None:
    pol = ["schema = 1"]
    if "policy" in layers_present:
        pol += ["[defaults.drill]", 'every = "45m"']
    if "enforced" in layers_present:
        pol += ["[enforced.drill]", 'every = "50m"']
    pfile = policy(tmp_path, "\n".join(pol) + "\n")
    ufile = user(tmp_path, '[drill]\nevery = "40m"\n' if "user" in layers_present else "")
    cli = {"drill.every": "35m"} if "cli" in layers_present else None
    e = load(ufile, policy_files=[pfile], cli=cli)
    assert e.values["drill.every"] == value
    assert e.settings.drill.every == value
    assert e.origins["drill.every"].layer == layer
    assert ("drill.every" in e.locked) == (layer == "enforced")
    assert e.diagnostics == ()


def test_origins_name_the_file_and_line(tmp_path: Path) -> None:
    pfile = policy(tmp_path, 'schema = 1\n\n[defaults.drill]\nsnooze = "10m"\n')
    ufile = user(tmp_path, '# mine\n[posture]\n\nevery = "25m"\n')
    e = load(ufile, policy_files=[pfile])
    assert e.origins["drill.snooze"] == Origin("policy default", str(pfile), 4)
    assert e.origins["posture.every"] == Origin("user", str(ufile), 4)
    assert e.origins["posture.every"].where() == f"{ufile}:4"
    assert e.origins["drill.every"].where() == "default"


def test_enforced_beats_set_and_the_user_file_and_both_are_listed_as_ignored(
    tmp_path: Path,
) -> None:
    pfile = policy(tmp_path, "schema = 1\n[enforced.quiet]\nenabled = true\n")
    ufile = user(tmp_path, "[quiet]\nenabled = false\n")
    e = load(ufile, policy_files=[pfile], cli={"quiet.enabled": False})
    assert e.values["quiet.enabled"] is True
    assert e.locked == {"quiet.enabled": Origin("enforced", str(pfile), 3)}
    assert [(i.key, i.value, i.origin.layer) for i in e.ignored] == [
        ("quiet.enabled", False, "user"),
        ("quiet.enabled", False, "command line"),
    ]
    assert all(i.locked_by == e.locked["quiet.enabled"] for i in e.ignored)
    assert e.diagnostics == ()  # a locked user value is a note, not an error


def test_show_origin_lists_values_ignored_because_of_policy(tmp_path: Path) -> None:
    pfile = policy(tmp_path, "schema = 1\n[enforced.quiet]\nenabled = true\n")
    user(tmp_path, "[quiet]\nenabled = false\n")
    code, out, err = show("--origin", "--policy", str(pfile), "--set", "quiet.enabled=false")
    assert (code, err) == (0, "")
    assert f"enabled = true                    # enforced  {pfile}:3 (locked)" in out
    tail = out.split("# Ignored because policy locks them:\n", 1)[1]
    assert tail.splitlines()[:2] == [
        f"#   quiet.enabled = false  (user  {tmp_path}/home/config.toml:2) locked by {pfile}:3",
        f"#   quiet.enabled = false  (command line) locked by {pfile}:3",
    ]


# ---------------------------------------------------------------------- limits

LIMITS = 'schema = 1\n[limits.posture]\nevery = { min = "10m", max = "40m" }\n'


@pytest.mark.parametrize("source", ["default", "policy default", "user", "command line"])
@pytest.mark.parametrize(
    ("wanted", "bound", "limit"),
    [
        ("5m", 600.0, '{ min = "10m" }'),
        ("50m", 2400.0, '{ max = "40m" }'),
        ("5m", 600.0, '{ min = "10m", max = "40m" }'),
        ("50m", 2400.0, '{ min = "10m", max = "40m" }'),
    ],
)
def test_limits_clamp_every_lower_layer_in_both_directions(
    tmp_path: Path, source: str, wanted: str, bound: float, limit: str
) -> None:
    text = f"schema = 1\n[limits.posture]\nevery = {limit}\n"
    if source == "policy default":
        text += f'[defaults.posture]\nevery = "{wanted}"\n'
    pfile = policy(tmp_path, text)
    ufile = user(tmp_path, f'[posture]\nevery = "{wanted}"\n' if source == "user" else "")
    cli = {"posture.every": wanted} if source == "command line" else None
    if source == "default":  # the built-in 20m: move the limit so it clamps
        text = text.replace('"10m"', '"25m"') if wanted == "5m" else text.replace('"40m"', '"15m"')
        bound = 1500.0 if wanted == "5m" else 900.0
        pfile = policy(tmp_path, text)
    e = load(ufile, policy_files=[pfile], cli=cli)
    assert e.values["posture.every"] == bound
    assert e.settings.posture.every == bound
    (clamp,) = e.clamped
    assert clamp.key == "posture.every"
    assert clamp.origin.layer == source
    assert clamp.value == bound
    assert e.origins["posture.every"] == Origin("limit", str(pfile), 3)
    assert e.diagnostics == ()


def test_show_origin_says_a_value_was_clamped_and_who_asked(tmp_path: Path) -> None:
    pfile = policy(tmp_path, LIMITS)
    ufile = user(tmp_path, '[posture]\nevery = "5m"\n')
    code, out, err = show("--origin", "--policy", str(pfile))
    assert (code, err) == (0, "")
    assert (
        f'every = "10m"                     # limit  {pfile}:3 (10m to 40m;'
        f' user  {ufile}:2 asked for "5m")'
    ) in out.splitlines()


def test_users_may_be_stricter_than_a_limit(tmp_path: Path) -> None:
    pfile = policy(tmp_path, LIMITS)
    ufile = user(tmp_path, '[posture]\nevery = "15m"\n')
    e = load(ufile, policy_files=[pfile])
    assert e.values["posture.every"] == 900.0
    assert e.origins["posture.every"].layer == "user"
    assert e.clamped == ()
    code, out, _ = show("--origin", "--policy", str(pfile))
    assert code == 0
    assert "(policy range: 10m to 40m)" in out


def test_a_whole_number_is_clamped_to_a_whole_number(tmp_path: Path) -> None:
    pfile = policy(tmp_path, "schema = 1\n[limits.drill]\nmax_snoozes = { max = 1 }\n")
    e = load(user(tmp_path, "[drill]\nmax_snoozes = 5\n"), policy_files=[pfile])
    assert e.values["drill.max_snoozes"] == 1
    assert type(e.settings.drill.max_snoozes) is int


def test_a_bound_beyond_the_keys_own_range_is_harmless(tmp_path: Path) -> None:
    pfile = policy(
        tmp_path,
        "schema = 1\n[limits.history]\nkeep_days = { max = 99999999999999999999999 }\n"
        '[limits.posture]\nevery = { min = "1s" }\n',
    )
    e = load(user(tmp_path, "[history]\nkeep_days = 3650\n"), policy_files=[pfile])
    assert e.values["history.keep_days"] == 3650
    assert e.limits["history.keep_days"].max == 3650
    assert describe_limit("posture.every", e.limits["posture.every"]) == "at least 10s"
    assert e.diagnostics == ()


def test_an_enforced_value_outside_the_limits_is_ignored_with_a_located_error(
    tmp_path: Path,
) -> None:
    pfile = policy(
        tmp_path,
        'schema = 1\n[enforced.drill]\nevery = "2h"\nsnooze = "10m"\n'
        '[limits.drill]\nevery = { max = "1h" }\n',
    )
    e = load(user(tmp_path, '[drill]\nevery = "90m"\n'), policy_files=[pfile])
    assert e.values["drill.every"] == 3600.0  # the user's 90m, clamped
    assert e.values["drill.snooze"] == 600.0  # the rest of the policy applies
    assert "drill.every" not in e.locked
    (diag,) = e.errors
    assert diag.format() == (
        f"{pfile}:3:9: error: enforced.drill.every: enforced value 2h is outside the"
        f" policy's own limits (at most 1h, {pfile}:6); entry ignored\n"
        '   3 | every = "2h"\n'
        "               ^"
    )


# ---------------------------------------------------------------- bad policy


def test_a_bad_entry_disables_only_itself(tmp_path: Path) -> None:
    pfile = policy(
        tmp_path,
        'schema = 1\n[defaults.drill]\nevery = "twenty"\nsnooze = "10m"\n'
        '[enforced.history]\nkeep_days = "lots"\nenabled = false\n'
        '[limits.posture]\nevery = { max = "x" }\n[limits.drill]\nprelude = { max = "30s" }\n',
    )
    e = load(None, policy_files=[pfile])  # never raises for policy problems
    assert e.values["drill.every"] == 1800.0
    assert e.values["drill.snooze"] == 600.0
    assert e.values["history.keep_days"] == 90
    assert e.values["history.enabled"] is False
    assert "posture.every" not in e.limits
    assert e.values["drill.prelude"] == 30.0
    assert [d.key for d in e.errors] == [
        "defaults.drill.every",
        "enforced.history.keep_days",
        "limits.posture.every.max",
    ]
    assert all(d.line is not None and d.col is not None and d.source for d in e.errors)


def test_a_policy_file_with_a_syntax_error_is_skipped_and_the_others_apply(
    tmp_path: Path,
) -> None:
    good = policy(tmp_path, "schema = 1\n[enforced.quiet]\nenabled = true\n", "a.toml")
    bad = policy(tmp_path, "schema = 1\n[enforced.history]\nkeep_days = 30\n[oops\n", "b.toml")
    e = load(user(tmp_path, "[quiet]\nenabled = false\n"), policy_files=[good, bad])
    assert e.values["quiet.enabled"] is True
    assert e.values["history.keep_days"] == 90  # nothing from the broken file
    assert e.policy_files == (good,)
    assert headlines(e.errors) == [
        f"{bad}:4:6: error: invalid TOML: expected ']' at the end of a table declaration",
        f"{bad}: error: policy file skipped: it is not valid TOML; other policy files still apply",
    ]


def test_policy_problems_never_stop_a_user_from_loading(tmp_path: Path) -> None:
    """Policy entries that break a rule only together with the built-in defaults are
    dropped one by one, so nobody is left without settings."""
    pfile = policy(
        tmp_path,
        "schema = 1\n"
        '[defaults.activity]\nidle_pause = "10m"\n'
        '[limits.activity]\nnatural_break = { max = "30s" }\n'
        '[enforced.routines]\nprefer_seated = true\nexclude_tags = ["seated"]\n',
    )
    e = load(None, policy_files=[pfile])
    assert [d.key for d in e.errors] == [
        "limits.activity.natural_break",
        "defaults.activity.idle_pause",
        "enforced.routines.exclude_tags",
    ]
    assert e.values["activity.idle_pause"] == 60.0
    assert e.values["activity.natural_break"] == 300.0
    assert e.values["routines.prefer_seated"] is True  # the entry that could stay
    assert e.content is not None
    assert all("seated" in d.tags for d in e.content.drills)


def test_a_user_value_that_clashes_with_policy_is_the_users_error(tmp_path: Path) -> None:
    pfile = policy(tmp_path, 'schema = 1\n[enforced.activity]\nidle_pause = "3m"\n')
    ufile = user(tmp_path, '[activity]\nnatural_break = "2m"\n')
    with pytest.raises(ConfigError) as caught:
        load(ufile, policy_files=[pfile])
    (diag,) = caught.value.diagnostics
    assert diag.format() == (
        f"{ufile}:2:17: error: activity.natural_break: must be longer than"
        " activity.idle_pause (3m), got 2m\n"
        '   2 | natural_break = "2m"\n'
        "                       ^\n"
        "     = activity.idle_pause = 3m comes from your organization's policy"
        f" ({pfile}:3)"
    )


def test_an_empty_rotation_chosen_by_the_user_is_the_users_error(tmp_path: Path) -> None:
    pfile = policy(tmp_path, 'schema = 1\n[enforced.routines]\nexclude_tags = ["seated"]\n')
    ufile = user(tmp_path, "[routines]\nprefer_seated = true\n")
    with pytest.raises(ConfigError) as caught:
        load(ufile, policy_files=[pfile])
    (diag,) = [d for d in caught.value.diagnostics if d.severity == "error"]
    assert diag.path == str(ufile)
    assert diag.message.startswith("no drill is eligible")


def test_unknown_routine_ids_from_policy_are_reported_at_the_policy(tmp_path: Path) -> None:
    pfile = policy(
        tmp_path, 'schema = 1\n[defaults.routines]\nonly = ["hinge_wal", "hinge_wall"]\n'
    )
    e = load(None, policy_files=[pfile])
    (warning,) = e.warnings
    assert warning.headline() == (
        f'{pfile}:3:8: warning: defaults.routines.only: unknown routine "hinge_wal" (ignored)'
    )
    assert e.content is not None
    assert [d.id for d in e.content.drills] == ["hinge_wall"]


# --------------------------------------------------------- discovery, policy.d


def test_policy_d_is_read_in_lexical_order_and_later_files_win(etc: Path) -> None:
    write(etc / "policy.toml", '[meta]\norganization = "A"\n[defaults.drill]\nevery = "45m"\n')
    write(etc / "policy.d" / "20-b.toml", '[defaults.drill]\nevery = "50m"\n')
    write(etc / "policy.d" / "10-a.toml", '[defaults.drill]\nevery = "40m"\nsnooze = "9m"\n')
    write(etc / "policy.d" / "30-c.toml", '[meta]\norganization = "C"\n')
    e = load(None)
    assert e.policy_files == (
        etc / "policy.toml",
        etc / "policy.d" / "10-a.toml",
        etc / "policy.d" / "20-b.toml",
        etc / "policy.d" / "30-c.toml",
    )
    assert e.values["drill.every"] == 3000.0
    assert e.origins["drill.every"] == Origin(
        "policy default", str(etc / "policy.d" / "20-b.toml"), 2
    )
    assert e.values["drill.snooze"] == 540.0
    assert e.organization == "C"
    assert e.managed


def test_limits_from_several_files_merge_bound_by_bound(etc: Path) -> None:
    write(etc / "policy.toml", '[limits.drill]\nevery = { max = "1h" }\n')
    write(etc / "policy.d" / "10.toml", '[limits.drill]\nevery = { min = "20m" }\n')
    e = load(None)
    limit = e.limits["drill.every"]
    assert (limit.min, limit.max) == (1200.0, 3600.0)
    assert limit.origin.path == str(etc / "policy.d" / "10.toml")
    write(etc / "policy.d" / "20.toml", '[limits.drill]\nevery = { min = "2h" }\n')
    e = load(None)
    assert (e.limits["drill.every"].min, e.limits["drill.every"].max) == (1200.0, 3600.0)
    (diag,) = e.errors
    assert diag.headline() == (
        f"{etc}/policy.d/20.toml:2:9: error: limits.drill.every: min 2h is above max 1h"
        f" (with the bound from {etc}/policy.toml:2); entry ignored"
    )


def test_hidden_and_non_toml_files_in_policy_d_are_not_read(etc: Path) -> None:
    write(etc / "policy.d" / ".10.toml.swp", '[defaults.drill]\nevery = "40m"\n')
    write(etc / "policy.d" / ".20.toml", '[defaults.drill]\nevery = "40m"\n')
    write(etc / "policy.d" / "30.toml.bak", '[defaults.drill]\nevery = "40m"\n')
    (etc / "policy.d" / "40.toml").mkdir()
    e = load(None)
    assert e.policy_files == ()
    assert e.values["drill.every"] == 1800.0


def test_no_policy_folder_means_no_policy(tmp_path: Path) -> None:
    e = load(None)
    assert e.policy_files == ()
    assert not e.managed
    assert not (tmp_path / "etc").exists()


def test_the_user_file_cannot_hold_policy(tmp_path: Path) -> None:
    ufile = user(tmp_path, "[enforced.quiet]\nenabled = false\n[limits.drill]\nevery = 1\n")
    e = load(ufile, policy_files=[])
    assert e.locked == {}
    assert e.limits == {}
    assert headlines(e.warnings) == [
        f"{ufile}:1:1: warning: enforced: unknown table (ignored)",
        f"{ufile}:3:1: warning: limits: unknown table (ignored)",
    ]


@pytest.mark.parametrize("how", ["env", "flag"])
def test_config_env_and_flag_choose_the_user_file_but_never_move_policy(
    tmp_path: Path, etc: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    elsewhere = tmp_path / "elsewhere"
    write(elsewhere / "config.toml", '[drill]\nevery = "40m"\n')
    # Policy-looking files next to the chosen user file must not count.
    write(elsewhere / "policy.toml", '[enforced.drill]\nevery = "2h"\n')
    write(elsewhere / "policy.d" / "x.toml", '[enforced.drill]\nevery = "2h"\n')
    write(etc / "policy.toml", "[enforced.quiet]\nenabled = true\n")
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(elsewhere))
    argv = ["--json"]
    if how == "env":
        monkeypatch.setenv("ERGOBREAK_CONFIG", str(elsewhere / "config.toml"))
    else:
        argv += ["--config", str(elsewhere / "config.toml")]
    code, out, _ = show(*argv)
    assert code == 0
    data = json.loads(out)
    assert data["user_file"] == str(elsewhere / "config.toml")
    assert data["policy_files"] == [str(etc / "policy.toml")]
    assert data["values"]["drill.every"] == "40m"
    assert data["locked"] == {
        "quiet.enabled": {"layer": "enforced", "path": str(etc / "policy.toml"), "line": 2}
    }
    found = paths.paths(elsewhere / "config.toml")
    assert found.config_file == elsewhere / "config.toml"
    assert found.policy_file == etc / "policy.toml"
    assert found.policy_d == etc / "policy.d"


def test_the_flag_beats_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERGOBREAK_CONFIG", str(tmp_path / "env.toml"))
    assert paths.paths().config_file == tmp_path / "env.toml"
    assert paths.paths(tmp_path / "flag.toml").config_file == tmp_path / "flag.toml"
    monkeypatch.delenv("ERGOBREAK_CONFIG")
    assert paths.paths().config_file.name == "config.toml"


# ------------------------------------------------------------------ ownership


def refused(e: Effective) -> list[str]:
    return [d.message for d in e.errors if d.message.startswith("policy file refused")]


@needs_root
def test_a_policy_file_not_owned_by_root_is_refused(etc: Path) -> None:
    path = write(etc / "policy.toml", "[enforced.quiet]\nenabled = false\n")
    os.chown(path, 1000, 1000)
    e = load(None)
    assert refused(e) == [f"policy file refused: {path} is owned by uid 1000, not root"]
    (diag,) = e.errors
    assert diag.hint == (
        "install policy files as root:root, mode 0644, in directories only root can write"
    )
    assert e.values["quiet.enabled"] is True
    assert e.policy_files == ()
    # Given explicitly (a draft for `config check --policy`), the same file is read.
    assert load(None, policy_files=[path]).values["quiet.enabled"] is False


@needs_root
@pytest.mark.parametrize(("mode", "shown"), [(0o666, "-rw-rw-rw-"), (0o620, "-rw--w----")])
def test_a_policy_file_writable_by_others_is_refused(etc: Path, mode: int, shown: str) -> None:
    path = write(etc / "policy.toml", "[enforced.quiet]\nenabled = false\n", mode)
    good = write(etc / "policy.d" / "10.toml", '[defaults.drill]\nevery = "40m"\n')
    e = load(None)
    assert refused(e) == [
        f"policy file refused: {path} is writable by group or others (mode {shown})"
    ]
    assert e.values["quiet.enabled"] is True
    assert e.values["drill.every"] == 2400.0  # the other file still applies
    assert e.policy_files == (good,)


@needs_root
@pytest.mark.parametrize("folder", ["etc", "policy.d"])
def test_a_policy_folder_writable_by_others_makes_its_files_refused(etc: Path, folder: str) -> None:
    write(etc / "policy.d" / "10.toml", '[defaults.drill]\nevery = "40m"\n')
    target = etc if folder == "etc" else etc / "policy.d"
    target.chmod(0o777)
    e = load(None)
    assert refused(e) == [
        f"policy file refused: {target} is writable by group or others (mode drwxrwxrwx)"
    ]
    assert e.values["drill.every"] == 1800.0


@needs_root
def test_a_symlinked_policy_file_is_checked_where_it_points(tmp_path: Path, etc: Path) -> None:
    target = write(tmp_path / "someones" / "policy.toml", "[enforced.quiet]\nenabled = false\n")
    os.chown(target, 1000, 1000)
    (etc / "policy.toml").symlink_to(target)
    e = load(None)
    assert refused(e) == [f"policy file refused: {target} is owned by uid 1000, not root"]


@needs_root
def test_config_check_on_an_unsafe_draft_warns_how_it_would_be_refused(tmp_path: Path) -> None:
    draft = policy(tmp_path, "schema = 1\n[enforced.quiet]\nenabled = true\n")
    draft.chmod(0o664)
    code, out, err = cli("config", "check", "--policy", str(draft))
    assert code == 0  # a draft is not installed yet: a warning
    assert err.splitlines()[0] == (
        f"{draft}: warning: once installed this would be refused:"
        f" {draft} is writable by group or others (mode -rw-rw-r--)"
    )
    assert out == f"{draft}: OK (1 warning)\n"


def test_unsafe_reason_accepts_a_root_owned_file(etc: Path) -> None:
    path = write(etc / "policy.toml", "")
    if os.geteuid() == 0:
        assert unsafe_reason(path, root=etc) is None
    else:
        assert "not root" in (unsafe_reason(path, root=etc) or "")


# --------------------------------------------------------------- live reload


def test_try_load_returns_new_immutable_settings_or_every_error(tmp_path: Path) -> None:
    ufile = user(tmp_path, '[drill]\nevery = "40m"\n')
    first = try_load(ufile, policy_files=[])
    assert isinstance(first, Effective)
    assert first.values["drill.every"] == 2400.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.settings = first.settings  # type: ignore[misc]
    with pytest.raises(TypeError):
        first.values["drill.every"] = 1.0  # type: ignore[index]
    with pytest.raises(TypeError):
        first.origins["drill.every"] = first.origins["drill.snooze"]  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.settings.drill.every = 1.0  # type: ignore[misc]

    user(tmp_path, '[drill]\nevery = "twenty"\nmax_snoozes = 99\nevry = 1\n')
    failed = try_load(ufile, policy_files=[])
    assert isinstance(failed, list)
    assert [(d.severity, d.key) for d in failed] == [
        ("error", "drill.every"),
        ("error", "drill.max_snoozes"),
        ("warning", "drill.evry"),
    ]
    # The daemon keeps its last good settings: `first` is untouched.
    assert first.values["drill.every"] == 2400.0

    user(tmp_path, '[drill]\nevery = "50m"\n')
    second = try_load(ufile, policy_files=[])
    assert isinstance(second, Effective)
    assert second is not first
    assert second.values["drill.every"] == 3000.0


def test_try_load_never_raises_for_policy_problems(tmp_path: Path) -> None:
    pfile = policy(tmp_path, "schema = 1\n[enforced.quiet\n")
    result = try_load(None, policy_files=[pfile])
    assert isinstance(result, Effective)
    assert len(result.errors) == 2


def snapshot(root: Path) -> dict[str, tuple[int, int, int]]:
    return {
        str(p.relative_to(root)): (p.stat().st_mtime_ns, p.stat().st_size, p.stat().st_ino)
        for p in sorted(root.rglob("*"))
    }


@pytest.mark.parametrize("state", ["nothing", "files", "errors"])
def test_loading_never_writes(tmp_path: Path, etc: Path, state: str) -> None:
    if state != "nothing":
        bad = state == "errors"
        write(etc / "policy.toml", '[defaults.drill]\nevery = "40m"\n' + ("[x\n" if bad else ""))
        write(etc / "policy.d" / "1.toml", '[limits.drill]\nevery = { max = "1h" }\n')
        user(tmp_path, '[drill]\nevery = "2h"\n' + ('snooze = "x"\n' if bad else ""))
    before = snapshot(tmp_path)
    ufile = tmp_path / "home" / "config.toml"
    for _ in range(2):
        try_load(ufile)
        try_load(None)
        with pytest.raises(ConfigError) if state == "errors" else contextlib.nullcontext():
            load(ufile)
        for argv in (["check"], ["show", "--origin"], ["show", "--json"], ["paths"]):
            cli("config", *argv)
    assert snapshot(tmp_path) == before


def test_a_missing_user_file_is_not_created_by_loading(tmp_path: Path) -> None:
    ufile = tmp_path / "home" / "config.toml"
    e = load(ufile, policy_files=[])
    assert e.user_file == ufile
    assert not ufile.exists()
    assert not ufile.parent.exists()


def test_a_user_file_that_is_a_directory_is_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "home" / "config.toml"
    folder.mkdir(parents=True)
    result = try_load(folder, policy_files=[])
    assert isinstance(result, list)
    assert [d.headline() for d in result] == [
        f"{folder}: error: not a regular file: it is a directory; nothing was read"
    ]


def test_policy_files_must_be_regular_files(etc: Path) -> None:
    assert stat.S_ISDIR(etc.stat().st_mode)
    (etc / "policy.toml").mkdir()
    assert load(None).policy_files == ()
