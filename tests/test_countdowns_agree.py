"""The tray and ``ergobreak status`` say the same countdowns for the same View.

Both take their words from :func:`ergobreak.core.duration.format_countdown`; these
tests feed the View of each engine wake-up to the tray's headline and the same
wake-up's status reply to the CLI's text, and compare what each says is left.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest
from tray_views import VIEWS, WALL

from ergobreak.cli.control import status_text
from ergobreak.commands import Request
from ergobreak.core import effects as fx
from ergobreak.core.machine import View
from ergobreak.daemon.clock import FakeClock
from ergobreak.daemon.engine import Engine
from ergobreak.sim.testing import make_machine
from ergobreak.tray.model import TrayState, headline

#: "drill in 3 min", "back in 1 h 5 min": which countdown, and its words
_COUNTDOWN = re.compile(r"(drill|posture check|back) in (\d+ (?:h|min)(?: \d+ min)?)")


def countdowns(text: str) -> dict[str, str]:
    """What each countdown in ``text`` says; a snoozed drill "back in" is the drill's."""
    said = dict(_COUNTDOWN.findall(text))
    if "back" in said:
        said["drill"] = said.pop("back")
    return said


class Recorder:
    """An engine whose every wake-up keeps the View the tray would be shown."""

    def __init__(self) -> None:
        self.clock = FakeClock(wall=WALL)
        self.views: list[tuple[float, View]] = []
        self.engine = Engine(make_machine(), self.clock, on_step=self.on_step)
        self.engine.step()

    def on_step(self, t: float, wall: float, effects: list[fx.Effect], view: View) -> None:
        self.views.append((wall, view))

    def step(self, seconds: float) -> tuple[str, str]:
        """Advance, wake up once; the tray's headline and ``status`` for that wake-up."""
        self.clock.advance(seconds)
        self.engine.step()
        wall, view = self.views[-1]
        status: dict[str, Any] = self.engine.status
        return headline(TrayState(view=view, wall=wall)), status_text(status)


def test_with_150_s_left_both_say_3_min() -> None:
    rec = Recorder()
    for _ in range(55):  # 27.5 min of steady typing; a drill is due after 30 min
        tray, status = rec.step(30)
    assert rec.views[-1][1].next_drill_in == pytest.approx(150)
    assert "drill in 3 min" in tray.lower()
    assert "drill in 3 min" in status


def test_they_agree_at_every_wake_up_of_a_drill_cycle() -> None:
    rec = Recorder()
    compared = 0
    for _ in range(200):  # 100 min of steady typing, half-minute wake-ups at odd seconds
        tray, status = rec.step(29.5)
        said = countdowns(tray)
        if said:
            assert said == {k: v for k, v in countdowns(status).items() if k in said}, (
                tray,
                status,
            )
            compared += 1
        if rec.views[-1][1].state == "prompt":
            rec.engine.post(Request("snooze"))
    assert compared > 150


@pytest.mark.parametrize("name", sorted(VIEWS))
@pytest.mark.parametrize("left", [30.0, 150.0, 749.5, 3901.0])
def test_they_agree_for_every_state_the_tray_shows(name: str, left: float) -> None:
    view = VIEWS[name]
    view = dataclasses.replace(
        view,
        next_drill_in=None if view.next_drill_in is None else left,
        next_posture_in=None if view.next_posture_in is None else left + 60,
    )
    status = {"next_drill_in": view.next_drill_in, "next_posture_in": view.next_posture_in}
    said = countdowns(headline(TrayState(view=view, wall=WALL)))
    assert said.items() <= countdowns(status_text(status)).items()
