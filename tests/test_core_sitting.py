"""R9, sitting is sitting: a call or a video without input is desk time, never away.

Observation logs like ``test_core_rules.py``: times are m:ss from the trace start,
and in an ``active`` row the first input comes one second after the row starts.
"""

from __future__ import annotations

import pytest

from ergobreak.core import effects as fx
from ergobreak.core import events as ev
from ergobreak.core.machine import DeskSession
from ergobreak.sim.testing import events, fields, log, make_machine, run, settings
from ergobreak.sim.trace import TraceError, parse_trace

# ------------------------------------------------------------------- calls


def test_a_call_without_typing_is_not_a_break() -> None:
    # Before R9 this trace printed "30:00 natural_break away 5m: timers reset".
    records = run("10m,active; 40m,call; 5m,active")
    assert not events(records, "natural_break")
    assert log(records) == [
        ("20:01", "deferred"),  # the posture check falls due in the call: held
        ("30:01", "deferred"),  # and so does the drill
        ("50:10", "drill_prompt"),  # catch_up_delay (10 s) after the call ends
        ("51:10", "snoozed"),  # typing on through the prelude
    ]
    assert [fields(r)["quiet"] for r in events(records, "deferred")] == [["call"], ["call"]]


def test_the_drill_a_call_held_says_how_long_the_call_was() -> None:
    records = run("10m,active; 40m,call; 5m,active")
    prompt = events(records, "drill_prompt")[0]
    assert fields(prompt)["after_call"] == 2400
    effect = prompt.effect
    assert isinstance(effect, fx.DrillPrompt)
    assert effect.after_call == 2400.0


@pytest.mark.parametrize("catch_up", [0.0, 10.0, 60.0])
def test_the_held_drill_comes_within_a_minute_of_the_calls_end(catch_up: float) -> None:
    config = settings(quiet_catch_up_delay=catch_up)
    records = run("10m,active; 40m,call; 3m,idle", config)
    prompt = events(records, "drill_prompt")[0]
    assert prompt.t == 3000 + catch_up
    assert fields(prompt)["after_call"] == 2400


def test_a_drill_due_in_the_catch_up_after_a_call_still_names_the_call() -> None:
    # the call ends at 30:00, the drill falls due at 30:01 (still held: catch-up)
    records = run("10m,active; 20m,call; 3m,idle")
    assert [(r.t, fields(r).get("after_call")) for r in events(records, "drill_prompt")] == [
        (1810, 1200)
    ]


def test_a_call_that_drops_and_comes_back_at_once_is_one_call() -> None:
    records = run("20m,active; 15m,call; 5s,idle; 20m,call; 1m,active")
    assert [fields(r).get("after_call") for r in events(records, "drill_prompt")] == [2105]
    # with a longer gap they are two calls: the drill comes between them
    records = run("20m,active; 15m,call; 1m,idle; 20m,call; 1m,active")
    assert [fields(r).get("after_call") for r in events(records, "drill_prompt")][:1] == [900]


def test_a_prompt_on_screen_when_a_call_starts_is_withdrawn_and_offered_after_it() -> None:
    records = run("30m30s,active; 10m,call; 1m,idle")
    prompts = events(records, "drill_prompt")
    assert [(r.t, fields(r).get("after_call")) for r in prompts] == [(1801, None), (2440, 600)]
    assert fields(prompts[1])["snoozes_left"] == 2  # withdrawing used no snooze
    assert log(records)[2:4] == [("30:30", "withdrawn"), ("30:30", "deferred")]
    assert fields(events(records, "withdrawn")[0]) == {"kind": "drill", "why": ["call"]}


def test_no_prompt_is_held_by_a_call_when_quiet_is_off() -> None:
    records = run("10m,active; 40m,call", settings(quiet_enabled=False))
    assert log(records)[:2] == [("20:01", "posture_check"), ("30:01", "drill_prompt")]
    assert "after_call" not in fields(events(records, "drill_prompt")[0])
    assert not events(records, "natural_break")  # still sitting all the same


def test_a_call_counts_every_second_as_desk_time() -> None:
    machine = make_machine()
    machine.sample(0.0, 0.0, 0.0)
    machine.handle(10.0, 10.0, ev.Seated("call", True), idle=0.0)
    for t in range(11, 2411):  # 40 minutes, not a key pressed
        machine.sample(float(t), float(t), float(t - 10))
    view = machine.view()
    assert view.desk_since_break == pytest.approx(2410.0)
    assert view.state == "quiet"
    assert view.quiet == ("call",)
    assert view.seated == ("call",)
    assert view.away_for == 0.0


def test_walking_away_after_a_call_is_a_break_counted_from_its_end() -> None:
    records = run("10m,active; 20m,call; 0,skip; 6m,idle", settings(drill_enabled=False))
    breaks = events(records, "natural_break")
    assert [(r.t, fields(r)["away"]) for r in breaks] == [(1800 + 300, 300.0)]


def test_locking_the_screen_during_a_call_is_away() -> None:
    records = run("10m,active; 10m,call; 6m,locked; 10m,call; 1m,active")
    assert [(r.t, fields(r)["away"]) for r in events(records, "natural_break")] == [
        (1500, 300)  # five minutes after the lock at 20:00, as without a call
    ]


def test_a_short_lock_during_a_call_is_no_break() -> None:
    records = run("10m,active; 10m,call; 2m,locked; 30m,call; 1m,active")
    assert not events(records, "natural_break")


# ---------------------------------------------------------------- watching


def test_watching_is_desk_time_and_not_a_break() -> None:
    records = run("5m,active; 20m,watching; 1m,active", settings(drill_enabled=False))
    assert log(records) == [("20:01", "posture_check")]  # not held: watching is not quiet


def test_watching_is_not_quiet_but_inactivity_does_not_start_the_drill() -> None:
    # The person sits through the prompt: it is put off as if they typed on.
    records = run("25m,active; 10m,watching; 2m,active")
    assert log(records) == [
        ("20:01", "posture_check"),
        ("30:01", "drill_prompt"),
        ("31:01", "snoozed"),
        ("36:01", "drill_prompt"),
    ]
    assert fields(events(records, "snoozed")[0])["auto"] is True
    # the prompt says so: only its Start button starts the drill now
    assert [fields(r).get("seated") for r in events(records, "drill_prompt")] == [
        ["watching"],
        None,
    ]


def test_pausing_the_video_during_the_prelude_counts_as_getting_up() -> None:
    # video stops at 30:31, nobody types: the drill starts start_after_idle later
    records = run("30m,active; 31s,watching; 3m,idle")
    assert log(records)[1:3] == [("30:01", "drill_prompt"), ("30:41", "drill_start")]


def test_watching_fullscreen_is_quiet() -> None:
    records = run("25m,active; 10m,watching fullscreen; 2m,active")
    assert log(records)[1:3] == [("30:01", "deferred"), ("35:10", "drill_prompt")]
    assert fields(events(records, "deferred")[0])["quiet"] == ["fullscreen"]


def test_sitting_down_ends_the_away_period_before_it() -> None:
    # Away from 5:00: the natural break comes at 10:00; the video from 15:00 on is
    # desk time again (a posture check 20 min of desk time after the break).
    records = run("5m,active; 10m,idle; 25m,watching", settings(drill_enabled=False))
    assert log(records) == [("10:00", "natural_break"), ("35:00", "posture_check")]


def test_a_call_and_a_video_together_end_with_the_last_of_them() -> None:
    machine = make_machine(settings(drill_enabled=False, posture_enabled=False))
    machine.sample(0.0, 0.0, 0.0)
    machine.handle(1.0, 1.0, ev.Seated("watching", True), idle=1.0)
    machine.handle(2.0, 2.0, ev.Seated("call", True), idle=2.0)
    machine.handle(100.0, 100.0, ev.Seated("call", False), idle=100.0)
    assert machine.view().seated == ("watching",)
    assert machine.state() == "working"  # the catch-up delay is over by the next check
    for t in range(130, 1001, 30):  # the daemon looks at least once a minute
        machine.sample(float(t), float(t), float(t))
    assert machine.view().desk_since_break == pytest.approx(1000.0)
    machine.handle(1000.0, 1000.0, ev.Seated("watching", False), idle=1000.0)
    for t in range(1030, 1201, 30):  # (a natural break would come at 1300)
        machine.sample(float(t), float(t), float(t))
    assert machine.view().desk_since_break == pytest.approx(1060.0)  # + idle_pause


# ------------------------------------------------------------------ traces


def test_trace_rows_for_calls_and_watching() -> None:
    rows = parse_trace("40m,call\n20m,watching\n5m,Watching Fullscreen\n")
    assert [(r.seconds, r.what, r.arg) for r in rows] == [
        (2400, "call", None),
        (1200, "watching", None),
        (300, "watching", "fullscreen"),
    ]


@pytest.mark.parametrize("line", ["5m,call fullscreen", "5m,watching tv"])
def test_only_watching_takes_fullscreen(line: str) -> None:
    with pytest.raises(TraceError, match="takes no argument"):
        parse_trace(line, "day.csv")


# ------------------------------------------------- seated across lock and sleep


def _breaks(out: list[fx.Effect]) -> list[float]:
    return [e.away for e in out if isinstance(e, fx.NaturalBreak)]


def _in_a_call_until(seconds: int) -> tuple[DeskSession, list[fx.Effect]]:
    machine = make_machine(settings(drill_enabled=False, posture_enabled=False))
    out = machine.sample(0.0, 0.0, 0.0)
    out += machine.handle(10.0, 10.0, ev.Seated("call", True), idle=10.0)
    for t in range(30, seconds + 1, 30):
        out += machine.sample(float(t), float(t), float(t))
    return machine, out


@pytest.mark.parametrize(("slept", "breaks"), [(400, [400.0]), (100, [])])
def test_sleeping_with_the_call_still_reported_is_away(slept: int, breaks: list[float]) -> None:
    machine, out = _in_a_call_until(600)
    out += machine.handle(600.0, 600.0, ev.Suspending(), idle=600.0)
    out += machine.handle(600.0 + slept, 600.0 + slept, ev.Resumed(), idle=600.0 + slept)
    assert _breaks(out) == breaks
    assert machine.state() == "quiet"  # back in the call, at the desk
    machine.sample(630.0 + slept, 630.0 + slept, 630.0 + slept)
    assert machine.view().desk_since_break == pytest.approx(30.0 if breaks else 630.0)


def test_a_missed_sleep_during_a_call_is_away_too() -> None:
    machine, out = _in_a_call_until(600)
    out += machine.sample(1000.0, 1000.0, 1000.0)  # no signal: a 400 s gap
    assert _breaks(out) == [400.0]


def test_sitting_down_late_still_credits_the_break_before_it() -> None:
    # the driver was late: the away period reached natural_break before it looked
    machine = make_machine(settings(activity_idle_pause=30.0, activity_natural_break=120.0))
    machine.sample(0.0, 0.0, 0.0)
    out = machine.handle(170.0, 170.0, ev.Seated("watching", True), idle=170.0)
    assert _breaks(out) == [170.0]
