"""One desk-time counter: the posture, drill and snooze timers are all this."""

from __future__ import annotations

from ergobreak.core.timer import DeskTimer


def test_a_timer_is_due_once_its_interval_of_desk_time_has_accrued() -> None:
    timer = DeskTimer(1200.0)
    timer.elapsed += 1199.0
    assert not timer.due
    timer.elapsed += 1.0
    assert timer.due
    timer.elapsed += 30.0  # a held prompt stays due
    assert timer.due


def test_remaining_counts_down_and_goes_negative_once_past() -> None:
    timer = DeskTimer(1800.0)
    timer.elapsed += 1000.0
    assert timer.remaining() == 800.0
    assert timer.remaining(early=300.0) == 500.0  # the prompt_gap before a drill
    timer.elapsed += 900.0
    assert timer.remaining() == -100.0
    assert timer.left() == 0.0


def test_reset_starts_from_zero_and_expire_makes_it_due_at_once() -> None:
    timer = DeskTimer(300.0)
    timer.elapsed += 120.0
    timer.reset()
    assert timer.elapsed == 0.0
    assert timer.left() == 300.0
    timer.expire()
    assert timer.due
    assert timer.remaining() == 0.0


def test_a_new_interval_keeps_what_has_accrued() -> None:
    timer = DeskTimer(1800.0)
    timer.elapsed += 700.0
    timer.interval = 600.0  # settings reloaded with a shorter interval
    assert timer.elapsed == 700.0
    assert timer.due
