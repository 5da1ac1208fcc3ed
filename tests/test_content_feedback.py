"""What "How was it?" does to the rotation (content/feedback.py, pure, on fake wall
times) and the small file that keeps the answers (content/feedback_file.py)."""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ergobreak.content import Filters, builtin_library, default_content
from ergobreak.content.feedback import REST, Answers, Turn, apply_answers, reply_text
from ergobreak.content.feedback_file import MAX_BYTES, FeedbackFile
from ergobreak.content.selection import filtered_out
from ergobreak.core.content import Answer, Drill

LIBRARY = builtin_library()
ROTATION = default_content().drills
#: Monday 7 December 2026, noon UTC: 14 days on is Monday 21 December
AT = datetime(2026, 12, 7, 12, tzinfo=timezone.utc).timestamp()


def by_filters(f: Filters) -> Callable[[Drill], bool]:
    return lambda drill: not filtered_out(drill, f)


DEFAULTS = by_filters(Filters())
ANYTHING = by_filters(Filters(floor=True, equipment=("band", "stick", "wall")))


def turn(answers: Answers, now: float, allowed: Callable[[Drill], bool] = DEFAULTS) -> Turn:
    return apply_answers(ROTATION, answers, now, find=LIBRARY.drill, allowed=allowed)


def ids(t: Turn) -> list[str]:
    return [d.id for d in t.drills]


def said(
    t: Turn,
    drill: str,
    answer: Answer,
    answers: Answers,
    *,
    allowed: Callable[[Drill], bool] = DEFAULTS,
) -> str:
    d = LIBRARY.drill(drill)
    assert d is not None
    return reply_text(
        d,
        answer,
        t,
        answers=answers,
        at=AT,
        tz=timezone.utc,
        find=LIBRARY.drill,
        allowed=allowed,
    )


def test_no_answers_leave_the_rotation_as_the_settings_chose_it() -> None:
    t = turn(Answers(), AT)
    assert t.drills == ROTATION
    assert t.resting == {}
    assert t.kept is None
    assert t.next_change is None


def test_it_hurt_leaves_the_drill_out_for_exactly_14_days() -> None:
    assert "figure4_seated" in [d.id for d in ROTATION]
    answers = Answers().said("figure4_seated", "hurt", AT)
    for now in (AT, AT + REST - 1, AT + REST - 0.001):
        t = turn(answers, now)
        assert "figure4_seated" not in ids(t)
        assert len(t.drills) == len(ROTATION) - 1
        assert t.resting == {"figure4_seated": AT + REST}
        assert t.next_change == AT + REST
    back = turn(answers, AT + REST)
    assert back.drills == ROTATION
    assert back.resting == {}
    assert answers.current(AT + REST).latest == {}  # nothing left to keep in the file
    assert answers.current(AT + REST - 1).latest == answers.latest


def test_the_rotation_never_empties_the_one_hurt_longest_ago_stays() -> None:
    answers = Answers()
    for i, drill in enumerate(ROTATION):
        answers = answers.said(drill.id, "hurt", AT + 60 * i)
    t = turn(answers, AT + 3600)
    assert ids(t) == [ROTATION[0].id]
    assert t.kept == ROTATION[0].id
    assert ROTATION[0].id not in t.resting
    assert len(t.resting) == len(ROTATION) - 1
    text = said(t, ROTATION[0].id, "hurt", answers)
    assert text.startswith(
        f"Noted: it hurt. Every drill in your rotation is left out for now, so {ROTATION[0].title}"
        " stays in"
    )
    other = said(t, ROTATION[-1].id, "hurt", answers)
    assert f"Every other drill is left out too, so {ROTATION[0].title} stays in." in other


def test_easy_puts_the_harder_variant_in_the_drills_slot() -> None:
    answers = Answers().said("hinge_wall", "easy", AT)
    t = turn(answers, AT + 1)
    slot = ids(turn(Answers(), AT)).index("hinge_wall")
    assert ids(t)[slot] == "good_morning_bw"
    assert "hinge_wall" not in ids(t)
    assert len(t.drills) == len(ROTATION)
    assert said(t, "hinge_wall", "easy", answers) == (
        "Noted: easy. Next time: Bodyweight good morning instead."
    )


def test_easy_again_goes_on_only_where_the_filters_let_it() -> None:
    answers = Answers().said("hinge_wall", "easy", AT).said("good_morning_bw", "easy", AT + 10)
    slot = ids(turn(Answers(), AT)).index("hinge_wall")
    # the stick hinge needs a stick: with the default equipment the good morning stays
    assert ids(turn(answers, AT + 20))[slot] == "good_morning_bw"
    t = turn(answers, AT + 20, ANYTHING)
    assert ids(t)[slot] == "hinge_dowel"
    text = said(turn(answers, AT + 20), "good_morning_bw", "easy", answers)
    assert text == (
        "Noted: easy. Stick hip hinge is left out by your [routines] settings,"
        " so Bodyweight good morning stays."
    )


def test_hard_after_easy_goes_back_and_an_older_answer_does_not_carry_on() -> None:
    slot = ids(turn(Answers(), AT)).index("hinge_wall")
    back = Answers().said("hinge_wall", "easy", AT).said("good_morning_bw", "hard", AT + 10)
    t = turn(back, AT + 20)
    assert ids(t)[slot] == "hinge_wall"
    assert said(t, "good_morning_bw", "hard", back) == (
        "Noted: hard. Next time: Wall hip hinge instead."
    )
    # "hard" on the good morning came first: Easy on the wall hinge later still leads to it
    later = Answers().said("good_morning_bw", "hard", AT).said("hinge_wall", "easy", AT + 10)
    assert ids(turn(later, AT + 20))[slot] == "good_morning_bw"


def test_right_ends_an_easy_and_a_variant_that_hurt_is_not_offered() -> None:
    slot = ids(turn(Answers(), AT)).index("hinge_wall")
    easy = Answers().said("hinge_wall", "easy", AT)
    assert ids(turn(easy.said("hinge_wall", "right", AT + 5), AT + 9))[slot] == "hinge_wall"
    assert easy.said("hinge_wall", "right", AT + 5).latest == {}
    hurt = easy.said("good_morning_bw", "hurt", AT + 5)
    t = turn(hurt, AT + 9)
    assert ids(t)[slot] == "hinge_wall"
    assert "good_morning_bw" not in ids(t)  # its own slot rests too
    assert said(t, "hinge_wall", "easy", hurt) == (
        "Noted: easy. Bodyweight good morning is left out for now (it hurt),"
        " so Wall hip hinge stays."
    )


def test_replies_say_what_happened_in_words() -> None:
    hurt = Answers().said("figure4_seated", "hurt", AT)
    assert said(turn(hurt, AT), "figure4_seated", "hurt", hurt) == (
        "Noted: it hurt. Seated figure-4 stretch is left out of your drills until Mon 21 Dec."
    )
    assert said(turn(Answers(), AT), "hinge_wall", "right", Answers()) == "Noted: right."
    easy = Answers().said("hip_circles_march", "easy", AT)
    assert said(turn(easy, AT), "hip_circles_march", "easy", easy) == (
        "Noted: easy. Hip circles and knee raises has no harder variant,"
        " so it stays in your drills."
    )
    out = Answers().said("glute_bridge", "hard", AT)  # floor work: not in the default rotation
    assert said(turn(out, AT), "glute_bridge", "hard", out) == (
        "Noted: hard. Glute bridge is not in your rotation, so nothing changes there."
    )
    kneel = Answers().said("hipflexor_standing", "easy", AT)
    with_floor = by_filters(Filters(floor=True))
    assert said(turn(kneel, AT, with_floor), "hipflexor_standing", "easy", kneel) == (
        "Noted: easy. Next time: Half-kneeling hip-flexor stretch instead."
    )


# ------------------------------------------------------------------ the file


def test_the_file_keeps_the_answers_across_instances(tmp_path: Path) -> None:
    path = tmp_path / "state" / "feedback.json"
    first = FeedbackFile(path)
    assert first.answers() == Answers()
    answers = Answers().said("figure4_seated", "hurt", AT).said("hinge_wall", "easy", AT + 1)
    assert first.keep(answers, AT + 2)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert not [p for p in path.parent.iterdir() if p.name != "feedback.json"]  # no temp left
    again = FeedbackFile(path).answers()
    assert again == answers
    # a rest that is over is not written again
    FeedbackFile(path).keep(again, AT + REST + 1)
    assert set(FeedbackFile(path).answers().latest) == {"hinge_wall"}


def test_memory_only_without_a_path() -> None:
    memory = FeedbackFile(None)
    assert memory.keep(Answers().said("hinge_wall", "hard", AT), AT)
    assert set(memory.answers().latest) == {"hinge_wall"}


@pytest.mark.parametrize(
    "text",
    [
        "not json {",
        '"a string"',
        '{"v": 2, "answers": {}}',
        '{"v": 1, "answers": []}',
        '{"v": 1}',
        "[" * 100_000,
    ],
)
def test_a_bad_file_is_a_warning_and_no_answers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, text: str
) -> None:
    path = tmp_path / "feedback.json"
    path.write_text(text[: MAX_BYTES - 1], encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        assert FeedbackFile(path).answers() == Answers()
    assert "drill feedback in" in caplog.text
    assert "is not used" in caplog.text


def test_entries_are_checked_field_by_field(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "feedback.json"
    good = {"answer": "hurt", "at": AT}
    entries = {
        "figure4_seated": good,
        "Not An Id": good,
        "hinge_wall": {"answer": "meh", "at": AT},
        "leg_swings": {"answer": "easy", "at": "yesterday"},
        "clamshell": {"answer": "easy", "at": True},
        "glute_bridge": {"answer": "hard", "at": float("inf")},
        "seated_reset": ["hurt", AT],
    }
    path.write_text(json.dumps({"v": 1, "answers": entries}), encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        kept = FeedbackFile(path).answers()
    assert set(kept.latest) == {"figure4_seated"}
    assert caplog.text.count("dropped") == len(entries) - 1


def test_an_oversized_or_odd_file_is_refused_by_its_size_or_kind(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (MAX_BYTES + 1))
    folder = tmp_path / "folder.json"
    folder.mkdir()
    with caplog.at_level(logging.WARNING):
        assert FeedbackFile(big).answers() == Answers()
        assert FeedbackFile(folder).answers() == Answers()
        assert FeedbackFile(tmp_path / "missing.json").answers() == Answers()
    assert caplog.text.count("is not used") == 2  # a missing file is simply no answers


def test_a_file_that_cannot_be_written_keeps_the_answers_for_this_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    stuck = FeedbackFile(blocker / "feedback.json")
    with caplog.at_level(logging.WARNING):
        assert not stuck.keep(Answers().said("hinge_wall", "easy", AT), AT)
    assert "could not be saved" in caplog.text
    assert set(stuck.answers().latest) == {"hinge_wall"}
