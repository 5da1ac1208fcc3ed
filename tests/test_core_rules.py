"""The scheduling contract, rule by rule, as observation logs: trace in, timeline out.

Times are m:ss (or h:mm:ss) from the trace start. In an ``active`` row the first
input comes one second after the row starts, so a 20-minute check lands at 20:01.
"""

from __future__ import annotations

import itertools
import math

import pytest

from ergobreak.core import effects as fx
from ergobreak.core import events as ev
from ergobreak.core.duration import format_clock
from ergobreak.core.phases import TRANSITIONS, Phase
from ergobreak.core.playback import reading_seconds
from ergobreak.core.settings import Settings
from ergobreak.sim.testing import ALWAYS_ON, events, fields, log, make_machine, run, settings

# --------------------------------------------------------------------------- R1


def test_r1_steady_work_counts_every_second() -> None:
    assert log(run("25m,active")) == [("20:01", "posture_check")]


def test_r1_short_idle_still_counts_as_desk_time() -> None:
    # 50 s of reading: below idle_pause (60 s), so no desk time is lost.
    assert log(run("10m,active; 50s,idle; 15m,active"))[0] == ("20:01", "posture_check")


def test_r1_long_idle_stops_counting_after_idle_pause() -> None:
    # 2 min idle: the first 60 s count, the other 60 s (and the 1 s to the first
    # input after it) do not.
    assert log(run("10m,active; 2m,idle; 15m,active"))[0] == ("21:02", "posture_check")


def test_r1_idle_pause_is_configurable() -> None:
    config = settings(activity_idle_pause=30.0, drill_start_after_idle=5.0)
    assert log(run("10m,active; 2m,idle; 15m,active", config))[0] == ("21:32", "posture_check")


@pytest.mark.parametrize("away", ["locked", "asleep", "gap"])
def test_r1_lock_and_sleep_stop_desk_time_at_once(away: str) -> None:
    # No 60 s grace: the screen was locked (or the machine asleep) from 10:00. A
    # gap counts as sleep only when far longer than the driver ever sleeps (3 min).
    assert log(run(f"10m,active; 4m,{away}; 15m,active"))[0] == ("24:02", "posture_check")


def test_r1_input_on_the_lock_screen_is_not_presence() -> None:
    machine = make_machine()
    machine.sample(0.0, 0.0, 0.0)
    machine.handle(10.0, 10.0, ev.ScreenLocked())
    machine.sample(100.0, 100.0, 0.0)  # typing the password
    assert machine.state() == "away"
    machine.handle(101.0, 101.0, ev.ScreenUnlocked())
    machine.sample(102.0, 102.0, 0.0)
    assert machine.state() == "working"
    assert machine.view().posture_desk == pytest.approx(10.0)


# --------------------------------------------------------------------------- R2


def test_r2_five_minutes_away_is_a_natural_break() -> None:
    records = run("10m,active; 5m,idle; 30m,active")
    assert log(records) == [("15:00", "natural_break"), ("35:01", "posture_check")]
    assert fields(events(records, "natural_break")[0]) == {"away": 300.0}


def test_r2_just_under_five_minutes_is_not() -> None:
    # input stops at 10:00 and comes back at 14:59 (the row ends 1 s earlier)
    assert log(run("10m,active; 4m58s,idle; 30m,active"))[0] == ("24:00", "posture_check")


@pytest.mark.parametrize(
    ("away", "seen"), [("locked", "15:00"), ("asleep", "16:00"), ("gap", "16:00")]
)
def test_r2_lock_and_sleep_count_as_away(away: str, seen: str) -> None:
    # Asleep, nothing runs: the break is noticed on waking.
    assert log(run(f"10m,active; 6m,{away}; 30m,active"))[0] == (seen, "natural_break")


def test_r2_idle_then_lock_is_one_continuous_away_period() -> None:
    assert log(run("10m,active; 3m,idle; 3m,locked; 30m,active"))[0] == (
        "15:00",
        "natural_break",
    )


def test_r2_resets_both_timers() -> None:
    records = run("28m,active; 5m,idle; 35m,active")
    assert log(records) == [
        ("20:01", "posture_check"),
        ("33:00", "natural_break"),
        ("53:01", "posture_check"),
        ("1:03:01", "drill_prompt"),
        ("1:04:01", "snoozed"),
    ]


def test_r2_natural_break_clears_pending_snoozes() -> None:
    records = run("31m,active; 0,snooze; 2m,active; 6m,locked; 40m,active")
    assert log(records)[:5] == [
        ("20:01", "posture_check"),
        ("30:01", "drill_prompt"),
        ("31:00", "snoozed"),
        ("38:00", "drill_end"),
        ("38:00", "natural_break"),
    ]
    assert fields(events(records, "drill_end")[0])["reason"] == "natural_break"
    # a fresh cycle starts at attempt 1 with every snooze available again
    later = events(records, "drill_prompt")[1]
    assert fields(later)["attempt"] == 1
    assert fields(later)["snoozes_left"] == 2


def test_r2_one_natural_break_per_away_period() -> None:
    assert [e for _, e in log(run("5m,active; 3h,idle; 5m,active"))] == ["natural_break"]


# --------------------------------------------------------------------------- R3


def test_r3_posture_check_rotates_one_cue_at_a_time() -> None:
    config = settings(drill_enabled=False)
    records = events(run("2h,active", config), "posture_check")
    assert [format(r.t, ".0f") for r in records] == ["1201", "2401", "3601", "4801", "6001"]
    cues = [fields(r)["cue"] for r in records]
    assert len(set(cues)) == len(cues)


def test_r3_posture_check_is_skipped_when_a_drill_is_due_within_five_minutes() -> None:
    config = settings(posture_every=26 * 60.0)
    assert log(run("35m,active", config))[:1] == [("30:01", "drill_prompt")]


def test_r3_posture_check_shown_when_drill_is_further_away() -> None:
    config = settings(posture_every=24 * 60.0)
    assert log(run("31m,active", config))[:2] == [
        ("24:01", "posture_check"),
        ("30:01", "drill_prompt"),
    ]


def test_r3_disabled_posture_checks_never_appear() -> None:
    assert not events(run("3h,active", settings(posture_enabled=False)), "posture_check")


# --------------------------------------------------------------------------- R4


def test_r4_drill_starts_after_ten_seconds_of_inactivity() -> None:
    records = run("31m,active; 3m,idle", settings(posture_enabled=False))
    assert log(records, skip=("state",))[:3] == [
        ("30:01", "drill_prompt"),
        ("31:10", "drill_start"),  # its safety note, alone, for the 9 s it takes to read
        ("31:19", "drill_step"),
    ]
    start = events(records, "drill_start")[0].effect
    assert isinstance(start, fx.DrillStart)
    assert reading_seconds(start.drill.safety) == 9  # 25 words at 3 a second
    prompt = fields(events(records, "drill_prompt")[0])
    assert prompt["seconds"] == 120.0
    assert prompt["routine"] == "hipflexor_standing"


def test_r4_steps_follow_their_timings_and_the_drill_ends_done() -> None:
    records = run("30m30s,active; 3m,idle", settings(posture_enabled=False))
    start = events(records, "drill_start")[0].t
    steps = events(records, "drill_step")
    drill = steps[0].effect.drill  # type: ignore[union-attr]
    safety = reading_seconds(drill.safety)
    assert [r.t - start for r in steps] == [safety + offset for offset in drill.offsets]
    assert [fields(r)["step"] for r in steps] == list(range(1, len(drill.steps) + 1))
    end = events(records, "drill_end")[0]
    assert end.t - start == safety + 120
    assert fields(end)["outcome"] == "done"


def test_r4_left_and_right_sides_are_reported() -> None:
    records = run("30m30s,active; 3m,idle", settings(posture_enabled=False))
    sides = [fields(r)["side"] for r in events(records, "drill_step")]
    assert "left" in sides
    assert "right" in sides


def test_r4_working_through_the_prelude_snoozes_then_it_returns_after_desk_time() -> None:
    records = run("45m,active", settings(posture_enabled=False))
    assert log(records) == [
        ("30:01", "drill_prompt"),
        ("31:01", "snoozed"),
        ("36:01", "drill_prompt"),
        ("37:01", "snoozed"),
        ("42:01", "drill_prompt"),
        ("43:01", "drill_end"),
    ]
    assert [fields(r)["count"] for r in events(records, "snoozed")] == [1, 2]
    assert fields(events(records, "drill_end")[0])["outcome"] == "ignored"


def test_r4_snooze_returns_after_desk_time_not_wall_time() -> None:
    # 2 minutes of lock inside the snooze do not count toward it
    records = run("32m,active; 2m,locked; 10m,active", settings(posture_enabled=False))
    prompts = events(records, "drill_prompt")
    # snoozed at 31:01; 5 min of desk time, plus the 2 min locked, plus 1 s
    assert [format(r.t, ".0f") for r in prompts][:2] == ["1801", str(1861 + 300 + 120 + 1)]


def test_r4_start_command_starts_the_prompted_drill() -> None:
    records = run("30m30s,active; 0,start; 5m,active", settings(posture_enabled=False))
    start = events(records, "drill_start")[0]
    assert start.t == 1830
    assert fields(start)["routine"] == "hipflexor_standing"
    assert fields(start)["requested"] is True


def test_r4_max_snoozes_is_configurable() -> None:
    records = run("40m,active", settings(posture_enabled=False, drill_max_snoozes=0))
    assert log(records)[:2] == [("30:01", "drill_prompt"), ("31:01", "drill_end")]


# --------------------------------------------------------------------------- R5


def test_r5_a_drill_done_restarts_both_timers_and_the_desk_time() -> None:
    records = run("30m30s,active; 3m,idle; 40m,active")
    ends = events(records, "drill_end")
    assert fields(ends[0])["outcome"] == "done"
    # the next posture check comes a full interval of desk time later
    after = [r for r in events(records, "posture_check") if r.t > ends[0].t]
    gap = after[0].t - ends[0].t
    assert 1200 <= gap <= 1200 + 60 + 2  # + up to idle_pause if they were away


@pytest.mark.parametrize(
    ("trace", "outcome", "posture"),
    [
        # posture checks at 20:01 and 40:01, as if no drill had been offered
        ("30m30s,active; 0,skip; 40m,active", "skipped", ["20:01", "40:01"]),
        # the check due at 40:01 falls 4 min after the last prompt (36:01): the
        # prompt gap drops it, as it would without the ignored drill
        ("44m,active; 40m,active", "ignored", ["20:01", "1:00:01"]),
    ],
)
def test_r5_skip_and_ignore_restart_only_the_drill_interval(
    trace: str, outcome: str, posture: list[str]
) -> None:
    records = run(trace)
    end = events(records, "drill_end")[0]
    assert fields(end)["outcome"] == outcome
    assert [format_clock(r.t) for r in events(records, "posture_check")][:3] == posture
    # the next drill comes a full drill interval of desk time after the end
    again = next(r for r in events(records, "drill_prompt") if r.t > end.t)
    assert again.t - end.t == pytest.approx(1800, abs=1)


def test_r5_skipping_a_running_drill_ends_it_once() -> None:
    records = run("30m30s,active; 30s,idle; 0,skip; 5m,active", settings(posture_enabled=False))
    assert [fields(r)["outcome"] for r in events(records, "drill_end")] == ["skipped"]
    assert not [r for r in events(records, "drill_step") if r.t > 1890]


# --------------------------------------------------------------------------- R6


def test_r6_commands_posture_and_start_work_any_time() -> None:
    records = run("5m,active; 0,posture; 1m,active; 0,start; 3m,idle")
    assert log(records) == [
        ("5:00", "posture_check"),
        ("6:00", "drill_start"),
        ("8:09", "drill_end"),  # 9 s of safety note, then 2 min of steps
    ]
    assert fields(events(records, "posture_check")[0])["requested"] is True


def test_r6_pause_freezes_timers_and_silences_everything() -> None:
    records = run("15m,active; 0,pause 30m; 1h,active")
    assert log(records) == [
        ("15:00", "paused"),
        ("45:00", "resumed"),
        ("50:01", "posture_check"),
        ("1:00:01", "drill_prompt"),
        ("1:01:01", "snoozed"),
        ("1:06:01", "drill_prompt"),
        ("1:07:01", "snoozed"),
        ("1:12:01", "drill_prompt"),
        ("1:13:01", "drill_end"),
    ]


def test_r6_pause_without_duration_lasts_until_resume() -> None:
    records = run("15m,active; 0,pause; 3h,active; 0,resume; 6m,active")
    assert log(records) == [
        ("15:00", "paused"),
        ("3:15:00", "resumed"),
        ("3:20:01", "posture_check"),
    ]


def test_r6_natural_break_does_not_happen_while_paused() -> None:
    records = run("15m,active; 0,pause 1h; 50m,idle; 30m,active")
    assert "natural_break" not in [e for _, e in log(records)]


def test_r6_pause_cancels_an_open_drill_cycle() -> None:
    records = run("30m30s,active; 0,pause 10m; 1m,active", settings(posture_enabled=False))
    end = events(records, "drill_end")[0]
    assert fields(end) == {
        "routine": "hipflexor_standing",
        "outcome": "cancelled",
        "reason": "paused",
    }


@pytest.mark.parametrize(
    ("trace", "command", "reason"),
    [
        (
            "1m,active; 0,snooze",
            "snooze",
            "No drill prompt is on screen, so there is nothing to snooze.",
        ),
        ("1m,active; 0,skip", "skip", "Nothing to skip: no prompt or drill on."),
        ("1m,active; 0,resume", "resume", "Not paused, so there is nothing to resume."),
        (
            "1m,active; 0,start; 0,start",
            "start",
            "A drill is already running; it ends by itself, or Skip stops it.",
        ),
        (
            "1m,active; 0,start nope",
            "start",
            "No drill is named 'nope'; see: ergobreak routines list",
        ),
        ("44m,active", None, None),
    ],
)
def test_r6_commands_that_make_no_sense_are_rejected_with_a_reason(
    trace: str, command: str | None, reason: str | None
) -> None:
    rejected = [fields(r) for r in events(run(trace), "rejected")]
    if command is None:
        assert rejected == []
    else:
        assert rejected == [{"command": command, "reason": reason}]


def test_r6_snooze_limit_is_enforced_on_request() -> None:
    records = run(
        "30m30s,active; 0,snooze; 5m40s,active; 0,snooze; 5m40s,active; 0,snooze",
        settings(posture_enabled=False),
    )
    assert [fields(r)["reason"] for r in events(records, "rejected")] == [
        "All 2 snoozes are used; start the drill or skip it."
    ]


def test_r6_start_by_id_runs_that_drill() -> None:
    records = run("1m,active; 0,start hinge_wall; 3m,idle")
    assert fields(events(records, "drill_start")[0])["routine"] == "hinge_wall"


def test_r6_start_while_paused_resumes_first() -> None:
    records = run("1m,active; 0,pause; 1m,active; 0,start; 3m,idle")
    assert log(records)[:3] == [("1:00", "paused"), ("2:00", "resumed"), ("2:00", "drill_start")]


# --------------------------------------------------------------------------- R7


def test_r7_prompt_due_in_fullscreen_is_deferred_once_and_delivered_after() -> None:
    records = run("15m,active; 20m,fullscreen; 10m,active")
    assert log(records) == [
        ("20:01", "deferred"),
        ("30:01", "deferred"),
        ("35:10", "drill_prompt"),
        ("36:10", "snoozed"),
        ("41:10", "drill_prompt"),
        ("42:10", "snoozed"),
    ]
    assert [fields(r)["kind"] for r in events(records, "deferred")] == ["posture", "drill"]


def test_r7_only_one_catch_up_prompt_after_quiet() -> None:
    records = run("15m,active; 20m,fullscreen; 10m,active")
    after = [
        r for r in records if r.t >= 35 * 60 and r.effect.event in ("posture_check", "drill_prompt")
    ]
    assert after[0].effect.event == "drill_prompt"
    assert all(b.t - a.t >= 300 for a, b in itertools.pairwise(after))


def test_r7_posture_alone_is_caught_up_within_a_minute() -> None:
    records = run("15m,active; 10m,fullscreen; 4m,active", settings(drill_enabled=False))
    assert log(records) == [("20:01", "deferred"), ("25:10", "posture_check")]


def test_r7_prompt_on_screen_when_a_meeting_starts_is_withdrawn_and_offered_again() -> None:
    records = run("30m30s,active; 10m,fullscreen; 2m,active", settings(posture_enabled=False))
    assert log(records) == [
        ("30:01", "drill_prompt"),
        ("30:30", "withdrawn"),  # taken off the screen (the edge closes its bubble)
        ("30:30", "deferred"),
        ("40:40", "drill_prompt"),
        ("41:40", "snoozed"),
    ]
    assert fields(events(records, "withdrawn")[0]) == {"kind": "drill", "why": ["fullscreen"]}
    # withdrawing is not a snooze
    assert fields(events(records, "drill_prompt")[1])["snoozes_left"] == 2


def test_r7_quiet_disabled_prompts_in_fullscreen() -> None:
    records = run("25m,fullscreen", settings(quiet_enabled=False))
    assert log(records) == [("20:01", "posture_check")]


# --------------------------------------------------------------------------- R8

WORKDAY = Settings()  # schedule on: Mon-Fri 09:00-17:30


def test_r8_no_desk_time_and_no_prompts_outside_working_hours() -> None:
    # Monday 17:00: 30 minutes count, then the day ends.
    records = run("3h,active", WORKDAY, start="2026-01-05T17:00")
    assert log(records) == [("20:01", "posture_check")]
    assert records[-1].effect.event != "drill_prompt"


def test_r8_weekend_is_off() -> None:
    assert log(run("3h,active", WORKDAY, start="2026-01-10T10:00")) == []


def test_r8_prompt_pending_at_the_end_of_the_day_is_cancelled() -> None:
    config = settings(base=WORKDAY, posture_enabled=False)
    records = run("40m,active", config, start="2026-01-05T16:59")
    assert log(records) == [("30:01", "drill_prompt"), ("31:00", "drill_end")]
    assert fields(events(records, "drill_end")[0])["reason"] == "off_hours"


def test_r8_counting_starts_at_the_start_of_working_hours() -> None:
    records = run("1h,active", WORKDAY, start="2026-01-05T08:30")
    assert log(records) == [("50:00", "posture_check"), ("1:00:00", "drill_prompt")]


def test_r8_split_hours_and_night_shifts() -> None:
    night = settings(
        base=WORKDAY, schedule_hours=((22 * 60, 6 * 60),), schedule_days=frozenset(range(7))
    )
    records = run("2h,active", settings(base=night, drill_enabled=False), start="2026-01-05T21:30")
    assert [t for t, _ in log(records)] == ["50:00", "1:10:00", "1:30:00", "1:50:00"]


@pytest.mark.parametrize("jump", ["+1h", "-1h", "+25h", "-3h"])
def test_r8_wall_clock_jumps_never_duplicate_or_lose_prompts(jump: str) -> None:
    base = run("2h,active")
    jumped = run(f"50m,active; 0,clock {jump}; 70m,active")
    assert log(jumped) == log(base)


@pytest.mark.parametrize(
    ("zone", "start"),
    [
        ("Europe/Berlin", "2026-03-29T00:30"),  # spring forward at 02:00
        ("Europe/Berlin", "2026-10-25T00:30"),  # fall back at 03:00
        ("America/New_York", "2026-11-01T00:30"),
    ],
)
def test_r8_dst_changes_never_duplicate_or_lose_prompts(zone: str, start: str) -> None:
    always = settings(
        base=WORKDAY, schedule_days=frozenset(range(7)), schedule_hours=((0, 24 * 60),)
    )
    local = run("4h,active", always, start=start, tz=zone)
    utc = run("4h,active", ALWAYS_ON, start=start, tz="UTC")
    assert log(local) == log(utc)


def test_r8_working_hours_follow_local_time_across_dst() -> None:
    # Sunday 2026-03-29 in Berlin is 23 hours long: Saturday 23:00 to Monday 09:00
    # local is 33 hours, and counting starts at Monday 09:00.
    config = settings(base=WORKDAY, drill_enabled=False)
    records = run("34h,active", config, start="2026-03-28T23:00", tz="Europe/Berlin")
    first = events(records, "posture_check")[0]
    assert first.t == 33 * 3600 + 20 * 60


def test_r8_a_gap_far_longer_than_the_poll_interval_counts_as_asleep() -> None:
    records = run("30m30s,active; 10m,gap; 5m,active", settings(posture_enabled=False))
    # Nothing runs during the gap: both are noticed on the first sample after it.
    assert log(records) == [
        ("30:01", "drill_prompt"),
        ("40:30", "drill_end"),
        ("40:30", "natural_break"),
    ]
    assert fields(events(records, "drill_end")[0])["reason"] == "asleep"


# --------------------------------------------------------------- structure


def test_transition_table_is_the_only_way_between_phases() -> None:
    machine = make_machine()
    machine.sample(0.0, 0.0, 0.0)
    legal = {(a, b) for (a, _), b in TRANSITIONS.items()}
    seen: set[tuple[Phase, Phase]] = set()
    previous = machine.phase
    trace = run("31m,active; 0,snooze; 6m,active; 3m,idle; 0,start; 0,skip; 50m,active")
    assert trace  # exercised via the simulator; now step one machine by hand:
    for t in range(1, 3000):
        machine.sample(float(t), float(t), 0.0 if t < 2000 else float(t - 2000))
        if machine.phase is not previous:
            seen.add((previous, machine.phase))
            previous = machine.phase
    assert seen
    assert seen <= legal


def test_next_deadline_is_always_in_the_future() -> None:
    machine = make_machine()
    assert machine.next_deadline() is None
    machine.sample(0.0, 0.0, 0.0)
    deadline = machine.next_deadline()
    assert deadline is not None
    assert deadline > 0.0
    machine.handle(1.0, 1.0, ev.Pause(None))
    assert machine.next_deadline() is None
    machine.handle(2.0, 2.0, ev.Resume())
    nxt = machine.next_deadline()
    assert nxt is not None
    assert nxt > 2.0


def test_working_user_costs_one_wake_up_a_minute() -> None:
    # The deadline while typing is when idle could cross idle_pause: 60 s out.
    machine = make_machine()
    machine.sample(0.0, 0.0, 0.0)
    machine.sample(30.0, 30.0, 1.0)
    assert machine.next_deadline() == pytest.approx(89.0)


def test_effects_are_plain_values() -> None:
    records = run("31m,active")
    for record in records:
        assert isinstance(record.effect, fx.Effect.__args__)
        assert record.effect.fields() is not None
    assert not math.isnan(records[0].t)
