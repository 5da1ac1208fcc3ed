"""The coach window's Pause, Next and Stop, as the core hears them: the core stays
the authority of time, so a paused drill's clock stands still, Next shows the next
text at once, and a drill left paused is given up. Fake time throughout."""

from __future__ import annotations

import pytest

from ergobreak import commands
from ergobreak.content import default_content
from ergobreak.core import effects as fx
from ergobreak.core import events as ev
from ergobreak.core.content import Content, Drill, Step
from ergobreak.core.machine import HOLD_MAX, DeskSession
from ergobreak.core.playback import Playback, reading_seconds
from ergobreak.sim.testing import make_machine

DRILL = Drill(
    id="three_steps",
    title="Three steps",
    category="hinge",
    steps=(
        Step(seconds=10, text="one"),
        Step(seconds=20, text="two"),
        Step(seconds=30, text="three"),
    ),
    safety="Stop if it hurts.",  # read in 5 s
)
SAFETY = reading_seconds(DRILL.safety)


def started() -> DeskSession:
    base = default_content()
    machine = make_machine(content=Content(cues=base.cues, drills=(DRILL,)))
    machine.sample(0.0, 0.0, 0.0)
    out = machine.handle(1.0, 1.0, ev.Start())
    assert [e.event for e in out if e.event == "drill_start"] == ["drill_start"]
    return machine


def kinds(out: list[fx.Effect]) -> list[str]:
    return [e.event for e in out if e.event != "state"]


def test_a_paused_drill_stands_still_and_goes_on_where_it_stopped() -> None:
    machine = started()
    machine.sample(1.0 + SAFETY + 4.0, 0.0, 0.0)  # 4 s into step 1 (10 s long)
    out = machine.handle(1.0 + SAFETY + 4.0, 0.0, ev.DrillPause())
    assert kinds(out) == ["drill_held"]
    held = [e for e in out if isinstance(e, fx.DrillHeld)]
    assert held[0].held is True
    view = machine.view()
    assert view.drill_held is True
    assert (view.step, view.step_left, view.drill_left) == (1, 6.0, 56.0)
    # minutes of wake-ups later nothing has moved
    now = 1.0 + SAFETY + 4.0
    while now < 1.0 + SAFETY + 4.0 + HOLD_MAX - 60:
        deadline = machine.next_deadline()
        assert deadline is not None
        assert deadline <= 1.0 + SAFETY + 4.0 + HOLD_MAX
        now = deadline
        assert kinds(machine.sample(now, now, now - 10)) == []
        assert machine.view(now).step_left == 6.0
    out = machine.handle(now, now, ev.DrillResume())
    assert kinds(out) == ["drill_held"]
    assert machine.view(now).drill_held is False
    assert machine.next_deadline() == pytest.approx(now + 6.0)
    steps = [e for e in machine.sample(now + 6.0, now + 6.0, 0.0) if isinstance(e, fx.DrillStep)]
    assert [s.index for s in steps] == [1]


def test_pause_and_resume_each_act_once_and_refuse_what_makes_no_sense() -> None:
    machine = started()
    assert kinds(machine.handle(2.0, 2.0, ev.DrillPause())) == ["drill_held"]
    again = machine.handle(2.1, 2.1, ev.DrillPause())
    assert [(e.command, e.reason) for e in again if isinstance(e, fx.Rejected)] == [
        ("drill_pause", "The drill is paused already.")
    ]
    assert kinds(machine.handle(3.0, 3.0, ev.DrillResume())) == ["drill_held"]
    again = machine.handle(3.1, 3.1, ev.DrillResume())
    assert [e.command for e in again if isinstance(e, fx.Rejected)] == ["drill_resume"]
    machine.handle(4.0, 4.0, ev.Skip())
    for event, name in (
        (ev.DrillPause(), "drill_pause"),
        (ev.DrillResume(), "drill_resume"),
        (ev.NextStep(), "next_step"),
    ):
        out = machine.handle(5.0, 5.0, event)
        assert [(e.command, e.reason) for e in out if isinstance(e, fx.Rejected)] == [
            (name, "No drill is running.")
        ]


def test_next_shows_the_next_text_at_once_and_after_the_last_the_drill_is_done() -> None:
    machine = started()
    out = machine.handle(2.0, 2.0, ev.NextStep())  # from the safety note to step 1
    assert [e.index for e in out if isinstance(e, fx.DrillStep)] == [0]
    assert machine.view(2.0).step_left == 10.0  # the step gets its full length
    assert machine.next_deadline() == pytest.approx(12.0)
    out = machine.handle(3.0, 3.0, ev.NextStep())
    assert [e.index for e in out if isinstance(e, fx.DrillStep)] == [1]
    out = machine.handle(4.0, 4.0, ev.NextStep())
    assert [e.index for e in out if isinstance(e, fx.DrillStep)] == [2]
    out = machine.handle(5.0, 5.0, ev.NextStep())
    ends = [e for e in out if isinstance(e, fx.DrillEnd)]
    assert [(e.outcome, e.reason) for e in ends] == [("done", None)]


def test_next_while_paused_shows_the_next_step_and_stays_paused() -> None:
    machine = started()
    machine.handle(2.0, 2.0, ev.DrillPause())
    out = machine.handle(9.0, 9.0, ev.NextStep())
    assert [e.index for e in out if isinstance(e, fx.DrillStep)] == [0]
    view = machine.view(30.0)
    assert (view.drill_held, view.step, view.step_left) == (True, 1, 10.0)


def test_stop_is_skip_and_ends_the_drill_skipped() -> None:
    machine = started()
    out = machine.handle(3.0, 3.0, ev.Skip())
    assert [e.outcome for e in out if isinstance(e, fx.DrillEnd)] == ["skipped"]


def test_a_drill_left_paused_is_given_up_and_counts_neither_way() -> None:
    machine = started()
    machine.handle(2.0, 2.0, ev.DrillPause())
    out: list[fx.Effect] = []
    now = 2.0
    while not out:
        deadline = machine.next_deadline()
        assert deadline is not None
        assert deadline <= 2.0 + HOLD_MAX
        now = deadline
        out = [e for e in machine.sample(now, now, now - 2.0) if e.event != "state"]
    assert now == 2.0 + HOLD_MAX
    ends = [e for e in out if isinstance(e, fx.DrillEnd)]
    assert [(e.outcome, e.reason) for e in ends] == [("cancelled", "held")]
    assert machine.view().state != "drill"


def test_the_playback_clock_in_isolation() -> None:
    run = Playback(DRILL, start=0.0)
    run.advance(SAFETY)
    run.hold(SAFETY + 3.0)
    assert run.step_end == float("inf")
    assert run.advance(1000.0) == []
    assert not run.over(1000.0)
    run.release(SAFETY + 103.0)
    assert run.start == 100.0
    assert run.step_left(SAFETY + 103.0) == 7.0


@pytest.mark.parametrize(
    ("cmd", "event"),
    [
        ("drill_pause", ev.DrillPause()),
        ("drill_resume", ev.DrillResume()),
        ("next_step", ev.NextStep()),
    ],
)
def test_the_window_speaks_the_command_vocabulary(cmd: str, event: ev.Event) -> None:
    request = commands.from_wire({"v": 1, "cmd": cmd, "args": {}})
    assert commands.to_event(request) == event
