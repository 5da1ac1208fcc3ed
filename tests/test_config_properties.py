"""Properties: any valid config survives ``config set`` -> reload unchanged, ``unset``
returns to the defaults, and the shipped files match the schema."""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scaffold import cli as run_cli

from ergobreak.config import edit, template
from ergobreak.config.layers import Effective, load
from ergobreak.config.schema import (
    KEYS,
    Key,
    conflicts,
    defaults,
    suspicions,
    to_filters,
    to_settings,
)
from ergobreak.config.values import format_toml, parse_cli_sets
from ergobreak.content import SelectionError, builtin_library, selection
from ergobreak.core.content import CATEGORIES, EQUIPMENT_TAGS, TAGS
from ergobreak.core.duration import format_duration
from ergobreak.core.hours import format_hours
from ergobreak.core.settings import WEEKDAYS, Settings
from ergobreak.tomlfile import ConfigError
from ergobreak.tomlfile.read import tomllib

#: keys a user file can set (policy-only keys are for IT's [enforced] table)
USER_KEYS = tuple(k for k in KEYS if not k.policy_only)


ROOT = Path(__file__).resolve().parent.parent
LIBRARY = builtin_library()
DRILL_IDS = [d.id for d in LIBRARY.drills]
#: an example runs up to a dozen edits (tomlkit takes ~10 ms to parse the commented
#: template): fewer examples keep the suite fast, ``HYPOTHESIS_PROFILE=deep`` still
#: explores far more
EDIT_EXAMPLES = max(10, settings().max_examples // 2)
CLI_EXAMPLES = max(10, settings().max_examples // 8)


pytestmark = pytest.mark.usefixtures("isolated")
cli = partial(run_cli, "config")


@pytest.fixture(autouse=True)
def _no_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    # Durability is tested elsewhere; fsync only slows hundreds of edits down.
    monkeypatch.setattr(os, "fsync", lambda fd: None)


# ------------------------------------------------------------------ strategies


def names(choices: Sequence[str], *, min_size: int = 0) -> st.SearchStrategy[Any]:
    return st.lists(st.sampled_from(choices), min_size=min_size, unique=True)


@st.composite
def duration(draw: st.DrawFn, key: Key) -> tuple[str, float]:
    assert key.min is not None
    assert key.max is not None
    seconds = draw(st.integers(int(key.min), int(key.max)))
    typed = draw(st.sampled_from([format_duration(seconds), f"{seconds}s", f'"{seconds}s"']))
    return typed, float(seconds)


@st.composite
def span(draw: st.DrawFn) -> tuple[int, int]:
    start = draw(st.integers(0, 24 * 60 - 1))
    end = draw(st.integers(0, 24 * 60).filter(lambda e: e != start))
    return start, end


def typed_list(items: list[str]) -> st.SearchStrategy[str]:
    """A list as typed on the command line: TOML, or a bare word for one item."""
    options = [format_toml(items)]
    if len(items) == 1:
        options.append(items[0])
    return st.sampled_from(options)


@st.composite
def value_for(draw: st.DrawFn, key: Key) -> tuple[str, Any]:
    """``(what the user types after config set KEY, the parsed value expected)``."""
    if key.kind == "duration":
        return draw(duration(key))
    if key.kind == "int":
        assert key.min is not None
        assert key.max is not None
        n = draw(st.integers(int(key.min), int(key.max)))
        return str(n), n
    if key.kind == "bool":
        flag = draw(st.booleans())
        return format_toml(flag), flag
    if key.kind == "days":
        days = sorted(draw(st.sets(st.integers(0, 6), min_size=1)))
        return draw(typed_list([WEEKDAYS[d] for d in days])), frozenset(days)
    if key.kind == "hours":
        spans = draw(st.lists(span(), min_size=1, max_size=3))
        return draw(typed_list([format_hours(s) for s in spans])), tuple(spans)
    choices = {
        "categories": (CATEGORIES, 1),
        "routine_ids": (DRILL_IDS, 0),
        "equipment": (EQUIPMENT_TAGS, 0),
        "tags": (TAGS, 0),
    }
    pool, least = choices[key.kind]
    items = draw(names(pool, min_size=least))
    return draw(typed_list(items)), tuple(items)


@st.composite
def valid_configs(draw: st.DrawFn, max_keys: int) -> dict[str, tuple[str, Any]]:
    """Some keys with valid values, respecting the cross-key rules and leaving at
    least one drill in the rotation."""
    chosen = draw(
        st.lists(st.sampled_from(USER_KEYS), unique_by=lambda k: k.name, max_size=max_keys)
    )
    config = {key.name: draw(value_for(key)) for key in chosen}
    values = {**defaults(), **{k: v for k, (_, v) in config.items()}}
    assume(not conflicts(values))
    try:
        selection(LIBRARY, to_filters(values))
    except SelectionError:
        assume(False)
    return config


STARTS = {
    "template": template.render(active=False),
    "empty": "",
    "hand": "# mine\nschema = 1\n\n[drill]  # drills\nenabled = true\n",
}


# ----------------------------------------------------------------- properties


def user_keys(text: str) -> set[str]:
    e = load(None, policy_files=[], user_text=text)
    return {k for k, o in e.origins.items() if o.layer == "user"}


def one_by_one(keys: list[str], change: Any) -> None:
    """Set (or unset) every key. A single change may be refused because, until
    another key changes too, it would break a rule between keys (idle_pause must
    stay shorter than natural_break) or leave no drill: as a person would, keep
    going round while progress is made."""
    left = list(keys)
    while left:
        done = [key for key in left if change(key)]
        assert done, f"stuck: none of {left} can change"
        left = [key for key in left if key not in done]


def assert_only_suspicions(effective: Effective) -> None:
    """Valid values say nothing, except that some together can hardly be meant
    (``prompt_gap`` not shorter than an interval...): one warning for each such."""
    content = effective.content
    assert content is not None
    found = suspicions(
        effective.values,
        rotation=[d.id for d in content.drills],
        library=[d.id for d in content.library],
    )
    assert [d.severity for d in effective.diagnostics] == ["warning"] * len(found)


@settings(max_examples=CLI_EXAMPLES, suppress_health_check=[HealthCheck.filter_too_much])
@given(config=valid_configs(max_keys=5), start=st.sampled_from(sorted(STARTS)))
def test_config_set_then_reload_gives_exactly_those_values(
    tmp_path_factory: pytest.TempPathFactory, config: dict[str, tuple[str, Any]], start: str
) -> None:
    """Through the real command line and the file on disk."""
    home = tmp_path_factory.mktemp("home")
    path = home / "config.toml"
    path.write_text(STARTS[start], encoding="utf-8")
    before = user_keys(STARTS[start])

    def set_one(key: str) -> bool:
        text = path.read_bytes()
        code, _, err = cli("set", "--config", str(path), key, config[key][0])
        if code != 0:  # refused: says why, and leaves the file alone
            assert (code, path.read_bytes()) == (1, text)
            assert err.endswith(" was not changed\n")
        return code == 0

    one_by_one(list(config), set_one)
    effective = load(path, policy_files=[])
    assert_only_suspicions(effective)
    assert dict(effective.values) == {**defaults(), **{k: v for k, (_, v) in config.items()}}
    assert {k for k, o in effective.origins.items() if o.layer == "user"} == before | set(config)
    one_by_one(list(config), lambda key: cli("unset", "--config", str(path), key)[0] == 0)
    assert dict(load(path, policy_files=[]).values) == defaults()
    assert user_keys(path.read_text(encoding="utf-8")) == before - set(config)
    assert sorted(p.name for p in home.iterdir()) == ["config.toml"]


@settings(max_examples=EDIT_EXAMPLES, suppress_health_check=[HealthCheck.filter_too_much])
@given(config=valid_configs(max_keys=10), start=st.sampled_from(sorted(STARTS)))
def test_edits_round_trip(config: dict[str, tuple[str, Any]], start: str) -> None:
    """The same with the functions behind ``config set``/``unset``, in memory (fast,
    so many more examples): values survive, setting them again changes nothing,
    unsetting restores the defaults and never leaves a warning."""
    text = STARTS[start]
    before = user_keys(text)

    def change(key: str, value: Any) -> bool:
        nonlocal text
        if value is None:
            candidate = edit.unset_in_text(text, key)
        else:
            candidate = edit.set_in_text(text, key, value)
        try:
            load(None, policy_files=[], user_text=candidate)
        except ConfigError:
            return False
        text = candidate
        return True

    one_by_one(list(config), lambda key: change(key, edit.parse_value(key, config[key][0])))
    effective = load(None, policy_files=[], user_text=text)
    assert_only_suspicions(effective)
    assert dict(effective.values) == {**defaults(), **{k: v for k, (_, v) in config.items()}}
    assert user_keys(text) == before | set(config)
    # `--set KEY=VALUE` on the command line gives the same settings as the file.
    sets, problems = parse_cli_sets([f"{k}={t}" for k, (t, _) in config.items()])
    assert not problems
    from_cli = load(None, policy_files=[], cli=sets, user_text=STARTS[start])
    assert from_cli.settings == effective.settings
    assert dict(from_cli.values) == dict(effective.values)
    again = text
    for key, (typed, _) in config.items():
        again = edit.set_in_text(again, key, edit.parse_value(key, typed))
    assert again == text
    one_by_one(list(config), lambda key: change(key, None))
    assert dict(load(None, policy_files=[], user_text=text).values) == defaults()
    assert user_keys(text) == before - set(config)
    assert not edit.validate_text(text, "config.toml")
    if start == "template":  # only the lines of the keys set were touched
        kept = [line for line in STARTS[start].splitlines() if not line.startswith("# ")]
        assert [line for line in text.splitlines() if not line.startswith("# ")] == kept


# -------------------------------------------------------------- shipped files


def test_the_shipped_config_is_the_rendered_template() -> None:
    shipped = (ROOT / "config" / "ergobreak.toml").read_text(encoding="utf-8")
    assert shipped == template.render(), "run: python -m ergobreak.config.template"


def test_the_shipped_config_loads_to_the_built_in_defaults() -> None:
    path = ROOT / "config" / "ergobreak.toml"
    e = load(path, policy_files=[])
    assert e.diagnostics == ()
    assert dict(e.values) == defaults()
    assert {k for k, o in e.origins.items() if o.layer == "user"} == {k.name for k in USER_KEYS}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    assert data["schema"] == 1


def test_the_schema_takes_its_scheduling_defaults_from_the_core() -> None:
    assert to_settings(defaults()) == Settings()
    for key in KEYS:  # each default as written is in range and reads back as itself
        assert key.parse(key.default) == key.builtin, key.name


def test_every_key_is_documented_once_in_its_table_in_the_template() -> None:
    text = template.render(active=False)
    for key in USER_KEYS:
        table, leaf = key.name.split(".", 1)
        line = f"# {leaf} = {format_toml(key.default)}"
        section = text.split(f"\n[{table}]\n", 1)[1].split("\n[", 1)[0]
        assert section.splitlines().count(line) == 1, key.name
        assert key.doc.split()[0] in section


def test_the_init_template_has_no_active_setting() -> None:
    data = tomllib.loads(template.render(active=False))
    assert data.pop("schema") == 1
    assert all(table == {} for table in data.values())
    assert set(data) == {key.name.split(".", 1)[0] for key in USER_KEYS}


def test_the_example_policy_loads_cleanly_and_uses_all_three_tables() -> None:
    path = ROOT / "config" / "policy.example.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    assert {"defaults", "enforced", "limits"} <= set(data)
    e = load(None, policy_files=[path])
    assert e.diagnostics == ()
    assert e.policy_files == (path,)
    assert e.organization == "Example Corp"
    assert e.contact
    assert any(o.layer == "policy default" for o in e.origins.values())
    assert e.locked
    assert e.limits
    assert set(e.limits) <= {k.name for k in USER_KEYS if k.kind in ("duration", "int")}
