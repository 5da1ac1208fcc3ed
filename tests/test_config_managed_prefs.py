"""Policy from macOS managed preferences (issue 19, item 3): real plist files (XML and
binary, written by plistlib) in a folder laid out as ``/Library/Managed Preferences``,
owned by root as macOS keeps them; every key type, every bad value class, broken and
unsafe files, and the user's file over the machine's."""

from __future__ import annotations

import os
import plistlib
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from chosen_policy import CHOSEN, as_toml, parsed
from scaffold import require_root

from ergobreak.config import channels
from ergobreak.config.layers import Effective, load
from ergobreak.config.managed_prefs import ManagedPrefsSource, managed_prefs_sources
from ergobreak.config.origin import Origin
from ergobreak.config.schema import defaults

pytestmark = pytest.mark.usefixtures("isolated")

USER = "alice"


@pytest.fixture(autouse=True)
def _root() -> None:
    require_root("managed preferences are trusted only when root owns them")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """``/Library/Managed Preferences`` (root's, mode 0755)."""
    base = tmp_path / "Library" / "Managed Preferences"
    base.mkdir(parents=True)
    base.chmod(0o755)
    return base


def write_plist(
    folder: Path, data: dict[str, Any], *, user: str | None = None, fmt: Any = plistlib.FMT_XML
) -> Path:
    path = (folder / user if user else folder) / f"{channels.BUNDLE_ID}.plist"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(plistlib.dumps(data, fmt=fmt))
    path.chmod(0o644)
    return path


def load_from(folder: Path, files: list[Path] | None = None) -> Effective:
    sources = managed_prefs_sources(folder, USER)
    return load(None, policy_files=files or [], policy_sources=sources)


def chosen_plist() -> dict[str, Any]:
    data: dict[str, Any] = {}
    for table, name, raw in CHOSEN:
        value = channels.encode_plist(name, parsed(table, name, raw), table)
        subkey = channels.SUBKEYS[table]
        (data.setdefault(subkey, {}) if subkey else data)[name] = value
    return data


@pytest.mark.parametrize("fmt", [plistlib.FMT_XML, plistlib.FMT_BINARY])
def test_every_key_type_in_every_table_reads_as_the_same_policy_toml(
    tmp_path: Path, folder: Path, fmt: Any
) -> None:
    machine = write_plist(folder, chosen_plist(), fmt=fmt)
    toml = tmp_path / "policy.toml"
    toml.write_text(as_toml(), encoding="utf-8")
    from_plist, from_file = load_from(folder), load(None, policy_files=[toml])
    assert [d.headline() for d in from_plist.diagnostics] == []
    assert dict(from_plist.values) == dict(from_file.values) != defaults()
    assert from_plist.settings == from_file.settings
    assert set(from_plist.locked) == set(from_file.locked)
    assert from_plist.organization == "Example Corp"
    assert from_plist.origins["drill.every"] == Origin("enforced", f"{machine}: drill.every")
    assert from_plist.origins["drill.snooze"] == Origin(
        "policy default", f"{machine}: Recommended/drill.snooze"
    )
    assert from_plist.limits["posture.every"].max_origin == Origin(
        "limit", f"{machine}: Limits/posture.every.max"
    )
    assert from_plist.policy_channels == (str(machine),)


BAD_VALUES = [
    ("drill.every", 5, 'expected <string> (a duration like "20m"), got <integer> 5'),
    ("drill.every", 30.0, 'expected <string> (a duration like "20m"), got <real> 30.0'),
    ("drill.max_snoozes", True, "expected <integer> (a whole number), got <true/>"),
    ("quiet.enabled", 1, "expected <boolean> (true or false), got <integer> 1"),
    ("quiet.enabled", b"\x01", "expected <boolean> (true or false), got <data>"),
    (
        "schedule.days",
        "mon",
        'expected <array> (day names like ["mon", "tue"]), got <string> "mon"',
    ),
    ("drill.every", {"every": "5m"}, 'expected <string> (a duration like "20m"), got <dict>'),
    ("drill.every", "5s", "must be at least 10s, got 5s (allowed: 10s to 8h)"),
    ("drill.max_snoozes", 11, "must be at most 10, got 11 (allowed: 0 to 10)"),
    ("drill.every", "soon", None),
    ("schedule.days", [], "expected at least one working day, got an empty array"),
    ("routines.categories", ["hip_flexor", 3], None),
    ("routines.equipment", ["wal"], None),
]


@pytest.mark.parametrize(("name", "data", "message"), BAD_VALUES)
def test_a_bad_value_names_the_file_and_key_and_only_it_is_ignored(
    tmp_path: Path, folder: Path, name: str, data: Any, message: str | None
) -> None:
    machine = write_plist(folder, {name: data, "posture.every": "25m"})
    e = load_from(folder)
    (error,) = e.errors
    assert error.path == f"{machine}: {name}"
    if message is not None:
        assert error.headline() == f"{machine}: {name}: error: {message}; entry ignored"
    else:  # the schema's own words, exactly as policy.toml gets them
        toml = tmp_path / "p.toml"
        toml.write_text(f"[enforced]\n{name} = {_toml(data)}\n", encoding="utf-8")
        (file_error,) = load(None, policy_files=[toml]).errors
        assert error.message == f"{file_error.message}; entry ignored"
    assert e.policy_errors == (error,)
    assert e.values["posture.every"] == 1500


def test_a_date_is_a_value_of_the_wrong_type(folder: Path) -> None:
    machine = write_plist(folder, {"drill.every": datetime(2026, 1, 1)})
    (error,) = load_from(folder).errors
    assert error.path == f"{machine}: drill.every"
    assert error.message == 'expected <string> (a duration like "20m"), got <date>; entry ignored'


def _toml(data: Any) -> str:
    from ergobreak.config.values import format_toml

    return format_toml(data)


def test_unknown_keys_are_warnings_with_a_did_you_mean(folder: Path) -> None:
    machine = write_plist(
        folder,
        {
            "drill.evrey": "45m",
            "Recommended": {"postur.every": "25m"},
            "Limits": {"drill.every.mx": "1h"},
        },
    )
    e = load_from(folder)
    assert [(d.severity, d.path, d.hint) for d in e.diagnostics] == [
        ("warning", f"{machine}: Recommended/postur.every", "did you mean posture.every?"),
        ("warning", f"{machine}: Limits/drill.every.mx", "did you mean drill.every.max?"),
        ("warning", f"{machine}: drill.evrey", "did you mean drill.every?"),
    ]
    assert e.policy_errors == ()


def test_a_recommended_that_is_not_a_dict_is_an_error_and_the_rest_applies(folder: Path) -> None:
    machine = write_plist(folder, {"Recommended": ["drill.every"], "drill.every": "45m"})
    e = load_from(folder)
    assert [d.headline() for d in e.errors] == [
        f"{machine}: Recommended: error: expected a <dict> of defaults values, got a list;"
        " entry ignored"
    ]
    assert e.policy_errors == e.errors
    assert e.values["drill.every"] == 45 * 60


BROKEN = {
    "not a plist": b"drill.every = 45m\n",
    "truncated XML": plistlib.dumps({"drill.every": "45m"})[:-20],
    "not a dict": plistlib.dumps(["drill.every"]),
}


@pytest.mark.parametrize("how", list(BROKEN))
def test_a_broken_plist_is_a_broken_policy(folder: Path, how: str) -> None:
    machine = write_plist(folder, {})
    machine.write_bytes(BROKEN[how])
    e = load_from(folder)
    (error,) = e.errors
    assert error.path == str(machine)
    assert error.message.startswith("policy cannot be read: ")
    assert error.message.endswith("; other policies still apply")
    assert e.policy_errors == (error,)
    assert not e.policy_current
    assert [(s.name, s.error is not None) for s in e.policy_sources] == [(str(machine), True)]


def test_a_folder_where_the_plist_should_be_is_a_broken_policy(folder: Path) -> None:
    (folder / f"{channels.BUNDLE_ID}.plist").mkdir()
    e = load_from(folder)
    (error,) = e.errors
    assert error.message == (
        "policy cannot be read: not a regular file: it is a directory; nothing was read;"
        " other policies still apply"
    )


@pytest.mark.parametrize("how", ["owned by a user", "writable by others", "user folder"])
def test_an_unsafe_plist_is_refused_like_a_policy_file(folder: Path, how: str) -> None:
    path = write_plist(folder, {"drill.every": "45m"}, user=USER if how == "user folder" else None)
    if how == "owned by a user":
        os.chown(path, 1000, 1000)
        reason = f"{path} is owned by uid 1000, not root"
    elif how == "writable by others":
        path.chmod(0o666)
        reason = f"{path} is writable by group or others (mode -rw-rw-rw-)"
    else:
        path.parent.chmod(0o777)
        reason = f"{path.parent} is writable by group or others (mode drwxrwxrwx)"
    e = load_from(folder)
    (error,) = e.errors
    assert error.headline() == (
        f"{path}: error: policy refused: {reason}; other policies still apply"
    )
    assert e.values["drill.every"] == 30 * 60


def test_the_users_file_wins_over_the_machines_key_by_key(folder: Path) -> None:
    machine = write_plist(
        folder,
        {"drill.every": "45m", "posture.every": "25m", "Limits": {"drill.snooze.max": "15m"}},
    )
    mine = write_plist(
        folder, {"drill.every": "1h", "Limits": {"drill.snooze.min": "6m"}}, user=USER
    )
    write_plist(folder, {"posture.every": "2h"}, user="bob")  # another user's: never read
    e = load_from(folder)
    assert [d.headline() for d in e.diagnostics] == []
    assert e.origins["drill.every"] == Origin("enforced", f"{mine}: drill.every")
    assert e.values["drill.every"] == 3600
    assert e.origins["posture.every"] == Origin("enforced", f"{machine}: posture.every")
    limit = e.limits["drill.snooze"]
    assert (limit.min, limit.max) == (6 * 60, 15 * 60)
    assert [s.name for s in e.policy_sources] == [str(mine), str(machine)]


def test_the_user_is_the_login_of_the_process_not_the_environment(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pwd

    monkeypatch.setenv("USER", "bob")
    monkeypatch.setenv("LOGNAME", "bob")
    mine, machine = managed_prefs_sources(folder)
    login = pwd.getpwuid(os.getuid()).pw_name
    assert mine.path == folder / login / f"{channels.BUNDLE_ID}.plist"
    assert machine.path == folder / f"{channels.BUNDLE_ID}.plist"
    # and the real paths are macOS's
    real, _ = managed_prefs_sources(user=USER)
    assert str(real.path) == f"/Library/Managed Preferences/{USER}/org.ergobreak.plist"


def test_no_plist_means_no_managed_preferences(folder: Path) -> None:
    e = load_from(folder)
    assert (e.diagnostics, e.policy_sources, e.managed) == ((), (), False)
    assert ManagedPrefsSource(folder / "none.plist", folder).read() is None
