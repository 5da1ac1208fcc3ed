"""Invariants of the core over random traces and random (valid) settings."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ergobreak.content import default_content
from ergobreak.core import effects as fx
from ergobreak.core import events as ev
from ergobreak.core.machine import DeskSession
from ergobreak.core.playback import READ_MIN, reading_seconds
from ergobreak.core.settings import (
    ActivitySettings,
    DrillSettings,
    PostureSettings,
    QuietSettings,
    ScheduleSettings,
    Settings,
)
from ergobreak.sim.replay import Record, replay
from ergobreak.sim.trace import Row, compile_trace

START = datetime(2026, 1, 5, 8, 0, tzinfo=timezone.utc).timestamp()


@st.composite
def configs(draw: st.DrawFn) -> Settings:
    start_after = draw(st.integers(1, 20))
    idle_pause = draw(st.integers(start_after + 1, 120))
    natural = draw(st.integers(idle_pause + 1, 900))
    schedule = draw(
        st.one_of(
            st.just(ScheduleSettings(enabled=False)),
            st.builds(
                ScheduleSettings,
                enabled=st.just(True),
                days=st.frozensets(st.integers(0, 6), min_size=1),
                hours=st.lists(
                    st.tuples(st.integers(0, 1439), st.integers(1, 1440)).filter(
                        lambda s: s[0] != s[1]
                    ),
                    min_size=1,
                    max_size=2,
                ).map(tuple),
            ),
        )
    )
    return Settings(
        activity=ActivitySettings(
            idle_pause=float(idle_pause),
            natural_break=float(natural),
            prompt_gap=float(draw(st.integers(0, 600))),
        ),
        posture=PostureSettings(
            enabled=draw(st.booleans()), every=float(draw(st.integers(60, 2400)))
        ),
        drill=DrillSettings(
            enabled=draw(st.booleans()),
            every=float(draw(st.integers(60, 3600))),
            start_after_idle=float(start_after),
            prelude=float(draw(st.integers(5, 300))),
            snooze=float(draw(st.integers(10, 900))),
            max_snoozes=draw(st.integers(0, 3)),
        ),
        quiet=QuietSettings(
            enabled=draw(st.booleans()), catch_up_delay=float(draw(st.integers(0, 60)))
        ),
        schedule=schedule,
    )


# Mostly typing, as before calls and videos joined (slow rows cost the replay time).
ACTIVITIES = st.sampled_from(
    ["active"] * 8
    + ["idle"] * 3
    + ["locked", "asleep", "gap", "fullscreen", "call", "watching", "watching fullscreen"]
)
COMMANDS = st.sampled_from(
    ["start", "posture", "snooze", "skip", "pause 10m", "pause", "resume", "clock +1h"]
)


@st.composite
def traces(draw: st.DrawFn, max_rows: int = 25) -> list[Row]:
    rows: list[Row] = []
    for n in range(draw(st.integers(1, max_rows))):
        if draw(st.integers(0, 5)) == 0:
            word, _, arg = draw(COMMANDS).partition(" ")
            rows.append(Row(n, 0, word, arg or None))
        else:
            what, _, arg = draw(ACTIVITIES).partition(" ")
            # mostly minutes, sometimes a few seconds around thresholds
            seconds = draw(st.one_of(st.integers(1, 90), st.integers(1, 60).map(lambda m: 60 * m)))
            rows.append(Row(n, seconds, what, arg or None))
    return rows


@dataclass(frozen=True)
class Flags:
    """The core's conditions after the call that produced an effect."""

    locked: bool
    asleep: bool
    in_hours: bool
    paused: bool
    #: seated, awake and unlocked (R9)
    sitting: bool
    #: a call holds prompts (quiet source ``call``, quiet enabled)
    call_quiet: bool


class Checked(DeskSession):
    """A core that checks its own deadline and desk counters after every call and
    logs its flags."""

    def __init__(self, config: Settings, **kwargs: object) -> None:
        super().__init__(config, default_content(), timezone.utc, **kwargs)  # type: ignore[arg-type]
        self.flags: dict[int, Flags] = {}
        self._since_break = 0.0

    def _note(self, out: list[fx.Effect]) -> list[fx.Effect]:
        deadline = self.next_deadline()
        assert deadline is None or deadline > (self._t or 0.0), (deadline, self._t)
        # The desk time since the last real break only ever grows, but for a natural
        # break or a drill done (R5: skip and ignore leave it alone) ...
        real_break = any(
            isinstance(e, fx.NaturalBreak) or (isinstance(e, fx.DrillEnd) and e.outcome == "done")
            for e in out
        )
        since_break = self._break_desk  # view() on every sample would be slow
        assert real_break or since_break >= self._since_break - 1e-9, out
        self._since_break = since_break
        # ... so it is never less than either timer, which it resets with.
        assert since_break >= max(self._posture_timer.elapsed, self._drill_timer.elapsed) - 1e-9
        flags = Flags(
            locked=self._presence.locked,
            asleep=self._presence.asleep,
            in_hours=self._hours.inside,
            paused=self._paused_until is not None,
            sitting=self._presence.sitting,
            call_quiet="call" in self._quiet.sources and self.settings.quiet.enabled,
        )
        for effect in out:
            self.flags[id(effect)] = flags
        return out

    def sample(self, t: float, wall: float, idle: float) -> list[fx.Effect]:
        return self._note(super().sample(t, wall, idle))

    def handle(
        self, t: float, wall: float, event: ev.Event, idle: float | None = None
    ) -> list[fx.Effect]:
        return self._note(super().handle(t, wall, event, idle))


@dataclass
class Run:
    records: list[Record]
    machine: Checked


def play(rows: list[Row], config: Settings, *, sampling: str = "1hz", fast: bool = True) -> Run:
    machine = Checked(config, away_poll=None if sampling == "deadline" else 10.0)
    machine.fast_path = fast
    records = replay(compile_trace(rows), machine, START, sampling=sampling).records  # type: ignore[arg-type]
    return Run(records, machine)


def key(records: list[Record], *, with_state: bool = True) -> list[tuple[float, str, object]]:
    return [
        (round(r.t, 6), r.effect.event, r.effect.fields())
        for r in records
        if with_state or r.effect.event != "state"
    ]


PROPS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(traces(), configs())
def test_fast_path_changes_nothing(rows: list[Row], config: Settings) -> None:
    assert key(play(rows, config).records) == key(play(rows, config, fast=False).records)


@PROPS
@given(traces(), configs())
def test_deadline_sampling_sees_exactly_what_sampling_every_second_sees(
    rows: list[Row], config: Settings
) -> None:
    every_second = key(play(rows, config).records, with_state=False)
    on_deadlines = key(play(rows, config, sampling="deadline").records, with_state=False)
    assert on_deadlines == every_second


def _is_prompt(effect: fx.Effect) -> bool:
    return isinstance(effect, (fx.PostureCheck, fx.DrillPrompt))


def _scheduled(effect: fx.Effect) -> bool:
    if isinstance(effect, fx.PostureCheck):
        return not effect.requested
    return isinstance(effect, fx.DrillPrompt)


@PROPS
@given(traces(), configs())
def test_invariants(rows: list[Row], config: Settings) -> None:
    run = play(rows, config)
    flags = run.machine.flags
    gap = config.activity.prompt_gap
    last_prompt = -math.inf
    open_cycle = False
    running: fx.DrillStart | None = None
    step = -1
    started = 0.0
    #: the drill text on screen: since when, how long it takes to read, and whether it
    #: came on time (a driver that did not run, a gap, makes steps come late, at once)
    shown_at, read_for, on_time = 0.0, 0.0, True
    paused = False
    reset_at = -math.inf
    posture_reset_at = -math.inf
    #: a posture check was withdrawn: it may come back before its interval
    posture_again = False
    #: a drill prompt is on screen; when the last posture check showed
    prompt_on = False
    posture_at = -math.inf
    for rec in run.records:
        e = rec.effect
        f = flags[id(e)]
        locked, asleep, in_hours, is_paused = f.locked, f.asleep, f.in_hours, f.paused
        if _scheduled(e):
            # a call holds every scheduled prompt (R7, R9)
            assert not f.call_quiet, rec
            # never two prompts within the gap (the earlier one may be requested)
            assert rec.t - last_prompt >= gap, (rec, last_prompt)
            # nothing scheduled while paused, locked, asleep or off-hours
            assert not paused, rec
            assert not is_paused, rec
            assert not locked, rec
            assert not asleep, rec
            assert in_hours, rec
        if _is_prompt(e) or isinstance(e, fx.DrillStart):
            last_prompt = rec.t
        match e:
            case fx.Paused():
                paused = True
            case fx.Resumed():
                paused = False
            case fx.DrillPrompt(attempt=attempt, snoozes_left=left):
                assert 0 <= left <= config.drill.max_snoozes
                assert running is None
                if not open_cycle:
                    # a fresh cycle needs a full interval of desk time since the reset
                    assert rec.t - reset_at >= config.drill.every - 1e-6
                    open_cycle = True
                assert attempt >= 1
            case fx.DrillStart():
                assert running is None
                assert not paused
                open_cycle = True
                running, step, started = e, -1, rec.t
                # the safety note first, alone, for as long as it takes to read
                shown_at, read_for, on_time = rec.t, reading_seconds(e.drill.safety), True
                assert read_for >= READ_MIN
            case fx.DrillStep(index=index):
                assert running is not None
                assert running.drill is e.drill
                assert index > step
                assert not locked
                # never early, and no drill text shown on time is replaced sooner than
                # it can be read
                due = started + running.timeline.starts[index]
                assert rec.t >= due - 1e-9, (rec, due)
                assert not on_time or rec.t - shown_at >= read_for - 1e-9, (rec, shown_at)
                shown_at, read_for = rec.t, reading_seconds(e.step.text)
                on_time = rec.t <= due + 1e-9
                if not running.requested:
                    assert in_hours
                step = index
            case fx.DrillEnd(outcome=outcome):
                assert open_cycle, rec
                if outcome == "done":
                    # it ran its full length (steps may have been silent while locked)
                    assert running is not None
                    assert rec.t - started >= running.timeline.total >= running.drill.seconds
                    assert not on_time or rec.t - shown_at >= read_for - 1e-9, (rec, shown_at)
                open_cycle = False
                running = None
                step = -1
                if outcome == "done":
                    reset_at = posture_reset_at = rec.t
                    posture_again = False
                elif outcome != "cancelled":
                    reset_at = rec.t  # skip and ignore leave the posture timer alone
            case fx.Snoozed(count=count, max=limit):
                assert 1 <= count <= limit == config.drill.max_snoozes
                assert running is None
            case fx.NaturalBreak():
                assert not f.sitting, rec  # sitting is never away (R9)
                assert not paused
                assert running is None
                assert not open_cycle
                reset_at = posture_reset_at = rec.t
                posture_again = False
            case fx.PostureCheck(requested=False):
                assert posture_again or rec.t - posture_reset_at >= config.posture.every - 1e-6
                posture_reset_at, posture_again, posture_at = rec.t, False, rec.t
            case fx.PostureCheck(requested=True):
                posture_reset_at, posture_again, posture_at = rec.t, False, rec.t
            case fx.Withdrawn(kind=kind, why=why):
                # only what is on screen, only as quiet (enabled) or the lock begins
                assert locked if why == ("locked",) else config.quiet.enabled and why, rec
                if kind == "drill":
                    assert prompt_on, rec
                else:
                    assert rec.t - posture_at < fx.POSTURE_SHOWN, rec
                    posture_at = -math.inf
                    posture_again = config.posture.enabled
            case _:
                pass
        if isinstance(e, fx.DrillPrompt):
            prompt_on = True
        elif isinstance(e, (fx.Withdrawn, fx.Snoozed, fx.DrillStart, fx.DrillEnd)):
            prompt_on = prompt_on and isinstance(e, fx.Withdrawn) and e.kind == "posture"
        if isinstance(e, (fx.DrillPrompt, fx.DrillStart, fx.DrillStep)):
            assert not paused
