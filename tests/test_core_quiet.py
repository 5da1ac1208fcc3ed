"""Quiet (R7): prompts held while any source is on and a catch-up delay after, announced once."""

from __future__ import annotations

from ergobreak.core import effects as fx
from ergobreak.core.quiet import QuietHold
from ergobreak.core.settings import QuietSettings

QUIET = QuietSettings(enabled=True, catch_up_delay=10.0)


def test_quiet_lasts_while_any_source_is_on_and_the_catch_up_delay_after() -> None:
    quiet = QuietHold(QUIET)
    assert not quiet.holding(0.0)
    assert quiet.turn(0.0, "fullscreen", on=True)  # quiet began
    assert not quiet.turn(5.0, "camera", on=True)  # it was already on
    assert not quiet.turn(20.0, "fullscreen", on=False)
    assert quiet.holding(25.0)  # the camera is still on
    assert quiet.shown
    quiet.turn(30.0, "camera", on=False)
    assert not quiet.shown
    assert quiet.holding(39.0)
    assert quiet.catch_up_at == 40.0
    assert not quiet.holding(40.0)
    assert not quiet.settled(39.0)
    assert quiet.settled(40.0)


def test_a_held_prompt_is_announced_once_per_kind() -> None:
    quiet = QuietHold(QUIET)
    quiet.turn(0.0, "dnd", on=True)
    quiet.turn(0.0, "camera", on=True)
    assert quiet.defer("drill") == fx.Deferred(kind="drill", sources=("camera", "dnd"))
    assert quiet.defer("drill") is None
    assert quiet.defer("posture") == fx.Deferred(kind="posture", sources=("camera", "dnd"))
    assert quiet.deferred == {"drill", "posture"}


def test_disabled_quiet_holds_nothing_and_forgets_what_it_held() -> None:
    quiet = QuietHold(QUIET)
    quiet.turn(0.0, "fullscreen", on=True)
    quiet.defer("posture")
    quiet.configure(QuietSettings(enabled=False))
    assert not quiet.deferred
    assert not quiet.holding(1.0)
    assert not quiet.shown
    # a source turning on while disabled does not withdraw a prompt
    assert not QuietHold(QuietSettings(enabled=False)).turn(0.0, "dnd", on=True)
