"""The desk-session state machine: when to prompt, decided from timestamped inputs.

Theory of operation
-------------------
Everything that decides *when* ergobreak speaks lives in this file. It never reads
a clock, sleeps, or touches a desktop API: the caller passes each input with two
readings, ``t`` (a monotonic time base in seconds that keeps counting while the
machine sleeps; CLOCK_BOOTTIME on Linux) and ``wall`` (POSIX seconds, used only to
place working hours in local time), and gets back a list of effects. After each
call, :meth:`DeskSession.next_deadline` says the latest ``t`` at which the caller
should call again if nothing else happens — the driver sleeps until then.

Desk time (R1). An instant ``s`` is desk time when the last input was at most
``idle_pause`` before ``s``, the screen is unlocked, the machine awake, it is
within working hours and not paused. A sample says only "idle for N seconds", so
between two samples we assume inputs only at the two known input times. That is
exact when the driver samples at :meth:`next_deadline`, because the deadline
includes the instant the idle time could cross ``idle_pause``.

Away periods (R2). The user is *present* when input arrives while the screen is
unlocked and the machine awake (typing a password on the lock screen is not
presence). An away period runs from the last presence; when it reaches
``natural_break`` both timers reset, once per away period. A gap between inputs
longer than :data:`SLEEP_GAP` counts as sleep, in case the sleep signal was missed.

Two desk timers (:class:`~ergobreak.core.timer.DeskTimer`) run side by side: the
posture timer (R3) and the drill timer (R4); a third counts the desk time since a
drill was snoozed. A drill *cycle* opens with a ``drill_prompt`` (or a ``start``
command) and closes with exactly one ``drill_end`` (R5): ``done``, ``skipped``,
``ignored`` or ``cancelled`` (with a reason: paused, asleep, off_hours,
natural_break, disabled).

Phases of a cycle (the table :data:`~ergobreak.core.phases.TRANSITIONS` is the
whole list)::

    WORKING --due--> PROMPTED --inactive/start--> DRILL --done/skip--> WORKING
                      |  ^
             snooze/  |  | due (after ``snooze`` of desk time, or when quiet ends
             hold     v  |      or the user is back)
                     SNOOZED

Orthogonal conditions: paused (R6: timers frozen, nothing prompts), quiet (R7:
prompts held and delivered once after quiet ends), off-hours (R8), locked, asleep.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from ergobreak.core import effects as fx
from ergobreak.core import events as ev
from ergobreak.core.content import Content, Cue, Drill
from ergobreak.core.hours import working_state
from ergobreak.core.phases import Phase, Trigger, next_phase
from ergobreak.core.settings import Settings
from ergobreak.core.timer import DeskTimer

#: A gap between inputs longer than this is treated as sleep (the driver polls
#: at least every :data:`POLL_MAX` seconds while anything is counting).
SLEEP_GAP = 180.0
#: Longest the driver may sleep while timers run (bounds what a missed sleep costs).
POLL_MAX = 60.0
#: How often to look for the user's return while they are away.
POLL_AWAY = 10.0
#: While a prompt is held for quiet, how often the driver should look again (quiet
#: detectors such as fullscreen are read at each wake-up).
QUIET_POLL = 15.0
#: While a prompt's prelude is undecided, how often to look for input.
PRELUDE_POLL = 1.0
#: Wall-clock drift (against ``t``) beyond which working hours are re-evaluated.
WALL_JUMP = 1.0


#: The phase change that closes a cycle with each outcome.
_END: dict[fx.Outcome, Trigger] = {
    "done": "done",
    "skipped": "skip",
    "ignored": "ignored",
    "cancelled": "cancel",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class View:
    """A read-only summary for the tray, ``status`` and tests (seconds throughout)."""

    state: fx.CoarseState
    phase: str
    in_hours: bool
    hours_change_in: float | None
    posture_desk: float
    posture_every: float | None
    drill_desk: float
    drill_every: float | None
    next_posture_in: float | None
    next_drill_in: float | None
    snoozes: int
    max_snoozes: int
    paused_for: float | None
    paused: bool
    quiet: tuple[str, ...]
    routine: str | None
    step: int | None
    steps: int | None
    step_left: float | None
    away_for: float


class DeskSession:
    """The scheduler core. Feed it inputs with :meth:`handle`; it returns effects."""

    __slots__ = (
        "_asleep",
        "_attempt",
        "_away_from",
        "_away_poll",
        "_budget",
        "_content",
        "_cue_index",
        "_deferred",
        "_drill",
        "_drill_index",
        "_drill_t0",
        "_drill_timer",
        "_fast",
        "_hours_in",
        "_hours_until",
        "_idle_pause",
        "_last_input",
        "_last_prompt_t",
        "_locked",
        "_natural_done",
        "_paused_until",
        "_phase",
        "_posture_timer",
        "_presence_floor",
        "_prompt_t",
        "_quiet_off_t",
        "_quiet_sources",
        "_settings",
        "_snooze_timer",
        "_snoozes",
        "_state",
        "_step",
        "_t",
        "_tz",
        "_wall_offset",
        "fast_path",
    )

    def __init__(
        self,
        settings: Settings,
        content: Content,
        tz: tzinfo,
        *,
        away_poll: float | None = POLL_AWAY,
    ) -> None:
        """``away_poll``: how often to look for the user's return while away; ``None``
        when the idle source itself wakes the driver on the first input (XSync idle
        alarms, Mutter's user-active watch), so no polling is needed."""
        self._away_poll = away_poll
        self._settings = settings
        self._content = content
        self._tz = tz
        self._idle_pause = settings.activity.idle_pause
        self._posture_timer = DeskTimer(settings.posture.every)
        self._drill_timer = DeskTimer(settings.drill.every)
        #: desk time since the offered drill was last snoozed or held
        self._snooze_timer = DeskTimer(settings.drill.snooze)
        self._t: float | None = None
        self._wall_offset = 0.0
        self._last_input = -math.inf
        self._presence_floor = -math.inf
        self._away_from = -math.inf
        self._natural_done = False
        self._snoozes = 0
        self._attempt = 0
        self._phase = Phase.WORKING
        self._drill: Drill | None = None
        self._prompt_t = 0.0
        self._drill_t0 = 0.0
        self._step = 0
        self._last_prompt_t = -math.inf
        self._locked = False
        self._asleep = False
        self._quiet_sources: set[str] = set()
        self._quiet_off_t = -math.inf
        self._deferred: set[fx.PromptKind] = set()
        self._paused_until: float | None = None
        self._hours_in = True
        self._hours_until = math.inf
        self._cue_index = 0
        self._drill_index = 0
        self._state: fx.CoarseState = "starting"
        self._fast = False
        self._budget = 0.0
        #: tests turn this off to check the fast path changes nothing
        self.fast_path = True

    # ------------------------------------------------------------------ inputs

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def content(self) -> Content:
        return self._content

    @property
    def phase(self) -> Phase:
        return self._phase

    def handle(
        self, t: float, wall: float, event: ev.Event, idle: float | None = None
    ) -> list[fx.Effect]:
        """Apply one input observed at ``t`` (monotonic) and ``wall`` (POSIX).

        ``idle``, when the caller can read it, is the idle time at ``t``: decisions
        such as "inactive long enough to start the drill" then use fresh input
        facts instead of the last sample's.
        """
        if isinstance(event, ev.Sample):
            return self.sample(t, wall, event.idle)
        out: list[fx.Effect] = []
        if idle is not None and idle < 0.0:
            idle = 0.0
        if self._t is None:
            self._init(t, wall, idle)
        self._advance(t, wall, idle, out)
        t = max(t, self._t if self._t is not None else t)
        match event:
            case ev.ScreenLocked():
                self._lock()
            case ev.ScreenUnlocked():
                self._locked = False
                self._presence_floor = t
            case ev.Suspending():
                self._suspend(out)
            case ev.Resumed():
                self._wake(t)
            case ev.Quiet(source=source, on=on):
                self._set_quiet(t, source, on, out)
            case ev.Start(routine=routine):
                self._cmd_start(t, routine, out)
            case ev.Posture():
                self._cmd_posture(t, out)
            case ev.Snooze():
                self._cmd_snooze(out)
            case ev.Skip():
                self._cmd_skip(out)
            case ev.Pause(seconds=seconds):
                self._cmd_pause(t, seconds, out)
            case ev.Resume():
                self._cmd_resume(t, out)
            case ev.Reconfigure(settings=settings, content=content):
                self._reconfigure(t, settings, content, out)
            case _:  # pragma: no cover - exhaustiveness is checked by mypy
                raise TypeError(f"not an input: {event!r}")
        self._check(t, out)
        self._after(t, out)
        return out

    def sample(self, t: float, wall: float, idle: float) -> list[fx.Effect]:
        """An activity reading (the hot path: called once per poll)."""
        prev = self._t
        if prev is None:
            out: list[fx.Effect] = []
            self._init(t, wall, idle)
            self._after(t, out)
            return out
        idle = max(idle, 0.0)
        if self._fast:
            # Common case: the user works steadily, nothing can happen until a desk
            # threshold is reached. Must match the slow path exactly (tested).
            d = t - prev
            last = self._last_input
            lp = t - idle
            if (
                0.0 <= d <= SLEEP_GAP
                and idle <= self._idle_pause
                and lp - last <= self._idle_pause
                and d < self._budget
                and t < self._hours_until
                and -WALL_JUMP <= wall - t - self._wall_offset <= WALL_JUMP
            ):
                if lp > last:
                    lp = max(lp, prev)
                    self._last_input = lp
                    self._away_from = max(self._away_from, lp)
                    self._natural_done = False
                # WORKING, so the snooze timer is not running.
                self._posture_timer.elapsed += d
                self._drill_timer.elapsed += d
                self._budget -= d
                self._t = t
                return []
        out = []
        if t < prev:
            return out
        self._advance(t, wall, idle, out)
        self._check(t, out)
        self._after(t, out)
        return out

    # ------------------------------------------------------------- queries

    def next_deadline(self) -> float | None:
        """The latest ``t`` at which to call again if no other input arrives."""
        if self._t is None:
            return None
        t = self._t
        s = self._settings
        if self._paused_until is not None:
            return None if math.isinf(self._paused_until) else max(t, self._paused_until)
        cands = [t + POLL_MAX, self._hours_until]
        awake = not (self._locked or self._asleep)
        idle_cross = self._last_input + self._idle_pause
        if awake and t < idle_cross:
            # Look when the idle time could cross idle_pause: until then the user
            # counts as present; after it an away period (natural break) begins.
            cands.append(idle_cross)
            remaining = self._desk_remaining() if self._hours_in else None
            if remaining is not None:
                cands.append(t + remaining)
        elif awake and self._hours_in and self._away_poll is not None:
            # Away: look again soon, so desk time starts counting when they return.
            cands.append(t + self._away_poll)
        if not self._natural_done and self._phase is not Phase.DRILL:
            cands.append(self._away_from + s.activity.natural_break)
        if self._phase is Phase.PROMPTED:
            cands.append(max(self._last_input, self._prompt_t) + s.drill.start_after_idle)
            # Input at or after the end of the prelude snoozes the prompt; look each
            # second from then on (at most start_after_idle times) to see it.
            cands.append(max(self._prompt_t + s.drill.prelude, t + PRELUDE_POLL))
        elif self._phase is Phase.DRILL:
            cands.append(self._step_end())
        cands.append(self._quiet_off_t + s.quiet.catch_up_delay)
        if self._deferred and self._quiet_sources:
            cands.append(t + QUIET_POLL)
        if self._drill_due():
            cands.append(self._last_prompt_t + s.activity.prompt_gap)
        # Thresholds already passed are held (quiet, prompt gap) and have their own
        # deadline above; never hand out "now", which would make the driver spin.
        return min(c for c in cands if c > t)

    def state(self, t: float | None = None) -> fx.CoarseState:
        """Coarse state for the tray: paused, off_hours, drill, prompt, quiet, away,
        snoozed or working."""
        t = self._t if t is None else t
        if self._paused_until is not None:
            return "paused"
        if not self._hours_in:
            return "off_hours"
        if self._phase is Phase.DRILL:
            return "drill"
        if self._phase is Phase.PROMPTED:
            return "prompt"
        if self._quiet_sources and self._settings.quiet.enabled:
            return "quiet"
        if self._locked or self._asleep or t is None or t - self._last_input > self._idle_pause:
            return "away"
        if self._phase is Phase.SNOOZED:
            return "snoozed"
        return "working"

    def view(self, t: float | None = None) -> View:
        t = (self._t or 0.0) if t is None else t
        s = self._settings
        drill = self._drill
        step_left = max(0.0, self._step_end() - t) if self._phase is Phase.DRILL else None
        timer = self._prompt_timer()
        next_drill = 0.0 if timer is None else timer.left()
        paused_for = None
        if self._paused_until is not None and not math.isinf(self._paused_until):
            paused_for = max(0.0, self._paused_until - t)
        return View(
            state=self.state(t),
            phase=self._phase.value,
            in_hours=self._hours_in,
            hours_change_in=None
            if math.isinf(self._hours_until)
            else max(0.0, self._hours_until - t),
            posture_desk=self._posture_timer.elapsed,
            posture_every=s.posture.every if s.posture.enabled else None,
            drill_desk=self._drill_timer.elapsed,
            drill_every=s.drill.every if s.drill.enabled else None,
            next_posture_in=self._posture_timer.left() if s.posture.enabled else None,
            next_drill_in=next_drill if s.drill.enabled else None,
            snoozes=self._snoozes,
            max_snoozes=s.drill.max_snoozes,
            paused_for=paused_for,
            paused=self._paused_until is not None,
            quiet=tuple(sorted(self._quiet_sources)),
            routine=drill.id if drill is not None else None,
            step=self._step + 1 if self._phase is Phase.DRILL else None,
            steps=len(drill.steps) if self._phase is Phase.DRILL and drill else None,
            step_left=step_left,
            away_for=max(0.0, t - self._away_from) if not math.isinf(self._away_from) else 0.0,
        )

    # -------------------------------------------------------- persistence

    def snapshot(self, wall: float) -> dict[str, Any]:
        """What must survive a restart, as JSON-ready data (durations, not times)."""
        t = self._t or 0.0
        paused_left: float | str | None = None
        if self._paused_until is not None:
            paused_left = "forever" if math.isinf(self._paused_until) else self._paused_until - t
        return {
            "v": 1,
            "saved_wall": wall,
            "posture_desk": self._posture_timer.elapsed,
            "drill_desk": self._drill_timer.elapsed,
            "snoozes": self._snoozes if self._phase is Phase.SNOOZED else 0,
            "snooze_desk": self._snooze_timer.elapsed if self._phase is Phase.SNOOZED else 0.0,
            "routine": self._drill.id if self._phase is Phase.SNOOZED and self._drill else None,
            "attempt": self._attempt if self._phase is Phase.SNOOZED else 0,
            "away_for": max(0.0, t - self._away_from) if not math.isinf(self._away_from) else 0.0,
            "paused_left": paused_left,
            "cue_index": self._cue_index,
            "drill_index": self._drill_index,
        }

    def restore(self, snap: dict[str, Any], t: float, wall: float) -> list[fx.Effect]:
        """Continue from :meth:`snapshot` taken by an earlier process.

        Time between the save and now counts as away: a restart shorter than a
        natural break keeps the timers, a longer one resets them.

        Raises:
            ValueError: ``snap`` is not a snapshot this version writes: another
                version, or a field of the wrong type, out of range, NaN or
                infinite (the message names it). Nothing has changed then.
        """

        def bad(name: str, expected: str) -> ValueError:
            return ValueError(f"{name}: expected {expected}, got {snap.get(name)!r:.40}")

        def seconds(name: str, *, signed: bool = False) -> float:
            value = snap.get(name, 0.0)
            # NaN fails every comparison; 1e15 s is 30 million years
            if type(value) not in (int, float) or not (-1e15 if signed else 0) <= value < 1e15:
                raise bad(name, "a number of seconds" + ("" if signed else ", not negative"))
            return float(value)

        def count(name: str, default: int = 0) -> int:
            value = snap.get(name, default)
            if type(value) is not int or not 0 <= value < 1 << 31:
                raise bad(name, "a whole number, not negative")
            return value

        if snap.get("v") != 1:
            raise bad("v", "1")
        if "saved_wall" not in snap:
            raise bad("saved_wall", "the time of the save")
        saved_wall = seconds("saved_wall", signed=True)
        desk = {name: seconds(name) for name in ("posture_desk", "drill_desk", "snooze_desk")}
        away_for = seconds("away_for")
        cue_index, drill_index = count("cue_index"), count("drill_index")
        snoozes, attempt = count("snoozes"), count("attempt", 1)
        routine = snap.get("routine")
        if routine is not None and not isinstance(routine, str):
            raise bad("routine", "a drill id or null")
        paused_left = snap.get("paused_left")
        if paused_left is not None and paused_left != "forever":
            paused_left = seconds("paused_left", signed=True)

        out: list[fx.Effect] = []
        if self._t is None:
            self._init(t, wall, None)
        since = max(0.0, wall - saved_wall)
        away = away_for + since
        self._cue_index = cue_index
        self._drill_index = drill_index
        if paused_left == "forever":
            self._paused_until = math.inf
        elif isinstance(paused_left, float) and paused_left - since > 0:
            self._paused_until = t + paused_left - since
        if away >= self._settings.activity.natural_break and self._paused_until is None:
            self._after(t, out)
            return out
        self._posture_timer.elapsed = desk["posture_desk"]
        self._drill_timer.elapsed = desk["drill_desk"]
        drill = self._content.drill(routine) if routine is not None else None
        if drill is not None and snoozes > 0:
            self._drill = drill
            self._phase = Phase.SNOOZED
            self._snoozes = snoozes
            self._snooze_timer.elapsed = desk["snooze_desk"]
            self._attempt = attempt
        self._away_from = t - away
        self._after(t, out)
        return out

    # ------------------------------------------------------------ internals

    def _init(self, t: float, wall: float, idle: float | None) -> None:
        self._t = t
        self._wall_offset = wall - t
        self._refresh_hours(t)
        # Whatever happened before we started is unknown: the timers start at zero,
        # so an away period can only begin now.
        self._away_from = t
        self._natural_done = True
        if idle is not None:
            self._last_input = t - idle
            if idle <= self._idle_pause:
                self._away_from = t - idle
                self._natural_done = False

    def _refresh_hours(self, t: float) -> None:
        inside, change = working_state(self._settings.schedule, t + self._wall_offset, self._tz)
        self._hours_in = inside
        self._hours_until = change - self._wall_offset if not math.isinf(change) else math.inf

    def _advance(self, t: float, wall: float, idle: float | None, out: list[fx.Effect]) -> None:
        """Bring the state from the last input up to ``t``, accruing desk time."""
        prev = self._t
        assert prev is not None
        if t < prev:
            return
        if t - prev > SLEEP_GAP and not self._asleep and self._paused_until is None:
            # Nothing reached us for far longer than the driver ever sleeps: the
            # machine was asleep (or the process frozen). Count the gap as away.
            self._suspend(out)
            self._run_to(t, out)
            self._wake(t)
        if idle is not None:
            lp = t - idle
            if (
                lp > self._last_input
                and lp >= self._presence_floor
                and not self._locked
                and not self._asleep
            ):
                if lp >= prev:
                    self._run_to(lp, out)
                    self._presence(lp, out)
                elif prev - lp <= self._idle_pause:
                    # Input just before an event we already processed (a command
                    # arrived between two samples): count it as presence then.
                    self._presence(prev, out)
                else:
                    # Old news (the first reading after an event-only start): the
                    # user has not been here for a while.
                    self._last_input = lp
        self._run_to(t, out)
        offset = wall - t
        if abs(offset - self._wall_offset) > WALL_JUMP:
            # Wall clock jumped (manual change, NTP step): durations are safe on the
            # monotonic base; only the working-hours boundary needs recomputing.
            self._wall_offset = offset
            before = self._hours_in
            self._refresh_hours(t)
            if before and not self._hours_in:
                self._cancel("off_hours", out)

    def _run_to(self, b: float, out: list[fx.Effect]) -> None:
        a = self._t
        assert a is not None
        while a < b:
            pause_end = self._paused_until if self._paused_until is not None else math.inf
            nxt = min(self._hours_until, pause_end)
            if nxt > b:
                self._accrue(a, b)
                self._t = b
                return
            nxt = max(nxt, a)
            self._accrue(a, nxt)
            self._t = a = nxt
            if nxt >= self._hours_until:
                before = self._hours_in
                self._refresh_hours(nxt)
                if self._hours_until <= nxt:  # pragma: no cover - defensive
                    self._hours_until = nxt + 1.0
                if before and not self._hours_in:
                    self._cancel("off_hours", out)
            if self._paused_until is not None and nxt >= self._paused_until:
                self._resume(nxt, auto=True, out=out)
        self._t = max(a, b)

    def _accrue(self, a: float, b: float) -> None:
        if b <= a or self._locked or self._asleep or not self._hours_in:
            return
        if self._paused_until is not None:
            return
        end = min(b, self._last_input + self._idle_pause)
        d = end - a
        if d <= 0:
            return
        self._posture_timer.elapsed += d
        self._drill_timer.elapsed += d
        if self._phase is Phase.SNOOZED:
            self._snooze_timer.elapsed += d

    def _presence(self, at: float, out: list[fx.Effect]) -> None:
        """Input while unlocked and awake: the user is at the desk (again)."""
        nb = self._settings.activity.natural_break
        if (
            not self._natural_done
            and self._paused_until is None
            and self._phase is not Phase.DRILL
            and at - self._away_from >= nb
        ):
            self._natural_break(at - self._away_from, out)
        self._last_input = at
        self._away_from = max(self._away_from, at)
        self._natural_done = False

    def _natural_break(self, away: float, out: list[fx.Effect]) -> None:
        if self._phase in (Phase.PROMPTED, Phase.SNOOZED):
            self._cancel("natural_break", out)
        out.append(fx.NaturalBreak(away=away))
        self._posture_timer.reset()
        self._drill_timer.reset()
        self._deferred.clear()
        self._natural_done = True

    def _lock(self) -> None:
        self._locked = True
        if self._phase is Phase.PROMPTED:
            # Nobody can answer a prompt behind the lock screen: hold it and offer it
            # again on return (or let a natural break close it).
            self._hold()

    def _suspend(self, out: list[fx.Effect]) -> None:
        if self._phase in (Phase.PROMPTED, Phase.DRILL):
            self._cancel("asleep", out)
        self._asleep = True

    def _wake(self, t: float) -> None:
        self._asleep = False
        self._presence_floor = t

    def _set_quiet(self, t: float, source: str, on: bool, out: list[fx.Effect]) -> None:
        was = bool(self._quiet_sources)
        if on:
            self._quiet_sources.add(source)
        else:
            self._quiet_sources.discard(source)
        now = bool(self._quiet_sources)
        if was and not now:
            self._quiet_off_t = t
        if now and not was and self._settings.quiet.enabled and self._phase is Phase.PROMPTED:
            # The prompt is on screen as a meeting or video starts: withdraw it
            # and offer it again once quiet ends, without counting a snooze.
            self._hold()
            self._defer("drill", out)

    def _quiet_active(self, t: float) -> bool:
        q = self._settings.quiet
        if not q.enabled:
            return False
        return bool(self._quiet_sources) or t < self._quiet_off_t + q.catch_up_delay

    def _defer(self, kind: fx.PromptKind, out: list[fx.Effect]) -> None:
        if kind not in self._deferred:
            self._deferred.add(kind)
            out.append(fx.Deferred(kind=kind, sources=tuple(sorted(self._quiet_sources))))

    def _prompt_timer(self) -> DeskTimer | None:
        """The timer that brings the next drill prompt: the drill timer while working,
        the snooze timer while snoozed, none while a prompt or a drill is on."""
        if self._phase is Phase.WORKING:
            return self._drill_timer
        if self._phase is Phase.SNOOZED:
            return self._snooze_timer
        return None

    def _drill_due(self) -> bool:
        if not self._settings.drill.enabled:
            return False
        timer = self._prompt_timer()
        return timer is not None and timer.due

    def _drill_soon(self) -> bool:
        """A drill is due within ``prompt_gap`` of desk time (so skip the posture check)."""
        s = self._settings
        if not s.drill.enabled:
            return False
        timer = self._prompt_timer()
        return timer is None or timer.remaining() <= s.activity.prompt_gap

    def _desk_remaining(self) -> float | None:
        """Desk seconds until the next desk-time threshold not yet reached, if any."""
        s = self._settings
        pending: list[float] = []
        if s.posture.enabled:
            pending.append(self._posture_timer.remaining())
        gap = s.activity.prompt_gap
        # A held posture check is dropped once a drill is due within prompt_gap,
        # so that moment is a threshold too.
        timer = self._prompt_timer()
        if timer is not None and (s.drill.enabled or self._phase is Phase.SNOOZED):
            pending.append(timer.remaining())
            pending.append(timer.remaining(early=gap))
        ahead = [r for r in pending if r > 0]
        return min(ahead) if ahead else None

    def _check(self, t: float, out: list[fx.Effect]) -> None:
        """React to the thresholds reached by time ``t``."""
        if self._paused_until is not None:
            return
        s = self._settings
        if (
            not self._natural_done
            and self._phase is not Phase.DRILL
            and t - self._away_from >= s.activity.natural_break
        ):
            self._natural_break(t - self._away_from, out)
        if self._phase is Phase.DRILL:
            self._run_steps(t, out)
        if not self._hours_in or self._locked or self._asleep:
            return
        quiet = self._quiet_active(t)
        if self._phase is Phase.PROMPTED:
            inactive_for = t - max(self._last_input, self._prompt_t)
            if inactive_for >= s.drill.start_after_idle and not self._asleep:
                self._begin_drill(t, "inactive", requested=False, out=out)
            elif self._last_input >= self._prompt_t + s.drill.prelude:
                # Still typing ``prelude`` seconds after the prompt: not now.
                if self._snoozes < s.drill.max_snoozes:
                    self._snooze(auto=True, out=out)
                else:
                    self._end("ignored", out)
        if self._drill_due():
            if quiet:
                self._defer("drill", out)
            elif t - self._last_prompt_t >= s.activity.prompt_gap:
                self._prompt(t, out)
        if s.posture.enabled and self._posture_timer.due:
            if self._drill_soon():
                self._posture_timer.reset()
            elif quiet:
                self._defer("posture", out)
            elif t - self._last_prompt_t < s.activity.prompt_gap:
                self._posture_timer.reset()
            else:
                self._posture_check(t, requested=False, out=out)
        if not quiet:
            self._deferred.clear()

    def _step_end(self) -> float:
        """When the running drill's current step ends (``t`` of the next step or the end)."""
        drill = self._drill
        assert drill is not None
        offsets = drill.offsets
        nxt = self._step + 1
        return self._drill_t0 + (offsets[nxt] if nxt < len(offsets) else drill.seconds)

    def _run_steps(self, t: float, out: list[fx.Effect]) -> None:
        drill = self._drill
        assert drill is not None
        offsets = drill.offsets
        while self._step + 1 < len(offsets) and t >= self._drill_t0 + offsets[self._step + 1]:
            self._step += 1
            if not self._locked:  # a drill started before locking runs on, silently
                out.append(
                    fx.DrillStep(
                        drill=drill,
                        index=self._step,
                        total=len(offsets),
                        step=drill.steps[self._step],
                    )
                )
        if t >= self._drill_t0 + drill.seconds:
            self._end("done", out)
            self._away_from = max(self._away_from, t)

    def _transition(self, trigger: Trigger) -> None:
        self._phase = next_phase(self._phase, trigger)

    def _next_drill(self) -> Drill:
        drills = self._content.drills
        drill = drills[self._drill_index % len(drills)]
        self._drill_index = (self._drill_index + 1) % len(drills)
        return drill

    def _prompt(self, t: float, out: list[fx.Effect]) -> None:
        if self._phase is Phase.WORKING:
            self._drill = self._next_drill()
            self._attempt = 0
            self._snoozes = 0
        assert self._drill is not None
        self._transition("due")
        self._attempt += 1
        self._prompt_t = t
        self._last_prompt_t = t
        out.append(
            fx.DrillPrompt(
                drill=self._drill,
                attempt=self._attempt,
                snoozes_left=self._settings.drill.max_snoozes - self._snoozes,
            )
        )

    def _snooze(self, *, auto: bool, out: list[fx.Effect]) -> None:
        assert self._drill is not None
        self._transition("snooze")
        self._snoozes += 1
        self._snooze_timer.reset()
        d = self._settings.drill
        out.append(
            fx.Snoozed(
                drill=self._drill,
                count=self._snoozes,
                max=d.max_snoozes,
                auto=auto,
                seconds=d.snooze,
            )
        )

    def _hold(self) -> None:
        """Withdraw the prompt, due again as soon as it can be answered (no snooze used)."""
        self._transition("hold")
        self._snooze_timer.expire()

    def _begin_drill(
        self, t: float, trigger: Trigger, *, requested: bool, out: list[fx.Effect]
    ) -> None:
        if self._drill is None:
            self._drill = self._next_drill()
        drill = self._drill
        self._transition(trigger)
        self._drill_t0 = t
        self._step = 0
        self._last_prompt_t = t
        out.append(fx.DrillStart(drill=drill, requested=requested))
        out.append(fx.DrillStep(drill=drill, index=0, total=len(drill.steps), step=drill.steps[0]))

    def _end(
        self, outcome: fx.Outcome, out: list[fx.Effect], *, reason: fx.CancelReason | None = None
    ) -> None:
        drill = self._drill
        assert drill is not None
        self._transition(_END[outcome])
        out.append(fx.DrillEnd(drill=drill, outcome=outcome, reason=reason))
        self._drill = None
        self._snoozes = 0
        self._attempt = 0
        self._snooze_timer.reset()
        if outcome != "cancelled":
            self._posture_timer.reset()
            self._drill_timer.reset()

    def _cancel(self, reason: fx.CancelReason, out: list[fx.Effect]) -> None:
        if self._phase is not Phase.WORKING:
            self._end("cancelled", out, reason=reason)

    def _posture_check(self, t: float, *, requested: bool, out: list[fx.Effect]) -> None:
        cues = self._content.cues
        cue: Cue = cues[self._cue_index % len(cues)]
        self._cue_index = (self._cue_index + 1) % len(cues)
        self._posture_timer.reset()
        self._last_prompt_t = t
        out.append(fx.PostureCheck(cue=cue, requested=requested))

    def _resume(self, t: float, *, auto: bool, out: list[fx.Effect]) -> None:
        self._paused_until = None
        self._away_from = max(self._away_from, t)
        self._natural_done = False
        out.append(fx.Resumed(auto=auto))

    # -------------------------------------------------------------- commands

    def _cmd_start(self, t: float, routine: str | None, out: list[fx.Effect]) -> None:
        if self._phase is Phase.DRILL:
            out.append(fx.Rejected(command="start", reason="a drill is already running"))
            return
        chosen: Drill | None = None
        if routine is not None:
            chosen = self._content.drill(routine)
            if chosen is None:
                out.append(fx.Rejected(command="start", reason=f"no routine named {routine!r}"))
                return
        if self._paused_until is not None:
            self._resume(t, auto=False, out=out)
        if chosen is not None:
            self._drill = chosen
        self._begin_drill(t, "start", requested=True, out=out)

    def _cmd_posture(self, t: float, out: list[fx.Effect]) -> None:
        if self._phase is Phase.DRILL:
            out.append(fx.Rejected(command="posture", reason="a drill is running"))
            return
        if self._paused_until is not None:
            self._resume(t, auto=False, out=out)
        self._posture_check(t, requested=True, out=out)

    def _cmd_snooze(self, out: list[fx.Effect]) -> None:
        if self._phase is not Phase.PROMPTED:
            reason = (
                "a drill is running: skip it instead"
                if self._phase is Phase.DRILL
                else "no drill prompt to snooze"
            )
            out.append(fx.Rejected(command="snooze", reason=reason))
            return
        limit = self._settings.drill.max_snoozes
        if self._snoozes >= limit:
            out.append(
                fx.Rejected(
                    command="snooze", reason=f"no snoozes left ({limit} used): start or skip"
                )
            )
            return
        self._snooze(auto=False, out=out)

    def _cmd_skip(self, out: list[fx.Effect]) -> None:
        if self._phase is Phase.WORKING:
            out.append(fx.Rejected(command="skip", reason="nothing to skip"))
            return
        self._end("skipped", out)

    def _cmd_pause(self, t: float, seconds: float | None, out: list[fx.Effect]) -> None:
        if seconds is not None and not seconds > 0:
            out.append(fx.Rejected(command="pause", reason="pause needs a positive duration"))
            return
        self._cancel("paused", out)
        self._paused_until = math.inf if seconds is None else t + seconds
        self._deferred.clear()
        out.append(fx.Paused(until=None if seconds is None else t + seconds, seconds=seconds))

    def _cmd_resume(self, t: float, out: list[fx.Effect]) -> None:
        if self._paused_until is None:
            out.append(fx.Rejected(command="resume", reason="not paused"))
            return
        self._resume(t, auto=False, out=out)

    def _reconfigure(
        self, t: float, settings: Settings, content: Content | None, out: list[fx.Effect]
    ) -> None:
        old = self._settings
        self._settings = settings
        self._idle_pause = settings.activity.idle_pause
        self._posture_timer.interval = settings.posture.every
        self._drill_timer.interval = settings.drill.every
        self._snooze_timer.interval = settings.drill.snooze
        if content is not None:
            self._content = content
            self._cue_index %= len(content.cues)
            self._drill_index %= len(content.drills)
        if not settings.drill.enabled and self._phase is not Phase.WORKING:
            self._cancel("disabled", out)
        if settings.schedule != old.schedule:
            before = self._hours_in
            self._refresh_hours(t)
            if before and not self._hours_in:
                self._cancel("off_hours", out)
        if not settings.quiet.enabled:
            self._deferred.clear()

    # --------------------------------------------------------------- after

    def _after(self, t: float, out: list[fx.Effect]) -> None:
        """Report a coarse state change and set up the fast path for the next sample."""
        state = self.state(t)
        if state != self._state:
            out.append(fx.StateChanged(state=state, previous=self._state))
            self._state = state
        fast = (
            self.fast_path
            and self._phase is Phase.WORKING
            and self._paused_until is None
            and not self._locked
            and not self._asleep
            and self._hours_in
            and not self._quiet_sources
            and t >= self._quiet_off_t + self._settings.quiet.catch_up_delay
            and t - self._last_input <= self._idle_pause
            and state == "working"
            and not self._drill_due()
            and not self._deferred
        )
        if fast:
            remaining = self._desk_remaining()
            budget = math.inf if remaining is None else remaining
            # The fast path may not run past the moment the idle time crosses
            # idle_pause either (the slow path reports "away" then).
            fast = budget > 0
            self._budget = budget
        self._fast = fast
