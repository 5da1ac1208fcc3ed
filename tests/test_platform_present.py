"""Notification copy: snapshots of what each effect shows, and the rules all copy keeps."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from fake_desk import start_app
from scaffold import builtin_drill

from ergobreak import present
from ergobreak.commands import Request
from ergobreak.content import default_content
from ergobreak.core import effects as fx
from ergobreak.core.content import Content, Drill
from ergobreak.platform.base import Dismiss, Notification
from ergobreak.tomlfile import Diagnostic

CONTENT = default_content()


DRILL = builtin_drill("hipflexor_standing")
#: never promise what a stretch cannot keep
PROMISES = re.compile(r"\b(fix|fixes|prevent|prevents|treat|treats|cure|cures|heal)\b", re.I)


def all_notes(content: Content) -> list[Notification]:
    notes: list[Notification] = []
    for drill in content.library or content.drills:
        for snoozes in (0, 2):
            notes.append(present.drill_prompt(fx.DrillPrompt(drill, 1, snoozes)))
        notes.append(present.drill_start(fx.DrillStart(drill)))
        for i, step in enumerate(drill.steps):
            notes.append(present.drill_step(fx.DrillStep(drill, i, len(drill.steps), step)))
        done = present.drill_end(fx.DrillEnd(drill, "done"))
        assert isinstance(done, Notification)
        notes.append(done)
    for cue in content.cues:
        notes.append(present.posture_check(fx.PostureCheck(cue), content))
    return notes


def test_drill_prompt_snapshot() -> None:
    note = present.drill_prompt(fx.DrillPrompt(DRILL, attempt=1, snoozes_left=2))
    assert note.title == "2-minute drill: Standing hip-flexor stretch"
    assert note.body == (
        "A gentle stretch for the front of the hips, standing beside your desk.\n"
        "It starts by itself when you stop typing."
    )
    assert [(a.key, a.label, a.request) for a in note.actions] == [
        ("start", "Start now", Request("start", {"routine": "hipflexor_standing"})),
        ("snooze", "Snooze 5 min", Request("snooze")),
        ("skip", "Skip", Request("skip")),
    ]
    assert (note.icon, note.slot, note.timeout) == ("drill-hip_flexor", "drill", 0)


def test_without_an_idle_source_the_prompt_promises_only_the_button() -> None:
    note = present.drill_prompt(fx.DrillPrompt(DRILL, 1, 2), idle_known=False)
    assert note.body.splitlines()[-1] == "It starts when you press Start now."
    assert "stop typing" not in note.body
    assert note.actions[0].label == "Start now"  # the button the text names
    via_present = present.present(fx.DrillPrompt(DRILL, 1, 2), CONTENT, idle_known=False)
    assert via_present == note


def test_a_drill_held_through_a_call_says_so_first() -> None:
    note = present.drill_prompt(fx.DrillPrompt(DRILL, 1, 2, after_call=50 * 60.0))
    assert note.body.splitlines()[0] == ("You sat through a 50 min call: 2 minutes for your hips?")
    assert note.body.splitlines()[-1] == present.STARTS_WHEN_IDLE
    plain = present.drill_prompt(fx.DrillPrompt(DRILL, 1, 2))
    assert "call" not in plain.body


def test_while_watching_the_prompt_promises_only_the_button() -> None:
    """Sitting without input (a video) starts nothing by itself: only Start now does."""
    note = present.drill_prompt(fx.DrillPrompt(DRILL, 1, 2, seated=("watching",)))
    assert note.body.splitlines()[-1] == present.STARTS_ON_PRESS


@pytest.mark.usefixtures("isolated")
@pytest.mark.parametrize(
    ("idle_source", "last_line"),
    [("scripted", present.STARTS_WHEN_IDLE), ("none", present.STARTS_ON_PRESS)],
)
def test_the_app_tells_present_whether_the_desk_has_an_idle_source(
    idle_source: str, last_line: str
) -> None:
    rig = start_app()
    rig.idle.name = idle_source  # "none" is how the edge names wall-clock mode
    rig.work(30 * 60 + 30)
    prompts = [n for n in rig.notifier.shown if n.title.startswith("2-minute drill: ")]
    assert prompts, rig.notifier.titles()
    assert prompts[0].body.splitlines()[-1] == last_line


def test_prompt_without_snoozes_left_offers_no_snooze() -> None:
    note = present.drill_prompt(fx.DrillPrompt(DRILL, attempt=3, snoozes_left=0))
    assert [a.key for a in note.actions] == ["start", "skip"]


def test_snooze_label_follows_the_setting() -> None:
    note = present.drill_prompt(fx.DrillPrompt(DRILL, 1, 1), snooze_seconds=600)
    assert note.actions[1].label == "Snooze 10 min"
    # a snooze that is not whole minutes is said exactly, not rounded to "2 min"
    odd = present.drill_prompt(fx.DrillPrompt(DRILL, 1, 1), snooze_seconds=150)
    assert odd.actions[1].label == "Snooze 2 min 30 s"


def test_drill_steps_count_down_in_one_bubble() -> None:
    steps = DRILL.steps
    notes = [
        present.drill_step(fx.DrillStep(DRILL, i, len(steps), step)) for i, step in enumerate(steps)
    ]
    assert [n.body.splitlines()[0] for n in notes] == [
        "Step 1 of 5 · 0:15 · left leg",
        "Step 2 of 5 · 0:40 · left leg",
        "Step 3 of 5 · 0:05 · right leg",
        "Step 4 of 5 · 0:40 · right leg",
        "Step 5 of 5 · 0:20",
    ]
    assert notes[1].body.splitlines()[1] == steps[1].text
    assert {n.slot for n in notes} == {present.DRILL_SLOT}
    assert {n.title for n in notes} == {DRILL.title}
    assert all([a.key for a in n.actions] == ["skip"] for n in notes)


def test_drill_end() -> None:
    done = present.drill_end(fx.DrillEnd(DRILL, "done"))
    assert isinstance(done, Notification)
    assert done.title == "Done: Standing hip-flexor stretch"
    assert done.slot == present.DRILL_SLOT
    outcomes: list[fx.Outcome] = ["skipped", "ignored", "cancelled"]
    for outcome in outcomes:
        end = fx.DrillEnd(DRILL, outcome, "asleep" if outcome == "cancelled" else None)
        assert present.drill_end(end) == Dismiss(present.DRILL_SLOT)


def test_posture_check_carries_the_eye_cue() -> None:
    cue = CONTENT.cues[0]
    note = present.posture_check(fx.PostureCheck(cue), CONTENT)
    assert note.title == "Posture check"
    assert note.body == f"{cue.text}\n{CONTENT.eye_cue}"
    assert (note.icon, note.slot) == ("posture", "posture")
    assert note.actions == ()


def test_config_error_notice() -> None:
    diag = Diagnostic(
        path="/home/u/.config/ergobreak/config.toml",
        line=3,
        col=9,
        severity="error",
        key="drill.every",
        message="expected a duration like '30m'",
        hint='write drill.every = "30m"',
    )
    home = Path.home()
    diag = dataclasses.replace(diag, path=str(home / ".config/ergobreak/config.toml"))
    note = present.config_error([diag, diag], path=diag.path)
    assert note.title == "ergobreak: config problem"
    # the problem first, its fix, then where (the home folder as ~), wrapped, not cut
    assert " ".join(note.body.splitlines()) == (
        "drill.every: expected a duration like '30m'; write drill.every = \"30m\""
        " (~/.config/ergobreak/config.toml:3) (+1 more: ergobreak config check)"
        " Keeping the previous settings until then. Fix ~/.config/ergobreak/config.toml."
    )
    assert all(len(row) <= present.LINE_MAX for row in note.body.splitlines())
    assert note.urgency == "critical"


def test_effects_that_need_no_bubble() -> None:
    quiet: list[fx.Effect] = [
        fx.NaturalBreak(away=400.0),
        fx.Deferred("drill", ("fullscreen",)),
        fx.Paused(until=None, seconds=None),
        fx.Resumed(auto=True),
        fx.StateChanged("working", "away"),
    ]
    assert [present.present(e, CONTENT) for e in quiet] == [None] * len(quiet)
    snoozed = fx.Snoozed(DRILL, count=1, max=2, auto=False, seconds=300)
    assert present.present(snoozed, CONTENT) == Dismiss("drill")
    rejected = present.present(fx.Rejected("snooze", "no snoozes left"), CONTENT)
    assert isinstance(rejected, Notification)
    assert (rejected.title, rejected.body) == ("Nothing to snooze", "no snoozes left")


def test_present_dispatches_every_prompt_effect() -> None:
    step = fx.DrillStep(DRILL, 0, 5, DRILL.steps[0])
    check = fx.PostureCheck(CONTENT.cues[1])
    cases: list[tuple[fx.Effect, Notification]] = [
        (fx.DrillPrompt(DRILL, 1, 2), present.drill_prompt(fx.DrillPrompt(DRILL, 1, 2))),
        (fx.DrillStart(DRILL), present.drill_start(fx.DrillStart(DRILL))),
        (step, present.drill_step(step)),
        (check, present.posture_check(check, CONTENT)),
    ]
    for effect, expected in cases:
        assert present.present(effect, CONTENT) == expected


def test_all_shipped_copy_keeps_the_rules() -> None:
    notes = all_notes(CONTENT)
    assert len(notes) > 100
    for note in notes:
        assert 0 < len(note.title) <= present.TITLE_MAX, note.title
        for body_line in note.body.splitlines():
            assert len(body_line) <= present.LINE_MAX, body_line
        assert not PROMISES.search(f"{note.title} {note.body}"), note
        assert all(a.label and a.key for a in note.actions)


@pytest.mark.parametrize("length", [119, 120, 121, 400])
def test_long_text_is_wrapped_never_cut_silently(length: int) -> None:
    words = ("stretch " * 80)[:length].strip()
    long_drill = Drill(
        id="long_one",
        title="T" * 80,
        category="seated",
        steps=DRILL.steps,
        safety=words,
        summary=words,
    )
    start_effect = fx.DrillStart(long_drill)
    start = present.drill_start(start_effect)
    assert len(start.title) <= present.TITLE_MAX
    assert start.title == "T" * (present.TITLE_MAX - 1) + "…"
    assert all(len(x) <= present.LINE_MAX for x in start.body.splitlines())
    heading, *note = start.body.splitlines()
    assert heading == present.safety_status(start_effect.timeline.safety)
    assert " ".join(" ".join(note).split()) == " ".join(words.split())  # wrapped, not cut
