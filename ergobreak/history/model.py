"""Plain data for the history store: rows written, summaries read, and local-day helpers.

Times are POSIX seconds (``wall``); a *day* is the local calendar date, as
``YYYY-MM-DD`` text, in the time zone the recorder ran in when it wrote the row
(so travelling never rewrites history).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Literal

from ergobreak.core.content import ANSWERS

#: effects recorded (the others: drill steps, rejected commands, state changes are noise)
KINDS = (
    "posture_check",
    "drill_prompt",
    "drill_start",
    "drill_end",
    "snoozed",
    "natural_break",
    "paused",
    "resumed",
    "deferred",
    "feedback",  # "How was it?" after a drill: ``routine`` and ``answer``
)

#: the answers of a ``feedback`` event, in the order :attr:`RoutineStats.felt` counts them

#: what ended an unbroken sitting stretch
StretchEnd = Literal["natural_break", "drill", "gap"]

PeriodName = Literal["day", "week", "month"]
PERIOD_DAYS: dict[PeriodName, int] = {"day": 1, "week": 7, "month": 30}


def local_day(wall: float, tz: tzinfo) -> str:
    return datetime.fromtimestamp(wall, tz).date().isoformat()


def minute_of_day(wall: float, tz: tzinfo) -> int:
    moment = datetime.fromtimestamp(wall, tz)
    return moment.hour * 60 + moment.minute


def split_by_day(wall: float, seconds: float, tz: tzinfo) -> list[tuple[str, float]]:
    """Split ``seconds`` that ended at ``wall`` over the local days they fell on."""
    if seconds <= 0:
        return []
    start = wall - seconds
    out: list[tuple[str, float]] = []
    while True:
        day = datetime.fromtimestamp(start, tz).date()
        midnight = datetime.combine(day + timedelta(days=1), time(), tzinfo=tz).timestamp()
        if midnight >= wall or midnight <= start:
            out.append((day.isoformat(), wall - start))
            return out
        out.append((day.isoformat(), midnight - start))
        start = midnight


@dataclass(frozen=True, slots=True)
class EventRow:
    """One recorded prompt or outcome.

    ``routine`` is the drill id, ``cue`` the posture cue id. ``attempt`` is the
    prompt's attempt number (1 = first offer) or, for ``snoozed``, the snooze count.
    ``requested`` is true when the user asked (a posture check or drill from the
    tray, a manual snooze or resume). ``seconds``: time away for ``natural_break``,
    the snooze length for ``snoozed``, the pause length for ``paused``. ``answer``:
    "How was it?" for ``feedback`` (easy, right, hard, hurt).
    """

    wall: float
    day: str
    kind: str
    routine: str | None = None
    cue: str | None = None
    outcome: str | None = None
    reason: str | None = None
    attempt: int | None = None
    requested: bool | None = None
    seconds: float | None = None
    answer: str | None = None


@dataclass(slots=True)
class StretchRow:
    """An unbroken sitting stretch (see :mod:`ergobreak.history`): desk seconds between
    real breaks, placed in the day by its first and last desk second."""

    id: int
    start_wall: float
    end_wall: float
    day: str
    desk_seconds: float
    start_min: int
    end_min: int
    open: bool = True
    ended_by: StretchEnd | None = None


@dataclass(slots=True)
class Batch:
    """Everything one transaction writes."""

    events: list[EventRow] = field(default_factory=list)
    #: desk seconds to add, per local day
    desk: dict[str, float] = field(default_factory=dict)
    #: stretch rows to insert or update (by id)
    stretches: dict[int, StretchRow] = field(default_factory=dict)
    #: steps the recorder had to drop since the last batch (queue full)
    dropped: int = 0

    def __bool__(self) -> bool:
        return bool(self.events or self.desk or self.stretches or self.dropped)

    def merge(self, later: Batch) -> None:
        """Fold ``later`` into this batch (used to retry a batch that failed to write)."""
        self.events.extend(later.events)
        for day, seconds in later.desk.items():
            self.desk[day] = self.desk.get(day, 0.0) + seconds
        self.stretches.update(later.stretches)
        self.dropped += later.dropped


@dataclass(frozen=True, slots=True)
class DayStats:
    """One local day. ``offered`` counts drill cycles the user answered or let lapse
    (done + skipped + ignored); ``cancelled`` ones (paused, asleep, a natural break,
    off hours) are withdrawn by the scheduler and counted apart."""

    day: str
    desk_seconds: float = 0.0
    longest_stretch: float = 0.0
    posture_checks: int = 0
    drill_prompts: int = 0
    drills_done: int = 0
    drills_skipped: int = 0
    drills_ignored: int = 0
    drills_cancelled: int = 0
    snoozes: int = 0
    natural_breaks: int = 0

    @property
    def drills_offered(self) -> int:
        return self.drills_done + self.drills_skipped + self.drills_ignored

    @property
    def empty(self) -> bool:
        return not (
            self.desk_seconds
            or self.posture_checks
            or self.drill_prompts
            or self.drills_done
            or self.drills_offered
            or self.drills_cancelled
            or self.natural_breaks
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "day": self.day,
            "desk_seconds": round(self.desk_seconds),
            "longest_stretch_seconds": round(self.longest_stretch),
            "posture_checks": self.posture_checks,
            "drill_prompts": self.drill_prompts,
            "drills_offered": self.drills_offered,
            "drills_done": self.drills_done,
            "drills_skipped": self.drills_skipped,
            "drills_ignored": self.drills_ignored,
            "drills_cancelled": self.drills_cancelled,
            "snoozes": self.snoozes,
            "natural_breaks": self.natural_breaks,
        }


@dataclass(frozen=True, slots=True)
class RoutineStats:
    routine: str
    done: int = 0
    skipped: int = 0
    ignored: int = 0
    snoozed: int = 0
    #: "How was it?" answers: (easy, right, hard, hurt)
    felt: tuple[int, int, int, int] = (0, 0, 0, 0)

    def as_dict(self) -> dict[str, object]:
        return {
            "routine": self.routine,
            "done": self.done,
            "skipped": self.skipped,
            "ignored": self.ignored,
            "snoozed": self.snoozed,
            "felt": dict(zip(ANSWERS, self.felt, strict=True)),
        }


@dataclass(frozen=True, slots=True)
class Period:
    """The days ``start`` .. ``end`` inclusive."""

    name: str
    start: date
    end: date

    @classmethod
    def ending(cls, name: PeriodName, end: date) -> Period:
        return cls(name, end - timedelta(days=PERIOD_DAYS[name] - 1), end)

    def days(self) -> list[str]:
        n = (self.end - self.start).days + 1
        return [(self.start + timedelta(days=i)).isoformat() for i in range(n)]


@dataclass(frozen=True, slots=True)
class Summary:
    """What ``stats`` and the report show for a period."""

    period: Period
    days: list[DayStats]
    routines: list[RoutineStats]
    stretches: list[StretchRow]
    dropped: int = 0

    def total(self) -> DayStats:
        def add(name: str) -> int:
            return sum(int(getattr(d, name)) for d in self.days)

        return DayStats(
            day=f"{self.period.start.isoformat()}..{self.period.end.isoformat()}",
            desk_seconds=sum(d.desk_seconds for d in self.days),
            longest_stretch=max((d.longest_stretch for d in self.days), default=0.0),
            posture_checks=add("posture_checks"),
            drill_prompts=add("drill_prompts"),
            drills_done=add("drills_done"),
            drills_skipped=add("drills_skipped"),
            drills_ignored=add("drills_ignored"),
            drills_cancelled=add("drills_cancelled"),
            snoozes=add("snoozes"),
            natural_breaks=add("natural_breaks"),
        )

    @property
    def empty(self) -> bool:
        return all(d.empty for d in self.days)
