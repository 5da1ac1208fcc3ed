"""Durations: parsing config syntax, and each style every surface says them in."""

from __future__ import annotations

import pytest

from ergobreak.core.duration import (
    DurationError,
    format_amount,
    format_clock,
    format_compact,
    format_countdown,
    format_duration,
    parse_duration,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("20m", 1200), ("90s", 90), ("1h30m", 5400), (" 1h 30m ", 5400), ("250ms", 0.25)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["20", "", "m", "1x", "-5m"])
def test_a_config_duration_needs_a_unit(text: str) -> None:
    with pytest.raises(DurationError, match='like "20m"'):
        parse_duration(text)


def test_traces_may_use_bare_seconds() -> None:
    assert parse_duration("90", bare_seconds=True) == 90
    with pytest.raises(DurationError):
        parse_duration("nan", bare_seconds=True)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (90, "1m30s"), (1800, "30m"), (3600, "1h"), (5400, "1h30m"), (0.5, "0.5s")],
)
def test_format_duration_is_config_syntax(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (5, "5 s"),
        (60, "1 min"),
        (90, "90 s"),
        (150, "2 min 30 s"),
        (2700, "45 min"),
        (3600, "1 h"),
        (5400, "1 h 30 min"),
        (0, "0 min"),
    ],
)
def test_format_amount_is_exact(seconds: float, text: str) -> None:
    assert format_amount(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.2, "1 min"),
        (30, "1 min"),
        (59, "1 min"),
        (60, "1 min"),
        (60.000000001, "1 min"),  # float noise does not add a minute
        (61, "2 min"),
        (150, "3 min"),
        (3600, "1 h"),
        (3901, "1 h 6 min"),
    ],
)
def test_format_countdown_rounds_time_left_up(seconds: float, text: str) -> None:
    assert format_countdown(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0:00"),
        (5, "0:05"),
        (40, "0:40"),
        (60, "1:00"),
        (125, "2:05"),
        (3600, "1:00:00"),
        (3725, "1:02:05"),
        (-3, "0:00"),
    ],
)
def test_format_clock(seconds: float, text: str) -> None:
    assert format_clock(seconds) == text


def test_a_clock_of_time_left_rounds_up() -> None:
    assert format_clock(24.2) == "0:24"
    assert [format_clock(s, left=True) for s in (24.2, 25, 0.2, 0, 3599.5)] == [
        "0:25",
        "0:25",
        "0:01",
        "0:00",
        "1:00:00",
    ]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0m"), (20, "<1m"), (45, "1m"), (2880, "48m"), (15120, "4h12m"), (3600, "1h00m")],
)
def test_format_compact(seconds: float, text: str) -> None:
    assert format_compact(seconds) == text
