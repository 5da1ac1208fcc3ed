""" "How was it?" through the composed app (tests/fake_desk.py: the real App, Engine and
core on a fake clock, no desktop): the ``feedback`` request is recorded in the history,
and the prompts that follow leave out a drill that hurt, or offer its variant."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_desk import ALWAYS_ON_CONFIG, AppRig, start_app

from ergobreak.content.feedback import REST, day_text
from ergobreak.content.feedback_file import NAME
from ergobreak.content.library import safety_text
from ergobreak.history.recorder import HistoryRecorder
from ergobreak.history.store import HistoryStore
from ergobreak.paths import paths

pytestmark = pytest.mark.usefixtures("isolated")

PROMPT = "2-minute drill: "
HISTORY_OFF = ALWAYS_ON_CONFIG + "\n[history]\nenabled = false\n"


@pytest.fixture
def rig() -> Iterator[AppRig]:
    """The app with its history recorder, as ``ergobreak run`` has it."""
    rig = start_app()
    rig.app.recorder = HistoryRecorder(paths().state_dir / "history.db", tz=rig.app.tz)
    yield rig
    rig.app.recorder.close()


def finish(rig: AppRig, drill: str) -> None:
    """Start ``drill`` and follow it to its end."""
    assert rig.request("start", routine=drill)["ok"]
    rig.work(3 * 60)  # a drill is 2 minutes after its safety note
    assert rig.engine.core.view().state != "drill"


def rotation(rig: AppRig) -> list[str]:
    return [d.id for d in rig.engine.core.content.drills]


def prompted_over_a_round(rig: AppRig) -> list[str]:
    """The drill title of every prompt over one pass of the rotation, each skipped."""
    titles = []
    for _ in range(len(rig.engine.core.content.drills)):
        for _wait in range(40):
            rig.work(60)
            if rig.engine.core.view().state == "prompt":
                break
        prompt = [n.title for n in rig.notifier.shown if n.title.startswith(PROMPT)][-1]
        titles.append(prompt.removeprefix(PROMPT))
        assert rig.request("skip")["ok"]
    return titles


def feedback_rows(recorder: HistoryRecorder) -> list[tuple[str, str | None, str | None]]:
    def rows(store: HistoryStore) -> list[tuple[str, str | None, str | None]]:
        return [(e.kind, e.routine, e.answer) for e in store.events() if e.kind == "feedback"]

    got = recorder.query(rows)
    assert got is not None
    return got


def test_it_hurt_is_recorded_and_leaves_the_drill_out_for_14_days(rig: AppRig) -> None:
    assert "figure4_seated" in rotation(rig)
    finish(rig, "figure4_seated")
    wall = rig.clock.wall()
    reply = rig.request("feedback", answer="hurt")
    assert reply["ok"] is True
    assert (reply["drill"], reply["answer"]) == ("figure4_seated", "hurt")
    back = day_text(wall + REST, rig.app.tz)
    assert reply["text"] == (
        f"Noted: it hurt. Seated figure-4 stretch is left out of your drills until {back}."
    )
    assert reply["stop_rules"] == safety_text()["stop_rules"]
    assert rig.app.recorder is not None
    assert feedback_rows(rig.app.recorder) == [("feedback", "figure4_seated", "hurt")]
    rig.engine.step()  # the reload the answer asked for
    assert "figure4_seated" not in rotation(rig)
    titles = prompted_over_a_round(rig)
    assert "Seated figure-4 stretch" not in titles
    assert len(set(titles)) == len(titles)  # a whole round, each drill once

    rig.clock.jump_wall(REST)  # 14 days on (the wall clock only: no desk time)
    rig.engine.step()
    rig.engine.step()
    assert "figure4_seated" in rotation(rig)


def test_easy_offers_the_harder_variant_in_its_place(rig: AppRig) -> None:
    finish(rig, "hinge_wall")
    reply = rig.request("feedback", answer="easy")
    assert reply["text"] == "Noted: easy. Next time: Bodyweight good morning instead."
    rig.engine.step()
    assert "hinge_wall" not in rotation(rig)
    assert rotation(rig).count("good_morning_bw") == 2  # its own place and the wall hinge's
    titles = prompted_over_a_round(rig)
    assert "Wall hip hinge" not in titles
    assert titles.count("Bodyweight good morning") == 2

    # "hard" on the good morning: the wall hinge comes back in its place, and in the
    # good morning's own place too (the answer is about the drill wherever it comes round)
    reply = rig.request("feedback", answer="hard", drill="good_morning_bw")
    assert reply["text"] == "Noted: hard. Next time: Wall hip hinge instead."
    rig.engine.step()
    assert rotation(rig).count("hinge_wall") == 2
    assert "good_morning_bw" not in rotation(rig)
    assert rig.app.recorder is not None
    assert feedback_rows(rig.app.recorder) == [
        ("feedback", "hinge_wall", "easy"),
        ("feedback", "good_morning_bw", "hard"),
    ]


def test_without_a_drill_ended_it_says_what_to_do_and_a_skipped_one_counts() -> None:
    rig = start_app()
    reply = rig.request("feedback", answer="right")
    assert reply["ok"] is False
    assert reply["error"] == (
        "No drill has ended since ergobreak started, so there is nothing to answer about;"
        " name the drill with --drill ID (see: ergobreak routines list)."
    )
    reply = rig.request("feedback", answer="right", drill="no_such_drill")
    assert reply == {
        "ok": False,
        "error": 'No drill "no_such_drill" (see: ergobreak routines list).',
    }
    assert rig.request("feedback", answer="meh")["ok"] is False
    assert rig.request("start", routine="leg_swings")["ok"]
    assert rig.request("skip")["ok"]  # stopped: the drill ends skipped
    reply = rig.request("feedback", answer="right")
    assert reply == {"ok": True, "drill": "leg_swings", "answer": "right", "text": "Noted: right."}
    assert not (paths().state_dir / "history.db").exists()  # no recorder in this rig


@pytest.mark.parametrize("config", [ALWAYS_ON_CONFIG, HISTORY_OFF], ids=["history", "no-history"])
def test_a_restart_keeps_what_the_answers_did(config: str) -> None:
    first = start_app(config)
    assert first.app.effective is not None
    on = first.app.effective.values["history.enabled"]
    assert on is (config == ALWAYS_ON_CONFIG)
    assert first.request("feedback", answer="hurt", drill="figure4_seated")["ok"]
    assert first.request("feedback", answer="easy", drill="hinge_wall")["ok"]
    first.engine.stop()
    first.engine.step()
    assert (paths().state_dir / NAME).is_file()

    again = start_app(config)  # a new App, engine and core: only the file carries it over
    assert "figure4_seated" not in rotation(again)
    assert "hinge_wall" not in rotation(again)
    assert rotation(again).count("good_morning_bw") == 2
    assert rotation(again) == rotation(first)
