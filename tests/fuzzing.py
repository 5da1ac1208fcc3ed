"""Hypothesis strategies for hostile input, shared by the fuzz suites.

Three kinds of hostility, for any grammar: byte noise (:func:`noise`), mutations of a
real file with pieces of its grammar (:func:`mutated`), and input that is well
formed but huge in one dimension (:func:`nested`, :func:`huge_number`). The TOML and
JSON pieces ergobreak's files are made of are here, with the cases issue 14
reproduced, for the suites to pin as fixed ``@example``s.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import HealthCheck, example, settings
from hypothesis import strategies as st

from ergobreak.tomlfile import Diagnostic

_Test = TypeVar("_Test", bound=Callable[..., Any])
_ROOT = Path(__file__).resolve().parent.parent

#: for fuzz tests that take function-scoped fixtures (``tmp_path``, ``isolated``):
#: each example overwrites the files it uses
FUZZ = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def shipped(path: str) -> bytes:
    """A file ergobreak ships (``"config/ergobreak.toml"``), to mutate."""
    return (_ROOT / path).read_bytes()


#: pieces of TOML that keep a mutated file near-valid, and its number and string edge cases
TOML_TOKENS = [
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
    b"[[drill]]\n",
    b"[[drill.steps]]\n",
    b"\xff",
    b"\xc3",
    b"\x00",
    b"\r\n",
    # what issue 14 found, as pieces that land anywhere in a file
    b"[" * 600,
    b"{a=" * 450,
    b".a" * 1000,
    b"9" * 4400,
]

#: issue 14's reproductions: each killed the daemon on reload and ``run`` at start
ISSUE_TOML = {
    "500 nested arrays": b"[drill]\nevery = " + b"[" * 500 + b"]" * 500 + b"\n",
    "400 nested inline tables": b"[drill]\nevery = " + b"{a=" * 400 + b"1" + b"}" * 400 + b"\n",
    "a dotted key 1,000 levels deep": b"[drill]\n" + b".".join([b"a"] * 1000) + b" = 1\n",
    "an integer of 4,301 digits": b"[drill]\nmax_snoozes = " + b"9" * 4301 + b"\n",
}

#: pieces of JSON for state files: every type, and the numbers JSON lets through
JSON_TOKENS = [
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b'"',
    b"null",
    b"true",
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b"1e308",
    b"1e999",
    b"-1",
    b'"x"',
    b"{}",
    b"[]",
    b"9" * 5000,
    b'"v": 1',
    b'"core": {}',
    b'"saved_wall": ',
    b'"drill_desk": ',
    b'"paused_left": "forever"',
    b"\xff",
]

#: issue 14's state files: each stopped the daemon from starting
ISSUE_STATE = {
    "an empty core": b'{"v":1,"core":{"v":1}}',
    "a string for a number": b'{"v":1,"core":{"v":1,"saved_wall":"yesterday"}}',
    "NaN": b'{"v":1,"core":{"v":1,"saved_wall":1,"drill_desk":NaN}}',
    "null": b'{"v":1,"core":{"v":1,"saved_wall":null}}',
    "a nested value": b'{"v":1,"core":{"v":1,"saved_wall":1,"snoozes":{"a":[1]}}}',
    "deep nesting": b'{"v":1,"core":' + b"[" * 5000 + b"]" * 5000 + b"}",
}


def examples(name: str, cases: dict[str, bytes]) -> Callable[[_Test], _Test]:
    """Pin every case as a fixed ``@example`` of the test's argument ``name``."""

    def pin(test: _Test) -> _Test:
        for case in cases.values():
            test = example(**{name: case})(test)
        return test

    return pin


def noise(max_size: int = 400) -> st.SearchStrategy[bytes]:
    """Any bytes at all."""
    return st.binary(max_size=max_size)


@st.composite
def mutated(draw: st.DrawFn, base: bytes, tokens: Sequence[bytes]) -> bytes:
    """``base`` with up to six edits: pieces of its grammar or random bytes inserted,
    runs deleted, pieces replaced, single bytes changed."""
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["insert", "delete", "replace", "flip"]))
        if op == "insert":
            data[at:at] = draw(st.sampled_from(tokens) | st.binary(max_size=8))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        elif op == "replace" and data:
            end = at + draw(st.integers(1, 12))
            data[at:end] = draw(st.sampled_from(tokens))
        elif data:
            data[min(at, len(data) - 1)] = draw(st.integers(0, 255))
    return bytes(data)


@st.composite
def nested(
    draw: st.DrawFn,
    wrappers: Sequence[tuple[bytes, bytes]],
    core: bytes = b"1",
    *,
    max_depth: int = 1500,
) -> bytes:
    """``core`` inside up to ``max_depth`` layers, each a chosen (open, close) pair,
    e.g. ``(b"[", b"]")``, ``(b"{a=", b"}")``; deep enough to overflow a recursive
    parser's stack."""
    layers = draw(st.lists(st.sampled_from(wrappers), min_size=1, max_size=max_depth))
    return b"".join(o for o, _ in layers) + core + b"".join(c for _, c in reversed(layers))


def huge_number() -> st.SearchStrategy[bytes]:
    """An integer literal up to 6,000 digits (Python's int() stops at 4,300), maybe signed."""
    return st.builds(
        lambda sign, digits: sign + b"9" * digits,
        st.sampled_from([b"", b"-", b"+"]),
        st.integers(20, 6000),
    )


@st.composite
def hostile_toml(draw: st.DrawFn) -> bytes:
    """Well-formed TOML that is huge in one dimension, under a table or at the top:
    nested arrays and inline tables, a long dotted key or header, a huge integer."""
    deep = nested([(b"[", b"]"), (b"{a=", b"}"), (b"[{a=", b"}]")])
    parts = st.integers(30, 1200)
    value = deep | huge_number() | st.builds(lambda v: b"[1, " + v + b"]", huge_number())
    shape = draw(st.sampled_from(["value", "key", "header"]))
    table = draw(st.sampled_from([b"", b"[drill]\n", b"[limits.drill]\n", b"[[drill]]\n"]))
    if shape == "value":
        body = b"every = " + draw(value)
    elif shape == "key":
        body = b".".join([b"a"] * draw(parts)) + b" = 1"
    else:
        body = b"[" + b".".join([b"a"] * draw(parts)) + b"]\nx = 1"
    return table + body + b"\n"


@st.composite
def hostile_json(draw: st.DrawFn) -> bytes:
    """A state file, well formed JSON, whose core holds any JSON value in any field."""
    leaf = (
        st.none()
        | st.booleans()
        | st.integers(min_value=-(10**30), max_value=10**30)
        | st.floats()
        | st.text(max_size=8)
    )
    value = st.recursive(
        leaf,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
        max_leaves=6,
    )
    core: dict[str, object] = draw(st.dictionaries(st.sampled_from(SNAPSHOT_FIELDS), value))
    # often a real snapshot with one value replaced
    if draw(st.booleans()):
        core = {**GOOD_SNAPSHOT, **dict(list(core.items())[:1])}
    return json.dumps({"v": draw(st.sampled_from([1, 1, 2, "1", None])), "core": core}).encode()


#: a snapshot as DeskSession.snapshot() writes it
GOOD_SNAPSHOT: dict[str, object] = {
    "v": 1,
    "saved_wall": 1_767_600_000.0,
    "posture_desk": 300.0,
    "drill_desk": 900.0,
    "snoozes": 0,
    "snooze_desk": 0.0,
    "routine": None,
    "attempt": 0,
    "away_for": 0.0,
    "paused_left": None,
    "cue_index": 2,
    "drill_index": 1,
}
SNAPSHOT_FIELDS = sorted(GOOD_SNAPSHOT)


def assert_diagnostics(diags: Sequence[Diagnostic]) -> None:
    """Every problem is a :class:`Diagnostic` naming its file, readable as one block."""
    for diag in diags:
        assert isinstance(diag, Diagnostic), diag
        assert diag.path, diag
        text = diag.format()
        assert text.startswith(diag.path)
        assert "Traceback" not in text
        assert diag.to_json()["message"] == diag.message
        if diag.line is not None:
            assert diag.col is not None, text
