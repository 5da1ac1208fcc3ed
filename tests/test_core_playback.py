"""A running drill: its steps follow their own timings from the start."""

from __future__ import annotations

from ergobreak.core.content import Drill, Step
from ergobreak.core.playback import Playback

DRILL = Drill(
    id="three_steps",
    title="Three steps",
    category="hinge",
    steps=(
        Step(seconds=10, text="one"),
        Step(seconds=20, text="two"),
        Step(seconds=30, text="three"),
    ),
    safety="Stop if it hurts.",
)


def test_steps_begin_at_their_offsets_and_the_drill_ends_after_the_last() -> None:
    run = Playback(DRILL, start=100.0)
    assert run.step == 0
    assert run.step_end == 110.0
    assert run.advance(109.0) == []
    assert run.advance(110.0) == [1]
    assert run.step_end == 130.0
    assert not run.over(159.0)
    assert run.over(160.0)


def test_a_late_look_catches_up_on_every_step_begun() -> None:
    run = Playback(DRILL, start=0.0)
    assert run.advance(45.0) == [1, 2]
    assert run.step_end == 60.0  # the last step ends with the drill
    assert run.advance(100.0) == []
