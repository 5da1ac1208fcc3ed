"""The tray's texts and menu, as pure functions of the core's View (no desktop)."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest
from tray_views import UTC, VIEWS, WALL

from ergobreak.commands import CORE_COMMANDS, Request, from_wire
from ergobreak.tray.model import (
    MenuEntry,
    TrayState,
    UntilTomorrow,
    default_action,
    headline,
    menu_model,
    resolve,
    tooltip,
)


def state(base: str = "working", **changes: object) -> TrayState:
    """A TrayState at WALL (UTC) from a real view with some fields replaced."""
    extra = {
        k: changes.pop(k)
        for k in ("today", "config_error", "managed_by", "snooze", "hours")
        if k in changes
    }
    return TrayState(view=dataclasses.replace(VIEWS[base], **changes), wall=WALL, tz=UTC, **extra)  # type: ignore[arg-type]


def labels(entries: tuple[MenuEntry, ...]) -> list[object]:
    return [
        (e.label, [s.label for s in e.submenu]) if e.submenu else e.label
        for e in entries
        if not e.separator
    ]


def entry(entries: tuple[MenuEntry, ...], label: str) -> MenuEntry:
    for e in entries:
        if e.label == label:
            return e
        for s in e.submenu:
            if s.label == label:
                return s
    raise AssertionError(f"no menu entry {label!r} in {labels(entries)}")


# --------------------------------------------------------------------------- texts


def test_the_real_core_reaches_every_state_used_here() -> None:
    assert {name: v.state for name, v in VIEWS.items()} == {
        "working": "working",
        "prompt": "prompt",
        "snoozed": "snoozed",
        "drill": "drill",
        "paused": "paused",
        "away": "away",
    }


def test_working_says_what_comes_next() -> None:
    s = state(next_drill_in=720, next_posture_in=240, today="Today: 1 of 2 drills")
    assert tooltip(s) == (
        "Next drill in 12 min · posture check in 4 min",
        "Today: 1 of 2 drills",
    )


def test_working_with_drills_off_names_only_the_posture_check() -> None:
    assert headline(state(next_drill_in=None, next_posture_in=90)) == "Posture check in 2 min"
    assert headline(state(next_drill_in=None, next_posture_in=None)) == (
        "Reminders are switched off"
    )


def test_drill_counts_steps_down() -> None:
    s = state("drill", step=3, steps=5, step_left=25)
    assert headline(s) == "Drill running: step 3 of 5, 0:25 left"


def test_paused_until_a_clock_time() -> None:
    assert headline(state("paused", paused_for=1800)) == "Paused until 10:30"
    assert headline(state("paused", paused_for=86400)) == "Paused until tomorrow 10:00"
    assert headline(state("paused", paused_for=2 * 86400)) == "Paused until Wed 10:00"
    assert headline(state("paused", paused_for=None)) == "Paused until you resume"


def test_off_hours_says_when_work_starts_again() -> None:
    tuesday_nine = datetime(2026, 1, 6, 9, 0, tzinfo=UTC).timestamp()
    s = state(state="off_hours", hours_change_in=tuesday_nine - WALL)
    assert headline(s) == "Outside working hours — back tomorrow 09:00"
    assert headline(state(state="off_hours", hours_change_in=3 * 3600)) == (
        "Outside working hours — back 13:00"
    )
    spans = ((9 * 60, 17 * 60 + 30),)
    assert headline(state(state="off_hours", hours_change_in=None, hours=spans)) == (
        "Outside working hours (09:00-17:30)"
    )


def test_prompt_snoozed_quiet_and_away_lines() -> None:
    assert tooltip(state("prompt")) == (
        "Drill prompt on screen",
        "Start now, snooze (2 left) or skip",
    )
    assert headline(state("snoozed", next_drill_in=240)) == "Drill snoozed — back in 4 min"
    assert headline(state(state="quiet", quiet=("fullscreen",))) == (
        "Quiet for a fullscreen window: reminders wait until it ends"
    )
    assert headline(state(state="quiet", quiet=("dnd", "fullscreen"))) == (
        "Quiet for do not disturb and a fullscreen window: reminders wait until it ends"
    )
    assert headline(state("away")).startswith("Away: timers stopped · next drill in ")


def test_tooltip_lists_config_errors_and_policy() -> None:
    s = state(config_error="line 3: 'every' must be a duration", managed_by="")
    assert tooltip(s)[1].splitlines() == [
        "Config error: line 3: 'every' must be a duration",
        "Managed by your organization",
    ]
    assert tooltip(state(managed_by="ACME IT"))[1] == "Managed by ACME IT"


def test_texts_change_at_most_once_a_minute() -> None:
    """Desk time ticking by the second must not re-send the tooltip every second."""
    seen = {
        tooltip(state(drill_desk=d, next_drill_in=1800 - d, next_posture_in=1200 - d % 1200))
        for d in range(3600)
    }
    assert len(seen) <= 61


# --------------------------------------------------------------------------- the menu


def test_working_menu() -> None:
    entries = menu_model(state(today="Today: 2 of 3 drills"))
    assert labels(entries)[1:] == [
        "Start a drill now",
        "Posture check now",
        ("Pause", ["30 minutes", "1 hour", "Until tomorrow"]),
        "Today: 2 of 3 drills",
        "Open weekly report",
        "Open config",
        "Reload config",
        "About & safety",
        "Quit ergobreak",
    ]
    status = entries[0]
    assert status.label.startswith("Next drill in ")
    assert (status.enabled, status.action) == (False, None)
    assert entry(entries, "Start a drill now").action == Request("start")
    assert entry(entries, "Posture check now").action == Request("posture")
    assert entry(entries, "30 minutes").action == Request("pause", {"seconds": 1800.0})
    assert entry(entries, "1 hour").action == Request("pause", {"seconds": 3600.0})
    assert entry(entries, "Today: 2 of 3 drills").action == Request("open_report")
    assert entry(entries, "Open weekly report").action == Request("open_report")
    assert entry(entries, "Open config").action == Request("open_config")
    assert entry(entries, "Reload config").action == Request("reload")
    assert entry(entries, "About & safety").action == Request("open_safety")
    assert entry(entries, "Quit ergobreak").action == Request("quit")
    assert default_action(entries) is None


def test_prompt_menu_offers_snooze_and_skip_and_starts_by_default() -> None:
    entries = menu_model(state("prompt"))
    assert labels(entries)[1:5] == [
        "Start a drill now",
        "Snooze (2 left)",
        "Skip this drill",
        "Posture check now",
    ]
    assert entry(entries, "Snooze (2 left)").action == Request("snooze")
    assert entry(entries, "Snooze (2 left)").enabled
    assert entry(entries, "Skip this drill").action == Request("skip")
    assert default_action(entries) == Request("start")


def test_snooze_is_disabled_when_used_up_or_already_snoozed() -> None:
    used_up = menu_model(state("prompt", snoozes=2))
    assert not entry(used_up, "Snooze (0 left)").enabled
    snoozed = menu_model(state("snoozed"))
    assert not entry(snoozed, "Snooze (1 left)").enabled  # the core only snoozes a prompt
    assert entry(snoozed, "Skip this drill").enabled


def test_drill_menu_can_only_stop_it() -> None:
    entries = menu_model(state("drill"))
    assert labels(entries)[1] == "Stop this drill"
    assert entry(entries, "Stop this drill").action == Request("skip")
    assert "Start a drill now" not in labels(entries)
    assert "Posture check now" not in labels(entries)


def test_paused_menu_resumes_by_default() -> None:
    entries = menu_model(state("paused"))
    assert "Resume" in labels(entries)
    assert ("Pause again", ["30 minutes", "1 hour", "Until tomorrow"]) in labels(entries)
    assert default_action(entries) == Request("resume")


def test_config_error_and_policy_lines() -> None:
    entries = menu_model(state(config_error="bad value " * 20, managed_by="ACME IT"))
    error = entries[1]
    assert error.label.startswith("⚠ Config error: bad value")
    assert len(error.label) < 80
    assert not error.enabled
    managed = entry(entries, "Managed by ACME IT")
    assert (managed.enabled, managed.action) == (False, None)
    assert default_action(entries) == Request("open_config")


def test_until_tomorrow_is_computed_when_clicked() -> None:
    action = entry(menu_model(state()), "Until tomorrow").action
    assert isinstance(action, UntilTomorrow)
    assert resolve(action, WALL) == Request("pause", {"seconds": 14 * 3600})
    late = datetime(2026, 1, 5, 23, 59, 30, tzinfo=UTC).timestamp()
    assert resolve(action, late) == Request("pause", {"seconds": 60})  # never shorter
    berlin = UntilTomorrow(timezone(timedelta(hours=1)))
    assert resolve(berlin, WALL) == Request("pause", {"seconds": 13 * 3600})


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_every_menu_request_is_valid_on_the_wire(name: str) -> None:
    """Menu items speak the one command vocabulary: IPC would accept each of them."""

    def walk(entries: tuple[MenuEntry, ...]) -> list[Request]:
        found = []
        for e in entries:
            if e.action is not None:
                found.append(resolve(e.action, WALL))
            found += walk(e.submenu)
        return found

    requests = walk(menu_model(state(name, today="Today: x")))
    assert requests
    for request in requests:
        assert from_wire(request.to_wire()) == request
    assert {r.cmd for r in requests} & set(CORE_COMMANDS)


def test_the_snooze_entry_says_the_configured_length() -> None:
    entries = menu_model(state("prompt", snooze=20.0))
    assert entry(entries, "Snooze 20 s (2 left)").action == Request("snooze")
    assert entry(menu_model(state("prompt", snooze=600.0)), "Snooze 10 min (2 left)").enabled


def test_until_tomorrow_ends_when_tomorrows_working_hours_begin() -> None:
    nine = ((9 * 60, 12 * 60), (13 * 60, 17 * 60 + 30))
    action = entry(menu_model(state(hours=nine)), "Until tomorrow").action
    assert action == UntilTomorrow(UTC, nine)
    assert resolve(action, WALL) == Request("pause", {"seconds": (14 + 9) * 3600})
    paused = state("paused", paused_for=(14 + 9) * 3600)
    assert headline(paused) == "Paused until tomorrow 09:00"
    night = UntilTomorrow(UTC, ((22 * 60, 6 * 60),))  # a shift past midnight: midnight
    assert resolve(night, WALL) == Request("pause", {"seconds": 14 * 3600})
