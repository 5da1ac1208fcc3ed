"""Fuzz: whatever bytes sit in a user or policy file (noise, mutations of the shipped
files, deep nesting, huge literals), loading gives settings or a config error with
readable diagnostics, never another exception or a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomlkit
from fuzzing import (
    FUZZ,
    ISSUE_TOML,
    TOML_TOKENS,
    assert_diagnostics,
    examples,
    hostile_toml,
    mutated,
    noise,
    shipped,
)
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scaffold import cli

from ergobreak.config import layers
from ergobreak.config.edit import validate_text
from ergobreak.config.layers import Effective, load
from ergobreak.config.policy import POLICY_TABLES
from ergobreak.config.schema import KEYS, TABLES, conflicts, to_toml

TEMPLATE = shipped("config/ergobreak.toml")
POLICY = shipped("config/policy.example.toml")
pytestmark = pytest.mark.usefixtures("isolated")


#: any TOML value, nested
toml_values = st.recursive(
    st.none().map(lambda _: "")
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
    | st.sampled_from(["30m", "0s", "mon-fri", "09:00-17:00", "hinge_wall", "seated", "wall"])
    | st.dates()
    | st.times(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(["min", "max", "x", "every"]), inner, max_size=3)
    ),
    max_leaves=8,
)
known = st.sampled_from([k.name for k in KEYS])
tables = st.sampled_from([*sorted(TABLES), "x", "meta", "schema"])


@st.composite
def toml_documents(draw: st.DrawFn, policy: bool) -> bytes:
    """Well-formed TOML with known and unknown keys holding any value."""
    doc: dict[str, object] = {}
    for _ in range(draw(st.integers(0, 6))):
        key = draw(known | st.text(min_size=1, max_size=6))
        table, _, leaf = key.partition(".")
        value = draw(toml_values)
        if policy:
            table = f"{draw(st.sampled_from((*POLICY_TABLES, 'meta', 'x')))}.{table}"
        target: dict[str, object] = doc
        for part in table.split("."):
            nxt = target.setdefault(part, {})
            if not isinstance(nxt, dict):
                break
            target = nxt
        else:
            target[leaf or "x"] = value
    if draw(st.booleans()):
        doc["schema"] = draw(st.sampled_from([1, 2, "1", True]))
    return tomlkit.dumps(doc).encode()


def check_user(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    result = layers.try_load(path, policy_files=[])
    if isinstance(result, list):  # load() raised ConfigError with these
        assert any(d.severity == "error" for d in result)
        assert_diagnostics(result)
    else:
        assert isinstance(result, Effective)
        assert_diagnostics(result.diagnostics)
    text = data.decode("utf-8", "replace")
    assert_diagnostics(validate_text(text, str(path)))


def check_policy(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    e = load(None, policy_files=[path])  # a policy never makes loading fail
    assert isinstance(e, Effective)
    assert e.content is not None
    assert_diagnostics(e.diagnostics)
    for key, limit in e.limits.items():
        assert limit.min is None or limit.max is None or limit.min <= limit.max
        assert limit.min is None or e.values[key] >= limit.min
        assert limit.max is None or e.values[key] <= limit.max
    spec = {k.name: k for k in KEYS}
    for key, value in e.values.items():
        spec[key].parse(to_toml(key, value))  # every value is in its key's range
    assert not conflicts(e.values)


@FUZZ
@given(data=noise())
@example(data=b"")
@example(data=b"\xef\xbb\xbf[drill]\nevery = '30m'\n")  # a UTF-8 byte-order mark
@example(data=b"drill = { every = { x = { y = 1 } } }\n")
def test_arbitrary_bytes_as_the_user_file(tmp_path: Path, data: bytes) -> None:
    check_user(tmp_path / "config.toml", data)


@FUZZ
@given(
    data=mutated(TEMPLATE, TOML_TOKENS)
    | mutated(POLICY, TOML_TOKENS)
    | toml_documents(policy=False)
)
def test_mutated_and_generated_user_files(tmp_path: Path, data: bytes) -> None:
    check_user(tmp_path / "config.toml", data)


@FUZZ
@given(data=noise() | mutated(POLICY, TOML_TOKENS) | mutated(TEMPLATE, TOML_TOKENS))
@example(data=b"[limits.drill]\nmax_snoozes = { max = 99999999999999999999999 }\n")
@example(data=b'[limits.drill]\nevery = { max = "99999999999999999999h" }\n')
def test_arbitrary_bytes_as_a_policy_file(tmp_path: Path, data: bytes) -> None:
    check_policy(tmp_path / "policy.toml", data)


@FUZZ
@given(data=toml_documents(policy=True))
def test_generated_policy_files(tmp_path: Path, data: bytes) -> None:
    check_policy(tmp_path / "policy.toml", data)


@FUZZ
@given(data=hostile_toml())
@examples("data", ISSUE_TOML)
def test_deep_and_huge_user_files(tmp_path: Path, data: bytes) -> None:
    check_user(tmp_path / "config.toml", data)


@FUZZ
@given(data=hostile_toml())
@examples("data", ISSUE_TOML)
def test_deep_and_huge_policy_files(tmp_path: Path, data: bytes) -> None:
    check_policy(tmp_path / "policy.toml", data)


@settings(max_examples=max(10, settings().max_examples // 4), parent=FUZZ)
@given(user=noise(200) | mutated(TEMPLATE, TOML_TOKENS), policy=mutated(POLICY, TOML_TOKENS))
def test_config_check_exits_0_or_1_without_a_traceback(
    tmp_path: Path, user: bytes, policy: bytes
) -> None:
    ufile, pfile = tmp_path / "config.toml", tmp_path / "policy.toml"
    ufile.write_bytes(user)
    pfile.write_bytes(policy)
    for argv in (
        ["config", "check", str(ufile)],
        ["config", "check", "--json", str(ufile)],
        ["config", "check", "--policy", str(pfile)],
        ["config", "show", "--origin", "--config", str(ufile), "--policy", str(pfile)],
    ):
        code, out, err = cli(*argv)
        assert code in (0, 1), argv
        assert "Traceback" not in err + out
