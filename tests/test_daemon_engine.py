"""The engine loop with a fake clock: inputs in, effects and saves out, no threads."""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

import pytest
from fake_desk import ScriptedIdle, type_steadily

from ergobreak.commands import Request
from ergobreak.content import default_content
from ergobreak.core import effects as fx
from ergobreak.core import events as ev
from ergobreak.core.machine import DeskSession, View
from ergobreak.core.settings import Settings
from ergobreak.daemon.clock import FakeClock
from ergobreak.daemon.engine import (
    FAILED,
    SAVE_EVERY,
    STOPPING,
    Engine,
    Reloaded,
    Reply,
    describe_changes,
)
from ergobreak.daemon.state import StateFile
from ergobreak.localtz import get_timezone
from ergobreak.platform.timejump import TimeJump
from ergobreak.sim.testing import ALWAYS_ON, make_machine, settings


class Quiet:
    """One quiet source, reported as changes the way Edge.quiet_changes() does."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.on = False
        self._reported = False

    def changes(self) -> list[ev.Quiet]:
        if self.on == self._reported:
            return []
        self._reported = self.on
        return [ev.Quiet(self.name, self.on)]


@dataclasses.dataclass
class Rig:
    clock: FakeClock
    idle: ScriptedIdle
    engine: Engine
    effects: list[tuple[float, fx.Effect]]
    saves: list[dict[str, Any]]
    quiet: Quiet

    def work(self, seconds: float, *, step: float = 30.0) -> None:
        type_steadily(self.engine, self.idle, self.clock, seconds, step=step)

    def names(self) -> list[str]:
        return [e.event for _, e in self.effects if e.event not in ("state", "drill_step")]


def make_rig(
    config: Settings = ALWAYS_ON,
    clock: FakeClock | None = None,
    core: DeskSession | None = None,
    idle: ScriptedIdle | None = None,
    **kwargs: Any,
) -> Rig:
    clock = clock or (idle.clock if idle is not None else FakeClock())
    idle = idle or ScriptedIdle(clock)
    effects: list[tuple[float, fx.Effect]] = []
    saves: list[dict[str, Any]] = []
    quiet = Quiet("fullscreen")

    def on_step(t: float, wall: float, out: list[fx.Effect], view: View) -> None:
        effects.extend((t, e) for e in out)

    options: dict[str, Any] = {
        "on_step": on_step,
        "save": saves.append,
        "read_idle": idle.idle_seconds,
        **kwargs,
    }
    engine = Engine(core or make_machine(config), clock, quiet_changes=quiet.changes, **options)
    engine.step()
    return Rig(clock, idle, engine, effects, saves, quiet)


def test_a_working_session_prompts_on_time_with_few_wakeups() -> None:
    rig = make_rig()
    rig.work(30 * 60 + 30, step=3600)
    assert rig.names() == ["posture_check", "drill_prompt"]
    prompt_t = next(t for t, e in rig.effects if e.event == "drill_prompt")
    assert prompt_t - 1000.0 == pytest.approx(1800.0, abs=2.0)
    # ~1 wake-up a minute while typing, plus the thresholds, plus a look for quiet
    # every SHOWN_POLL while a prompt is on screen (the posture check's 20 s, and the
    # drill prompt's last 29 s here)
    assert rig.engine.wakeups <= 31 + 5 + 4 + 6


def test_commands_are_applied_on_the_engine_thread_and_answered() -> None:
    rig = make_rig()
    reply = Reply()
    rig.engine.post(Request("pause", {"seconds": 600}), reply)
    rig.engine.step()
    assert reply.done.is_set()
    assert reply.value["ok"] is True
    assert reply.value["events"] == ["paused"]
    assert reply.value["effects"] == [{"event": "paused", "seconds": 600}]
    assert reply.value["status"]["state"] == "paused"  # the status after the round
    assert reply.value["status"]["paused_for"] == 600
    bad = Reply()
    rig.engine.post(Request("snooze"), bad)
    rig.engine.step()
    assert bad.value == {
        "ok": False,
        "error": "No drill prompt is on screen, so there is nothing to snooze.",
    }


def test_status_request_reports_state_without_personal_history() -> None:
    rig = make_rig()
    rig.work(60)
    reply = Reply()
    rig.engine.post(Request("status"), reply)
    rig.engine.step()
    status = reply.value["status"]
    assert status["state"] == "working"
    assert status["desk_minutes"] == pytest.approx(1.0, abs=0.1)


def test_status_counts_up_to_the_question_not_to_the_last_wakeup() -> None:
    """With an event-driven idle source the engine sleeps through typing; a status
    question wakes it, and the answer is as of now."""
    rig = make_rig()
    rig.work(60)
    rig.clock.advance(42)  # typing on, within idle_pause: no wake-up meanwhile
    rig.idle.type_now()
    reply = Reply()
    rig.engine.post(Request("status"), reply)
    rig.engine.step()
    assert reply.value["status"]["desk_minutes"] == pytest.approx(1.7)


def test_quiet_detectors_are_read_at_each_wakeup() -> None:
    rig = make_rig(settings(drill_enabled=False))
    rig.work(15 * 60)
    rig.quiet.on = True
    rig.work(10 * 60)
    assert rig.names() == ["deferred"]
    rig.quiet.on = False
    rig.work(60)
    assert rig.names() == ["deferred", "posture_check"]


def test_reload_keeps_last_good_settings_on_error() -> None:
    results = [
        Reloaded(None, error="config.toml:3:9: drill.every: expected a duration", details=("x",)),
        Reloaded(settings(drill_every=45 * 60.0)),
    ]
    rig = make_rig(reload=lambda: results.pop(0))
    first, second = Reply(), Reply()
    rig.engine.post(Request("reload"), first)
    rig.engine.step()
    assert first.value["ok"] is False
    assert rig.engine.config_error is not None
    assert rig.engine.core.settings.drill.every == 1800.0
    rig.engine.post(Request("reload"), second)
    rig.engine.step()
    assert second.value == {
        "ok": True,
        "changes": "drills every 45 min",
        "warnings": [],
        "policy_current": True,
    }
    assert rig.engine.config_error is None
    assert rig.engine.core.settings.drill.every == 2700.0


def test_a_shorter_interval_counts_desk_time_already_accrued() -> None:
    rig = make_rig(reload=lambda: Reloaded(settings(drill_every=20 * 60.0, posture_enabled=False)))
    rig.work(25 * 60)
    assert "drill_prompt" not in rig.names()
    rig.engine.post(Request("reload"))
    rig.engine.step()
    assert rig.names()[-1] == "drill_prompt"


def test_state_is_saved_on_state_changes_and_periodically() -> None:
    rig = make_rig()
    saves_before = len(rig.saves)
    rig.work(10 * 60)
    assert len(rig.saves) > saves_before
    snap = rig.saves[-1]["core"]
    assert snap["drill_desk"] >= 8 * 60
    rig.engine.shutdown()
    assert rig.saves[-1]["core"]["drill_desk"] == pytest.approx(600.0, abs=2)


def test_a_wall_clock_step_back_does_not_hold_saves_off() -> None:
    """The cadence runs on the monotonic base: an hour's step back (a wrong clock put
    right, NTP) leaves a save every SAVE_EVERY while the timers change."""
    rig = make_rig(settings(posture_enabled=False, drill_enabled=False))
    rig.work(5 * 60)
    rig.clock.jump_wall(-3600)
    before = len(rig.saves)
    rig.work(10 * 60)
    assert len(rig.saves) - before >= 10 * 60 // SAVE_EVERY
    assert rig.saves[-1]["core"]["drill_desk"] >= 15 * 60 - SAVE_EVERY


def test_restart_resumes_timers_and_a_long_gap_resets_them(tmp_path: Any) -> None:
    state = StateFile(tmp_path / "state.json")
    rig = make_rig(save=state.save)
    rig.work(20 * 60 + 30)
    rig.engine.shutdown()
    saved = state.load()
    assert saved is not None

    def restart(after: float) -> DeskSession:
        core = make_machine()
        wall = rig.clock.wall() + after
        core.restore(saved, 5000.0, wall)
        return core

    assert restart(60).view(5000.0).drill_desk == pytest.approx(1230, abs=2)
    assert restart(10 * 60).view(5000.0).drill_desk == 0.0


def test_state_file_survives_garbage(tmp_path: Any) -> None:
    path = tmp_path / "state.json"
    path.write_text("{not json")
    assert StateFile(path).load() is None
    path.write_text('{"core": 3}')
    assert StateFile(path).load() is None


def test_a_crashing_hook_does_not_stop_the_engine(caplog: pytest.LogCaptureFixture) -> None:
    def explode(t: float, wall: float, out: list[fx.Effect], view: View) -> None:
        raise RuntimeError("notifier bug")

    told: list[str] = []
    rig = make_rig(on_step=explode, on_failure=told.append)
    rig.work(31 * 60)
    assert rig.engine.core.phase.value in ("prompted", "snoozed")
    (logged,) = [r.getMessage() for r in caplog.records if r.exc_info]
    assert logged.endswith(".<locals>.explode failed; ergobreak carries on")
    assert told == ["RuntimeError: notifier bug"]
    assert rig.engine.failures > 10


class Flaky(DeskSession):
    """A core with a bug: ``start`` changes its state, then raises."""

    broken = True
    deadline_broken = False

    def handle(
        self, t: float, wall: float, event: ev.Event, idle: float | None = None
    ) -> list[fx.Effect]:
        out = super().handle(t, wall, event, idle)
        if isinstance(event, ev.Start) and self.broken:
            raise RuntimeError("a bug in the scheduler")
        return out

    def next_deadline(self) -> float | None:
        if self.deadline_broken:
            raise ZeroDivisionError("no deadline")
        return super().next_deadline()


def flaky() -> Flaky:
    return Flaky(ALWAYS_ON, default_content(), get_timezone("UTC"))


def test_a_round_that_raises_is_undone_answered_and_told_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    told: list[str] = []
    rig = make_rig(core=flaky(), on_failure=told.append)
    rig.work(60)
    for _ in range(2):
        reply = Reply()
        rig.engine.post(Request("start"), reply)
        rig.engine.step()
        assert reply.value == {"ok": False, "error": FAILED}
        # the drill did not half start: the core is as it was before the round
        assert rig.engine.core.phase.value == "working"
    assert [r.getMessage() for r in caplog.records if r.exc_info] == [
        "a wake-up of the scheduler (undone) failed; ergobreak carries on"
    ]
    assert "RuntimeError: a bug in the scheduler" in caplog.text
    assert told == ["RuntimeError: a bug in the scheduler"]
    assert rig.engine.failures == 2
    rig.engine.core.broken = False  # type: ignore[attr-defined]
    rig.engine.post(Request("start"))
    rig.engine.step()
    assert rig.engine.core.phase.value == "drill"
    rig.work(35 * 60)  # and it goes on as if nothing had happened
    assert rig.names().count("drill_prompt") == 1


def test_a_deadline_that_raises_does_not_stop_the_loop(caplog: pytest.LogCaptureFixture) -> None:
    core = flaky()
    core.deadline_broken = True
    rig = make_rig(core=core)
    thread = threading.Thread(target=rig.engine.run)
    thread.start()
    for _ in range(3):
        reply = Reply()
        rig.engine.post(Request("status"), reply)
        assert reply.done.wait(5)
        assert reply.value["ok"] is True
    rig.engine.stop()
    thread.join(5)
    assert not thread.is_alive()
    assert len([r for r in caplog.records if r.exc_info]) == 1
    assert "ZeroDivisionError: no deadline" in caplog.text


def test_a_reload_that_raises_keeps_the_settings() -> None:
    def reload() -> Reloaded:
        raise RuntimeError("a bug while loading")

    rig = make_rig(reload=reload)
    reply = Reply()
    rig.engine.post(Request("reload"), reply)
    rig.engine.step()
    assert reply.value["ok"] is False
    assert reply.value["error"] == FAILED
    assert rig.engine.core.settings == ALWAYS_ON
    assert rig.engine.config_error == FAILED


def test_activity_wakeup_is_armed_once_while_away() -> None:
    armed: list[Any] = []
    rig = make_rig(activity_wake=armed.append)
    rig.work(60)
    rig.clock.advance(120)  # away now
    rig.engine.step()
    rig.clock.advance(10)
    rig.engine.step()
    assert len(armed) == 1
    armed[0]()  # the idle source saw input: the engine is woken
    assert not rig.engine._inbox.empty()


def test_quit_request_ends_run_and_saves() -> None:
    rig = make_rig()
    thread = threading.Thread(target=rig.engine.run)
    thread.start()
    rig.engine.stop()
    thread.join(5)
    assert not thread.is_alive()
    assert rig.saves


def test_describe_changes() -> None:
    base = Settings()
    assert describe_changes(base, base) == "no changes"
    assert describe_changes(base, settings(base=base, drill_enabled=False)) == "drills off"
    assert (
        describe_changes(base, settings(base=base, posture_every=900.0))
        == "posture checks every 15 min"
    )
    # said exactly, as the config shows it ("2m30s"), not cut to "2 min"
    assert (
        describe_changes(base, settings(base=base, drill_every=150.0)) == "drills every 2 min 30 s"
    )


class FailingIdle(ScriptedIdle):
    """An idle source that can stop answering (the edge then reads None)."""

    failing = False

    def read(self) -> float | None:
        return None if self.failing else self.idle_seconds()


def test_time_the_idle_source_cannot_see_is_not_desk_time() -> None:
    idle = FailingIdle(FakeClock())
    rig = make_rig(
        settings(posture_enabled=False, drill_enabled=False), idle=idle, read_idle=idle.read
    )
    rig.work(10 * 60)
    idle.failing = True  # e.g. the compositor's idle monitor stopped answering
    rig.work(4 * 60)  # typing on, unseen
    core = rig.engine.core
    assert core.state() == "away"
    # Desk time ends idle_pause after the last input seen: R1 counts that much for
    # any input after it, so nothing unobserved is counted.
    assert core.view().drill_desk == pytest.approx(10 * 60 + core.settings.activity.idle_pause)
    rig.work(2 * 60)  # away for natural_break by now, as far as anyone can tell
    assert "natural_break" in rig.names()
    idle.failing = False
    rig.work(5 * 60)
    assert core.state() == "working"
    assert core.view().drill_desk == pytest.approx(5 * 60, abs=30)


def test_observations_from_watchers_are_stamped_by_the_engine() -> None:
    rig = make_rig()
    rig.work(5 * 60)
    rig.engine.post(ev.ScreenLocked())
    rig.engine.step()
    assert rig.engine.core.state() == "away"


# --------------------------------------------------------------------------- sleep backstop


class Machine:
    """The backstop's two clocks over the rig's: the rig's clock runs on while the
    machine sleeps (like CLOCK_BOOTTIME), ``steady`` stops (like CLOCK_MONOTONIC)."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.asleep_for = 0.0
        self.backstop = TimeJump(self.steady, self.clock.monotonic)

    def steady(self) -> float:
        return self.clock.monotonic() - self.asleep_for

    def sleep(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.asleep_for += seconds


def sleepy_rig(*, backstop: bool = True) -> tuple[Rig, Machine]:
    machine = Machine()
    slept = machine.backstop.check if backstop else None
    return make_rig(clock=machine.clock, slept=slept), machine


def ends(rig: Rig) -> list[tuple[str, str | None]]:
    return [(e.outcome, e.reason) for _, e in rig.effects if isinstance(e, fx.DrillEnd)]


def test_an_unreported_sleep_withdraws_the_prompt_instead_of_starting_the_drill() -> None:
    """100 s asleep is under the core's SLEEP_GAP, so only the backstop can tell it from
    a user who stood up for the drill."""
    outcomes = {}
    for backstop in (True, False):
        rig, machine = sleepy_rig(backstop=backstop)
        rig.work(30 * 60 + 30)
        assert rig.engine.core.phase.value == "prompted"
        machine.sleep(100)
        rig.engine.step()
        outcomes[backstop] = (rig.engine.core.phase.value, ends(rig))
    assert outcomes[True] == ("working", [("cancelled", "asleep")])
    assert outcomes[False] == ("drill", [])


def test_an_unreported_sleep_is_not_desk_time() -> None:
    desk = {}
    for backstop in (True, False):
        rig, machine = sleepy_rig(backstop=backstop)
        rig.work(10 * 60)
        machine.sleep(100)
        rig.engine.step()
        desk[backstop] = rig.engine.core.view().drill_desk
    assert desk[True] == pytest.approx(10 * 60)
    # without it, the first idle_pause (60 s) of the sleep counted as typing
    assert desk[False] == pytest.approx(11 * 60)


def test_a_watcher_that_reported_the_sleep_in_time_stays_in_charge() -> None:
    rig, machine = sleepy_rig()
    rig.work(5 * 60)
    rig.engine.post(ev.Suspending())
    rig.engine.step()
    machine.sleep(100)
    rig.idle.type_now()  # on the lock screen after resume, before logind says Resumed
    rig.engine.step()
    assert rig.engine.core.state() == "away"  # still asleep: the backstop woke nothing
    rig.engine.post(ev.Resumed())
    rig.engine.step()
    rig.work(60)
    assert rig.engine.core.state() == "working"
    assert rig.engine.core.view().drill_desk == pytest.approx(6 * 60, abs=10)


def test_sleep_signals_that_arrive_late_count_the_sleep_once() -> None:
    """The engine was frozen with the machine, so logind's signals wait in the queue
    until after the wake-up: the same day as with no signals at all."""
    days = {}
    for late_signals in (True, False):
        rig, machine = sleepy_rig()
        rig.work(30 * 60 + 30)
        machine.sleep(2 * 3600)
        if late_signals:
            rig.engine.post(ev.Suspending())
            rig.engine.post(ev.Resumed())
        rig.engine.step()
        rig.work(5 * 60)
        days[late_signals] = (rig.names(), ends(rig), rig.engine.core.view().drill_desk)
    assert days[True] == days[False]
    names, drill_ends, _ = days[True]
    assert drill_ends == [("cancelled", "asleep")]
    assert names.count("natural_break") == 1


def test_requests_behind_a_quit_are_answered_at_once() -> None:
    """A request that arrives while the quit's round runs is answered "stopping" when
    the engine stops, instead of leaving its client waiting for a reply."""
    behind = Reply()

    def on_step(t: float, wall: float, effects: list[fx.Effect], view: View) -> None:
        if engine.stopping and not behind.done.is_set():
            engine.post(Request("status"), behind)

    engine = Engine(make_machine(), FakeClock(), on_step=on_step)
    quit_reply = Reply()
    engine.post(Request("quit"), quit_reply)
    engine.run()  # the quit's round, then it stops
    assert quit_reply.value == {"ok": True}
    assert engine.stopping
    assert behind.value == {"ok": False, "error": STOPPING}
