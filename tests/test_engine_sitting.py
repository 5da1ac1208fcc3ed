"""A call reported by a polled detector reaches the core through the engine, and
``status`` tells the truth about it and about a skipped drill."""

from __future__ import annotations

from typing import Any

import pytest
from fake_desk import ScriptedIdle, type_steadily

from ergobreak.commands import Request
from ergobreak.core import effects as fx
from ergobreak.core import events as ev
from ergobreak.daemon.clock import FakeClock
from ergobreak.daemon.engine import Engine, Reply
from ergobreak.sim.testing import make_machine


class Reports:
    """What a microphone or camera adapter hands the engine at a wake-up: the
    reasons that turned on or off since the last one."""

    def __init__(self) -> None:
        self.pending: list[ev.Condition] = []

    def call(self, on: bool) -> None:
        self.pending.append(ev.Seated("call", on))

    def changes(self) -> list[ev.Condition]:
        taken, self.pending = self.pending, []
        return taken


def status(engine: Engine) -> dict[str, Any]:
    reply = Reply()
    engine.post(Request("status"), reply)
    engine.step()
    value: dict[str, Any] = reply.value["status"]
    return value


def sit_still(engine: Engine, clock: FakeClock, seconds: float) -> None:
    """No input for ``seconds``, waking the engine at its deadlines."""
    end = clock.monotonic() + seconds
    while clock.monotonic() < end:
        deadline = engine.core.next_deadline()
        nxt = min(end, deadline if deadline is not None else end)
        clock.advance(max(0.0, nxt - clock.monotonic()))
        engine.step()


def test_a_call_is_desk_time_and_quiet_and_a_skip_keeps_the_desk_time() -> None:
    clock = FakeClock()
    idle = ScriptedIdle(clock)
    microphone = Reports()
    effects: list[fx.Effect] = []
    engine = Engine(
        make_machine(),
        clock,
        read_idle=idle.idle_seconds,
        quiet_changes=microphone.changes,
        on_step=lambda t, wall, out, view: effects.extend(out),
    )
    engine.step()
    type_steadily(engine, idle, clock, 600)
    microphone.call(on=True)
    engine.step()  # (detectors are read at each wake-up: up to a minute late otherwise)
    sit_still(engine, clock, 2400)
    during = status(engine)
    assert (during["state"], during["quiet"], during["seated"]) == ("quiet", ["call"], ["call"])
    assert during["desk_minutes"] == pytest.approx(50.0, abs=0.2)
    assert not [e for e in effects if isinstance(e, fx.NaturalBreak)]

    microphone.call(on=False)
    engine.step()
    sit_still(engine, clock, 15)
    prompts = [e for e in effects if isinstance(e, fx.DrillPrompt)]
    assert [p.after_call for p in prompts] == [pytest.approx(2400.0, abs=1.0)]

    reply = Reply()
    engine.post(Request("skip"), reply)
    engine.step()
    assert reply.value["ok"], reply.value
    after = status(engine)
    assert after["desk_minutes"] == pytest.approx(50.0, abs=0.5)  # not back to 0
    assert after["seated"] == []
    assert after["next_drill_in"] == pytest.approx(1800.0, abs=1.0)
