"""The one schema of user settings: every key, its type, default, bounds and meaning.

Values are written as people write them (``"20m"``) and converted to the core's
:class:`~ergobreak.core.settings.Settings` (seconds) by :func:`to_settings`, and
to the content's :class:`~ergobreak.content.selection.Filters` by :func:`to_filters`.
Those two own the built-in defaults: every key that maps onto one of their
fields takes its default from there, so tests and users run the same defaults;
``config/ergobreak.toml`` is tested to match them.
"""

from __future__ import annotations

import dataclasses
import math
import re  # routines
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ergobreak.content.selection import Filters
from ergobreak.core.content import CATEGORIES, EQUIPMENT_TAGS, ID_PATTERN, TAGS  # routines
from ergobreak.core.duration import DurationError, format_duration, parse_duration
from ergobreak.core.hours import format_hours, parse_hours
from ergobreak.core.settings import (
    WEEKDAYS,
    ActivitySettings,
    DrillSettings,
    PostureSettings,
    QuietSettings,
    ScheduleSettings,
    Settings,
)
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


@dataclass(frozen=True, slots=True, kw_only=True)
class Key:
    name: str
    kind: Kind
    #: the built-in value, in the core's form (seconds, weekday numbers, ...)
    builtin: Any
    doc: str
    min: float | None = None
    max: float | None = None
    #: only meaningful in IT policy (left out of the user template; warned in user files)
    policy_only: bool = False

    def parse(self, raw: object, *, bounded: bool = True) -> Any:
        """Convert a TOML value to the core's form, or raise :class:`ValueProblem`.

        ``bounded=False`` skips the key's own range (policy ``[limits]`` bounds are
        parsed that way and compared with the range separately).
        """
        value = _PARSERS[self.kind](raw)
        if bounded and self.kind in ("duration", "int"):
            self._check_range(value)
        return value

    def show(self, value: float) -> str:
        """A duration or number as people write it: ``"20m"``, ``3``."""
        return format_duration(value) if self.kind == "duration" else str(int(value))

    def _check_range(self, value: float) -> None:
        show = self.show
        if self.min is not None and value < self.min:
            raise ValueProblem(
                f"must be at least {show(self.min)}, got {show(value)}"
                f" (allowed: {show(self.min)} to {show(self.max or value)})"
            )
        if self.max is not None and value > self.max:
            raise ValueProblem(
                f"must be at most {show(self.max)}, got {show(value)}"
                f" (allowed: {show(self.min or 0)} to {show(self.max)})"
            )

    @property
    def expected(self) -> str:
        return _EXPECTED[self.kind]

    @property
    def default(self) -> Any:
        """The built-in value as the shipped config file writes it (``"30m"``).

        Short durations read best in seconds there (``"60s"``, not ``"1m"``).
        """
        if self.kind == "duration" and self.builtin < _SECONDS_BELOW:
            return f"{self.builtin:g}s"
        return _toml_form(self.kind, self.builtin)


#: durations shorter than this are written in seconds in the shipped config file
_SECONDS_BELOW = 120


def _toml_form(kind: Kind, value: Any) -> Any:
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


def _days(raw: object) -> frozenset[int]:
    items: list[object]
    if isinstance(raw, str):
        items = [raw]
    elif isinstance(raw, list):
        items = list(raw)
    else:
        raise ValueProblem(f'expected days like ["mon", "tue"] or "mon-fri", got {found(raw)}')
    days: set[int] = set()
    for item in items:
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
    items: list[object]
    if isinstance(raw, str):
        items = [raw]
    elif isinstance(raw, list):
        items = list(raw)
    else:
        raise ValueProblem(f'expected hours like "09:00-17:30", got {found(raw)}')
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
    items: list[object]
    if isinstance(raw, str):
        items = [raw]
    elif isinstance(raw, list):
        items = list(raw)
    else:
        raise ValueProblem(f"expected {what} like {example}, got {found(raw)}")
    names: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise ValueProblem(f"expected {what} like {example}, got {found(item)} in the array")
        if item in names:
            raise ValueProblem(f'"{item}" is listed twice')
        names.append(item)
    return names


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

#: the owners of the built-in defaults
_CORE = Settings()
_FILTERS = Filters()

KEYS: tuple[Key, ...] = (
    Key(
        name="activity.idle_pause",
        kind="duration",
        builtin=_CORE.activity.idle_pause,
        min=2,
        max=1800,
        doc="Input at most this long ago counts as desk time; longer idle pauses the timers.",
    ),
    Key(
        name="activity.natural_break",
        kind="duration",
        builtin=_CORE.activity.natural_break,
        min=5,
        max=7200,
        doc="Away (idle, locked or asleep) this long resets both timers.",
    ),
    Key(
        name="activity.prompt_gap",
        kind="duration",
        builtin=_CORE.activity.prompt_gap,
        min=0,
        max=7200,
        doc="Never two prompts closer than this; a posture check this close to a drill is skipped.",
    ),
    Key(
        name="posture.enabled",
        kind="bool",
        builtin=_CORE.posture.enabled,
        doc="Show posture checks.",
    ),
    Key(
        name="posture.every",
        kind="duration",
        builtin=_CORE.posture.every,
        min=10,
        max=8 * 3600,
        doc="Desk time between posture checks.",
    ),
    Key(
        name="drill.enabled", kind="bool", builtin=_CORE.drill.enabled, doc="Offer 2-minute drills."
    ),
    Key(
        name="drill.every",
        kind="duration",
        builtin=_CORE.drill.every,
        min=10,
        max=8 * 3600,
        doc="Desk time between drills.",
    ),
    Key(
        name="drill.start_after_idle",
        kind="duration",
        builtin=_CORE.drill.start_after_idle,
        min=1,
        max=300,
        doc="After a prompt, this much inactivity starts the drill.",
    ),
    Key(
        name="drill.prelude",
        kind="duration",
        builtin=_CORE.drill.prelude,
        min=5,
        max=1800,
        doc="Keep working this long after a prompt and it is snoozed.",
    ),
    Key(
        name="drill.snooze",
        kind="duration",
        builtin=_CORE.drill.snooze,
        min=5,
        max=7200,
        doc="Desk time before a snoozed drill returns.",
    ),
    Key(
        name="drill.max_snoozes",
        kind="int",
        builtin=_CORE.drill.max_snoozes,
        min=0,
        max=10,
        doc="Snoozes per drill; the next ignored prompt ends as ignored.",
    ),
    Key(
        name="quiet.enabled",
        kind="bool",
        builtin=_CORE.quiet.enabled,
        doc="Hold prompts during fullscreen, do-not-disturb and calls.",
    ),
    Key(
        name="quiet.catch_up_delay",
        kind="duration",
        builtin=_CORE.quiet.catch_up_delay,
        min=0,
        max=60,
        doc="Offer a held prompt this long after quiet ends.",
    ),
    Key(
        name="schedule.enabled",
        kind="bool",
        builtin=_CORE.schedule.enabled,
        doc="Only count and prompt within working hours.",
    ),
    Key(
        name="schedule.days",
        kind="days",
        builtin=_CORE.schedule.days,
        doc="Working days.",
    ),
    Key(
        name="schedule.hours",
        kind="hours",
        builtin=_CORE.schedule.hours,
        doc="Working hours, local time; several spans allowed.",
    ),
    Key(
        name="history.enabled",
        kind="bool",
        builtin=True,
        doc="Keep a local history of prompts, drills and desk time (never leaves this machine).",
    ),
    Key(
        name="history.keep_days",
        kind="int",
        builtin=90,
        min=1,
        max=3650,
        doc="Days of history to keep; older days are deleted automatically.",
    ),
    Key(
        name="autostart.enabled",
        kind="bool",
        builtin=False,
        policy_only=True,
        doc="IT policy only: [enforced.autostart] enabled = true keeps `ergobreak autostart`"
        " from switching login start off (false: from switching it on). Users manage login"
        " start with `ergobreak autostart enable|disable`; nothing writes entries on its own.",
    ),
    # --- routines (content selection) ---
    # Not part of the core Settings: ergobreak.content.select() turns these into
    # the drill rotation. Documented in docs/content.md.
    Key(
        name="routines.categories",
        kind="categories",
        builtin=_FILTERS.categories,
        doc="Drill categories in the rotation, in the order they alternate"
        " (hip_flexor, hinge, mobility, glutes, seated).",
    ),
    Key(
        name="routines.only",
        kind="routine_ids",
        builtin=_FILTERS.only,
        doc="Drill ids to rotate through in this order; when not empty it replaces"
        " routines.categories (the other filters still apply).",
    ),
    Key(
        name="routines.equipment",
        kind="equipment",
        builtin=_FILTERS.equipment,
        doc="Equipment you have: wall, stick, band. Drills needing anything else are left out.",
    ),
    Key(
        name="routines.floor",
        kind="bool",
        builtin=_FILTERS.floor,
        doc="Include floor drills (kneeling or lying on a mat).",
    ),
    Key(
        name="routines.prefer_seated",
        kind="bool",
        builtin=_FILTERS.prefer_seated,
        doc="Only drills done sitting on a chair (adds the seated category).",
    ),
    Key(
        name="routines.exclude_tags",
        kind="tags",
        builtin=_FILTERS.exclude_tags,
        doc="Leave out drills with any of these tags, e.g. kneeling, lying-on-back,"
        " deep-hip-flexion, crossing-legs, hip-adduction, balance.",
    ),
    # --- end routines (content selection) ---
)
KEY_BY_NAME: dict[str, Key] = {key.name: key for key in KEYS}
TABLES: frozenset[str] = frozenset(key.name.rsplit(".", 1)[0] for key in KEYS)
#: top-level keys that are not settings
META_KEYS: frozenset[str] = frozenset({"schema"})


#: the ``[routines]`` keys, one per field of :class:`Filters`
ROUTINE_KEYS: tuple[str, ...] = tuple(key for key in KEY_BY_NAME if key.startswith("routines."))


def defaults() -> dict[str, Any]:
    """Built-in defaults, already parsed."""
    return {key.name: key.builtin for key in KEYS}


#: ``(shorter, longer, reported)``: ``shorter`` must be strictly shorter than
#: ``longer``; a broken relation is reported at ``reported`` unless told otherwise
RELATIONS: tuple[tuple[str, str, str], ...] = (
    ("activity.idle_pause", "activity.natural_break", "activity.natural_break"),
    ("drill.start_after_idle", "activity.idle_pause", "drill.start_after_idle"),
)


def conflicts(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Broken relations between keys, as ``(reported key, the other key)``."""
    return [
        (reported, longer if reported == shorter else shorter)
        for shorter, longer, reported in RELATIONS
        if values[shorter] >= values[longer]
    ]


def conflict_message(values: Mapping[str, Any], key: str, other: str) -> str:
    """What is wrong with ``key`` given ``other`` (a pair from :func:`conflicts`)."""
    for shorter, longer, _ in RELATIONS:
        if {shorter, longer} == {key, other}:
            word = "shorter" if key == shorter else "longer"
            return (
                f"must be {word} than {other} ({format_duration(values[other])}),"
                f" got {format_duration(values[key])}"
            )
    raise KeyError((key, other))


def cross_check(
    values: Mapping[str, Any], *, blame: Callable[[str], bool] | None = None
) -> list[tuple[str, str]]:
    """Relations between keys that single-key bounds cannot express: (key, message).

    Each broken relation is reported at one of its two keys: the one ``blame``
    accepts (e.g. the one written in the file being checked), else the usual one.
    """
    problems: list[tuple[str, str]] = []
    for first, second in conflicts(values):
        at, other = first, second
        if blame is not None and not blame(first) and blame(second):
            at, other = second, first
        problems.append((at, conflict_message(values, at, other)))
    return problems


def to_settings(values: dict[str, Any]) -> Settings:
    """Build core settings from a complete mapping of parsed values."""
    v = values
    return Settings(
        activity=ActivitySettings(
            idle_pause=v["activity.idle_pause"],
            natural_break=v["activity.natural_break"],
            prompt_gap=v["activity.prompt_gap"],
        ),
        posture=PostureSettings(enabled=v["posture.enabled"], every=v["posture.every"]),
        drill=DrillSettings(
            enabled=v["drill.enabled"],
            every=v["drill.every"],
            start_after_idle=v["drill.start_after_idle"],
            prelude=v["drill.prelude"],
            snooze=v["drill.snooze"],
            max_snoozes=v["drill.max_snoozes"],
        ),
        quiet=QuietSettings(enabled=v["quiet.enabled"], catch_up_delay=v["quiet.catch_up_delay"]),
        schedule=ScheduleSettings(
            enabled=v["schedule.enabled"], days=v["schedule.days"], hours=v["schedule.hours"]
        ),
    )


def to_filters(values: Mapping[str, Any]) -> Filters:
    """The content's ``[routines]`` filters from a mapping of parsed values
    (``routines.floor`` is :attr:`Filters.floor`)."""
    return Filters(**{f.name: values[f"routines.{f.name}"] for f in dataclasses.fields(Filters)})


def to_toml(key: str, value: Any) -> Any:
    """A parsed value back in the form people write in TOML."""
    return _toml_form(KEY_BY_NAME[key].kind, value)
