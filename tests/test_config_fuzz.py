"""Fuzz: whatever bytes sit in a user or policy file, loading gives settings or a
config error with readable diagnostics, never another exception or a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomlkit
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from scaffold import cli

from ergobreak.config import layers
from ergobreak.config.edit import validate_text
from ergobreak.config.layers import Effective, load
from ergobreak.config.policy import POLICY_TABLES
from ergobreak.config.schema import KEYS, TABLES, conflicts, to_toml
from ergobreak.tomlfile import Diagnostic

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = (ROOT / "config" / "ergobreak.toml").read_bytes()
POLICY = (ROOT / "config" / "policy.example.toml").read_bytes()
#: pieces that make mutations likely to stay near-valid TOML
TOKENS = [
    b'"',
    b"'",
    b"[",
    b"]",
    b"[[",
    b"=",
    b"\n",
    b"{",
    b"}",
    b",",
    b"#",
    b".",
    b"\\",
    b'"""',
    b"1",
    b"-1",
    b"99999999999999999999999",
    b"1e400",
    b"nan",
    b"inf",
    b"true",
    b'"30m"',
    b'"99999999999999999999h"',
    b'"0s"',
    b"1979-05-27",
    b"07:32:00",
    b"[]",
    b'["mon"]',
    b'"25:00-26:00"',
    b"[drill]\n",
    b"[drill.every]\n",
    b"every = ",
    b"[[posture]]\n",
    b"[defaults]\n",
    b"[enforced.drill]\n",
    b"[limits.drill]\n",
    b"{ min = 1 }",
    b'{ max = "1h" }',
    b"{ min = {} }",
    b"[meta]\n",
    b"schema = ",
    b"\xff",
    b"\xc3",
    b"\x00",
    b"\r\n",
]


pytestmark = pytest.mark.usefixtures("isolated")


@st.composite
def mutated(draw: st.DrawFn, base: bytes) -> bytes:
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["insert", "delete", "replace", "flip"]))
        if op == "insert":
            data[at:at] = draw(st.sampled_from(TOKENS) | st.binary(max_size=8))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        elif op == "replace" and data:
            end = at + draw(st.integers(1, 12))
            data[at:end] = draw(st.sampled_from(TOKENS))
        elif data:
            data[min(at, len(data) - 1)] = draw(st.integers(0, 255))
    return bytes(data)


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


def readable(diags: list[Diagnostic] | tuple[Diagnostic, ...]) -> None:
    for diag in diags:
        text = diag.format()
        assert text.startswith(diag.path)
        assert diag.to_json()["message"] == diag.message
        if diag.path.endswith(".toml") and diag.line is not None:
            assert diag.col is not None, text


def check_user(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    result = layers.try_load(path, policy_files=[])
    if isinstance(result, list):  # load() raised ConfigError with these
        assert any(d.severity == "error" for d in result)
        readable(result)
    else:
        assert isinstance(result, Effective)
        readable(result.diagnostics)
    text = data.decode("utf-8", "replace")
    readable(validate_text(text, str(path)))


def check_policy(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    e = load(None, policy_files=[path])  # a policy never makes loading fail
    assert isinstance(e, Effective)
    assert e.content is not None
    readable(e.diagnostics)
    for key, limit in e.limits.items():
        assert limit.min is None or limit.max is None or limit.min <= limit.max
        assert limit.min is None or e.values[key] >= limit.min
        assert limit.max is None or e.values[key] <= limit.max
    spec = {k.name: k for k in KEYS}
    for key, value in e.values.items():
        spec[key].parse(to_toml(key, value))  # every value is in its key's range
    assert not conflicts(e.values)


FUZZ = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@FUZZ
@given(data=st.binary(max_size=400))
@example(data=b"")
@example(data=b"\xef\xbb\xbf[drill]\nevery = '30m'\n")  # a UTF-8 byte-order mark
@example(data=b"drill = { every = { x = { y = 1 } } }\n")
def test_arbitrary_bytes_as_the_user_file(tmp_path: Path, data: bytes) -> None:
    check_user(tmp_path / "config.toml", data)


@FUZZ
@given(data=mutated(TEMPLATE) | mutated(POLICY) | toml_documents(policy=False))
def test_mutated_and_generated_user_files(tmp_path: Path, data: bytes) -> None:
    check_user(tmp_path / "config.toml", data)


@FUZZ
@given(data=st.binary(max_size=400) | mutated(POLICY) | mutated(TEMPLATE))
@example(data=b"[limits.drill]\nmax_snoozes = { max = 99999999999999999999999 }\n")
@example(data=b'[limits.drill]\nevery = { max = "99999999999999999999h" }\n')
def test_arbitrary_bytes_as_a_policy_file(tmp_path: Path, data: bytes) -> None:
    check_policy(tmp_path / "policy.toml", data)


@FUZZ
@given(data=toml_documents(policy=True))
def test_generated_policy_files(tmp_path: Path, data: bytes) -> None:
    check_policy(tmp_path / "policy.toml", data)


@settings(max_examples=max(10, settings().max_examples // 4), parent=FUZZ)
@given(user=st.binary(max_size=200) | mutated(TEMPLATE), policy=mutated(POLICY))
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
