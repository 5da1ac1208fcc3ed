"""The shipped library: it validates, and every text follows the copy rules."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from ergobreak.content import builtin_library, default_content, safety_text, sources
from ergobreak.content.checker import BUILTIN_SECONDS
from ergobreak.core.content import (
    CATEGORIES,
    EQUIPMENT_TAGS,
    EYE_CUE,
    NOTICE_MAX,
    SPACE_TAGS,
    TAGS,
    TEXT_TARGET,
    Content,
    Cue,
    Drill,
    step_notice,
)
from ergobreak.tomlfile.read import tomllib

DOCS = Path(__file__).resolve().parents[1] / "docs" / "content.md"
LIBRARY = builtin_library()
DRILLS = LIBRARY.drills
CUES = LIBRARY.cues
DRILL_IDS = [d.id for d in DRILLS]

#: words that would promise a medical effect (copy rule 3)
BANNED = re.compile(
    r"\b(fix\w*|prevent\w*|treat\w*|cure\w*|heal\w*|reliev\w*|relief|remed\w*|protect\w*"
    r"|therap\w*|correct\w*|injury-proof|pain-free)\b",
    re.IGNORECASE,
)


def _raw(name: str) -> dict[str, Any]:
    text = (resources.files("ergobreak") / "content" / name).read_text(encoding="utf-8")
    data: dict[str, Any] = tomllib.loads(text)
    return data


def _texts(drill: Drill) -> list[str]:
    return [drill.title, drill.summary, drill.safety, *(s.text for s in drill.steps)]


# ------------------------------------------------------------------ shape


def test_the_shipped_library_validates() -> None:
    assert len(CUES) >= 12
    assert len(DRILLS) >= 14
    assert default_content().drills


@pytest.mark.parametrize(
    ("drill_id", "category", "tags"),
    [
        ("hipflexor_standing", "hip_flexor", {"desk", "standing", "balance"}),
        ("hipflexor_half_kneel", "hip_flexor", {"floor", "kneeling"}),
        ("figure4_seated", "hip_flexor", {"seated", "crossing-legs", "deep-hip-flexion"}),
        ("hinge_wall", "hinge", {"standing", "wall"}),
        ("hinge_dowel", "hinge", {"standing", "stick"}),
        ("good_morning_bw", "hinge", {"standing"}),
        ("leg_swings", "mobility", {"standing", "balance", "hip-adduction"}),
        ("hip_circles_march", "mobility", {"standing"}),
        ("glute_squeeze_backlift", "glutes", {"standing", "balance"}),
        ("hip_abduction_standing", "glutes", {"standing", "balance"}),
        ("glute_bridge", "glutes", {"floor", "lying-on-back"}),
        ("clamshell", "glutes", {"floor"}),
        ("lateral_band_walk", "glutes", {"band"}),
        ("seated_reset", "seated", {"seated", "desk"}),
    ],
)
def test_the_issue_drills_are_there_with_their_tags(
    drill_id: str, category: str, tags: set[str]
) -> None:
    drill = LIBRARY.drill(drill_id)
    assert drill is not None
    assert drill.category == category
    assert tags <= drill.tags


@pytest.mark.parametrize("drill", DRILLS, ids=DRILL_IDS)
def test_every_drill_lasts_exactly_two_minutes(drill: Drill) -> None:
    assert drill.seconds == BUILTIN_SECONDS == 120
    assert all(step.seconds > 0 and step.seconds == int(step.seconds) for step in drill.steps)
    assert drill.offsets[0] == 0
    assert drill.offsets[-1] + drill.steps[-1].seconds == 120


def test_ids_are_unique_in_the_files() -> None:
    drills = _raw("drills.toml")["drill"]
    cues = _raw("cues.toml")["cue"]
    assert isinstance(drills, list)
    assert isinstance(cues, list)
    drill_ids = [d["id"] for d in drills]
    cue_ids = [c["id"] for c in cues]
    assert len(set(drill_ids)) == len(drill_ids)
    assert len(set(cue_ids)) == len(cue_ids)


@pytest.mark.parametrize("drill", DRILLS, ids=DRILL_IDS)
def test_every_drill_has_safety_sources_and_known_tags(drill: Drill) -> None:
    assert drill.safety
    assert drill.summary
    assert drill.sources
    assert set(drill.sources) <= set(sources())
    assert drill.tags <= set(TAGS)
    assert drill.tags & set(SPACE_TAGS)
    assert drill.category in CATEGORIES
    if drill.category == "seated":
        assert "seated" in drill.tags


def test_every_tag_in_the_vocabulary_is_used() -> None:
    used = set().union(*(d.tags for d in DRILLS))
    assert used == set(TAGS)


def test_the_cue_topics_are_covered() -> None:
    ids = {cue.id for cue in CUES}
    assert {
        "feet",
        "knees",
        "lumbar",
        "upright",
        "shoulders",
        "elbows",
        "wrists",
        "head",
        "screen_height",
        "screen_distance",
        "keyboard_mouse",
        "shift",
    } <= ids
    assert all(cue.sources and set(cue.sources) <= set(sources()) for cue in CUES)


@pytest.mark.parametrize("drill", DRILLS, ids=DRILL_IDS)
def test_both_sides_get_the_same_work(drill: Drill) -> None:
    left = [s.seconds for s in drill.steps if s.side == "left"]
    right = [s.seconds for s in drill.steps if s.side == "right"]
    assert bool(left) == bool(right)
    if left:
        assert max(left) == max(right)


# -------------------------------------------------------------- copy rules


@pytest.mark.parametrize("drill", DRILLS, ids=DRILL_IDS)
def test_drill_texts_fit_a_notification(drill: Drill) -> None:
    for step in drill.steps:
        assert len(step.text) <= TEXT_TARGET, step.text
        assert len(step_notice(step)) <= NOTICE_MAX
    assert len(drill.title) <= 60
    assert len(drill.summary) <= TEXT_TARGET
    assert len(drill.safety) <= NOTICE_MAX
    assert len(f"{drill.title}: {drill.summary}") <= NOTICE_MAX


@pytest.mark.parametrize("cue", CUES, ids=[c.id for c in CUES])
def test_every_cue_is_shown_with_the_eye_cue(cue: Cue) -> None:
    content = default_content()
    assert len(cue.text) <= TEXT_TARGET
    shown = content.posture_text(cue)
    assert shown == f"{cue.text} {EYE_CUE}"
    assert len(shown) <= NOTICE_MAX


def test_a_long_custom_cue_is_shown_without_the_eye_cue() -> None:
    long = Cue(id="long", text="x" * 100)
    content = Content(cues=(long,), drills=DRILLS[:1])
    assert content.posture_text(long) == "x" * 100


def test_step_notices_name_side_and_time() -> None:
    drill = LIBRARY.drill("hipflexor_standing")
    assert drill is not None
    assert step_notice(drill.steps[1]).startswith("Left side, 40 s: Squeeze your left buttock")
    assert step_notice(drill.steps[-1]) == "20 s: Feet together. March gently on the spot."


@pytest.mark.parametrize("drill", DRILLS, ids=DRILL_IDS)
def test_no_drill_promises_to_fix_prevent_or_treat(drill: Drill) -> None:
    for text in _texts(drill):
        assert not BANNED.search(text), text


def test_no_cue_promises_anything() -> None:
    for cue in CUES:
        assert not BANNED.search(cue.text), cue.text
    assert not BANNED.search(EYE_CUE)


def test_the_banned_claims_pattern_catches_claims() -> None:
    for claim in ("Fixes back pain", "prevents injury", "treats sciatica", "relieves tension"):
        assert BANNED.search(claim)


@pytest.mark.parametrize("drill", DRILLS, ids=DRILL_IDS)
def test_metric_first_imperial_in_brackets(drill: Drill) -> None:
    for text in [*_texts(drill), *(c.text for c in CUES)]:
        for match in re.finditer(r"\d\s?(in|ft)\b", text):
            before = text[: match.start()]
            opened = before.rfind("(")
            assert opened > before.rfind(")"), f"imperial outside brackets: {text}"
            assert re.search(r"\d\s?c?m\b", text[: match.start()][-20:]), text


# -------------------------------------------------------- sources and docs


def test_sources_are_unique_and_complete() -> None:
    raw = _raw("sources.toml")["source"]
    assert isinstance(raw, list)
    ids = [s["id"] for s in raw]
    assert ids == [f"S{n}" for n in range(1, 88)]
    for source in sources().values():
        assert source.title
        assert all(url.startswith("https://") for url in source.urls)


def test_docs_list_every_source_with_its_links() -> None:
    doc = DOCS.read_text(encoding="utf-8")
    for source in sources().values():
        assert f"**[{source.id}]** {source.title}" in doc
        for url in source.urls:
            assert f"<{url}>" in doc


def test_docs_list_every_drill_and_its_safety_note() -> None:
    doc = DOCS.read_text(encoding="utf-8")
    for drill in DRILLS:
        assert f"| `{drill.id}` | {drill.title} | {drill.category} |" in doc
        assert f"- **`{drill.id}`**: {drill.safety}" in doc
    for cue in CUES:
        assert f"| `{cue.id}` | {cue.text} |" in doc


def test_docs_carry_the_full_safety_text() -> None:
    doc = DOCS.read_text(encoding="utf-8")
    texts = safety_text()
    for key in (
        "onboarding",
        "footer",
        "stop_rules",
        "red_flags_emergency",
        "red_flags_urgent",
        "help.hip_replacement",
        "help.pregnancy",
        "help.knees",
        "help.balance",
        "help.back_pain",
    ):
        assert texts[key] in doc, key
    assert "999" in texts["red_flags_emergency"]
    assert "112" in texts["red_flags_emergency"]
    assert "911" in texts["red_flags_emergency"]


def test_equipment_tags_are_a_subset_of_the_vocabulary() -> None:
    assert set(EQUIPMENT_TAGS) <= set(TAGS)
    assert len(set(TAGS)) == len(TAGS)
