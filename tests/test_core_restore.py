"""What survives a restart: the snapshot format and what restoring it brings back."""

from __future__ import annotations

from datetime import datetime, timezone

from ergobreak.core import effects as fx
from ergobreak.core import events as ev
from ergobreak.core.machine import DeskSession
from ergobreak.core.phases import Phase
from ergobreak.core.settings import Settings
from ergobreak.sim.testing import make_machine, settings

SNOOZING = settings(posture_enabled=False, drill_every=60.0)


def work(machine: DeskSession, start: int, end: int) -> list[fx.Effect]:
    """Type steadily from ``start`` to ``end`` (one sample a second)."""
    out: list[fx.Effect] = []
    for t in range(start, end):
        out += machine.sample(float(t), float(t), 0.0)
    return out


def snoozed_snapshot() -> dict[str, object]:
    machine = make_machine(SNOOZING)
    work(machine, 0, 150)  # prompted at 1:00, typed through the prelude: snoozed
    assert machine.phase is Phase.SNOOZED
    return machine.snapshot(150.0)


def test_the_snapshot_keeps_its_v1_keys() -> None:
    # State files on users' disks hold these: renaming one loses timers on upgrade.
    assert set(snoozed_snapshot()) == {
        "v",
        "saved_wall",
        "posture_desk",
        "drill_desk",
        "break_desk",
        "snoozes",
        "snooze_desk",
        "routine",
        "attempt",
        "away_for",
        "paused_left",
        "cue_index",
        "drill_index",
    }


def test_a_short_restart_brings_a_snoozed_drill_back() -> None:
    snap = snoozed_snapshot()
    machine = make_machine(SNOOZING)
    machine.restore(snap, 1000.0, 160.0)
    view = machine.view()
    assert machine.phase is Phase.SNOOZED
    assert view.routine == snap["routine"]
    assert view.snoozes == 1
    assert view.drill_desk == snap["drill_desk"]


def test_a_snoozed_drill_stays_behind_when_drills_are_now_disabled() -> None:
    snap = snoozed_snapshot()
    machine = make_machine(settings(base=SNOOZING, drill_enabled=False))
    machine.restore(snap, 1000.0, 160.0)
    view = machine.view()
    assert machine.phase is Phase.WORKING
    assert view.routine is None
    assert view.snoozes == 0
    assert view.drill_desk == snap["drill_desk"]  # desk time is kept all the same
    later = work(machine, 1001, 1601)
    assert not [e for e in later if isinstance(e, (fx.DrillPrompt, fx.DrillEnd))]


def test_a_snoozed_drill_restored_into_a_pause_ends_with_working_hours_on_time() -> None:
    # Only a restart can leave a drill snoozed during a pause (pausing cancels a cycle).
    wall = datetime(2026, 1, 5, 17, 0, tzinfo=timezone.utc).timestamp()  # Monday
    snap = dict(snoozed_snapshot(), saved_wall=wall, away_for=0.0, paused_left=3600.0)
    ends: dict[bool, list[tuple[float, fx.DrillEnd]]] = {}
    for fast in (True, False):
        machine = make_machine(settings(base=Settings(), posture_enabled=False))
        machine.fast_path = fast
        machine.restore(snap, 0.0, wall)
        assert machine.phase is Phase.SNOOZED
        machine.handle(1.0, wall + 1, ev.ScreenLocked())
        ends[fast] = [
            (float(t), e)
            for t in range(2, 3600)
            for e in machine.sample(float(t), wall + t, float(t))
            if isinstance(e, fx.DrillEnd)
        ]
    assert ends[True] == ends[False]
    assert [(t, e.reason) for t, e in ends[True]] == [(1800.0, "off_hours")]  # 17:30


def test_the_desk_time_since_the_last_break_survives_a_restart() -> None:
    machine = make_machine(SNOOZING)
    work(machine, 0, 150)
    machine.handle(150.0, 150.0, ev.Skip())  # the drill timer restarts, the stretch does not
    snap = machine.snapshot(150.0)
    assert (snap["drill_desk"], snap["break_desk"]) == (0.0, 150.0)
    again = make_machine(SNOOZING)
    again.restore(snap, 1000.0, 160.0)
    assert again.view().desk_since_break == 150.0


def test_a_snapshot_from_before_the_desk_time_counter_takes_the_larger_timer() -> None:
    snap = dict(snoozed_snapshot(), posture_desk=400.0, drill_desk=90.0)
    del snap["break_desk"]
    machine = make_machine(SNOOZING)
    machine.restore(snap, 1000.0, 160.0)
    assert machine.view().desk_since_break == 400.0
