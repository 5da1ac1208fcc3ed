"""Validated, immutable scheduling settings: what the core needs, in seconds.

The config layer (:mod:`ergobreak.config`) turns TOML into these objects and does
all the checking; the core trusts them. Defaults follow ``docs/content.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True, kw_only=True)
class ActivitySettings:
    #: input at most this long ago makes an instant desk time (R1)
    idle_pause: float = 60.0
    #: a continuous away period this long is a natural break (R2)
    natural_break: float = 300.0
    #: never two scheduled prompts closer than this; a posture check this close
    #: to a due drill is skipped (R3)
    prompt_gap: float = 300.0


@dataclass(frozen=True, slots=True, kw_only=True)
class PostureSettings:
    enabled: bool = True
    every: float = 1200.0


@dataclass(frozen=True, slots=True, kw_only=True)
class DrillSettings:
    enabled: bool = True
    every: float = 1800.0
    start_after_idle: float = 10.0
    prelude: float = 60.0
    snooze: float = 300.0
    max_snoozes: int = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class QuietSettings:
    #: hold prompts while a quiet source (fullscreen, do-not-disturb, a call) is on
    enabled: bool = True
    #: deliver the held prompt this long after quiet ends (bounded to 60 s)
    catch_up_delay: float = 10.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleSettings:
    """Working hours in local time; outside them nothing is counted or prompted."""

    enabled: bool = True
    #: weekday numbers, Monday = 0
    days: frozenset[int] = frozenset(range(5))
    #: (start, end) in minutes after midnight; end <= start runs past midnight
    hours: tuple[tuple[int, int], ...] = ((9 * 60, 17 * 60 + 30),)


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    activity: ActivitySettings = field(default_factory=ActivitySettings)
    posture: PostureSettings = field(default_factory=PostureSettings)
    drill: DrillSettings = field(default_factory=DrillSettings)
    quiet: QuietSettings = field(default_factory=QuietSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)


ALWAYS = ScheduleSettings(enabled=False)
