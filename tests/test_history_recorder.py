"""The recorder: desk time from the core's views, sitting stretches, and the writer
thread (batching, flush on close, a bounded queue that drops rather than blocks).
Histories come from replaying traces through the real core."""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest

from ergobreak.core import effects as fx
from ergobreak.core.content import Cue
from ergobreak.core.machine import View
from ergobreak.core.settings import Settings
from ergobreak.history import store as store_mod
from ergobreak.history.model import Batch, EventRow, Period, StretchRow
from ergobreak.history.recorder import Accumulator, DeskMeter, HistoryRecorder
from ergobreak.history.store import HistoryStore
from ergobreak.localtz import get_timezone
from ergobreak.sim.demo import (
    RecordingSession,
    Sink,
    fill_demo,
    replay_into,
    workday_trace,
)
from ergobreak.sim.replay import replay
from ergobreak.sim.testing import events, make_machine, settings
from ergobreak.sim.trace import compile_trace, parse_trace

UTC = get_timezone("UTC")
#: drills and posture checks off, no working hours: pure desk time
PLAIN = settings(drill_enabled=False, posture_enabled=False)


def last_monday() -> date:
    """A recent working day, so retention never purges what a test writes."""
    today = date.today()
    return today - timedelta(days=today.weekday() + 7)


def at(day: date, hour: int = 9, minute: int = 0) -> float:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC).timestamp()


class Views:
    """Minimal stand-ins for ``View`` (the recorder reads two timers)."""

    def __init__(self, posture: float, drill: float) -> None:
        self.posture_desk = posture
        self.drill_desk = drill


# ---------------------------------------------------------------- desk meter


def test_meter_is_exact_while_one_timer_survives() -> None:
    m = DeskMeter()
    assert m.update(100.0, 100.0) == 0.0  # the first view only sets the baseline
    assert m.update(160.0, 160.0) == 60.0
    assert m.update(20.0, 200.0) == 40.0  # posture check reset one timer
    assert m.update(50.0, 0.0 + 30.0 - 30.0) == 30.0  # drill timer reset: posture tells
    assert m.update(0.0, 10.0) == 10.0  # both reset (a drill done): the new value counts
    assert m.update(0.0, 10.0) == 0.0


class Truth(RecordingSession):
    """The core with a white-box oracle: every second of desk time it accrues."""

    def __init__(self, config: Settings, sink: object) -> None:
        super().__init__(config, UTC, sink)  # type: ignore[arg-type]
        self.fast_path = False  # all accrual goes through _accrue
        self.total = 0.0

    def _accrue(self, a: float, b: float) -> None:
        before = self._drill_timer.elapsed
        super()._accrue(a, b)
        self.total += self._drill_timer.elapsed - before


@pytest.mark.parametrize("sampling", ["deadline", "1hz"])
def test_meter_matches_the_cores_desk_time_over_a_workday(sampling: str) -> None:
    meter = DeskMeter()
    measured = 0.0
    resets = 0

    def sink(wall: float, effects: Sequence[fx.Effect], view: View) -> None:
        nonlocal measured, resets
        measured += meter.update(view.posture_desk, view.drill_desk)
        resets += sum(
            isinstance(e, fx.NaturalBreak)
            or (isinstance(e, fx.DrillEnd) and e.outcome != "cancelled")
            for e in effects
        )

    machine = Truth(Settings(), sink)
    timeline = compile_trace(parse_trace(workday_trace()))
    replay(timeline, machine, at(last_monday()), sampling=sampling)  # type: ignore[arg-type]
    assert machine.total > 5 * 3600
    assert resets >= 5
    # Only desk time between the last step and a reset of both timers can be missed:
    # at most one poll interval (60 s) per reset, and in practice far less.
    assert 0 <= machine.total - measured <= 60 * resets
    assert machine.total - measured <= 0.005 * machine.total


def sink_for(acc: Accumulator) -> Sink:
    def sink(wall: float, effects: Sequence[fx.Effect], view: View) -> None:
        acc.step(wall, effects, view.posture_desk, view.drill_desk)

    return sink


def stretches_of(trace: str, config: Settings, start: float | None = None) -> list[StretchRow]:
    acc = Accumulator(UTC)
    replay_into(sink_for(acc), trace.replace(";", "\n"), start or at(last_monday()), UTC, config)
    return sorted(acc.take().stretches.values(), key=lambda s: s.id)


def shape(stretches: list[StretchRow]) -> list[tuple[int, str | None]]:
    """(desk minutes, ended by) per stretch."""
    return [(round(s.desk_seconds / 60), s.ended_by) for s in stretches]


def test_a_natural_break_ends_a_stretch() -> None:
    got = stretches_of("50m,active;6m,locked;20m,active", PLAIN)
    assert shape(got) == [(50, "natural_break"), (20, None)]
    assert not got[0].open
    assert got[1].open


def test_a_short_time_away_does_not_end_a_stretch() -> None:
    # 3 minutes idle: the first minute still counts as desk time (idle_pause)
    assert shape(stretches_of("20m,active;3m,idle;20m,active", PLAIN)) == [(41, None)]


def test_posture_checks_do_not_end_a_stretch() -> None:
    config = settings(drill_enabled=False)
    got = stretches_of("65m,active", config)
    assert shape(got) == [(65, None)]


def test_a_drill_done_ends_a_stretch_and_a_skipped_one_does_not() -> None:
    config = settings(posture_enabled=False)
    done = stretches_of("30m,active;3m,idle;20m,active", config)
    assert [s.ended_by for s in done] == ["drill", None]
    assert shape(done)[1] == (20, None)
    skipped = stretches_of("30m30s,active;0,skip;20m,active", config)
    assert shape(skipped) == [(50, None)]


def test_a_long_pause_ends_a_stretch() -> None:
    got = stretches_of("20m,active;0,pause 10m;10m,active;15m,active", PLAIN)
    assert shape(got) == [(20, "gap"), (15, None)]
    assert got[1].start_wall - got[0].end_wall == pytest.approx(600, abs=2)


def test_stretches_know_their_time_of_day() -> None:
    day = last_monday()
    [s] = stretches_of("45m,active", PLAIN, start=at(day, 10, 15))
    assert (s.start_min, s.end_min) == (10 * 60 + 15, 11 * 60)
    assert s.day == day.isoformat()


def test_a_stretch_continues_across_a_quick_restart(tmp_path: Path) -> None:
    day = last_monday()

    def two_runs(restart_after: float) -> list[tuple[int, str | None]]:
        with HistoryStore.open(tmp_path / f"h{restart_after}.db") as store:
            for start in (at(day), at(day) + 1200 + restart_after):
                acc = Accumulator(
                    UTC, open_stretch=store.open_stretch(), last_id=store.last_stretch_id()
                )
                replay_into(sink_for(acc), "20m,active", start, UTC, PLAIN)
                store.write(acc.take())
            return shape(store.stretches())

    assert two_runs(120) == [(40, None)]
    assert two_runs(900) == [(20, "gap"), (20, None)]


def test_desk_time_is_split_at_midnight() -> None:
    acc = Accumulator(UTC)
    midnight = at(last_monday() + timedelta(days=1), 0, 0)
    acc.step(midnight - 50, (), 0.0, 0.0)
    acc.step(midnight + 10, (), 60.0, 60.0)
    batch = acc.take()
    assert batch.desk == {
        last_monday().isoformat(): 50.0,
        (last_monday() + timedelta(days=1)).isoformat(): 10.0,
    }
    [s] = batch.stretches.values()
    assert s.day == (last_monday() + timedelta(days=1)).isoformat()  # the day it ends


# ---------------------------------------------------------------- the recorder


def test_recorder_stores_what_the_core_did(tmp_path: Path) -> None:
    day = last_monday()
    path = tmp_path / "history.db"
    with HistoryRecorder(path, tz=UTC) as recorder:
        machine = replay_into(recorder.record, workday_trace(), at(day), UTC)
    reference = make_machine(Settings(), away_poll=None)
    timeline = compile_trace(parse_trace(workday_trace()))
    expected = replay(timeline, reference, at(day), sampling="deadline").records
    with HistoryStore.open(path) as store:
        got = [e.kind for e in store.events()]
        assert got == [
            r.effect.event
            for r in expected
            if r.effect.event not in ("state", "drill_step", "rejected")
        ]
        [stats] = store.day_stats(Period("day", day, day))
    assert stats.drill_prompts == len(events(expected, "drill_prompt"))
    assert stats.drills_done == sum(
        isinstance(r.effect, fx.DrillEnd) and r.effect.outcome == "done" for r in expected
    )
    assert stats.posture_checks == len(events(expected, "posture_check"))
    assert stats.natural_breaks == len(events(expected, "natural_break"))
    assert 5 * 3600 < stats.desk_seconds < 6 * 3600
    assert stats.longest_stretch > 30 * 60
    assert machine.view().drill_desk >= 0


def test_recorder_writes_one_transaction_per_drained_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes: list[Batch] = []
    entered = threading.Event()
    release = threading.Event()
    real_write = HistoryStore.write

    def write(self: HistoryStore, batch: Batch) -> None:
        writes.append(batch)
        entered.set()
        assert release.wait(10)
        real_write(self, batch)

    monkeypatch.setattr(HistoryStore, "write", write)
    check = fx.PostureCheck(cue=_cue())
    with HistoryRecorder(tmp_path / "h.db", tz=UTC, keep_days=None) as recorder:
        recorder.record(at(last_monday()), [check], Views(0, 0))
        assert entered.wait(10)  # the writer is now stuck in its first commit
        for i in range(100):
            recorder.record(at(last_monday()) + i + 1, [check], Views(i + 1, i + 1))
        release.set()
        assert recorder.flush()
        assert [len(b.events) for b in writes] == [1, 100]
        assert recorder.dropped == 0


def test_a_full_queue_drops_and_counts_instead_of_blocking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered = threading.Event()
    release = threading.Event()
    real_write = HistoryStore.write

    def write(self: HistoryStore, batch: Batch) -> None:
        entered.set()
        assert release.wait(10)
        real_write(self, batch)

    monkeypatch.setattr(HistoryStore, "write", write)
    check = fx.PostureCheck(cue=_cue())
    path = tmp_path / "h.db"
    recorder = HistoryRecorder(path, tz=UTC, keep_days=None, queue_size=5)
    recorder.record(at(last_monday()), [check], Views(0, 0))
    assert entered.wait(10)
    for i in range(50):  # returns at once although the writer is stuck
        recorder.record(at(last_monday()) + i, [check], Views(0, 0))
    assert recorder.dropped == 45
    release.set()
    recorder.close()
    with HistoryStore.open(path) as store:
        assert len(store.events()) == 6
        assert store.dropped() == 45


def test_desk_time_alone_wakes_the_writer_and_is_committed_once_per_flush_every(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer's clock is driven by the test, one loop iteration at a time."""
    writes: list[Batch] = []
    real_write = HistoryStore.write

    def write(self: HistoryStore, batch: Batch) -> None:
        writes.append(batch)
        real_write(self, batch)

    monkeypatch.setattr(HistoryStore, "write", write)
    calls: queue.Queue[None] = queue.Queue()
    answers: queue.Queue[float] = queue.Queue()

    def clock() -> float:
        calls.put(None)
        return answers.get(timeout=10)

    recorder = HistoryRecorder(tmp_path / "h.db", tz=UTC, keep_days=None, clock=clock)
    wall = at(last_monday())
    # (wall seconds, desk seconds so far); the writer wakes only for the steps queued:
    # the first, then one flush_every (300 s) of wall time after it. The steps between
    # only grow the timers: the engine side holds them back (the last one carries all).
    steps = ((0.0, True), (60.0, False), (200.0, False), (301.0, True), (362.0, False))
    woken = []
    for desk, queued in steps:
        recorder.record(wall + desk, [], Views(desk, desk))
        if queued:
            calls.get(timeout=10)  # the writer is in this step's iteration
            woken.append(desk)
            answers.put(desk)
    assert calls.empty()  # the held steps never woke it
    answers.put(370.0)  # for the query's iteration
    assert recorder.flush()  # a query releases the held step first
    calls.get(timeout=10)
    assert woken == [0.0, 301.0]
    assert [b.desk for b in writes][:1] == [{last_monday().isoformat(): 301.0}]
    answers.put(400.0)  # for close()'s iteration
    recorder.close()
    assert len(writes) == 2
    assert sum(b.desk.get(last_monday().isoformat(), 0) for b in writes) == 362.0


def test_close_commits_pending_desk_time(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    with HistoryRecorder(path, tz=UTC, flush_every=1e9) as recorder:
        for i in range(500):
            recorder.record(at(last_monday()) + i, [], Views(i, i))
    with HistoryStore.open(path) as store:
        [day] = store.day_stats(Period("day", last_monday(), last_monday()))
        assert day.desk_seconds == 499.0


def test_today_line_includes_what_is_still_queued(tmp_path: Path) -> None:
    day = last_monday()
    with HistoryRecorder(tmp_path / "h.db", tz=UTC, flush_every=1e9) as recorder:
        replay_into(recorder.record, workday_trace(), at(day), UTC)
        line = recorder.today(day)
    assert line is not None
    assert line.startswith("Today: ")
    assert "drills" in line
    assert "posture checks" in line
    assert "at the desk, longest" in line


def test_a_busy_store_keeps_the_batch_until_it_can_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_mod, "BUSY_TIMEOUT", 0.05)
    path = tmp_path / "h.db"
    recorder = HistoryRecorder(path, tz=UTC)
    assert recorder.flush()  # opened
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # like a long `stats clear`
    recorder.record(at(last_monday()), [fx.PostureCheck(cue=_cue())], Views(0, 0))
    recorder.record(at(last_monday()) + 30, [], Views(30, 30))
    assert not recorder.flush()  # could not commit, and says so
    holder.execute("ROLLBACK")
    holder.close()
    assert recorder.flush()
    recorder.close()
    with HistoryStore.open(path) as store:
        assert [e.kind for e in store.events()] == ["posture_check"]
        [day] = store.day_stats(Period("day", last_monday(), last_monday()))
        assert day.desk_seconds == 30.0


def test_unusable_location_turns_history_off_without_raising(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    messages: list[tuple[str, str]] = []
    recorder = HistoryRecorder(
        blocker / "h.db", tz=UTC, on_message=lambda k, t: messages.append((k, t))
    )
    assert not recorder.flush()
    assert recorder.failure is not None
    recorder.record(at(last_monday()), [fx.PostureCheck(cue=_cue())], Views(0, 0))
    assert recorder.today() is None
    recorder.close()
    assert [k for k, _ in messages] == ["unavailable"]
    assert "cannot create" in messages[0][1]


def test_first_run_and_recovery_messages(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    path.write_bytes(b"garbage" * 1000)
    messages: list[tuple[str, str]] = []

    def on_message(kind: str, text: str) -> None:
        messages.append((kind, text))

    for _ in range(2):
        with HistoryRecorder(path, tz=UTC, on_message=on_message) as recorder:
            assert recorder.flush()
    kinds = [k for k, _ in messages]
    assert kinds == ["recovered", "first_run"]
    assert "moved to" in messages[0][1]
    notice = messages[1][1]
    assert str(path) in notice
    assert "never leaves this machine" in notice
    assert "ergobreak stats clear" in notice
    assert "90 days" in notice


def test_a_broken_message_callback_does_not_stop_recording(tmp_path: Path) -> None:
    def boom(kind: str, text: str) -> None:
        raise RuntimeError("tray is gone")

    path = tmp_path / "h.db"
    with HistoryRecorder(path, tz=UTC, on_message=boom) as recorder:
        recorder.record(at(last_monday()), [fx.PostureCheck(cue=_cue())], Views(0, 0))
        assert recorder.flush()
    with HistoryStore.open(path) as store:
        assert len(store.events()) == 1


def test_retention_runs_when_the_recorder_starts(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    old = (date.today() - timedelta(days=40)).isoformat()
    recent = (date.today() - timedelta(days=3)).isoformat()
    with HistoryStore.open(path) as store:
        for day in (old, recent):
            store.write(Batch(events=[EventRow(0.0, day, "natural_break")], desk={day: 1.0}))
    with HistoryRecorder(path, tz=UTC, keep_days=30) as recorder:
        assert recorder.flush()
    with HistoryStore.open(path) as store:
        assert [e.day for e in store.events()] == [recent]


def test_demo_history_is_plausible() -> None:
    end = last_monday() + timedelta(days=4)  # a Friday
    with HistoryStore.open_memory() as store:
        fill_demo(store, end, 7, UTC)
        summary = store.summary(Period.ending("week", end))
    worked = [d for d in summary.days if not d.empty]
    assert len(worked) == 5  # weekdays only
    for d in worked:
        assert 3 * 3600 < d.desk_seconds < 8 * 3600
        assert d.drills_offered >= 3
        assert 0 < d.drills_done <= d.drills_offered
        assert d.posture_checks >= 3
    assert summary.total().drills_done > summary.total().drills_offered // 2
    assert any(r.skipped for r in summary.routines)


def _cue() -> Cue:
    from ergobreak.content import default_content

    return default_content().cues[0]


def test_desk_time_held_back_is_queued_before_a_step_that_resets_the_timers(
    tmp_path: Path,
) -> None:
    path = tmp_path / "h.db"
    wall = at(last_monday())
    with HistoryRecorder(path, tz=UTC, keep_days=None) as recorder:
        for desk in range(0, 201, 20):  # held back: no effects, within flush_every
            recorder.record(wall + desk, [], Views(desk, desk))
        # a natural break resets both timers: only the held step knows the 200 s
        recorder.record(wall + 600, [fx.NaturalBreak(away=400.0)], Views(0, 0))
    with HistoryStore.open(path) as store:
        [day] = store.day_stats(Period("day", last_monday(), last_monday()))
        assert day.desk_seconds == 200.0
