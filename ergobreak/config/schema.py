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
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ergobreak.config import kinds
from ergobreak.config.kinds import Kind, ValueProblem
from ergobreak.content.selection import Filters
from ergobreak.core.duration import format_duration
from ergobreak.core.hours import format_hours
from ergobreak.core.settings import (
    ActivitySettings,
    DrillSettings,
    PostureSettings,
    QuietSettings,
    ScheduleSettings,
    Settings,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Key:
    """One setting: its name, kind (:mod:`~ergobreak.config.kinds`), built-in value,
    bounds and meaning."""

    name: str
    kind: Kind
    #: the built-in value, in the core's form (seconds, weekday numbers, ...)
    builtin: Any
    doc: str
    min: float | None = None
    max: float | None = None
    #: only meaningful in IT policy (left out of the user template; warned in user files)
    policy_only: bool = False
    #: for a ``policy_only`` key: what a user does instead (the hint when one sets it)
    user_hint: str | None = None

    def parse(self, raw: object, *, bounded: bool = True) -> Any:
        """Convert a TOML value to the core's form, or raise :class:`ValueProblem`.

        ``bounded=False`` skips the key's own range (policy ``[limits]`` bounds are
        parsed that way and compared with the range separately).
        """
        value = kinds.parse(self.kind, raw)
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
        return kinds.expected(self.kind)

    @property
    def default(self) -> Any:
        """The built-in value as the shipped config file writes it (``"30m"``).

        Short durations read best in seconds there (``"60s"``, not ``"1m"``).
        """
        if self.kind == "duration" and self.builtin < _SECONDS_BELOW:
            return f"{self.builtin:g}s"
        return kinds.toml_form(self.kind, self.builtin)


#: durations shorter than this are written in seconds in the shipped config file
_SECONDS_BELOW = 120


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
        name="drill.window",
        kind="bool",
        builtin=True,
        doc="Guide each drill in a small coach window with a picture of each step and a"
        " countdown; false: notifications only.",
    ),
    Key(
        name="drill.text_size",
        kind="int",
        builtin=100,
        min=80,
        max=200,
        doc="Text size in the coach window, in percent.",
    ),
    Key(
        name="drill.high_contrast",
        kind="bool",
        builtin=False,
        doc="Draw the coach window in black, white and yellow.",
    ),
    Key(
        name="drill.reduced_motion",
        kind="bool",
        builtin=False,
        doc="Show each step's pictures still instead of animated.",
    ),
    Key(
        name="quiet.enabled",
        kind="bool",
        builtin=_CORE.quiet.enabled,
        doc="Hold prompts during fullscreen, do-not-disturb and calls.",
    ),
    Key(
        name="quiet.calls",
        kind="bool",
        builtin=True,
        doc="Notice calls (camera or microphone in use) to hold prompts; false: ergobreak"
        " never checks the camera or microphone.",
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
        name="history.first_run_notice",
        kind="bool",
        builtin=True,
        doc="Say once where the history is kept and that it stays on this machine.",
    ),
    Key(
        name="autostart.enabled",
        kind="bool",
        builtin=False,
        policy_only=True,
        user_hint="use `ergobreak autostart enable` or `ergobreak autostart disable`",
        doc="IT policy only: [enforced.autostart] enabled = true keeps `ergobreak autostart`"
        " from switching login start off (false: from switching it on). Users manage login"
        " start with `ergobreak autostart enable|disable`; nothing writes entries on its own.",
    ),
    Key(
        name="machine.enabled",
        kind="bool",
        builtin=True,
        policy_only=True,
        user_hint="to stop ergobreak yourself: `ergobreak quit` and `ergobreak autostart disable`",
        doc="IT policy only: [enforced.machine] enabled = false turns ergobreak off on this"
        " machine: `ergobreak run` exits at once saying so (exit 0), `ergobreak autostart"
        " status` reports it disabled by policy, and no tray icon appears.",
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


#: an overnight span of working hours longer than this is most likely written backwards
#: ("17:30-09:00" for "09:00-17:30"); a night shift ("22:00-06:00") is shorter
OVERNIGHT_SUSPECT = 12 * 60

#: a suspicion: ``((key, message at that key), ...)``, where to report it best
#: first, and a hint
Suspicion = tuple[tuple[tuple[str, str], ...], str | None]


def _pair(
    values: Mapping[str, Any], shorter: str, longer: str, consequence: str
) -> tuple[tuple[str, str], ...]:
    """The messages for ``shorter`` not being shorter than ``longer``, at either key."""
    low, high = format_duration(values[shorter]), format_duration(values[longer])
    return (
        (shorter, f"{low} is not shorter than {longer} ({high}): {consequence}"),
        (longer, f"{high} is not longer than {shorter} ({low}): {consequence}"),
    )


def suspicions(
    values: Mapping[str, Any],
    *,
    rotation: Sequence[str] | None = None,
    library: Collection[str] | None = None,
) -> list[Suspicion]:
    """Valid values that together can hardly be what was meant (warnings, never errors):
    working hours written backwards, ``prompt_gap`` not shorter than an interval,
    a snooze not shorter than the time between drills, and, given the drill
    ``rotation``, filters that leave a single drill (not one drill chosen by
    name: ``routines.only`` with one id of the ``library``)."""
    found: list[Suspicion] = []
    if values["schedule.enabled"]:
        for start, end in values["schedule.hours"]:
            length = end + 24 * 60 - start
            if end < start and length > OVERNIGHT_SUSPECT:
                message = (
                    f'"{format_hours((start, end))}" runs overnight:'
                    f" {format_duration(length * 60)}, into the next day"
                )
                hint = f'for daytime hours write "{format_hours((end, start))}"'
                found.append(((("schedule.hours", message),), hint))
    gap = format_duration(values["activity.prompt_gap"])
    if values["drill.enabled"] and values["activity.prompt_gap"] >= values["drill.every"]:
        also = ", and no posture check fits between them" if values["posture.enabled"] else ""
        consequence = f"drills come no more often than every {gap}{also}"
        hint = "make activity.prompt_gap shorter than drill.every"
        found.append((_pair(values, "activity.prompt_gap", "drill.every", consequence), hint))
    elif values["posture.enabled"] and values["activity.prompt_gap"] >= values["posture.every"]:
        consequence = f"posture checks come no more often than every {gap}"
        hint = "make activity.prompt_gap shorter than posture.every"
        found.append((_pair(values, "activity.prompt_gap", "posture.every", consequence), hint))
    if values["drill.enabled"] and values["drill.snooze"] >= values["drill.every"]:
        consequence = "a snoozed drill comes back no sooner than the next drill would"
        hint = "make drill.snooze shorter than drill.every"
        found.append((_pair(values, "drill.snooze", "drill.every", consequence), hint))
    chosen = [i for i in values["routines.only"] if library is None or i in library]
    if rotation is not None and len(rotation) == 1 and len(chosen) != 1:
        message = f"the filters leave one drill ({rotation[0]}): every drill is the same one"
        hint = "to widen the choice, see: ergobreak routines list"
        found.append((tuple((key, message) for key in ROUTINE_KEYS), hint))
    return found


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
    return kinds.toml_form(KEY_BY_NAME[key].kind, value)
