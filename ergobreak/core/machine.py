"""The desk-session state machine: when to prompt, decided from timestamped inputs.

Theory of operation
-------------------
Everything that decides *when* ergobreak speaks lives in this package, and this
file ties it together. It never reads a clock, sleeps, or touches a desktop API:
the caller passes each input with two readings, ``t`` (a monotonic time base in
seconds that keeps counting while the machine sleeps; CLOCK_BOOTTIME on Linux) and
``wall`` (POSIX seconds, used only to place working hours in local time), and gets
back a list of effects. After each call, :meth:`DeskSession.next_deadline` says
the latest ``t`` at which the caller should call again if nothing else happens —
the driver sleeps until then.

Each input first brings time up to ``t`` (:meth:`DeskSession._advance`): desk
time accrues, pauses and working hours end, a natural break may happen. Then the
input itself applies, and finally the thresholds reached by ``t`` act
(:meth:`DeskSession._check`). The machine keeps the phases of a drill cycle and
asks small units for the rest:

- :class:`~ergobreak.core.presence.Presence` — desk time (R1: input at most
  ``idle_pause`` ago, unlocked, awake) and away periods (R2: one that reaches
  ``natural_break`` resets both timers, once). A gap between inputs longer than
  :data:`SLEEP_GAP` counts as sleep, in case the sleep signal was missed.
  Seated (R9: in a call, or watching with idle inhibited) is presence at every
  instant, with or without input.
- :class:`~ergobreak.core.timer.DeskTimer` — the posture timer (R3), the drill
  timer (R4) and the desk time since a drill was snoozed; the machine adds to
  them only what presence, pause (R6) and working hours leave as desk time. A
  fourth counter, the desk time since the last *real* break (a natural break or
  a drill done), feeds ``status``.
- :class:`~ergobreak.core.quiet.QuietHold` — prompts held while quiet (R7) and
  delivered once after it ends. A call is a quiet source of its own (``call``);
  the drill prompt it held says how long the call was (``after_call``). A prompt
  on screen as quiet or a lock begins is ``withdrawn`` and offered again after.
- :class:`~ergobreak.core.hours.WorkingHours` — off-hours (R8) on the ``t`` base.
- :class:`~ergobreak.core.playback.Playback` — a running drill: its safety note
  first, for as long as it takes to read, then its steps; no text leaves the
  screen sooner than it can be read.

A drill *cycle* opens with a ``drill_prompt`` (or a ``start`` command) and closes
with exactly one ``drill_end`` (R5): ``done``, ``skipped``, ``ignored`` or
``cancelled`` (with a reason: paused, asleep, off_hours, natural_break, disabled).
Only a drill ``done`` is a real break: it restarts the posture and drill timers and
the desk time since the last break. ``skipped`` and ``ignored`` restart the drill
interval only; ``cancelled`` restarts nothing.
Phases of a cycle (the table :data:`~ergobreak.core.phases.TRANSITIONS` is the
whole list)::

    WORKING --due--> PROMPTED --inactive/start--> DRILL --done/skip--> WORKING
                      |  ^
             snooze/  |  | due (after ``snooze`` of desk time, or when quiet ends
             hold     v  |      or the user is back)
                     SNOOZED

Orthogonal conditions: paused (R6: timers frozen, nothing prompts), quiet (R7),
off-hours (R8), locked, asleep.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from ergobreak.core import effects as fx
from ergobreak.core import events as ev
from ergobreak.core.calls import CallClock
from ergobreak.core.content import Content, Drill
from ergobreak.core.hours import WALL_JUMP, WorkingHours
from ergobreak.core.phases import Phase, Trigger, next_phase
from ergobreak.core.playback import Playback
from ergobreak.core.presence import Presence
from ergobreak.core.quiet import QuietHold
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
#: While a prompt is on screen, how often to look for quiet beginning, so the prompt
#: is withdrawn within this long (fullscreen is read at each wake-up; do-not-disturb
#: and the lock wake the driver themselves).
SHOWN_POLL = 5.0
#: a drill paused this long is given up (cancelled): the person has left it
HOLD_MAX = 600.0


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
    #: the step showing, from 1; 0 while the drill's safety note shows
    step: int | None
    steps: int | None
    step_left: float | None
    #: seconds until the drill ends (as things stand: not while it is held)
    drill_left: float | None
    drill_held: bool
    away_for: float
    #: desk time since the last real break: a natural break or a drill done
    desk_since_break: float
    #: why the person counts as seated without input (``call``, ``watching``)
    seated: tuple[str, ...]


class DeskSession:
    """The scheduler core. Feed it inputs with :meth:`handle`; it returns effects."""

    __slots__ = (
        "_attempt",
        "_away_poll",
        "_break_desk",
        "_budget",
        "_call",
        "_content",
        "_cue_index",
        "_drill",
        "_drill_index",
        "_drill_timer",
        "_fast",
        "_held_by_call",
        "_hours",
        "_last_prompt_t",
        "_paused_until",
        "_phase",
        "_playback",
        "_posture_again",
        "_posture_t",
        "_posture_timer",
        "_presence",
        "_prompt_t",
        "_quiet",
        "_settings",
        "_snooze_timer",
        "_snoozes",
        "_state",
        "_t",
        "_unchanged_until",
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
        self._presence = Presence(settings.activity)
        self._hours = WorkingHours(settings.schedule, tz)
        self._quiet = QuietHold(settings.quiet)
        self._posture_timer = DeskTimer(settings.posture.every)
        self._drill_timer = DeskTimer(settings.drill.every)
        #: desk time since the offered drill was last snoozed or held
        self._snooze_timer = DeskTimer(settings.drill.snooze)
        #: desk time since the last real break (natural break, drill done)
        self._break_desk = 0.0
        self._call = CallClock()
        #: the drill now due was held by a call (or its catch-up delay): its prompt
        #: says how long the call was
        self._held_by_call = False
        #: the latest instant brought up to date (``None`` before the first input)
        self._t: float | None = None
        #: when a pause ends (``inf``: until resumed), ``None`` when not paused
        self._paused_until: float | None = None
        self._phase = Phase.WORKING
        #: the drill of the open cycle, and how often it was offered and snoozed
        self._drill: Drill | None = None
        self._attempt = 0
        self._snoozes = 0
        self._playback: Playback | None = None
        self._prompt_t = 0.0
        #: when a prompt last showed (for ``prompt_gap``)
        self._last_prompt_t = -math.inf
        #: when the posture check on screen showed (``-inf``: none is)
        self._posture_t = -math.inf
        #: a posture check was withdrawn unread: it is due again, whatever the timer says
        self._posture_again = False
        self._cue_index = 0
        self._drill_index = 0
        self._state: fx.CoarseState = "starting"
        #: the next sample may take the fast path, while less than ``_budget`` desk
        #: seconds have passed (see :meth:`_after`)
        self._fast = False
        self._budget = 0.0
        #: while the user is locked out or asleep, samples before this ``t`` only
        #: move time on (see :meth:`_after`)
        self._unchanged_until = -math.inf
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
                self._lock(t, out)
            case ev.ScreenUnlocked():
                self._back(t, self._presence.unlock, out)
            case ev.Suspending():
                self._suspend(out)
            case ev.Resumed():
                self._back(t, self._presence.wake, out)
            case ev.Quiet(source=source, on=on):
                self._set_quiet(t, source, on, out)
            case ev.Seated(reason=reason, on=on):
                self._set_seated(t, reason, on, out)
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
            case ev.DrillPause():
                self._cmd_drill_pause(t, out)
            case ev.DrillResume():
                self._cmd_drill_resume(t, out)
            case ev.NextStep():
                self._cmd_next_step(t, out)
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
            # Working steadily: nothing can happen until a desk threshold is reached.
            # Must match the slow path exactly (tested). The units' fields are read
            # directly: a method call per sample would show.
            d = t - prev
            presence = self._presence
            hours = self._hours
            last = presence.last_input
            pause = presence.idle_pause
            lp = t - idle
            if (
                0.0 <= d <= SLEEP_GAP
                and idle <= pause
                and lp - last <= pause
                and d < self._budget
                and t < hours.until
                and -WALL_JUMP <= wall - t - hours.offset <= WALL_JUMP
            ):
                if lp > last:
                    # Presence.arrive(max(lp, prev)), inlined: a call per sample shows.
                    lp = max(lp, prev)
                    presence.last_input = lp
                    presence.away_from = max(presence.away_from, lp)
                    presence.break_taken = False
                # WORKING, so the snooze timer is not running.
                self._posture_timer.elapsed += d
                self._drill_timer.elapsed += d
                self._break_desk += d
                self._budget -= d
                self._t = t
                return []
        elif (
            t < self._unchanged_until
            and 0.0 <= t - prev <= SLEEP_GAP
            and -WALL_JUMP <= wall - t - self._hours.offset <= WALL_JUMP
        ):
            # Locked or asleep: input does not count and no desk time accrues, so
            # nothing changes before the deadline. Must match the slow path as well.
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
        presence = self._presence
        cands = [t + POLL_MAX, self._hours.until]
        if presence.awake and t < presence.gone_at:
            # Look when the idle time could cross idle_pause: until then the user
            # counts as present; after it an away period (natural break) begins.
            cands.append(presence.gone_at)
            remaining = self._desk_remaining() if self._hours.inside else None
            if remaining is not None:
                cands.append(t + remaining)
        elif presence.awake and self._hours.inside and self._away_poll is not None:
            # Away: look again soon, so desk time starts counting when they return.
            cands.append(t + self._away_poll)
        if self._phase is not Phase.DRILL:
            cands.append(presence.break_at)
        if self._phase is Phase.PROMPTED:
            if not presence.sitting:  # sitting is never inactivity
                cands.append(max(presence.last_input, self._prompt_t) + s.drill.start_after_idle)
            # Input at or after the end of the prelude snoozes the prompt; look each
            # second from then on (at most start_after_idle times) to see it.
            cands.append(max(self._prompt_t + s.drill.prelude, t + PRELUDE_POLL))
        elif self._phase is Phase.DRILL:
            run = self._playing
            cands.append(run.step_end if run.held_at is None else run.held_at + HOLD_MAX)
        cands.append(self._quiet.catch_up_at)
        if self._settings.quiet.enabled and not self._quiet.sources and self._on_screen(t):
            cands.append(t + SHOWN_POLL)
        if self._quiet.deferred and self._quiet.sources:
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
        if not self._hours.inside:
            return "off_hours"
        if self._phase is Phase.DRILL:
            return "drill"
        if self._phase is Phase.PROMPTED:
            return "prompt"
        if self._quiet.shown:
            return "quiet"
        if t is None or self._presence.away(t):
            return "away"
        if self._phase is Phase.SNOOZED:
            return "snoozed"
        return "working"

    def view(self, t: float | None = None) -> View:
        t = (self._t or 0.0) if t is None else t
        s = self._settings
        drill = self._drill
        run = self._playback
        timer = self._prompt_timer()
        next_drill = 0.0 if timer is None else timer.left()
        paused_for = None
        if self._paused_until is not None and not math.isinf(self._paused_until):
            paused_for = max(0.0, self._paused_until - t)
        return View(
            state=self.state(t),
            phase=self._phase.value,
            in_hours=self._hours.inside,
            hours_change_in=self._hours.change_in(t),
            posture_desk=self._posture_timer.elapsed,
            posture_every=s.posture.every if s.posture.enabled else None,
            drill_desk=self._drill_timer.elapsed,
            drill_every=s.drill.every if s.drill.enabled else None,
            next_posture_in=(
                (0.0 if self._posture_again else self._posture_timer.left())
                if s.posture.enabled
                else None
            ),
            next_drill_in=next_drill if s.drill.enabled else None,
            snoozes=self._snoozes,
            max_snoozes=s.drill.max_snoozes,
            paused_for=paused_for,
            paused=self._paused_until is not None,
            quiet=tuple(sorted(self._quiet.sources)),
            routine=drill.id if drill is not None else None,
            step=run.step + 1 if run is not None else None,
            steps=len(run.drill.steps) if run is not None else None,
            step_left=run.step_left(t) if run is not None else None,
            drill_left=run.drill_left(t) if run is not None else None,
            drill_held=run is not None and run.held_at is not None,
            away_for=self._presence.away_for(t),
            desk_since_break=self._break_desk,
            seated=tuple(sorted(self._presence.seated)),
        )

    # -------------------------------------------------------- persistence

    def snapshot(self, wall: float) -> dict[str, Any]:
        """What must survive a restart, as JSON-ready data (durations, not times)."""
        t = self._t or 0.0
        paused_left: float | str | None = None
        if self._paused_until is not None:
            paused_left = "forever" if math.isinf(self._paused_until) else self._paused_until - t
        # Of an open cycle only a snooze is kept; a prompt or drill on screen is
        # not, and the drill timer (kept, still due) soon prompts again.
        snoozed = self._phase is Phase.SNOOZED
        return {
            "v": 1,
            "saved_wall": wall,
            "posture_desk": self._posture_timer.elapsed,
            "drill_desk": self._drill_timer.elapsed,
            "break_desk": self._break_desk,
            "snoozes": self._snoozes if snoozed else 0,
            "snooze_desk": self._snooze_timer.elapsed if snoozed else 0.0,
            "routine": self._drill.id if snoozed and self._drill else None,
            "attempt": self._attempt if snoozed else 0,
            "away_for": self._presence.away_for(t),
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
        # older snapshots lack it: the larger timer is the best guess
        break_desk = max(
            seconds("break_desk") if "break_desk" in snap else 0.0,
            desk["posture_desk"],
            desk["drill_desk"],
        )
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
        self._break_desk = break_desk
        # A snoozed drill comes back only if drills are still on and it still exists.
        drill = (
            self._content.drill(routine)
            if routine is not None and self._settings.drill.enabled
            else None
        )
        if drill is not None and snoozes > 0:
            self._drill = drill
            self._phase = Phase.SNOOZED
            self._snoozes = snoozes
            self._snooze_timer.elapsed = desk["snooze_desk"]
            self._attempt = attempt
        self._presence.away_from = t - away
        self._after(t, out)
        return out

    # ---------------------------------------------------------------- time

    def _init(self, t: float, wall: float, idle: float | None) -> None:
        self._t = t
        self._hours.start(t, wall)
        self._presence.start(t, idle)

    def _advance(self, t: float, wall: float, idle: float | None, out: list[fx.Effect]) -> None:
        """Bring the state from the last input up to ``t``, accruing desk time."""
        prev = self._t
        assert prev is not None
        if t < prev:
            return
        if t - prev > SLEEP_GAP and not self._presence.asleep and self._paused_until is None:
            # Nothing reached us for far longer than the driver ever sleeps: the
            # machine was asleep (or the process frozen). Count the gap as away.
            self._suspend(out)
            self._run_to(t, out)
            self._back(t, self._presence.wake, out)
        if idle is not None:
            at = self._presence.input_seen(t - idle, prev)
            if at is not None:
                self._run_to(at, out)
                self._arrive(at, out)
        self._run_to(t, out)
        # A wall-clock jump (manual change, NTP step) leaves every duration alone on
        # the monotonic base; only the working-hours boundary moves.
        if self._hours.follow_clock(t, wall):
            self._cancel("off_hours", out)

    def _run_to(self, b: float, out: list[fx.Effect]) -> None:
        """Accrue desk time up to ``b``, stopping where working hours or a pause end."""
        a = self._t
        assert a is not None
        while a < b:
            pause_end = self._paused_until if self._paused_until is not None else math.inf
            nxt = min(self._hours.until, pause_end)
            if nxt > b:
                self._accrue(a, b)
                self._t = b
                return
            nxt = max(nxt, a)
            self._accrue(a, nxt)
            self._t = a = nxt
            if nxt >= self._hours.until and self._hours.cross(nxt):
                self._cancel("off_hours", out)
            if self._paused_until is not None and nxt >= self._paused_until:
                self._resume(nxt, auto=True, out=out)
        self._t = max(a, b)

    def _accrue(self, a: float, b: float) -> None:
        """Add the desk time in ``[a, b)`` to the running timers."""
        if not self._hours.inside or self._paused_until is not None:
            return
        d = self._presence.desk_time(a, b)
        if d <= 0:
            return
        self._posture_timer.elapsed += d
        self._drill_timer.elapsed += d
        self._break_desk += d
        if self._phase is Phase.SNOOZED:
            self._snooze_timer.elapsed += d

    def _arrive(self, at: float, out: list[fx.Effect]) -> None:
        """Input while unlocked and awake: the user is at the desk (again)."""
        if self._paused_until is None:
            self._check_natural_break(at, out)
        self._presence.arrive(at)

    def _check_natural_break(self, t: float, out: list[fx.Effect]) -> None:
        if self._phase is Phase.DRILL:  # doing a drill is not being away
            return
        away = self._presence.take_break(t)
        if away is not None:
            self._natural_break(away, out)

    # ---------------------------------------------------------- thresholds

    def _check(self, t: float, out: list[fx.Effect]) -> None:
        """React to the thresholds reached by time ``t``."""
        if self._paused_until is not None:
            return
        s = self._settings
        self._check_natural_break(t, out)
        if self._phase is Phase.DRILL:
            self._run_steps(t, out)
        if not self._hours.inside or not self._presence.awake:
            return
        quiet = self._quiet.holding(t)
        if self._phase is Phase.PROMPTED:
            self._await_answer(t, out)
        if self._drill_due():
            if quiet:
                self._defer("drill", t, out)
            elif t - self._last_prompt_t >= s.activity.prompt_gap:
                self._prompt(t, out)
        if s.posture.enabled and (self._posture_timer.due or self._posture_again):
            if self._drill_soon():
                self._reset_posture()
            elif quiet:
                self._defer("posture", t, out)
            elif t - self._last_prompt_t < s.activity.prompt_gap:
                self._reset_posture()
            else:
                self._posture_check(t, requested=False, out=out)
        if not quiet:
            self._quiet.deferred.clear()

    def _await_answer(self, t: float, out: list[fx.Effect]) -> None:
        """A prompt is on screen: inactivity starts the drill, typing on puts it off."""
        d = self._settings.drill
        # Seated is presence at every instant: no inactivity starts the drill, and
        # the prelude ends unanswered as if typing went on.
        last = self._presence.last_seen(t)
        if t - max(last, self._prompt_t) >= d.start_after_idle:
            self._begin_drill(t, "inactive", requested=False, out=out)
        elif last >= self._prompt_t + d.prelude:
            # Still typing ``prelude`` seconds after the prompt: not now.
            if self._snoozes < d.max_snoozes:
                self._snooze(auto=True, out=out)
            else:
                self._end("ignored", out)

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
        # A held posture check is dropped once a drill is due within prompt_gap,
        # so that moment is a threshold too.
        timer = self._prompt_timer()
        if timer is not None and s.drill.enabled:
            pending.append(timer.remaining())
            pending.append(timer.remaining(early=s.activity.prompt_gap))
        ahead = [r for r in pending if r > 0]
        return min(ahead) if ahead else None

    @property
    def _playing(self) -> Playback:
        run = self._playback
        assert run is not None, "no drill is running"
        return run

    def _run_steps(self, t: float, out: list[fx.Effect]) -> None:
        run = self._playing
        if run.held_at is not None and t - run.held_at >= HOLD_MAX:
            # Paused and left: offered again like any drill due, not counted either way.
            self._end("cancelled", out, reason="held")
            return
        for index in run.advance(t):
            if not self._presence.locked:  # a drill started before locking runs on, silently
                out.append(
                    fx.DrillStep(
                        drill=run.drill,
                        index=index,
                        total=len(run.drill.steps),
                        step=run.drill.steps[index],
                    )
                )
        if run.over(t):
            self._end("done", out)
            self._presence.busy_until(t)

    # --------------------------------------------------------- transitions

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
                after_call=self._call.length(t) if self._held_by_call else None,
                seated=tuple(sorted(self._presence.seated)) if self._presence.sitting else (),
            )
        )
        self._held_by_call = False

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

    def _on_screen(self, t: float) -> bool:
        """A prompt is on screen: a drill prompt, or a posture check still showing."""
        return self._phase is Phase.PROMPTED or t < self._posture_t + fx.POSTURE_SHOWN

    def _withdraw(
        self, t: float, why: tuple[str, ...], out: list[fx.Effect]
    ) -> list[fx.PromptKind]:
        """Take back the prompts on screen as quiet or a lock begins at ``t``; each is
        due again as soon as it can be answered (no snooze used). Returns their kinds."""
        kinds: list[fx.PromptKind] = []
        if self._phase is Phase.PROMPTED:  # the drill prompt is on screen
            self._transition("hold")
            self._snooze_timer.expire()
            kinds.append("drill")
        if t < self._posture_t + fx.POSTURE_SHOWN:
            # due again, but the timer keeps counting desk time since it showed
            self._posture_again = self._settings.posture.enabled
            kinds.append("posture")
        self._posture_t = -math.inf
        out.extend(fx.Withdrawn(kind=kind, why=why) for kind in kinds)
        return kinds

    def _begin_drill(
        self, t: float, trigger: Trigger, *, requested: bool, out: list[fx.Effect]
    ) -> None:
        if self._drill is None:
            self._drill = self._next_drill()
        drill = self._drill
        self._transition(trigger)
        self._playback = Playback(drill, t)
        self._last_prompt_t = t
        # The safety note comes first, alone: step 1 follows once it has been read
        # (:meth:`_run_steps`), never in the same round, which would replace it at once.
        out.append(fx.DrillStart(drill=drill, requested=requested))

    def _end(
        self, outcome: fx.Outcome, out: list[fx.Effect], *, reason: fx.CancelReason | None = None
    ) -> None:
        drill = self._drill
        assert drill is not None
        self._transition(_END[outcome])
        out.append(fx.DrillEnd(drill=drill, outcome=outcome, reason=reason))
        self._drill = None
        self._playback = None
        self._snoozes = 0
        self._attempt = 0
        self._snooze_timer.reset()
        self._held_by_call = False
        if outcome == "done":
            # Two minutes on their feet: a real break, like a natural one.
            self._reset_posture()
            self._drill_timer.reset()
            self._break_desk = 0.0
        elif outcome != "cancelled":
            # Skipped or ignored: only the drill interval starts again; the person
            # kept sitting, so the posture timer and the desk time since the last
            # break keep what they have.
            self._drill_timer.reset()

    def _cancel(self, reason: fx.CancelReason, out: list[fx.Effect]) -> None:
        if self._phase is not Phase.WORKING:
            self._end("cancelled", out, reason=reason)

    def _posture_check(self, t: float, *, requested: bool, out: list[fx.Effect]) -> None:
        cues = self._content.cues
        cue = cues[self._cue_index % len(cues)]
        self._cue_index = (self._cue_index + 1) % len(cues)
        self._reset_posture()
        self._last_prompt_t = t
        self._posture_t = t
        out.append(fx.PostureCheck(cue=cue, requested=requested))

    def _reset_posture(self) -> None:
        self._posture_timer.reset()
        self._posture_again = False

    def _natural_break(self, away: float, out: list[fx.Effect]) -> None:
        if self._phase in (Phase.PROMPTED, Phase.SNOOZED):
            self._cancel("natural_break", out)
        out.append(fx.NaturalBreak(away=away))
        self._reset_posture()
        self._drill_timer.reset()
        self._break_desk = 0.0
        self._quiet.deferred.clear()
        self._held_by_call = False

    def _resume(self, t: float, *, auto: bool, out: list[fx.Effect]) -> None:
        self._paused_until = None
        self._presence.restart(t)
        out.append(fx.Resumed(auto=auto))

    def _lock(self, t: float, out: list[fx.Effect]) -> None:
        self._presence.lock(t)
        # Nobody can answer a prompt behind the lock screen: withdraw it and offer it
        # again on return (or let a natural break close it). A running drill goes on.
        self._withdraw(t, (fx.WITHDRAWN_LOCKED,), out)

    def _suspend(self, out: list[fx.Effect]) -> None:
        if self._phase in (Phase.PROMPTED, Phase.DRILL):
            self._cancel("asleep", out)
        assert self._t is not None
        self._presence.sleep(self._t)

    def _set_quiet(self, t: float, source: str, on: bool, out: list[fx.Effect]) -> None:
        if self._quiet.turn(t, source, on):
            # A prompt is on screen as a meeting or video starts: withdraw it and
            # offer it again once quiet ends, without counting a snooze.
            for kind in self._withdraw(t, tuple(sorted(self._quiet.sources)), out):
                self._defer(kind, t, out)

    def _set_seated(
        self, t: float, reason: ev.SeatedReason, on: bool, out: list[fx.Effect]
    ) -> None:
        presence = self._presence
        if on:
            if not presence.seated and presence.awake:
                self._arrive(t, out)  # sitting down ends the away period before it
            presence.sit(reason)
        else:
            presence.stand(t, reason)
        if reason != "call":
            return  # watching is not quiet (a fullscreen window is, on its own)
        if on:
            self._call.begin(t, self._settings.quiet.catch_up_delay)
        else:
            self._call.end(t)
        self._set_quiet(t, "call", on, out)

    def _back(self, t: float, undo: Callable[[float], None], out: list[fx.Effect]) -> None:
        """Unlocked or awake at ``t`` (``undo`` says which). Still seated, the person is
        back at the desk at once: the away period behind the lock or sleep ends now,
        a natural break if it was long enough (sitting, none could be taken)."""
        if self._presence.seated and self._paused_until is None:
            self._check_natural_break(t, out)
        undo(t)
        if self._presence.sitting:
            self._presence.arrive(t)

    def _defer(self, kind: fx.PromptKind, t: float, out: list[fx.Effect]) -> None:
        if kind == "drill":
            self._held_by_call |= self._call.holds(t, self._settings.quiet.catch_up_delay)
        deferred = self._quiet.defer(kind)
        if deferred is not None:
            out.append(deferred)

    # -------------------------------------------------------------- commands

    def _cmd_start(self, t: float, routine: str | None, out: list[fx.Effect]) -> None:
        if self._phase is Phase.DRILL:
            out.append(
                fx.Rejected(
                    command="start",
                    reason="A drill is already running; it ends by itself, or Skip stops it.",
                )
            )
            return
        chosen: Drill | None = None
        if routine is not None:
            chosen = self._content.drill(routine)
            if chosen is None:
                out.append(
                    fx.Rejected(
                        command="start",
                        reason=f"No drill is named {routine!r}; see: ergobreak routines list",
                    )
                )
                return
        if self._paused_until is not None:
            self._resume(t, auto=False, out=out)
        if chosen is not None:
            self._drill = chosen
        self._begin_drill(t, "start", requested=True, out=out)

    def _cmd_posture(self, t: float, out: list[fx.Effect]) -> None:
        if self._phase is Phase.DRILL:
            out.append(
                fx.Rejected(
                    command="posture",
                    reason="A drill is running; ask for a posture check again when it ends.",
                )
            )
            return
        if self._paused_until is not None:
            self._resume(t, auto=False, out=out)
        self._posture_check(t, requested=True, out=out)

    def _cmd_snooze(self, out: list[fx.Effect]) -> None:
        if self._phase is not Phase.PROMPTED:
            reason = (
                "A drill is running, so there is nothing to snooze; Skip stops it."
                if self._phase is Phase.DRILL
                else "No drill prompt is on screen, so there is nothing to snooze."
            )
            out.append(fx.Rejected(command="snooze", reason=reason))
            return
        limit = self._settings.drill.max_snoozes
        if self._snoozes >= limit:
            out.append(
                fx.Rejected(
                    command="snooze",
                    reason=f"All {limit} snoozes are used; start the drill or skip it.",
                )
            )
            return
        self._snooze(auto=False, out=out)

    def _cmd_skip(self, out: list[fx.Effect]) -> None:
        if self._phase is Phase.WORKING:
            out.append(
                fx.Rejected(command="skip", reason="Nothing to skip: no prompt or drill on.")
            )
            return
        self._end("skipped", out)

    def _cmd_pause(self, t: float, seconds: float | None, out: list[fx.Effect]) -> None:
        if seconds is not None and not seconds > 0:
            out.append(
                fx.Rejected(
                    command="pause", reason="A pause needs a length above zero, such as 30m."
                )
            )
            return
        self._cancel("paused", out)
        self._paused_until = math.inf if seconds is None else t + seconds
        self._quiet.deferred.clear()
        self._held_by_call = False
        out.append(fx.Paused(until=None if seconds is None else t + seconds, seconds=seconds))

    def _running(self, command: fx.CommandName, out: list[fx.Effect]) -> Playback | None:
        """The drill a drill command acts on, or a refusal."""
        if self._phase is Phase.DRILL:
            return self._playing
        out.append(fx.Rejected(command=command, reason="No drill is running."))
        return None

    def _cmd_drill_pause(self, t: float, out: list[fx.Effect]) -> None:
        run = self._running("drill_pause", out)
        if run is None:
            return
        if run.held_at is not None:
            out.append(fx.Rejected(command="drill_pause", reason="The drill is paused already."))
            return
        run.hold(t)
        out.append(fx.DrillHeld(drill=run.drill, held=True))

    def _cmd_drill_resume(self, t: float, out: list[fx.Effect]) -> None:
        run = self._running("drill_resume", out)
        if run is None:
            return
        if run.held_at is None:
            out.append(fx.Rejected(command="drill_resume", reason="The drill is not paused."))
            return
        run.release(t)
        out.append(fx.DrillHeld(drill=run.drill, held=False))

    def _cmd_next_step(self, t: float, out: list[fx.Effect]) -> None:
        run = self._running("next_step", out)
        if run is None:
            return
        run.skip_to_next(t)
        self._run_steps(t, out)

    def _cmd_resume(self, t: float, out: list[fx.Effect]) -> None:
        if self._paused_until is None:
            out.append(
                fx.Rejected(command="resume", reason="Not paused, so there is nothing to resume.")
            )
            return
        self._resume(t, auto=False, out=out)

    def _reconfigure(
        self, t: float, settings: Settings, content: Content | None, out: list[fx.Effect]
    ) -> None:
        self._settings = settings
        self._presence.configure(settings.activity)
        self._posture_timer.interval = settings.posture.every
        if not settings.posture.enabled:
            self._posture_again = False
        self._drill_timer.interval = settings.drill.every
        self._snooze_timer.interval = settings.drill.snooze
        if content is not None:
            self._content = content
            self._cue_index %= len(content.cues)
            self._drill_index %= len(content.drills)
        if not settings.drill.enabled and self._phase is not Phase.WORKING:
            self._cancel("disabled", out)
        if self._hours.reschedule(settings.schedule, t):
            self._cancel("off_hours", out)
        self._quiet.configure(settings.quiet)

    # --------------------------------------------------------------- after

    def _after(self, t: float, out: list[fx.Effect]) -> None:
        """Report a coarse state change and set up the fast paths for the next sample."""
        state = self.state(t)
        if state != self._state:
            out.append(fx.StateChanged(state=state, previous=self._state))
            self._state = state
        # "working" already means: not paused, in hours, no cycle open, present.
        fast = (
            self.fast_path
            and state == "working"
            and self._quiet.settled(t)
            and not self._quiet.deferred
            and not self._drill_due()
            and not self._posture_again
        )
        if fast:
            remaining = self._desk_remaining()
            budget = math.inf if remaining is None else remaining
            # The fast path may not run past the moment the idle time crosses
            # idle_pause either (the slow path reports "away" then).
            fast = budget > 0
            self._budget = budget
        self._fast = fast
        # Locked or asleep, and no drill with steps to show: nothing changes before
        # the deadline, nor before working hours change (a pause's deadline is its end).
        self._unchanged_until = -math.inf
        if self.fast_path and not self._presence.awake and self._phase is not Phase.DRILL:
            deadline = self.next_deadline()
            until = math.inf if deadline is None else deadline
            self._unchanged_until = min(until, self._hours.until)
