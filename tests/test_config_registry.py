r"""Policy from the Windows registry (issue 19, item 2), over a fake ``winreg``: every key
type, every bad value class, missing keys, access denied, HKLM over HKCU, and the
same diagnostics as policy.toml naming the registry path and value name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from chosen_policy import CHOSEN, as_toml, parsed
from fake_winreg import REG, FakeRegistry

from ergobreak.config import channels
from ergobreak.config.layers import Effective, load
from ergobreak.config.origin import Origin
from ergobreak.config.registry import MAX_VALUES, RegistrySource, registry_sources
from ergobreak.config.schema import KEYS, defaults

pytestmark = pytest.mark.usefixtures("isolated")

HKLM = r"HKLM\Software\Policies\ergobreak"
HKCU = r"HKCU\Software\Policies\ergobreak"


def registry(*values: tuple[str, str, Any, str]) -> FakeRegistry:
    """``(key, value name, data, type name)`` values in a fresh fake registry."""
    reg = FakeRegistry()
    for key, name, data, type_name in values:
        reg.set(key, name, data, REG[type_name])
    return reg


def load_from(reg: FakeRegistry, files: list[Path] | None = None) -> Effective:
    return load(None, policy_files=files or [], policy_sources=registry_sources(reg))


def problems(e: Effective) -> list[str]:
    return [d.headline() for d in e.diagnostics]


def test_every_key_type_in_every_table_reads_as_the_same_policy_toml(tmp_path: Path) -> None:
    reg = FakeRegistry()
    for table, name, raw in CHOSEN:
        data, reg_type = channels.encode_registry(name, parsed(table, name, raw), table)
        reg.set(channels.registry_key("HKLM", table), name, data, reg_type)
    toml = tmp_path / "policy.toml"
    toml.write_text(as_toml(), encoding="utf-8")
    from_registry, from_file = load_from(reg), load(None, policy_files=[toml])
    assert problems(from_registry) == problems(from_file) == []
    assert dict(from_registry.values) == dict(from_file.values) != defaults()
    assert from_registry.settings == from_file.settings
    assert set(from_registry.locked) == set(from_file.locked)
    assert {k: (v.min, v.max) for k, v in from_registry.limits.items()} == {
        k: (v.min, v.max) for k, v in from_file.limits.items()
    }
    assert (from_registry.organization, from_registry.contact) == ("Example Corp", "it@example.com")
    # Every value says which registry value it came from.
    assert from_registry.origins["drill.every"] == Origin("enforced", HKLM + r"\drill.every")
    assert from_registry.origins["drill.snooze"] == Origin(
        "policy default", HKLM + r"\Recommended\drill.snooze"
    )
    limit = from_registry.limits["posture.every"]
    assert (limit.min_origin, limit.max_origin) == (
        Origin("limit", HKLM + r"\Limits\posture.every.min"),
        Origin("limit", HKLM + r"\Limits\posture.every.max"),
    )
    assert from_registry.managed
    assert from_registry.policy_channels == (HKLM,)


def test_every_schema_key_can_be_enforced_through_the_registry() -> None:
    reg = FakeRegistry()
    for key in KEYS:
        data, reg_type = channels.encode_registry(key.name, key.builtin)
        reg.set(HKLM, key.name, data, reg_type)
    e = load_from(reg)
    assert problems(e) == []
    assert set(e.locked) == {key.name for key in KEYS}
    assert all(o.path == f"{HKLM}\\{k}" for k, o in e.origins.items())


BAD_VALUES = [
    # wrong registry type, one per type the registry has
    (
        "drill.every",
        5,
        "REG_DWORD",
        'expected REG_SZ (a duration like "20m"), got REG_DWORD integer 5',
    ),
    (
        "drill.every",
        "%BREAK%",
        "REG_EXPAND_SZ",
        'expected REG_SZ (a duration like "20m"), got REG_EXPAND_SZ "%BREAK%"',
    ),
    (
        "drill.max_snoozes",
        3,
        "REG_QWORD",
        "expected REG_DWORD (a whole number), got REG_QWORD integer 3",
    ),
    (
        "quiet.enabled",
        b"\x01",
        "REG_BINARY",
        "expected REG_DWORD (true or false), got REG_BINARY bytes",
    ),
    (
        "schedule.days",
        "mon",
        "REG_SZ",
        'expected REG_MULTI_SZ (day names like ["mon", "tue"]), got REG_SZ "mon"',
    ),
    (
        "drill.every",
        ["30m"],
        "REG_MULTI_SZ",
        'expected REG_SZ (a duration like "20m"), got REG_MULTI_SZ ["30m"]',
    ),
    # right type, bad value: the schema's own messages, as for policy.toml
    ("quiet.enabled", 2, "REG_DWORD", "expected REG_DWORD 0 (false) or 1 (true), got 2"),
    ("drill.every", "5s", "REG_SZ", "must be at least 10s, got 5s (allowed: 10s to 8h)"),
    ("drill.max_snoozes", 11, "REG_DWORD", "must be at most 10, got 11 (allowed: 0 to 10)"),
    ("drill.every", "half an hour", "REG_SZ", None),
    ("schedule.days", [], "REG_MULTI_SZ", "expected at least one working day, got an empty array"),
    (
        "schedule.days",
        ["mon", "funday"],
        "REG_MULTI_SZ",
        'expected day names mon, tue, wed, thu, fri, sat, sun (or "mon-fri"), got "funday"',
    ),
    (
        "routines.exclude_tags",
        ["kneeling", "kneeling"],
        "REG_MULTI_SZ",
        '"kneeling" is listed twice',
    ),
    ("meta.organization", 7, "REG_DWORD", "expected REG_SZ (a string), got REG_DWORD integer 7"),
]


@pytest.mark.parametrize(("name", "data", "type_name", "message"), BAD_VALUES)
def test_a_bad_value_names_the_registry_path_and_value_and_only_it_is_ignored(
    tmp_path: Path, name: str, data: Any, type_name: str, message: str | None
) -> None:
    reg = registry((HKLM, name, data, type_name), (HKLM, "posture.every", "25m", "REG_SZ"))
    e = load_from(reg)
    (error,) = e.errors
    assert error.path == f"{HKLM}\\{name}"
    assert error.message.endswith("; entry ignored")
    if message is not None:
        assert error.headline() == f"{HKLM}\\{name}: error: {message}; entry ignored"
    else:  # the duration parser's own words, exactly as policy.toml gets them
        toml = tmp_path / "p.toml"
        toml.write_text(f'[enforced]\n{name} = "{data}"\n', encoding="utf-8")
        (file_error,) = load(None, policy_files=[toml]).errors
        assert error.message == f"{file_error.message}; entry ignored"
    assert e.policy_errors == (error,)
    assert e.values["posture.every"] == 1500  # the rest of the key applies
    assert name not in e.locked


def test_unknown_value_names_and_subkeys_are_warnings_with_a_did_you_mean() -> None:
    reg = registry(
        (HKLM, "drill.evrey", "45m", "REG_SZ"),
        (HKLM + r"\Recommended", "postur.every", "25m", "REG_SZ"),
        (HKLM + r"\Limits", "drill.every.maximum", "1h", "REG_SZ"),
        (HKLM + r"\Recomended", "drill.every", "45m", "REG_SZ"),
        (HKLM + r"\Recommended", "meta.contact", "it@example.com", "REG_SZ"),
    )
    e = load_from(reg)
    assert [(d.severity, d.path, d.message, d.hint) for d in e.diagnostics] == [
        ("warning", HKLM + r"\Recomended", "unknown subkey (ignored)", "did you mean Recommended?"),
        ("warning", HKLM + r"\drill.evrey", "unknown value (ignored)", "did you mean drill.every?"),
        (
            "warning",
            HKLM + r"\Recommended\postur.every",
            "unknown value (ignored)",
            "did you mean posture.every?",
        ),
        (
            "warning",
            HKLM + r"\Recommended\meta.contact",
            "unknown value (ignored)",
            "meta.contact belongs in the policy key itself, not in a subkey",
        ),
        (
            "warning",
            HKLM + r"\Limits\drill.every.maximum",
            "unknown value (ignored)",
            "did you mean drill.every.max?",
        ),
    ]
    assert e.policy_errors == ()  # warnings never make the policy broken
    assert dict(e.values) == defaults()


def test_value_names_and_subkeys_match_without_case_as_windows_does() -> None:
    reg = registry(
        (HKLM, "Drill.Every", "45m", "REG_SZ"),
        (HKLM + r"\recommended", "POSTURE.EVERY", "25m", "REG_SZ"),
    )
    e = load_from(reg)
    assert problems(e) == []
    assert e.origins["drill.every"] == Origin("enforced", HKLM + r"\drill.every")
    assert e.origins["posture.every"] == Origin(
        "policy default", HKLM + r"\Recommended\posture.every"
    )


def test_limits_are_checked_like_policy_toml_limits() -> None:
    reg = registry(
        (HKLM + r"\Limits", "drill.every.min", "1h", "REG_SZ"),
        (HKLM + r"\Limits", "drill.every.max", "20m", "REG_SZ"),
        (HKLM + r"\Limits", "quiet.enabled.min", 1, "REG_DWORD"),
        (HKLM + r"\Limits", "drill.snooze.max", "3d", "REG_SZ"),
        (HKLM + r"\Limits", "drill.max_snoozes.max", 4, "REG_DWORD"),
    )
    e = load_from(reg)
    assert [d.headline() for d in e.errors] == [
        HKLM + r"\Limits\quiet.enabled.min: error: limits apply to durations and numbers;"
        " quiet.enabled is true or false; entry ignored",
        HKLM
        + r"\Limits\drill.every.min: error: min 1h is above max 20m (with the bound from "
        + HKLM
        + r"\Limits\drill.every.max); entry ignored",
        HKLM + r"\Limits\drill.snooze.max: error:"
        ' expected a duration like "20m", got "3d"; entry ignored',
    ]
    assert set(e.limits) == {"drill.max_snoozes"}
    assert e.limits["drill.max_snoozes"].max == 4


def test_an_enforced_value_outside_the_registrys_own_limits_is_dropped() -> None:
    reg = registry(
        (HKLM, "drill.every", "2h", "REG_SZ"),
        (HKLM + r"\Limits", "drill.every.max", "1h", "REG_SZ"),
    )
    e = load_from(reg)
    (error,) = e.errors
    assert error.path == HKLM + r"\drill.every"
    assert error.key is None  # the path already names the value
    assert "outside the policy's own limits" in error.message
    assert e.values["drill.every"] == 1800


def test_no_policy_key_means_no_registry_policy() -> None:
    reg = registry((r"HKLM\Software\Policies\Other", "drill.every", "45m", "REG_SZ"))
    e = load_from(reg)
    assert (problems(e), e.policy_sources, e.managed) == ([], (), False)
    assert RegistrySource(reg, "HKCU").read() is None


@pytest.mark.parametrize("where", ["", r"\Recommended", r"\Limits"])
def test_a_key_that_cannot_be_read_is_a_broken_policy(where: str) -> None:
    reg = registry(
        (HKLM, "drill.every", "45m", "REG_SZ"),
        (HKLM + r"\Recommended", "posture.every", "25m", "REG_SZ"),
        (HKLM + r"\Limits", "drill.every.max", "1h", "REG_SZ"),
    )
    reg.key(HKLM + where).denied = True
    e = load_from(reg)
    (error,) = e.errors
    assert error.headline() == (
        f"{HKLM}: error: policy cannot be read: Access is denied; other policies still apply"
    )
    assert e.policy_errors == (error,)
    assert not e.policy_current
    assert [(s.name, s.error) for s in e.policy_sources] == [
        (HKLM, "cannot be read: Access is denied")
    ]
    assert dict(e.values) == defaults()  # nothing of a half-read key applies


def test_hklm_wins_over_hkcu_key_by_key_and_bound_by_bound() -> None:
    reg = registry(
        (HKLM, "drill.every", "45m", "REG_SZ"),
        (HKCU, "drill.every", "20m", "REG_SZ"),
        (HKCU, "posture.every", "25m", "REG_SZ"),
        (HKLM + r"\Limits", "drill.snooze.max", "15m", "REG_SZ"),
        (HKCU + r"\Limits", "drill.snooze.min", "6m", "REG_SZ"),
        (HKCU + r"\Limits", "drill.snooze.max", "30m", "REG_SZ"),
        (HKCU, "meta.organization", "Team", "REG_SZ"),
    )
    e = load_from(reg)
    assert problems(e) == []
    assert e.origins["drill.every"] == Origin("enforced", HKLM + r"\drill.every")
    assert e.values["drill.every"] == 45 * 60
    assert e.origins["posture.every"] == Origin("enforced", HKCU + r"\posture.every")
    limit = e.limits["drill.snooze"]
    assert (limit.min, limit.max) == (6 * 60, 15 * 60)
    assert limit.max_origin == Origin("limit", HKLM + r"\Limits\drill.snooze.max")
    assert limit.min_origin == Origin("limit", HKCU + r"\Limits\drill.snooze.min")
    assert e.organization == "Team"
    assert [s.name for s in e.policy_sources] == [HKLM, HKCU]


def test_the_reader_asks_for_the_64_bit_view_where_group_policy_writes() -> None:
    reg = registry((HKLM, "drill.every", "45m", "REG_SZ"))
    RegistrySource(reg, "HKLM").read()
    assert reg.opened
    assert all(access & reg.KEY_WOW64_64KEY and access & reg.KEY_READ for access in reg.opened)


def test_a_key_with_more_values_than_any_policy_is_refused() -> None:
    reg = FakeRegistry()
    for index in range(MAX_VALUES + 1):
        reg.set(HKLM, f"v{index}", index, REG["REG_DWORD"])
    read = RegistrySource(reg, "HKLM").read()
    assert read is not None
    assert read.error == f"cannot be read: {HKLM} has {MAX_VALUES + 1} values"
