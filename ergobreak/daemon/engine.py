"""The engine: the one thread that owns the core and sleeps until its next deadline.

Everything else (tray clicks, notification buttons, IPC, D-Bus watchers, signal
handlers) only calls :meth:`Engine.post`. The engine wakes on a posted item or at
the core's deadline, reads the idle time, the quiet detectors and the sleep backstop
once, feeds the core, hands the effects to the hooks and goes back to sleep. ``step()`` does one
such round and is what tests call with a :class:`~ergobreak.daemon.clock.FakeClock`.

Nothing that goes wrong in a round stops the engine. A round that raises is undone:
the core goes back to a copy taken before it (a half-applied input could leave it in
a state no input leads to), its effects are dropped, its requests answered with an
error. A hook that raises is skipped. Either way the failure is logged with its
traceback the first time it happens at that place, and told to the user once
(``on_failure``).
"""

from __future__ import annotations

import copy
import logging
import math
import queue
import threading
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ergobreak import __version__
from ergobreak.commands import CORE_COMMANDS, BadRequest, Request, to_event
from ergobreak.core import effects as fx
from ergobreak.core import events as ev
from ergobreak.core.content import Content
from ergobreak.core.duration import format_amount
from ergobreak.core.machine import POLL_MAX, DeskSession, View
from ergobreak.core.settings import Settings
from ergobreak.daemon.clock import Clock

log = logging.getLogger(__name__)

#: save timers at least this often while they change (a crash loses at most this);
#: measured on the monotonic base, so a wall-clock step back cannot hold saves off
SAVE_EVERY = 120.0
#: the answer to a request whose round failed (and was undone)
FAILED = "ergobreak hit an internal error and did not do this (details in its log)"


@dataclass(frozen=True, slots=True)
class Reloaded:
    """What a config reload produced: new settings, or a message saying why not."""

    settings: Settings | None
    content: Content | None = None
    error: str | None = None
    details: tuple[str, ...] = ()
    #: warnings about the new settings (``file:line: ...``), in the reply for ``reload``
    warnings: tuple[str, ...] = ()
    #: the policy in force is the one on disk (False: the last good one is kept)
    policy_current: bool = True


@dataclass
class Reply:
    """Filled in by the engine thread; the IPC thread waits on it."""

    done: threading.Event = field(default_factory=threading.Event)
    value: dict[str, Any] = field(default_factory=dict)

    def set(self, value: dict[str, Any]) -> None:
        self.value = value
        self.done.set()


@dataclass(frozen=True, slots=True)
class _Posted:
    item: ev.Observation | Request | None
    reply: Reply | None = None


@dataclass(slots=True)
class _Round:
    """What one wake-up decided, to hand out once all of it went through."""

    t: float
    wall: float
    effects: list[fx.Effect]
    view: View
    replies: list[tuple[Reply, dict[str, Any]]]


class Engine:
    def __init__(
        self,
        core: DeskSession,
        clock: Clock,
        *,
        read_idle: Callable[[], float | None] = lambda: 0.0,
        quiet_changes: Callable[[], Sequence[ev.Condition]] = list,
        on_step: Callable[[float, float, list[fx.Effect], View], None] | None = None,
        on_request: Callable[[Request], dict[str, Any] | None] | None = None,
        reload: Callable[[], Reloaded] | None = None,
        save: Callable[[dict[str, Any]], None] | None = None,
        activity_wake: Callable[[Callable[[], None]], object] | None = None,
        slept: Callable[[], float | None] | None = None,
        on_failure: Callable[[str], None] | None = None,
    ) -> None:
        self.core = core
        self.clock = clock
        # The edge's readings (ergobreak.platform.edge.Edge): idle seconds (None while
        # the source cannot be read), quiet sources and seated reasons (a call,
        # watching) that turned on or off since last time, and seconds slept since
        # last time (the time-jump backstop).
        self._read_idle = read_idle
        #: ``t`` of the last input an idle reading showed (-inf: none yet)
        self._input_at = -math.inf
        self._quiet_changes = quiet_changes
        self._slept = slept
        #: a watcher said Suspending and not yet Resumed: this sleep is its to report
        self._watcher_asleep = False
        self._on_step = on_step
        self._on_request = on_request
        self._reload = reload
        self._save = save
        self._activity_wake = activity_wake
        self._on_failure = on_failure
        #: (exception type, file, line) of every failure logged so far
        self._failures: set[tuple[str, str, int]] = set()
        #: rounds undone and hooks skipped since start
        self.failures = 0
        self._inbox: queue.SimpleQueue[_Posted] = queue.SimpleQueue()
        self._stopping = False
        self._last_save = -math.inf
        self._saved_key: tuple[Any, ...] | None = None
        self._armed = False
        self.config_error: str | None = None
        self.wakeups = 0
        self.status: dict[str, Any] = {}
        #: facts the composition root adds to ``status`` (backends, config source, ...)
        self.status_extra: dict[str, Any] = {}

    # ------------------------------------------------------------ any thread

    def post(self, item: ev.Observation | Request | None, reply: Reply | None = None) -> None:
        """Hand an input to the engine (thread-safe; never blocks). ``None`` just wakes it."""
        self._inbox.put(_Posted(item, reply))

    def stop(self) -> None:
        self.post(Request("quit"))

    # --------------------------------------------------------- engine thread

    def run(self) -> None:
        """Loop until a ``quit`` request; sleeps until the next deadline or input."""
        self.step()
        while not self._stopping:
            try:
                first = self._inbox.get(timeout=self._timeout())
            except queue.Empty:
                first = None
            self.step(first)
        self.shutdown()

    def step(self, first: _Posted | None = None) -> None:
        """One wake-up: apply posted inputs, read idle and quiet once, sample the core.

        All of it or none of it: a round that raises leaves the core as it was.
        """
        self.wakeups += 1
        posted = [first] if first is not None else []
        while True:
            try:
                posted.append(self._inbox.get_nowait())
            except queue.Empty:
                break
        core = self.core
        # Settings and content are immutable: the copy shares them.
        before = copy.deepcopy(
            core, {id(core.settings): core.settings, id(core.content): core.content}
        )
        try:
            done = self._round(posted)
        except Exception as exc:
            self.core = before
            self._failed(exc, "a wake-up of the scheduler (undone)")
            for item in posted:
                if item.reply is not None:
                    item.reply.set({"ok": False, "error": FAILED})
            return
        # What the round decided, handed out only now that all of it went through.
        for reply, value in done.replies:
            reply.set(value)
        if self._on_step:
            self._call(self._on_step, done.t, done.wall, done.effects, done.view)
        self._maybe_save(done)
        self._arm_activity(done.view)

    def shutdown(self) -> None:
        if self._save is not None:
            self._call(self._save_state, self.clock.wall())

    # ------------------------------------------------------------- internals

    def _round(self, posted: list[_Posted]) -> _Round:
        """Everything a wake-up asks of the core; its effects and answers wait in the round."""
        t = self.clock.monotonic()
        wall = self.clock.wall()
        idle = self._idle(t)
        effects = self._missed_sleep(t, wall, idle, posted)
        replies: list[tuple[Reply, dict[str, Any]]] = []
        for item in posted:
            out, reply = self._apply(item, t, wall, idle)
            effects += out
            if item.reply is not None:
                replies.append((item.reply, reply))
        for change in self._quiet_changes():
            effects += self.core.handle(t, wall, change, idle)
        effects += self.core.sample(t, wall, idle)
        view = self.core.view(t)
        self.status = self._status(view, wall)
        # A status asked for in this round is the one after sampling: the core has
        # counted up to now (with an event-driven idle source the engine may have slept
        # through minutes of typing before the question woke it).
        replies = [
            (reply, {**value, "status": self.status} if "status" in value else value)
            for reply, value in replies
        ]
        return _Round(t, wall, effects, view, replies)

    def _timeout(self) -> float | None:
        """Seconds until the core's deadline (None: no deadline)."""
        try:
            deadline = self.core.next_deadline()
        except Exception as exc:
            self._failed(exc, "asking the scheduler for its next deadline")
            return POLL_MAX
        return None if deadline is None else max(0.0, deadline - self.clock.monotonic())

    def _apply(
        self, posted: _Posted, t: float, wall: float, idle: float
    ) -> tuple[list[fx.Effect], dict[str, Any]]:
        item = posted.item
        if item is None:
            return [], {"ok": True}
        if not isinstance(item, Request):
            return self.core.handle(t, wall, item, idle), {"ok": True}
        reply: dict[str, Any] = {"ok": True}
        out: list[fx.Effect] = []
        if item.cmd in CORE_COMMANDS:
            try:
                event = to_event(item)
            except BadRequest as exc:
                reply = {"ok": False, "error": str(exc)}
            else:
                out = self.core.handle(t, wall, event, idle)
                rejected = [e for e in out if isinstance(e, fx.Rejected)]
                if rejected:
                    reply = {"ok": False, "error": rejected[0].reason}
                else:
                    reply = {"ok": True, "events": [e.event for e in out if e.event != "state"]}
        elif item.cmd == "quit":
            self._stopping = True
        elif item.cmd == "status":
            reply = {"ok": True, "status": None}  # filled in after the round has sampled
        elif item.cmd == "reload":
            out, reply = self._do_reload(t, wall)
        elif self._on_request is not None:
            failed = {"ok": False, "error": FAILED}
            reply = self._call(self._on_request, item, otherwise=failed) or {"ok": True}
        else:
            reply = {"ok": False, "error": f"{item.cmd} is not available here"}
        return out, reply

    def _do_reload(self, t: float, wall: float) -> tuple[list[fx.Effect], dict[str, Any]]:
        if self._reload is None:
            return [], {"ok": False, "error": "reload is not available"}
        result: Reloaded = self._call(self._reload, otherwise=Reloaded(None, error=FAILED))
        if result.settings is None:
            self.config_error = result.error or "configuration error"
            log.warning("config reload failed, keeping previous settings: %s", self.config_error)
            for line in result.details:
                log.warning("%s", line)
            return [], {"ok": False, "error": self.config_error, "details": list(result.details)}
        before = self.core.settings
        self.config_error = None
        out = self.core.handle(t, wall, ev.Reconfigure(result.settings, result.content))
        return out, {
            "ok": True,
            "changes": describe_changes(before, result.settings),
            "warnings": list(result.warnings),
            "policy_current": result.policy_current,
        }

    def _missed_sleep(
        self, t: float, wall: float, idle: float, posted: list[_Posted]
    ) -> list[fx.Effect]:
        """A sleep the core has not been told about, fed to it as the Suspending/Resumed
        pair a watcher sends (no logind, macOS, Windows; or its signal came late).

        Read at every wake-up, the time-jump backstop measures each sleep once and
        exactly; the sleep ended before this wake-up. A watcher that said Suspending
        in time stays in charge until its Resumed. Signals that only arrive now (the
        engine was frozen with the machine) are applied after this pair, which places
        the sleep where it was. The core counts it as away and cancels a prompt or
        drill on screen; its own gap rule (a gap over SLEEP_GAP is a missed sleep)
        then finds no gap left, so the sleep is never counted twice.
        """
        lost = self._slept() if self._slept is not None else None
        told = self._watcher_asleep
        for item in posted:
            if isinstance(item.item, (ev.Suspending, ev.Resumed)):
                self._watcher_asleep = isinstance(item.item, ev.Suspending)
        if lost is None or told:
            return []
        log.debug("slept %.0f s without a sleep signal in time", lost)
        # No idle reading at the moment sleep began: input seen now came after it.
        out = self.core.handle(t - lost, wall - lost, ev.Suspending())
        return out + self.core.handle(t, wall, ev.Resumed(), idle)

    def _arm_activity(self, view: View) -> None:
        if self._activity_wake is None:
            return
        if view.state == "away" and not self._armed:
            self._armed = True

            def woke() -> None:
                self._armed = False
                self.post(None)

            self._call(self._activity_wake, woke)
        elif view.state != "away":
            self._armed = False

    def _idle(self, t: float) -> float:
        """The idle time at ``t``. While the source cannot be read, no input is assumed
        since the last one it showed: the user turns away ``idle_pause`` after it, and
        nothing unobserved counts as desk time (R1 counts an instant only within
        ``idle_pause`` of a known input)."""
        idle = self._read_idle()
        if idle is None:
            return t - self._input_at
        self._input_at = t - idle
        return idle

    def _maybe_save(self, done: _Round) -> None:
        if self._save is None:
            return
        view = done.view
        key = (view.state, view.snoozes, round(view.drill_desk), round(view.posture_desk))
        # The cadence runs on the monotonic base: a wall-clock step back cannot hold saves off.
        due = done.t - self._last_save >= SAVE_EVERY and key != self._saved_key
        if due or any(isinstance(e, fx.StateChanged) for e in done.effects):
            self._last_save = done.t
            self._saved_key = key
            self._call(self._save_state, done.wall)

    def _save_state(self, wall: float) -> None:
        assert self._save is not None
        self._save({"v": 1, "core": self.core.snapshot(wall)})

    def _call(self, fn: Callable[..., Any], *args: Any, otherwise: Any = None) -> Any:
        """A hook (or a read of the core between rounds); if it raises, it is skipped
        and ``otherwise`` stands for what it would have returned."""
        try:
            return fn(*args)
        except Exception as exc:
            self._failed(exc, getattr(fn, "__qualname__", repr(fn)))
            return otherwise

    def _failed(self, exc: Exception, what: str) -> None:
        """Log ``exc`` with its traceback the first time it happens at its place, and
        tell the user the first time anything fails."""
        self.failures += 1
        frames = traceback.extract_tb(exc.__traceback__)
        where = (frames[-1].filename, frames[-1].lineno or 0) if frames else ("", 0)
        place = (type(exc).__name__, *where)
        if place in self._failures:
            log.debug("%s failed again: %s: %s", what, type(exc).__name__, exc)
            return
        first = not self._failures
        self._failures.add(place)
        log.error("%s failed; ergobreak carries on", what, exc_info=exc)
        if first and self._on_failure is not None:
            try:
                self._on_failure(f"{type(exc).__name__}: {exc}")
            except Exception:
                log.exception("telling the user about it failed too")

    def _status(self, view: View, wall: float) -> dict[str, Any]:
        s = self.core.settings
        return {
            "running": True,
            "version": __version__,
            "state": view.state,
            # since the last real break: a skipped or ignored drill does not end it
            "desk_minutes": round(view.desk_since_break / 60, 1),
            "next_drill_in": view.next_drill_in,
            "next_posture_in": view.next_posture_in,
            "paused_for": view.paused_for,
            "quiet": list(view.quiet),
            "seated": list(view.seated),
            "routine": view.routine,
            "snoozes": view.snoozes,
            "config_error": self.config_error,
            "settings": {
                "posture_every": s.posture.every if s.posture.enabled else None,
                "drill_every": s.drill.every if s.drill.enabled else None,
                "working_hours": s.schedule.enabled,
            },
            "wakeups": self.wakeups,
            **self.status_extra,
        }


def describe_changes(before: Settings, after: Settings | None) -> str:
    """A short human summary of what a reload changed ("drills every 45 min")."""
    if after is None or after == before:
        return "no changes"
    parts = []
    if after.drill != before.drill:
        every = format_amount(after.drill.every)
        parts.append(f"drills every {every}" if after.drill.enabled else "drills off")
    if after.posture != before.posture:
        parts.append(
            f"posture checks every {format_amount(after.posture.every)}"
            if after.posture.enabled
            else "posture checks off"
        )
    if after.schedule != before.schedule:
        parts.append("working hours changed" if after.schedule.enabled else "working hours off")
    if after.quiet != before.quiet:
        parts.append("quiet mode " + ("on" if after.quiet.enabled else "off"))
    if after.activity != before.activity:
        parts.append("activity timing changed")
    return ", ".join(parts)
