"""The kinds of setting values: how each is read from TOML, and written back.

A parser takes what ``tomllib`` gave and returns the core's form (seconds,
weekday numbers, minute spans, tuples of names) or raises :class:`ValueProblem`
saying what was expected and what was found.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any, Literal

from ergobreak.core.content import CATEGORIES, EQUIPMENT_TAGS, ID_PATTERN, TAGS
from ergobreak.core.duration import DurationError, format_duration, parse_duration
from ergobreak.core.hours import format_hours, parse_hours
from ergobreak.core.settings import WEEKDAYS
from ergobreak.tomlfile import found, near

Kind = Literal[
    "duration",
    "bool",
    "int",
    "days",
    "hours",
    # routines (content selection)
    "categories",
    "routine_ids",
    "equipment",
    "tags",
]


class ValueProblem(ValueError):
    """A value of the wrong type or out of range; the message says expected vs found."""


def parse(kind: Kind, raw: object) -> Any:
    """``raw`` as a value of ``kind``, in the core's form.

    Raises:
        ValueProblem: ``raw`` is not a value of this kind.
    """
    return _PARSERS[kind](raw)


def expected(kind: Kind) -> str:
    """What a value of ``kind`` looks like, for messages."""
    return _EXPECTED[kind]


def toml_form(kind: Kind, value: Any) -> Any:
    """A value of ``kind`` back in the form people write in TOML."""
    if kind == "duration":
        return format_duration(value)
    if kind == "days":
        return [WEEKDAYS[d] for d in sorted(value)]
    if kind == "hours":
        return [format_hours(span) for span in value]
    if kind == "int":
        return int(value)
    if isinstance(value, (tuple, frozenset, set)):
        return list(value)
    return value


def _duration(raw: object) -> float:
    if isinstance(raw, bool) or not isinstance(raw, str):
        extra = ""
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            extra = f' (add a unit: "{raw}s" or "{raw}m")'
        raise ValueProblem(f'expected a duration like "20m", got {found(raw)}{extra}')
    try:
        seconds = parse_duration(raw)
    except DurationError as exc:
        raise ValueProblem(str(exc)) from None
    if not math.isfinite(seconds):
        raise ValueProblem(f'expected a duration like "20m", got "{raw}" (far too long)')
    return seconds


def _bool(raw: object) -> bool:
    if not isinstance(raw, bool):
        raise ValueProblem(f"expected true or false, got {found(raw)}")
    return raw


def _int(raw: object) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise ValueProblem(f"expected a whole number, got {found(raw)}")
    return raw


_DAY_ALIASES = {"weekdays": "mon-fri", "weekends": "sat-sun", "all": "mon-sun"}
_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _day(name: str) -> int | None:
    name = name.strip().lower()
    if name in WEEKDAYS:
        return WEEKDAYS.index(name)
    if name in _FULL_DAYS:
        return _FULL_DAYS.index(name)
    return None


def _items(raw: object, expected: str) -> list[object]:
    """A TOML array's items; a lone string is accepted as a one-item list."""
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list):
        return list(raw)
    raise ValueProblem(f"expected {expected}, got {found(raw)}")


def _days(raw: object) -> frozenset[int]:
    days: set[int] = set()
    for item in _items(raw, 'days like ["mon", "tue"] or "mon-fri"'):
        if not isinstance(item, str):
            raise ValueProblem(f'expected day names like "mon", got {found(item)}')
        text = _DAY_ALIASES.get(item.strip().lower(), item)
        first, sep, last = text.partition("-")
        a = _day(first)
        b = _day(last) if sep else a
        if a is None or b is None:
            raise ValueProblem(
                f'expected day names mon, tue, wed, thu, fri, sat, sun (or "mon-fri"), got "{item}"'
            )
        days.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(b + 1)])
    if not days:
        raise ValueProblem("expected at least one working day, got an empty array")
    return frozenset(days)


def _hours(raw: object) -> tuple[tuple[int, int], ...]:
    items = _items(raw, 'hours like "09:00-17:30"')
    if not items:
        raise ValueProblem('expected at least one span like "09:00-17:30", got an empty array')
    spans = []
    for item in items:
        if not isinstance(item, str):
            raise ValueProblem(f'expected hours like "09:00-17:30", got {found(item)}')
        try:
            spans.append(parse_hours(item))
        except ValueError as exc:
            raise ValueProblem(str(exc)) from None
    return tuple(spans)


_PARSERS: dict[Kind, Callable[[object], Any]] = {
    "duration": _duration,
    "bool": _bool,
    "int": _int,
    "days": _days,
    "hours": _hours,
}
_EXPECTED: dict[Kind, str] = {
    "duration": 'a duration like "20m"',
    "bool": "true or false",
    "int": "a whole number",
    "days": 'day names like ["mon", "tue"]',
    "hours": 'hours like "09:00-17:30"',
}

# --- routines (content selection): list parsers ---
_ROUTINE_ID = re.compile(ID_PATTERN)


def _names(raw: object, what: str, example: str) -> list[str]:
    """A TOML array of distinct strings (a lone string is accepted as a one-item list)."""
    names: dict[str, None] = {}  # a dict keeps the order and finds repeats at once
    for item in _items(raw, f"{what} like {example}"):
        if not isinstance(item, str):
            raise ValueProblem(f"expected {what} like {example}, got {found(item)} in the array")
        if item in names:
            raise ValueProblem(f'"{item}" is listed twice')
        names[item] = None
    return list(names)


def _pick(raw: object, what: str, one: str, choices: tuple[str, ...]) -> tuple[str, ...]:
    example = "[" + ", ".join(f'"{c}"' for c in choices[:2]) + "]"
    names = _names(raw, what, example)
    for name in names:
        if name not in choices:
            close = near(name, choices)
            hint = f' (did you mean "{close}"?)' if close else ""
            raise ValueProblem(
                f'unknown {one} "{name}"{hint}; expected one of {", ".join(choices)}'
            )
    return tuple(names)


def _categories(raw: object) -> tuple[str, ...]:
    names = _pick(raw, "categories", "category", CATEGORIES)
    if not names:
        raise ValueProblem(
            "expected at least one category, got an empty array"
            " (to choose drills one by one, use routines.only)"
        )
    return names


def _routine_ids(raw: object) -> tuple[str, ...]:
    names = _names(raw, "routine ids", '["hipflexor_standing", "hinge_wall"]')
    for name in names:
        if not _ROUTINE_ID.fullmatch(name):
            raise ValueProblem(
                f'expected routine ids like "hinge_wall" (lowercase letters, digits and'
                f' underscores), got "{name}"'
            )
    return tuple(names)


def _equipment(raw: object) -> tuple[str, ...]:
    return _pick(raw, "equipment", "equipment", EQUIPMENT_TAGS)


def _tags(raw: object) -> tuple[str, ...]:
    return _pick(raw, "tags", "tag", TAGS)


_PARSERS.update(
    {
        "categories": _categories,
        "routine_ids": _routine_ids,
        "equipment": _equipment,
        "tags": _tags,
    }
)
_EXPECTED.update(
    {
        "categories": 'categories like ["hip_flexor", "hinge"]',
        "routine_ids": 'routine ids like ["hinge_wall"]',
        "equipment": 'equipment like ["wall", "band"]',
        "tags": 'tags like ["kneeling"]',
    }
)
# --- end routines (content selection): list parsers ---
