"""The OS channels' mapping (config/channels.py): every schema key goes to the registry
and to managed preferences and comes back as the value the schema parses, wrong
channel types are bad values, and the paths are the ones IT sees."""

from __future__ import annotations

import datetime as dt
import plistlib
from typing import Any

import pytest

from ergobreak.config import channels
from ergobreak.config.channels import REG_TYPE_NUMBERS as REG
from ergobreak.config.kinds import ValueProblem, toml_form
from ergobreak.config.schema import KEY_BY_NAME, KEYS, Key

#: one value per key other than its built-in (a round trip of the default alone
#: could pass by accident)
OTHER: dict[str, Any] = {
    "duration": 45 * 60 + 30,
    "int": None,  # the key's max (inside its range)
    "bool": None,  # the built-in's negation
    "days": frozenset({0, 2, 4}),
    "hours": ((8 * 60, 12 * 60), (13 * 60, 17 * 60 + 30)),
    "categories": ("hinge", "mobility"),
    "routine_ids": ("hinge_wall",),
    "equipment": ("wall", "band"),
    "tags": ("kneeling", "balance"),
}


def other_value(key: Key) -> Any:
    if key.kind == "int":
        return int(key.max or 7)
    if key.kind == "bool":
        return not key.builtin
    if key.kind == "duration":
        return min(OTHER["duration"], key.max or OTHER["duration"])
    return OTHER[key.kind]


def key_toml(key: Key, value: Any) -> Any:
    """``value`` as policy.toml writes it (what the channel's value must parse like)."""
    return toml_form(key.kind, value)


@pytest.mark.parametrize("key", KEYS, ids=lambda k: k.name)
@pytest.mark.parametrize("table", ["enforced", "defaults"])
def test_every_key_round_trips_through_the_registry(key: Key, table: channels.Table) -> None:
    for value in (key.builtin, other_value(key)):
        data, reg_type = channels.encode_registry(key.name, value, table)
        raw = channels.decode_registry(key.name, data, reg_type, table)
        assert key.parse(raw) == key.parse(key_toml(key, value)), (key.name, value)
    assert value != key.builtin


@pytest.mark.parametrize("key", KEYS, ids=lambda k: k.name)
def test_every_key_round_trips_through_a_real_plist(key: Key) -> None:
    for value in (key.builtin, other_value(key)):
        text = plistlib.dumps({key.name: channels.encode_plist(key.name, value)})
        raw = channels.decode_plist(key.name, plistlib.loads(text)[key.name])
        assert key.parse(raw) == key.parse(key_toml(key, value)), (key.name, value)


def test_registry_types_follow_the_contract() -> None:
    kinds = {key.kind: channels.value_type(key.name) for key in KEYS}
    assert {kind: spec.registry for kind, spec in kinds.items() if spec} == {
        "duration": "REG_SZ",
        "bool": "REG_DWORD",
        "int": "REG_DWORD",
        "days": "REG_MULTI_SZ",
        "hours": "REG_MULTI_SZ",
        "categories": "REG_MULTI_SZ",
        "routine_ids": "REG_MULTI_SZ",
        "equipment": "REG_MULTI_SZ",
        "tags": "REG_MULTI_SZ",
    }
    assert {kind: spec.plist for kind, spec in kinds.items() if spec} == {
        "duration": "string",
        "bool": "boolean",
        "int": "integer",
        "days": "array",
        "hours": "array",
        "categories": "array",
        "routine_ids": "array",
        "equipment": "array",
        "tags": "array",
    }


def test_durations_are_written_in_config_syntax() -> None:
    assert channels.encode_registry("drill.every", 5400) == ("1h30m", REG["REG_SZ"])
    assert channels.encode_plist("drill.every", 1800) == "30m"
    assert channels.encode_registry("schedule.days", frozenset({0, 1})) == (
        ["mon", "tue"],
        REG["REG_MULTI_SZ"],
    )
    assert channels.encode_registry("drill.enabled", False) == (0, REG["REG_DWORD"])


def test_limits_are_min_and_max_of_duration_and_int_keys_only() -> None:
    spec = channels.value_type("drill.every.max", "limits")
    assert spec is not None
    assert (spec.key, spec.bound, spec.registry) == (KEY_BY_NAME["drill.every"], "max", "REG_SZ")
    count = channels.value_type("drill.max_snoozes.min", "limits")
    assert count is not None
    assert count.registry == "REG_DWORD"
    assert channels.value_type("drill.enabled.min", "limits") is None
    assert channels.value_type("drill.every", "limits") is None
    assert channels.value_type("drill.every.mid", "limits") is None
    names = list(channels.value_names("limits"))
    assert len(names) == 2 * sum(k.kind in ("duration", "int") for k in KEYS)
    assert all(channels.value_type(n, "limits") for n in names)
    assert channels.decode_registry("drill.every.min", "20m", REG["REG_SZ"], "limits") == "20m"


def test_meta_strings_only_at_the_root() -> None:
    spec = channels.value_type("meta.contact")
    assert spec is not None
    assert (spec.key, spec.registry, spec.plist) == (None, "REG_SZ", "string")
    assert channels.value_type("meta.contact", "defaults") is None
    assert set(channels.value_names("enforced")) == {*KEY_BY_NAME, *channels.META_NAMES}
    assert set(channels.value_names("defaults")) == set(KEY_BY_NAME)
    assert channels.decode_plist("meta.organization", "Acme") == "Acme"


def test_unknown_names_are_not_values() -> None:
    assert channels.value_type("drill.evry") is None
    assert channels.value_type("schema") is None
    with pytest.raises(KeyError):
        channels.decode_registry("drill.evry", "1m", REG["REG_SZ"])


@pytest.mark.parametrize(
    ("name", "data", "reg_type", "message"),
    [
        (
            "drill.every",
            1800,
            "REG_DWORD",
            'expected REG_SZ (a duration like "20m"), got REG_DWORD',
        ),
        ("drill.enabled", "true", "REG_SZ", "expected REG_DWORD (true or false), got REG_SZ"),
        ("drill.enabled", 2, "REG_DWORD", "expected REG_DWORD 0 (false) or 1 (true), got 2"),
        ("drill.max_snoozes", 3, "REG_QWORD", "got REG_QWORD"),
        ("schedule.days", "mon", "REG_SZ", "expected REG_MULTI_SZ"),
        ("drill.every", "30m", "REG_EXPAND_SZ", "got REG_EXPAND_SZ"),
        ("meta.contact", b"x", "REG_BINARY", "expected REG_SZ (a string), got REG_BINARY"),
    ],
)
def test_a_value_of_the_wrong_registry_type_is_a_bad_value(
    name: str, data: object, reg_type: str, message: str
) -> None:
    with pytest.raises(ValueProblem, match=message.replace("(", r"\(").replace(")", r"\)")):
        channels.decode_registry(name, data, REG[reg_type])


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("drill.every", 1800, 'expected <string> (a duration like "20m"), got <integer> 1800'),
        ("drill.enabled", 1, "expected <boolean> (true or false), got <integer> 1"),
        ("drill.max_snoozes", True, "expected <integer> (a whole number), got <true/>"),
        ("drill.max_snoozes", 2.5, "got <real> 2.5"),
        ("schedule.days", "mon", 'expected <array> .*got <string> "mon"'),
        ("schedule.hours", {"a": 1}, "got <dict>"),
        ("drill.every", b"30m", "got <data>"),
        ("drill.every", dt.datetime(2026, 1, 5, 9, 0), "got <date>"),
    ],
)
def test_a_value_of_the_wrong_plist_type_is_a_bad_value(
    name: str, data: object, message: str
) -> None:
    with pytest.raises(ValueProblem, match=message.replace("(", r"\(").replace(")", r"\)")):
        channels.decode_plist(name, data)


def test_a_bad_value_of_the_right_type_fails_like_in_policy_toml() -> None:
    # the schema's own parser validates it: the same message as a TOML value
    key = KEY_BY_NAME["drill.every"]
    raw = channels.decode_registry(key.name, "3 minutes", REG["REG_SZ"])
    with pytest.raises(ValueProblem) as from_registry:
        key.parse(raw)
    with pytest.raises(ValueProblem) as from_toml:
        key.parse("3 minutes")
    assert str(from_registry.value) == str(from_toml.value)
    items = channels.decode_plist("routines.categories", ["hinge", "hinge"])
    with pytest.raises(ValueProblem, match='"hinge" is listed twice'):
        KEY_BY_NAME["routines.categories"].parse(items)


def test_blank_lines_of_a_multi_line_box_are_not_items() -> None:
    raw = channels.decode_registry("schedule.days", ["mon", "", "  ", "fri"], REG["REG_MULTI_SZ"])
    assert raw == ["mon", "fri"]


def test_paths_name_the_channel_and_the_value() -> None:
    assert (
        channels.registry_origin("HKLM", "enforced", "drill.every")
        == r"HKLM\Software\Policies\ergobreak\drill.every"
    )
    assert (
        channels.registry_origin("HKCU", "defaults", "drill.every")
        == r"HKCU\Software\Policies\ergobreak\Recommended\drill.every"
    )
    assert channels.registry_subkey("limits") == r"Software\Policies\ergobreak\Limits"
    assert channels.HIVES == ("HKLM", "HKCU")
    assert (
        channels.plist_origin(channels.machine_plist(), "enforced", "drill.every")
        == "/Library/Managed Preferences/org.ergobreak.plist: drill.every"
    )
    assert (
        channels.plist_origin(channels.user_plist("ada"), "limits", "drill.every.min")
        == "/Library/Managed Preferences/ada/org.ergobreak.plist: Limits/drill.every.min"
    )
