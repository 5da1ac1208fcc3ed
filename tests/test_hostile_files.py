"""Hostile files of every kind ergobreak reads: the cases issue 14 reproduced, fuzzing
of content files and traces, and the cost of the worst file each limit still accepts.

Config and policy files are fuzzed in tests/test_config_fuzz.py, state files in
tests/test_daemon_state.py; the strategies live in tests/fuzzing.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
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

from ergobreak.config import layers
from ergobreak.config.loader import MAX_BYTES as SETTINGS_MAX
from ergobreak.config.loader import flatten
from ergobreak.content import load_library
from ergobreak.content.files import MAX_BYTES as CONTENT_MAX
from ergobreak.content.files import load_content_file
from ergobreak.sim.trace import MAX_BYTES as TRACE_MAX
from ergobreak.sim.trace import TOO_LONG, TraceError, compile_trace, load_trace, parse_trace

DRILLS = shipped("ergobreak/content/drills.toml")
CUES = shipped("ergobreak/content/cues.toml")
WORKDAY = shipped("ergobreak/sim/traces/workday.csv")
TRACE_TOKENS = [
    b",",
    b"\n",
    b"#",
    b" ",
    b"0,",
    b"25m",
    b"1h30m",
    b"99999999999h",
    b"9" * 400,
    b"1e308",
    b"nan",
    b"-1",
    b"0.5",
    b"active",
    b"asleep",
    b"gap",
    b"clock +",
    b"clock -",
    b"pause ",
    b"start ",
    b"snooze",
    b"\xff",
    b"\x00",
]

pytestmark = pytest.mark.usefixtures("isolated")


@pytest.mark.parametrize("case", sorted(ISSUE_TOML))
def test_the_issue_cases_are_errors_at_their_line_in_every_kind_of_file(
    tmp_path: Path, case: str
) -> None:
    user = tmp_path / "config.toml"
    user.write_bytes(ISSUE_TOML[case])
    result = layers.try_load(user, policy_files=[])
    assert isinstance(result, list)
    assert result[0].location().startswith(f"{user}:2:")

    policy = tmp_path / "policy.toml"
    policy.write_bytes(ISSUE_TOML[case])
    effective = layers.load(None, policy_files=[policy])
    assert effective.errors[0].location().startswith(f"{policy}:2:")
    assert effective.settings == layers.load(None, policy_files=[]).settings

    folder = tmp_path / "content"
    folder.mkdir()
    (folder / "mine.toml").write_bytes(b"[[drill]]\n" + ISSUE_TOML[case].split(b"\n", 1)[1])
    library, diags = load_library([folder])
    assert diags[0].location().startswith(f"{folder / 'mine.toml'}:2:")
    assert "skipped this file" in diags[-1].message
    assert library.drills  # the built-in library still loads


def test_flatten_goes_as_deep_as_the_data_without_recursion() -> None:
    table: dict[str, object] = {"leaf": 1}
    for _ in range(5000):
        table = {"a": table}
    (key,) = flatten(table)
    assert key == "a." * 5000 + "leaf"


# ------------------------------------------------------------------- fuzzing


def check_content(path: Path, data: bytes) -> None:
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    checked = load_content_file(path)
    assert_diagnostics(checked.diagnostics)
    library, diags = load_library([path.parent])
    assert_diagnostics(diags)
    assert library.drills


@FUZZ
@given(data=noise() | mutated(DRILLS, TOML_TOKENS) | mutated(CUES, TOML_TOKENS) | hostile_toml())
@examples("data", ISSUE_TOML)
def test_hostile_content_files_are_diagnostics(tmp_path: Path, data: bytes) -> None:
    check_content(tmp_path / "content" / "mine.toml", data)


@FUZZ
@given(data=noise() | mutated(WORKDAY, TRACE_TOKENS))
@example(data=b"0,pause 0m\n")  # a pause the daemon refuses (found by this test)
def test_hostile_traces_are_trace_errors_naming_the_file(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "day.csv"
    path.write_bytes(data)
    try:
        rows = load_trace(path)
    except TraceError as exc:
        message = str(exc)
    else:
        compile_trace(rows)
        return
    assert message.startswith(f"{path}:")
    assert "\n" not in message


def test_a_trace_over_its_limits_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "day.csv"
    path.write_bytes(b"1s,active\n" * (TRACE_MAX // 10 + 1))
    with pytest.raises(TraceError, match=r"day.csv: day.csv is 1.1 MB; the limit is 1 MB"):
        load_trace(path)
    path.write_text("24h,active\n" * 31 + "1s,idle\n")
    with pytest.raises(TraceError, match=r"day.csv:32: the trace runs past 31 days"):
        load_trace(path)


# ------------------------------------------------------- the worst accepted


def fill(unit: Callable[[int], str], limit: int, head: str = "", tail: str = "") -> str:
    """``head``, ``unit(0)``, ``unit(1)`` ... and ``tail``, as much as fits in ``limit``."""
    parts, size, i = [head], len(head) + len(tail), 0
    while size + len(unit(i)) <= limit:
        parts.append(unit(i))
        size += len(unit(i))
        i += 1
    return "".join(parts) + tail


#: the costliest shapes found for each limit (each took 0.3 to 0.6 s when measured)
WORST = {
    "config: inline tables 31 deep": (
        "config.toml",
        fill(lambda i: f"k{i} = " + "{a=" * 31 + "1" + "}" * 31 + "\n", SETTINGS_MAX),
    ),
    "config: 8,000 unknown keys": (
        "config.toml",
        fill(lambda i: f"k{i}=1\n", SETTINGS_MAX, "[drill]\n"),
    ),
    "content: 15,000 empty drills": ("mine.toml", fill(lambda i: "[[drill]]\n", CONTENT_MAX)),
}


@pytest.mark.parametrize("name", sorted(WORST))
def test_the_worst_file_within_the_limits_loads_in_well_under_a_second(
    tmp_path: Path, name: str
) -> None:
    filename, text = WORST[name]
    path = tmp_path / filename
    path.write_text(text)
    start = time.perf_counter()
    if filename == "config.toml":
        result = layers.try_load(path, policy_files=[])
        diags = result if isinstance(result, list) else list(result.diagnostics)
    else:
        diags = list(load_content_file(path).diagnostics)
    elapsed = time.perf_counter() - start
    assert diags
    assert not any("limit" in d.message or "nested" in d.message for d in diags)
    assert elapsed < 5.0, f"{name}: {elapsed:.2f} s"  # 10 times what it takes here


@settings(max_examples=30, parent=FUZZ)
@given(extra=st.integers(1, 1000))
def test_one_byte_over_a_limit_is_refused(tmp_path: Path, extra: int) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"#" * (SETTINGS_MAX + extra))
    result = layers.try_load(path, policy_files=[])
    assert isinstance(result, list)
    assert result[0].message.startswith("config.toml is 6")
    assert result[0].message.endswith("; the limit is 64 KB")


@pytest.mark.parametrize("duration", ["9" * 400 + "m", "745h", "44641m"])
def test_a_row_longer_than_a_trace_can_be_is_an_error_not_an_overflow(duration: str) -> None:
    with pytest.raises(TraceError) as caught:
        parse_trace(f"{duration},active\n", "day.csv")
    assert str(caught.value) == f"day.csv:1: {TOO_LONG}"
