"""Prompts leave when quiet or the lock begins (issue 16, item 4): the core says
``withdrawn`` for each prompt on screen, offers it again afterwards by the ordinary
rules, and uses no snooze for it. A running drill is the person's own choice: it
goes on.

Times are m:ss from the trace start; an ``active`` row's first input comes one
second after it starts.
"""

from __future__ import annotations

import pytest

from ergobreak.core import effects as fx
from ergobreak.core import events as ev
from ergobreak.core.duration import format_clock
from ergobreak.core.machine import POLL_MAX, SHOWN_POLL
from ergobreak.sim.replay import Record
from ergobreak.sim.testing import events, fields, log, make_machine, run, settings

NO_POSTURE = settings(posture_enabled=False)


def withdrawn(records: list[Record]) -> list[tuple[str, object, object]]:
    return [
        (format_clock(r.t), fields(r)["kind"], fields(r)["why"])
        for r in events(records, "withdrawn")
    ]


def test_a_drill_prompt_on_screen_when_the_screen_locks_is_withdrawn_and_offered_on_return() -> (
    None
):
    # prompt at 30:01; locked at 30:30 for 2 min (no natural break); back at 32:30
    records = run("30m30s,active; 2m,locked; 5m,active", NO_POSTURE)
    assert log(records) == [
        ("30:01", "drill_prompt"),
        ("30:30", "withdrawn"),
        ("35:01", "drill_prompt"),  # the prompt gap (5 min) counts from the first showing
        ("36:01", "snoozed"),  # typed through its prelude: the first snooze
    ]
    assert withdrawn(records) == [("30:30", "drill", ["locked"])]
    again = events(records, "drill_prompt")[1]
    assert fields(again)["snoozes_left"] == 2  # withdrawing used no snooze
    assert fields(again)["attempt"] == 2
    assert fields(again)["routine"] == fields(events(records, "drill_prompt")[0])["routine"]


def test_a_lock_long_enough_for_a_natural_break_closes_the_withdrawn_cycle() -> None:
    records = run("30m30s,active; 6m,locked; 1m,active", NO_POSTURE)
    assert log(records) == [
        ("30:01", "drill_prompt"),
        ("30:30", "withdrawn"),
        ("35:30", "drill_end"),  # cancelled by the natural break, nothing offered again
        ("35:30", "natural_break"),
    ]
    assert fields(events(records, "drill_end")[0])["reason"] == "natural_break"


def test_dnd_beginning_withdraws_the_prompt_and_quiet_ending_offers_it_again() -> None:
    machine = make_machine(settings(posture_enabled=False, activity_prompt_gap=0.0))
    t = 0.0
    out: list[fx.Effect] = []
    while not any(isinstance(e, fx.DrillPrompt) for e in out):
        t += 1.0
        out = machine.sample(t, t, 0.0)
    first = next(e for e in out if isinstance(e, fx.DrillPrompt))
    got = machine.handle(t + 5, t + 5, ev.Quiet("dnd", True), idle=0.0)
    assert [e for e in got if not isinstance(e, fx.StateChanged)] == [
        fx.Withdrawn(kind="drill", why=("dnd",)),
        fx.Deferred(kind="drill", sources=("dnd",)),
    ]
    assert machine.view().state == "quiet"
    assert machine.view().snoozes == 0
    # quiet ends; the prompt comes back after the catch-up delay, nothing before
    machine.handle(t + 60, t + 60, ev.Quiet("dnd", False), idle=0.0)
    delay = machine.settings.quiet.catch_up_delay
    early = machine.sample(t + 59 + delay, t + 59 + delay, 0.0)
    assert not any(isinstance(e, fx.DrillPrompt) for e in early)
    later = machine.sample(t + 60 + delay, t + 60 + delay, 0.0)
    back = [e for e in later if isinstance(e, fx.DrillPrompt)]
    assert [(e.drill, e.attempt, e.snoozes_left) for e in back] == [(first.drill, 2, 2)]


def test_a_posture_check_on_screen_when_fullscreen_begins_is_withdrawn_and_offered_after() -> None:
    # posture check at 20:01; fullscreen from 20:10 for 10 min; the check is held
    # and comes back after quiet (the prompt gap since 20:01 has passed by then)
    config = settings(drill_enabled=False)
    records = run("20m10s,active; 10m,fullscreen; 2m,active", config)
    assert log(records) == [
        ("20:01", "posture_check"),
        ("20:10", "withdrawn"),
        ("20:10", "deferred"),
        ("30:20", "posture_check"),  # catch-up delay (10 s) after fullscreen ends
    ]
    assert withdrawn(records) == [("20:10", "posture", ["fullscreen"])]
    # shown again at once: the next one is a full interval after that
    assert log(run("20m10s,active; 10m,fullscreen; 21m,active", config))[-1] == (
        "50:20",
        "posture_check",
    )


def test_a_withdrawn_posture_check_is_dropped_when_quiet_ends_within_the_prompt_gap() -> None:
    # fullscreen for 1 min: 20:01 + 5 min gap not reached at 21:20, so it is not
    # shown twice within the gap; the posture interval starts again instead
    records = run("20m10s,active; 1m,fullscreen; 25m,active", settings(drill_enabled=False))
    assert log(records) == [
        ("20:01", "posture_check"),
        ("20:10", "withdrawn"),
        ("20:10", "deferred"),
        ("41:20", "posture_check"),
    ]


def test_a_posture_check_on_screen_when_the_screen_locks_is_withdrawn() -> None:
    records = run("20m5s,active; 1m,locked; 1m,active", settings(drill_enabled=False))
    assert withdrawn(records) == [("20:05", "posture", ["locked"])]


def test_a_posture_check_no_longer_on_screen_is_left_alone() -> None:
    # shown at 20:01; fullscreen from 20:30 and the lock later find it timed out
    assert fx.POSTURE_SHOWN <= 29
    records = run("20m30s,active; 10m,fullscreen; 1m,locked", settings(drill_enabled=False))
    assert format_clock(events(records, "posture_check")[0].t) == "20:01"
    assert events(records, "withdrawn") == []


def test_both_prompts_on_screen_are_withdrawn_together() -> None:
    machine = make_machine(settings(activity_prompt_gap=0.0, drill_every=1200.0))
    out: list[fx.Effect] = []
    for t in range(1, 1202):
        out += machine.sample(float(t), float(t), 0.0)
    # drill due at 20:00 takes the place of the posture check (posture within the gap
    # of a drill is dropped), so ask for a posture check to have both on screen
    out = machine.handle(1205.0, 1205.0, ev.Posture(), idle=0.0)
    assert any(isinstance(e, fx.PostureCheck) for e in out)
    assert machine.phase.value == "prompted"
    got = machine.handle(1210.0, 1210.0, ev.ScreenLocked(), idle=0.0)
    assert [e for e in got if isinstance(e, fx.Withdrawn)] == [
        fx.Withdrawn(kind="drill", why=("locked",)),
        fx.Withdrawn(kind="posture", why=("locked",)),
    ]


@pytest.mark.parametrize("what", ["fullscreen", "locked"])
def test_a_running_drill_is_not_withdrawn(what: str) -> None:
    # start at 1:00, the drill runs 2 min; fullscreen or a lock 10 s later
    records = run(f"1m,active; 0,start; 10s,idle; 30s,{what}; 3m,idle", NO_POSTURE)
    assert events(records, "withdrawn") == []
    assert fields(events(records, "drill_end")[0])["outcome"] == "done"
    steps = [format_clock(r.t) for r in events(records, "drill_step")]
    # the steps follow the safety note, shown first for its reading time
    (start,) = events(records, "drill_start")
    note = float(str(fields(start)["safety_seconds"]))
    assert note >= 5

    def at(offset: float) -> str:
        return format_clock(start.t + note + offset)

    # the step due 15 s in shows in fullscreen; behind the lock screen it is silent
    shown = [at(0), at(15)] if what == "fullscreen" else [at(0)]
    assert steps == [*shown, at(55), at(60), at(100)]


def test_nothing_is_withdrawn_when_quiet_is_off() -> None:
    records = run("30m30s,active; 10m,fullscreen", settings(quiet_enabled=False))
    assert events(records, "withdrawn") == []


def test_a_second_quiet_source_withdraws_nothing_more() -> None:
    machine = make_machine(NO_POSTURE)
    for t in range(1, 1802):
        machine.sample(float(t), float(t), 0.0)
    assert machine.phase.value == "prompted"
    first = machine.handle(1805.0, 1805.0, ev.Quiet("fullscreen", True), idle=0.0)
    second = machine.handle(1806.0, 1806.0, ev.Quiet("dnd", True), idle=0.0)
    assert [e for e in first if isinstance(e, fx.Withdrawn)] == [
        fx.Withdrawn(kind="drill", why=("fullscreen",))
    ]
    assert not any(isinstance(e, fx.Withdrawn) for e in second)


def test_withdrawn_fields_for_the_simulator() -> None:
    assert fx.Withdrawn(kind="posture", why=("dnd", "fullscreen")).fields() == {
        "kind": "posture",
        "why": ["dnd", "fullscreen"],
    }


def test_while_a_prompt_is_on_screen_the_driver_looks_for_quiet_every_few_seconds() -> None:
    # quiet sources such as fullscreen are read at each wake-up: the deadline brings
    # one within SHOWN_POLL while a prompt shows, and no sooner than usual otherwise
    machine = make_machine(NO_POSTURE)
    machine.sample(1.0, 1.0, 0.0)
    machine.handle(2.0, 2.0, ev.Posture(), idle=0.0)
    assert machine.next_deadline() == 2.0 + SHOWN_POLL
    machine.sample(22.0, 22.0, 0.0)  # the check has timed out
    assert machine.next_deadline() == 22.0 + POLL_MAX
    for t in range(23, 1802):
        machine.sample(float(t), float(t), 0.0)
    assert machine.phase.value == "prompted"
    assert (deadline := machine.next_deadline()) is not None
    assert deadline <= 1801.0 + SHOWN_POLL
    machine.handle(1802.0, 1802.0, ev.Quiet("fullscreen", True), idle=0.0)
    assert (deadline := machine.next_deadline()) is not None
    assert deadline > 1802.0 + SHOWN_POLL  # nothing on screen now: QUIET_POLL applies
