"""Realistic histories from the real core: replay desk-activity traces day by day.

Used by the tests (histories built by the scheduler itself, not hand-written rows)
and by ``ergobreak report --demo`` (a sample report that never touches real data).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta, tzinfo

from ergobreak.content import default_content
from ergobreak.core import effects as fx
from ergobreak.core import events as ev
from ergobreak.core.machine import DeskSession, View
from ergobreak.core.settings import Settings
from ergobreak.history.recorder import Accumulator
from ergobreak.history.store import HistoryStore
from ergobreak.sim.replay import replay
from ergobreak.sim.trace import compile_trace, parse_trace, shipped_trace

#: what the engine hands the recorder after each core step
Sink = Callable[[float, Sequence[fx.Effect], View], None]


class RecordingSession(DeskSession):
    """A core that reports every step to ``sink``, as the daemon's engine does."""

    def __init__(self, settings: Settings, tz: tzinfo, sink: Sink) -> None:
        super().__init__(settings, default_content(), tz, away_poll=None)
        self._sink = sink

    def handle(
        self, t: float, wall: float, event: ev.Event, idle: float | None = None
    ) -> list[fx.Effect]:
        if isinstance(event, ev.Sample):
            return self.sample(t, wall, event.idle)
        out = super().handle(t, wall, event, idle)
        self._sink(wall, out, self.view(t))
        return out

    def sample(self, t: float, wall: float, idle: float) -> list[fx.Effect]:
        out = super().sample(t, wall, idle)
        self._sink(wall, out, self.view(t))
        return out


def replay_into(
    sink: Sink,
    trace_text: str,
    start_wall: float,
    tz: tzinfo,
    settings: Settings | None = None,
) -> RecordingSession:
    """Replay ``trace_text`` from ``start_wall`` with deadline sampling (like the daemon),
    handing every step to ``sink``; returns the core for inspection."""
    machine = RecordingSession(settings or Settings(), tz, sink)
    replay(compile_trace(parse_trace(trace_text)), machine, start_wall, sampling="deadline")
    return machine


def workday_trace() -> str:
    """The shipped sample workday (``ergobreak simulate workday``)."""
    return shipped_trace("workday")


def vary(trace_text: str, rng: random.Random) -> list[tuple[int, str]]:
    """Another plausible day: activity stretched or shrunk a little; the trace's own
    answers to prompts are left out (:func:`respond` answers them)."""
    rows: list[tuple[int, str]] = []
    for row in parse_trace(trace_text):
        if row.what in ("active", "fullscreen"):
            rows.append((max(60, round(row.seconds * rng.uniform(0.8, 1.25))), row.what))
        elif row.what in ("idle", "locked", "asleep"):
            rows.append((max(30, round(row.seconds * rng.uniform(0.7, 1.4))), row.what))
        elif row.what == "pause" and rng.random() < 0.5:
            rows.append((0, f"pause {row.arg}" if row.arg else "pause"))
    return rows


#: how the simulated user answers a drill prompt, with weights
ANSWERS: tuple[tuple[str, float, tuple[tuple[int, str], ...]], ...] = (
    ("done", 0.5, ((0, "start"), (130, "idle"))),
    ("skip", 0.15, ((0, "skip"),)),
    ("snooze", 0.15, ((0, "snooze"),)),
    ("ignore", 0.2, ()),
)


def _text(rows: Sequence[tuple[int, str]]) -> str:
    return "".join(f"{n},{what}\n" for n, what in rows)


def _insert(rows: list[tuple[int, str]], at: int, new: Sequence[tuple[int, str]]) -> bool:
    """Insert ``new`` at second ``at`` if it falls inside an active span."""
    t = 0
    for i, (n, what) in enumerate(rows):
        if t < at < t + n and what == "active":
            rows[i : i + 1] = [(at - t, "active"), *new, (t + n - at, "active")]
            return True
        t += n
    return False


def respond(
    rows: list[tuple[int, str]],
    rng: random.Random,
    start_wall: float,
    tz: tzinfo,
    settings: Settings | None = None,
) -> str:
    """Answer the day's drill prompts like a person would: replay, find the next
    unanswered prompt, put an answer a few seconds after it, and replay again."""
    rows = list(rows)
    answered = -1.0
    for _ in range(60):
        machine = DeskSession(settings or Settings(), default_content(), tz, away_poll=None)
        timeline = compile_trace(parse_trace(_text(rows)))
        records = replay(timeline, machine, start_wall, sampling="deadline").records
        prompt = next(
            (r for r in records if isinstance(r.effect, fx.DrillPrompt) and r.t > answered),
            None,
        )
        if prompt is None:
            break
        answered = prompt.t
        answer = rng.choices(ANSWERS, weights=[w for _, w, _ in ANSWERS])[0]
        if answer[2]:
            _insert(rows, int(prompt.t) + rng.randrange(5, 40), answer[2])
    return _text(rows)


def fill_demo(
    store: HistoryStore,
    end: date,
    days: int,
    tz: tzinfo,
    *,
    seed: int = 8,
    settings: Settings | None = None,
    trace_text: str | None = None,
) -> None:
    """Write ``days`` simulated days ending on ``end`` into ``store`` (weekdays only,
    like the default working hours)."""
    base = trace_text if trace_text is not None else workday_trace()
    acc = Accumulator(tz, last_id=store.last_stretch_id())

    def sink(wall: float, effects: Sequence[fx.Effect], view: View) -> None:
        acc.step(wall, effects, view.posture_desk, view.drill_desk)

    for i in range(days):
        day = end - timedelta(days=days - 1 - i)
        if day.weekday() >= 5:
            continue
        rng = random.Random(seed * 100_003 + day.toordinal())  # noqa: S311 - not crypto
        start = datetime.combine(day, time(8, 30), tzinfo=tz) + timedelta(
            minutes=rng.randrange(0, 75)
        )
        day_trace = respond(vary(base, rng), rng, start.timestamp(), tz, settings)
        replay_into(sink, day_trace, start.timestamp(), tz, settings)
        store.write(acc.take())
