"""The phase table: every trigger is used, and nothing outside it is allowed."""

from __future__ import annotations

import itertools
from typing import get_args

import pytest

from ergobreak.core.phases import TRANSITIONS, Phase, Trigger, next_phase


def test_every_trigger_moves_some_phase() -> None:
    assert {trigger for _, trigger in TRANSITIONS} == set(get_args(Trigger))


def test_next_phase_follows_the_table() -> None:
    for (phase, trigger), target in TRANSITIONS.items():
        assert next_phase(phase, trigger) is target


def test_a_pair_outside_the_table_is_a_bug() -> None:
    triggers: tuple[Trigger, ...] = get_args(Trigger)
    illegal = [
        (phase, trigger)
        for phase, trigger in itertools.product(Phase, triggers)
        if (phase, trigger) not in TRANSITIONS
    ]
    assert (Phase.WORKING, "done") in illegal
    for phase, trigger in illegal:
        with pytest.raises(
            AssertionError, match=f"illegal transition {phase.value} --{trigger}-->"
        ):
            next_phase(phase, trigger)
