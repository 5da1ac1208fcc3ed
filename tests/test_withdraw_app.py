"""A withdrawn prompt through the composed app (tests/fake_desk.py): the core's
``withdrawn`` reaches the notifier as a close of that very bubble, in the same
wake-up, and the prompt offered again afterwards is a new bubble with its snoozes.
The desktop rig does the same against dunst (tests/desktop/test_withdraw.py)."""

from __future__ import annotations

import pytest
from fake_desk import ALWAYS_ON_CONFIG, AppRig, start_app

from ergobreak.core import effects as fx
from ergobreak.core import events as ev
from ergobreak.platform.base import Dismiss
from ergobreak.present import DRILL_SLOT, POSTURE_SLOT, present
from ergobreak.sim.testing import make_machine

pytestmark = pytest.mark.usefixtures("isolated")

CONFIG = ALWAYS_ON_CONFIG + '\n[activity]\nprompt_gap = "0s"\n[quiet]\ncatch_up_delay = "1s"\n'


class Switch:
    """A quiet detector the test turns on and off."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.on = False

    def active(self) -> bool:
        return self.on

    def close(self) -> None:
        pass


def test_present_maps_a_withdrawn_prompt_to_closing_its_slot() -> None:
    content = make_machine().content
    drill = fx.Withdrawn(kind="drill", why=("fullscreen",))
    posture = fx.Withdrawn(kind="posture", why=("locked",))
    assert present(drill, content) == Dismiss(DRILL_SLOT)
    assert present(posture, content) == Dismiss(POSTURE_SLOT)


def prompt_on_screen(rig: AppRig) -> int:
    """Type until the drill prompt shows; its bubble's handle."""
    rig.work(30 * 60 + 5, step=1.0)
    prompts = [n for n in rig.notifier.shown if n.slot == DRILL_SLOT]
    assert len(prompts) == 1
    assert prompts[0].title.startswith("2-minute drill: ")
    assert rig.notifier.closed == []
    assert rig.app.bubbles is not None
    return rig.app.bubbles._slots[DRILL_SLOT]


@pytest.mark.parametrize("source", ["fullscreen", "dnd"])
def test_quiet_closes_the_prompt_bubble_and_it_comes_back_with_its_snoozes(source: str) -> None:
    rig = start_app(CONFIG)
    switch = Switch(source)
    assert rig.app.edge is not None
    rig.app.edge.quiet.append(switch)
    handle = prompt_on_screen(rig)
    shown = len(rig.notifier.shown)
    switch.on = True
    rig.work(1.0, step=1.0)
    assert rig.notifier.closed == [handle]
    assert len(rig.notifier.shown) == shown  # closed, nothing shown instead
    assert rig.engine.status["state"] == "quiet"
    rig.work(60.0, step=5.0)  # quiet a minute: nothing comes back meanwhile
    assert len(rig.notifier.shown) == shown
    switch.on = False
    rig.work(3.0, step=1.0)  # the catch-up delay is 1 s
    again = rig.notifier.shown[shown:]
    assert [n.title for n in again] == [rig.notifier.shown[shown - 1].title]
    assert [a.label for a in again[0].actions] == ["Start now", "Snooze 5 min", "Skip"]
    assert rig.engine.status["snoozes"] == 0
    assert rig.app.bubbles is not None
    assert rig.app.bubbles._slots[DRILL_SLOT] != handle  # a new bubble, not the closed one


def test_the_lock_closes_the_prompt_bubble_and_return_brings_it_back() -> None:
    rig = start_app(CONFIG)
    handle = prompt_on_screen(rig)
    shown = len(rig.notifier.shown)
    rig.engine.post(ev.ScreenLocked())
    rig.engine.step()
    assert rig.notifier.closed == [handle]
    assert rig.engine.status["state"] == "away"
    rig.clock.advance(60.0)
    rig.engine.post(ev.ScreenUnlocked())
    rig.engine.step()
    again = rig.notifier.shown[shown:]
    assert [n.title for n in again] == [rig.notifier.shown[shown - 1].title]
    assert rig.engine.status["snoozes"] == 0
