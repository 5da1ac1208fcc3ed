"""Helpers for driving the core in tests, shipped so other tools can reuse them.

Tests read like observation logs: a trace goes in, a timeline comes out::

    >>> log(run("25m,active", ALWAYS_ON))[:1]
    [('20:01', 'posture_check')]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from ergobreak.content import default_content
from ergobreak.core.content import Content
from ergobreak.core.duration import format_clock
from ergobreak.core.machine import POLL_AWAY, DeskSession
from ergobreak.core.settings import ScheduleSettings, Settings
from ergobreak.localtz import get_timezone
from ergobreak.sim.replay import Record, Sampling, replay
from ergobreak.sim.trace import compile_trace, parse_trace

#: default settings with working hours switched off, so wall time does not matter
ALWAYS_ON = Settings(schedule=ScheduleSettings(enabled=False))


def settings(base: Settings = ALWAYS_ON, **changes: Any) -> Settings:
    """Override nested settings by dotted-ish names: ``settings(drill_every=600)``."""
    groups: dict[str, dict[str, Any]] = {}
    for name, value in changes.items():
        group, _, field = name.partition("_")
        groups.setdefault(group, {})[field] = value
    replaced = {
        group: dataclasses.replace(getattr(base, group), **fields)
        for group, fields in groups.items()
    }
    return dataclasses.replace(base, **replaced)


def make_machine(
    config: Settings = ALWAYS_ON,
    *,
    content: Content | None = None,
    tz: str = "UTC",
    away_poll: float | None = POLL_AWAY,
) -> DeskSession:
    return DeskSession(config, content or default_content(), get_timezone(tz), away_poll=away_poll)


def run(
    trace: str,
    config: Settings = ALWAYS_ON,
    *,
    start: str = "2026-01-05T09:00",
    tz: str = "UTC",
    sampling: Sampling = "1hz",
    fast_path: bool = True,
    content: Content | None = None,
) -> list[Record]:
    """Replay ``trace`` (trace-file syntax, ``;`` or newlines between rows)."""
    zone = get_timezone(tz)
    machine = make_machine(
        config, content=content, tz=tz, away_poll=None if sampling == "deadline" else POLL_AWAY
    )
    machine.fast_path = fast_path
    timeline = compile_trace(parse_trace(trace.replace(";", "\n")))
    begin = datetime.fromisoformat(start).replace(tzinfo=zone).timestamp()
    return replay(timeline, machine, begin, sampling=sampling).records


def log(
    records: Iterable[Record], *, skip: tuple[str, ...] = ("state", "drill_step")
) -> list[tuple[str, str]]:
    """``(m:ss, event)`` pairs, leaving out noisy events by default."""
    return [(format_clock(r.t), r.effect.event) for r in records if r.effect.event not in skip]


def events(records: Iterable[Record], *names: str) -> list[Record]:
    return [r for r in records if r.effect.event in names]


def fields(record: Record) -> dict[str, object]:
    return record.effect.fields()
