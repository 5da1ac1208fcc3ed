"""A running drill: its safety note first, alone, for as long as it takes to read;
then its steps, each on screen at least its reading time. Fake time throughout."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ergobreak import present
from ergobreak.content import builtin_library, default_content
from ergobreak.core import effects as fx
from ergobreak.core import events as ev
from ergobreak.core.content import Drill, Step
from ergobreak.core.machine import DeskSession
from ergobreak.core.playback import READ_MIN, Playback, Timeline, reading_seconds
from ergobreak.platform.base import Capabilities, Dismiss, Notification
from ergobreak.platform.bubbles import Bubbles
from ergobreak.sim.testing import make_machine
from ergobreak.tray.model import TrayState, headline

DRILL = Drill(
    id="three_steps",
    title="Three steps",
    category="hinge",
    steps=(
        Step(seconds=10, text="one"),
        Step(seconds=20, text="two"),
        Step(seconds=30, text="three"),
    ),
    safety="Stop if it hurts.",  # 4 words: the 5 s minimum
)
#: every drill that can be started: the rotation and the opt-in ones
SHIPPED = builtin_library().drills


def test_reading_time_is_three_words_a_second_and_never_under_five() -> None:
    assert reading_seconds("Stop.") == READ_MIN == 5.0
    assert reading_seconds(" ".join(["word"] * 15)) == 5.0
    assert reading_seconds(" ".join(["word"] * 16)) == 6.0
    assert reading_seconds(" ".join(["word"] * 25)) == 9.0


def test_the_safety_note_shows_first_then_the_steps_at_their_offsets() -> None:
    run = Playback(DRILL, start=100.0)
    assert run.step == -1  # the safety note
    assert run.step_end == 105.0
    assert run.advance(104.9) == []
    assert run.advance(105.0) == [0]
    assert run.step_end == 115.0
    assert run.advance(115.0) == [1]
    assert run.step_end == 135.0
    assert not run.over(164.9)
    assert run.over(165.0)  # the steps' 60 s after the 5 s note


def test_a_late_look_catches_up_on_every_step_begun() -> None:
    run = Playback(DRILL, start=0.0)
    assert run.advance(45.0) == [0, 1, 2]
    assert run.step_end == 65.0  # the last step ends with the drill
    assert run.advance(100.0) == []


def test_a_step_shorter_than_its_reading_time_stays_up_for_it() -> None:
    """Only a drill built by hand can have one (content files are checked)."""
    wordy = " ".join(["word"] * 19)  # 7 s to read
    steps = (Step(seconds=1, text="Go."), Step(seconds=3, text=wordy), Step(seconds=60, text="x"))
    drill = dataclasses.replace(DRILL, steps=steps, safety="Easy does it.")
    assert Timeline.of(drill) == Timeline(safety=5.0, starts=(5.0, 10.0, 17.0), total=77.0)


def start_drill(routine: str | None = None) -> tuple[DeskSession, list[fx.Effect]]:
    machine = make_machine()
    machine.sample(0.0, 0.0, 0.0)
    return machine, machine.handle(1.0, 1.0, ev.Start(routine))


def test_a_drill_started_without_a_prompt_opens_with_its_safety_note_alone() -> None:
    machine, out = start_drill()
    drills = [e for e in out if isinstance(e, (fx.DrillStart, fx.DrillStep))]
    assert len(drills) == 1
    (start,) = drills
    assert isinstance(start, fx.DrillStart)
    safety = reading_seconds(start.drill.safety)
    assert safety >= READ_MIN
    assert start.timeline.safety == safety
    assert start.fields()["safety"] == start.drill.safety
    assert start.fields()["safety_seconds"] == safety
    assert start.fields()["seconds"] == safety + start.drill.seconds
    # the note is what the bubble says, and the tray agrees while it shows
    note = present.drill_start(start)
    assert note.body.splitlines()[0] == f"Before you start · 0:{safety:02.0f}"
    assert start.drill.safety in " ".join(note.body.split())
    assert machine.next_deadline() == 1.0 + safety
    view = machine.view(1.0)
    assert (view.step, view.step_left) == (0, safety)
    assert headline(TrayState(view=view, wall=1.0)) == (
        f"Drill running: safety note, 0:{safety:02.0f} left"
    )
    # nothing replaces it before it has been read...
    early = machine.sample(0.5 + safety, 0.5 + safety, 0.0)
    assert not [e for e in early if e.event == "drill_step"]
    # ...then step 1
    first = [e for e in machine.sample(1.0 + safety, 1.0 + safety, 0.0) if e.event == "drill_step"]
    assert [e.index for e in first if isinstance(e, fx.DrillStep)] == [0]
    assert machine.view().step == 1


def test_a_prompted_drill_opens_with_its_safety_note_too() -> None:
    machine = make_machine()
    machine.sample(0.0, 0.0, 0.0)
    out: list[fx.Effect] = []
    t = 0.0
    while not any(isinstance(e, fx.DrillPrompt) for e in out):
        t += 30.0
        out = machine.sample(t, t, 0.0)  # typing steadily
    prompted = t
    begun: list[fx.Effect] = []
    while not begun:  # the person stops typing: the drill starts by itself
        t += 1.0
        begun = [e for e in machine.sample(t, t, t - prompted) if e.event.startswith("drill_")]
    assert [e.event for e in begun] == ["drill_start"]
    safety = reading_seconds(begun[0].drill.safety)  # type: ignore[union-attr]
    assert machine.next_deadline() == t + safety


class Recording:
    """A notifier that keeps what reaches the server, with the fake time it was sent."""

    name = "recording"
    capabilities = Capabilities(actions=True, replace=True)

    def __init__(self) -> None:
        self.now = 0.0
        self.sent: list[tuple[float, str]] = []

    def show(self, note: Notification) -> int:
        self.sent.append((self.now, note.body))
        return 1

    def update(self, handle: int, note: Notification) -> int:
        return self.show(note)

    def close(self, handle: int) -> None:
        self.sent.append((self.now, ""))

    def stop(self) -> None:
        pass


def bubble_timeline(drill_id: str, looks: list[float]) -> tuple[Recording, fx.DrillStart]:
    """Start ``drill_id`` at t=1, then wake the core at each of ``looks`` (and at each of
    its deadlines), each wake-up's effects sent as one round, as the daemon does."""
    content = default_content()
    machine = make_machine()
    machine.sample(0.0, 0.0, 0.0)
    notifier = Recording()
    bubbles = Bubbles(notifier)
    notifier.now = 1.0
    out = machine.handle(1.0, 1.0, ev.Start(drill_id))
    start = next(e for e in out if isinstance(e, fx.DrillStart))
    pending = sorted(looks)
    while True:
        items: list[Notification | Dismiss | None] = [present.present(e, content) for e in out]
        bubbles.apply_round(items)
        if any(isinstance(e, fx.DrillEnd) for e in out):
            return notifier, start
        deadline = machine.next_deadline()
        assert deadline is not None  # a running drill always has one
        t = min([deadline, *pending[:1]])
        pending = [p for p in pending if p > t]
        notifier.now = t
        out = machine.sample(t, t, 0.0)  # input or none, a drill runs on its own timings


def check_every_text_stays_its_reading_time(notifier: Recording, drill: Drill) -> None:
    texts = [drill.safety, *(step.text for step in drill.steps)]
    bodies = [(at, body) for at, body in notifier.sent if body]
    # one bubble per text, the safety note first
    assert len(bodies) == len(texts) + 1  # and "Done"
    assert drill.safety in " ".join(bodies[0][1].split())
    for (at, body), (after, _), text in zip(bodies, bodies[1:], texts, strict=False):
        assert " ".join(text.split()) in " ".join(body.split())
        assert after - at >= reading_seconds(text) >= READ_MIN, (text, after - at)


@pytest.mark.parametrize("drill", SHIPPED, ids=lambda d: d.id)
def test_every_shipped_drill_shows_each_text_for_its_reading_time(drill: Drill) -> None:
    notifier, start = bubble_timeline(drill.id, [])
    assert start.drill is drill or start.drill.id == drill.id
    check_every_text_stays_its_reading_time(notifier, start.drill)


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from([d.id for d in SHIPPED]),
    st.lists(st.floats(1.0, 200.0, allow_nan=False), max_size=40),
)
def test_extra_wake_ups_never_cut_a_text_short(drill_id: str, looks: list[float]) -> None:
    """The daemon wakes for other reasons too (input, IPC, the tray): whenever it looks,
    no text is replaced before its reading time."""
    notifier, start = bubble_timeline(drill_id, looks)
    check_every_text_stays_its_reading_time(notifier, start.drill)
