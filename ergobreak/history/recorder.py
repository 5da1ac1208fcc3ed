"""Record what the scheduler did, off the engine thread.

Contract with the engine
------------------------
After every core step (every ``DeskSession.handle``/``sample`` call, including the
ones that returned no effects) the engine thread calls::

    recorder.record(wall, effects, session.view(t))

:meth:`HistoryRecorder.record` copies three numbers and the effect tuple into a
bounded queue with ``put_nowait`` and returns: no I/O, never blocks, never raises.
A step without effects only grows the desk timers, so it is held back on the engine's
side and replaced by the next one (the timers are totals: the last step carries the
desk time of all before it); it goes to the queue when a step with effects comes (just
before it), after ``flush_every`` of wall time, or when asked (:meth:`query`,
:meth:`close`). So the writer thread sleeps through the engine's polls — away, or with
a prompt on screen, the engine looks every few seconds — and wakes once per
``flush_every`` unless something happens. When the queue is full (the disk stalls for
minutes) the step is dropped and counted; the count is stored with the next batch.

One writer thread owns the SQLite connection. It blocks on ``queue.get()`` (no
timeouts, no polling), drains whatever else is queued, and writes one transaction
when the steps carry prompts or outcomes, when desk time has been pending for
``flush_every`` seconds, or when asked to (:meth:`flush`, :meth:`query`,
:meth:`close`). A plain tick of desk time therefore costs the laptop one small
commit every few minutes, not one per wake-up.

Desk time
---------
The core's two desk timers (``View.posture_desk``, ``View.drill_desk``) grow by the
same amount between resets, and are never reset together except at a natural break
or at the end of a drill cycle. So the desk time of a step is the larger of the two
increases, where a timer that went *down* was reset and contributes its new value.
That is exact when one timer survives the step, and loses only the desk time
between the previous call and the reset when both are reset in the same step (at
most one poll interval, per drill answered): 30 s in 5.4 h on the sample workday
with the daemon's deadline sampling (measured against the core in the tests).
Because the view carries running totals, a dropped step loses nothing unless a
reset happened inside it. (A never-reset ``desk_total`` counter in the core's View
would make this exact; see :class:`DeskMeter`.)

Unbroken sitting stretch
------------------------
The desk time counted between two *real breaks*: a natural break (away at least
``natural_break``, which resets the core's timers) or a drill done (two minutes on
your feet). Posture checks and skipped, ignored or snoozed drills do not end a
stretch. Where the core cannot see whether you sat — paused, outside working hours,
asleep, ergobreak not running — a gap of at least ``break_gap`` wall seconds
without desk time also ends it. A stretch's length is desk seconds; its place in
the day runs from its first to its last desk second; it counts for the local day
on which it ends (so a day's *longest stretch* is the longest ending that day).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Literal, Protocol, TypeVar

from ergobreak.core import effects as fx
from ergobreak.history.model import (
    Batch,
    EventRow,
    Period,
    StretchEnd,
    StretchRow,
    local_day,
    minute_of_day,
    split_by_day,
)
from ergobreak.history.store import KEEP_DAYS, HistoryError, HistoryStore, is_damage

log = logging.getLogger("ergobreak.history")

T = TypeVar("T")
MessageKind = Literal["first_run", "recovered", "unavailable"]

#: default: commit pending desk time at least this often (seconds)
FLUSH_EVERY = 300.0
#: default queue bound; the engine steps a few times a minute, so this is hours
QUEUE_SIZE = 4096
#: most steps folded into one transaction
MAX_BATCH = 1000
#: failed batches kept for retry hold at most this many events
MAX_PENDING_EVENTS = 20_000


class DeskTimers(Protocol):
    """What the recorder reads from the core's ``View``."""

    @property
    def posture_desk(self) -> float: ...

    @property
    def drill_desk(self) -> float: ...


class DeskMeter:
    """Desk seconds per step from the core's two resettable desk timers."""

    __slots__ = ("_drill", "_posture")

    def __init__(self) -> None:
        self._posture: float | None = None
        self._drill = 0.0

    def update(self, posture: float, drill: float) -> float:
        """Desk seconds since the previous call (0 on the first call)."""
        if self._posture is None:
            delta = 0.0
        else:
            dp = posture - self._posture if posture >= self._posture else posture
            dd = drill - self._drill if drill >= self._drill else drill
            delta = max(dp, dd, 0.0)
        self._posture = posture
        self._drill = drill
        return delta


def event_row(effect: fx.Effect, wall: float, day: str) -> EventRow | None:
    """The row recorded for ``effect``, or None for effects that are not history."""
    match effect:
        case fx.PostureCheck(cue=cue, requested=requested):
            return EventRow(wall, day, effect.event, cue=cue.id, requested=requested)
        case fx.DrillPrompt(drill=drill, attempt=attempt):
            return EventRow(wall, day, effect.event, routine=drill.id, attempt=attempt)
        case fx.DrillStart(drill=drill, requested=requested):
            return EventRow(wall, day, effect.event, routine=drill.id, requested=requested)
        case fx.DrillEnd(drill=drill, outcome=outcome, reason=reason):
            return EventRow(
                wall, day, effect.event, routine=drill.id, outcome=outcome, reason=reason
            )
        case fx.Snoozed(drill=drill, count=count, auto=auto, seconds=seconds):
            return EventRow(
                wall,
                day,
                effect.event,
                routine=drill.id,
                attempt=count,
                requested=not auto,
                seconds=seconds,
            )
        case fx.NaturalBreak(away=away):
            return EventRow(wall, day, effect.event, seconds=round(away, 3))
        case fx.Paused(seconds=seconds):
            return EventRow(wall, day, effect.event, requested=True, seconds=seconds)
        case fx.Resumed(auto=auto):
            return EventRow(wall, day, effect.event, requested=not auto)
        case fx.Deferred(kind=kind, sources=sources):
            return EventRow(wall, day, effect.event, outcome=kind, reason=",".join(sources))
    return None


class Accumulator:
    """Turns engine steps into :class:`Batch` es: the writer thread's logic, without
    the thread (so it is tested directly and reused by the demo)."""

    def __init__(
        self,
        tz: tzinfo,
        *,
        break_gap: float = 300.0,
        open_stretch: StretchRow | None = None,
        last_id: int = 0,
    ) -> None:
        self._tz = tz
        self._break_gap = break_gap
        self._meter = DeskMeter()
        self._stretch = open_stretch
        self._next_id = max(last_id, open_stretch.id if open_stretch else 0) + 1
        self._batch = Batch()
        #: desk seconds in the pending batch
        self.pending_desk = 0.0

    @property
    def stretch(self) -> StretchRow | None:
        """The stretch going on now (None between a real break and the next desk second)."""
        return self._stretch

    def step(self, wall: float, effects: Sequence[fx.Effect], posture: float, drill: float) -> None:
        batch = self._batch
        day = local_day(wall, self._tz)
        for effect in effects:
            row = event_row(effect, wall, day)
            if row is not None:
                batch.events.append(row)
            if isinstance(effect, fx.NaturalBreak):
                self._end_stretch("natural_break")
            elif isinstance(effect, fx.DrillEnd) and effect.outcome == "done":
                self._end_stretch("drill")
        delta = self._meter.update(posture, drill)
        if delta <= 0:
            return
        for d, seconds in split_by_day(wall, delta, self._tz):
            batch.desk[d] = batch.desk.get(d, 0.0) + seconds
        self.pending_desk += delta
        start = wall - delta
        s = self._stretch
        if s is not None and start - s.end_wall >= self._break_gap:
            self._end_stretch("gap")
            s = None
        if s is None:
            s = StretchRow(
                id=self._next_id,
                start_wall=start,
                end_wall=start,
                day=day,
                desk_seconds=0.0,
                start_min=minute_of_day(start, self._tz),
                end_min=minute_of_day(start, self._tz),
            )
            self._next_id += 1
            self._stretch = s
        s.desk_seconds += delta
        s.end_wall = wall
        s.day = day
        s.end_min = minute_of_day(wall, self._tz)
        batch.stretches[s.id] = _copy(s)

    def _end_stretch(self, why: StretchEnd) -> None:
        s = self._stretch
        if s is None:
            return
        s.open = False
        s.ended_by = why
        self._batch.stretches[s.id] = _copy(s)
        self._stretch = None

    def feedback(self, wall: float, drill: str, answer: str) -> None:
        """A "How was it?" answer about ``drill``."""
        day = local_day(wall, self._tz)
        self._batch.events.append(EventRow(wall, day, "feedback", routine=drill, answer=answer))

    def drop(self, n: int = 1) -> None:
        self._batch.dropped += n

    def take(self) -> Batch:
        batch, self._batch = self._batch, Batch()
        self.pending_desk = 0.0
        return batch

    def put_back(self, batch: Batch) -> None:
        """Return a batch that failed to write, to go out with the next one."""
        batch.merge(self._batch)
        excess = len(batch.events) - MAX_PENDING_EVENTS
        if excess > 0:
            del batch.events[:excess]
            batch.dropped += excess
        self._batch = batch

    @property
    def has_events(self) -> bool:
        return bool(self._batch.events)


def _copy(s: StretchRow) -> StretchRow:
    return dataclasses.replace(s)


@dataclass(frozen=True, slots=True)
class _Step:
    wall: float
    effects: tuple[fx.Effect, ...]
    posture: float
    drill: float
    #: queued because ``flush_every`` passed: commit it at once
    flush: bool = False


@dataclass(frozen=True, slots=True)
class _Feedback:
    wall: float
    drill: str
    answer: str


@dataclass(slots=True)
class _Request:
    """Commit everything, then run ``fn`` on the store (in the writer thread)."""

    fn: Callable[[HistoryStore], object] | None
    done: threading.Event = field(default_factory=threading.Event)
    result: object = None
    error: BaseException | None = None


_CLOSE = object()


class HistoryRecorder:
    """Records the core's effects and desk time into the history store.

    Args:
        path: the store (default: ``history.db`` in the state directory).
        tz: time zone for local days (default: the machine's).
        keep_days: retention; older days are purged at start and once a day.
            None keeps everything.
        break_gap: wall seconds without desk time that end a sitting stretch (use
            the ``natural_break`` setting).
        flush_every: commit pending desk time at least this often (seconds).
        on_message: called from the writer thread with something to tell the user:
            ``first_run`` (the notice), ``recovered`` (a damaged store was moved
            aside) or ``unavailable`` (history is off for this run).
    """

    def __init__(
        self,
        path: Path | None = None,
        *,
        tz: tzinfo | None = None,
        keep_days: int | None = KEEP_DAYS,
        break_gap: float = 300.0,
        flush_every: float = FLUSH_EVERY,
        queue_size: int = QUEUE_SIZE,
        on_message: Callable[[MessageKind, str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if tz is None:
            from ergobreak.localtz import get_timezone  # noqa: PLC0415

            tz = get_timezone(None)
        self._path = path
        self._tz = tz
        self._keep_days = keep_days
        self._break_gap = break_gap
        self._flush_every = flush_every
        self._on_message = on_message
        self._clock = clock
        self._queue: queue.Queue[object] = queue.Queue(maxsize=queue_size)
        #: the last step without effects, not queued yet, and the wall time a step was
        #: last queued (engine thread; :meth:`query` and :meth:`close` take it too)
        self._held: _Step | None = None
        self._queued_at = -math.inf
        self._hold = threading.Lock()
        self._dropped = 0
        self._closed = False
        #: why history is off for this run, if it is
        self.failure: str | None = None
        self.store_path: Path | None = None
        self._thread = threading.Thread(target=self._run, name="ergobreak-history", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------ engine thread

    def record(self, wall: float, effects: Sequence[fx.Effect], view: DeskTimers) -> None:
        """Queue one core step. Never blocks, never raises; O(len(effects))."""
        if self._closed or self.failure is not None:
            return
        step = _Step(wall, tuple(effects), float(view.posture_desk), float(view.drill_desk))
        # Queued under the lock (put_nowait never blocks), so steps reach the writer
        # in order whichever thread releases the held one.
        with self._hold:
            if not effects and 0 <= wall - self._queued_at < self._flush_every:
                self._held = step  # supersedes the one held before
                return
            held, self._held = self._held, None
            if not effects:  # flush_every passed since a step was last queued
                step = dataclasses.replace(step, flush=math.isfinite(self._queued_at))
            self._queued_at = wall
            if held is not None and effects:
                # before a step that may reset the timers, the desk time up to it
                self._put(held)
            self._put(step)

    def _put(self, item: object) -> None:
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self._dropped += 1

    def _release_held(self) -> None:
        """Queue the step held back, if any (before a query or the close)."""
        with self._hold:
            held, self._held = self._held, None
            if held is not None:
                self._put(held)

    def feedback(self, wall: float, drill: str, answer: str) -> None:
        """Queue a "How was it?" answer (written at once). Never blocks, never raises."""
        if self._closed or self.failure is not None:
            return
        self._release_held()
        self._put(_Feedback(wall, drill, answer))

    @property
    def dropped(self) -> int:
        """Steps dropped because the queue was full."""
        return self._dropped

    # ------------------------------------------------------------ other threads

    def query(self, fn: Callable[[HistoryStore], T], timeout: float | None = 2.0) -> T | None:
        """Commit what is queued, then run ``fn(store)`` in the writer thread and return
        its result; None when history is off, the queue is full, the commit failed, or
        on timeout. Call it from any thread but the writer's own (so not from
        ``on_message``)."""
        if self._closed or self.failure is not None:
            return None
        self._release_held()
        request = _Request(fn)
        try:
            self._queue.put(request, timeout=timeout)
        except queue.Full:
            return None
        if not request.done.wait(timeout):
            return None
        if request.error is not None:
            log.warning("history query failed: %s", request.error)
            return None
        return request.result  # type: ignore[return-value]  # fn's result

    def flush(self, timeout: float | None = 5.0) -> bool:
        """Wait until every step queued so far is committed."""
        return self.query(lambda store: True, timeout) is True

    def today(self, day: date | None = None, timeout: float | None = 2.0) -> str | None:
        """The tray's "Today" line (None when history is unavailable)."""
        from ergobreak.history.views import today_text  # noqa: PLC0415

        when = day or datetime.now(self._tz).date()

        def fn(store: HistoryStore) -> str:
            return today_text(store.day_stats(Period("day", when, when))[0])

        return self.query(fn, timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Commit everything queued and stop the writer thread (idempotent)."""
        if not self._closed:
            self._release_held()
            self._closed = True
            try:
                self._queue.put(_CLOSE, timeout=timeout)
            except queue.Full:  # pragma: no cover - writer wedged for `timeout`
                log.warning("history writer did not drain its queue; closing anyway")
        self._thread.join(timeout)

    def __enter__(self) -> HistoryRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ writer thread

    def _message(self, kind: MessageKind, text: str) -> None:
        if self._on_message is None:
            return
        try:
            self._on_message(kind, text)
        except Exception:  # a broken callback must not stop recording
            log.exception("history message callback failed")

    def _open(self) -> HistoryStore | None:
        from ergobreak.history.notice import first_run_notice  # noqa: PLC0415

        try:
            store = HistoryStore.open(
                self._path, warn=lambda text: self._message("recovered", text)
            )
        except HistoryError as exc:
            self.failure = str(exc)
            log.error("history is off for this session: %s", exc)
            self._message("unavailable", f"Break history is off for this session: {exc}")
            return None
        self.store_path = store.path
        try:
            if self._keep_days is not None:
                store.purge(self._keep_days)
            if store.claim_notice("daemon"):
                self._message("first_run", first_run_notice(store.path, self._keep_days))
        except Exception as exc:
            log.warning("history store housekeeping failed: %s", exc)
        return store

    def _run(self) -> None:
        store = self._open()
        acc: Accumulator | None = None
        if store is not None:
            try:
                acc = Accumulator(
                    self._tz,
                    break_gap=self._break_gap,
                    open_stretch=store.open_stretch(),
                    last_id=store.last_stretch_id(),
                )
            except Exception as exc:
                log.warning("history: could not read the last stretch: %s", exc)
                acc = Accumulator(self._tz, break_gap=self._break_gap)
        pending_since: float | None = None
        purged_on = date.today()
        seen_dropped = 0
        get = self._queue.get
        get_nowait = self._queue.get_nowait
        while True:
            item = get()
            items = [item]
            while len(items) < MAX_BATCH:
                try:
                    items.append(get_nowait())
                except queue.Empty:
                    break
            closing = False
            flush = False
            requests: list[_Request] = []
            for it in items:
                if isinstance(it, _Step):
                    flush = flush or it.flush
                    if acc is not None:
                        acc.step(it.wall, it.effects, it.posture, it.drill)
                elif isinstance(it, _Feedback):
                    if acc is not None:
                        acc.feedback(it.wall, it.drill, it.answer)
                elif isinstance(it, _Request):
                    requests.append(it)
                elif it is _CLOSE:
                    closing = True
            if store is None or acc is None:
                for r in requests:
                    r.done.set()
                if closing:
                    return
                continue
            dropped = self._dropped
            if dropped > seen_dropped:
                acc.drop(dropped - seen_dropped)
                seen_dropped = dropped
            now = self._clock()
            if acc.pending_desk and pending_since is None:
                pending_since = now
            due = (
                closing
                or requests
                or flush
                or acc.has_events
                or (pending_since is not None and now - pending_since >= self._flush_every)
            )
            saved = True
            if due:
                store, saved = self._commit(store, acc)
                pending_since = None if saved else pending_since
                if self._keep_days is not None and date.today() != purged_on:
                    purged_on = date.today()
                    try:
                        store.purge(self._keep_days)
                    except Exception as exc:
                        log.warning("history purge failed: %s", exc)
            for r in requests:
                if not saved:
                    r.error = HistoryError("the history store is busy; not saved yet")
                elif r.fn is not None:
                    try:
                        r.result = r.fn(store)
                    except Exception as exc:
                        r.error = exc
                r.done.set()
            if closing:
                store.close()
                return

    def _commit(self, store: HistoryStore, acc: Accumulator) -> tuple[HistoryStore, bool]:
        """Write the pending batch. Returns the store to use from now on (a fresh one
        if this one turned out to be damaged) and whether the batch was saved."""
        batch = acc.take()
        if not batch:
            return store, True
        try:
            store.write(batch)
            return store, True
        except sqlite3.Error as exc:
            if not is_damage(exc):
                # Keep the batch for the next commit (disk full, locked by a `stats
                # clear` for longer than the busy timeout, ...).
                log.warning("history write failed, will retry: %s", exc)
                acc.put_back(batch)
                return store, False
            damage = exc
        log.warning("history store damaged while writing (%s); recovering", damage)
        store.close()
        try:
            store = HistoryStore.open(
                self._path, warn=lambda text: self._message("recovered", text)
            )
            store.write(batch)
            return store, True
        except (HistoryError, sqlite3.Error) as exc:
            log.error("history store could not be recovered: %s", exc)
            acc.put_back(batch)
            self._message("unavailable", f"Break history is not being saved: {exc}")
            return HistoryStore.open_memory(), False
