"""Custom content files: precise errors (file:line:col, field), and safe loading."""

from __future__ import annotations

from pathlib import Path

import pytest

from ergobreak.content import builtin_library, load_library, select
from ergobreak.content.checker import unknown_variants
from ergobreak.content.files import ContentError, parse_content
from ergobreak.core.content import TAGS
from ergobreak.core.playback import reading_seconds

BASE = """\
schema = 1

[[drill]]
id = "calf_raises"
title = "Calf raises"
category = "mobility"
tags = ["desk", "standing"]
safety = "Hold the desk."
steps = [
    { seconds = 60, text = "Rise onto your toes and lower, slowly." },
    { seconds = 60, side = "left", text = "Again." },
]
"""
STEPS_AT = BASE.index("steps = [")


def sub(old: str, new: str, text: str = BASE) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


ID_RULE = (
    "expected an id of lowercase letters, digits and underscores, starting with a letter"
    " (2-40 characters)"
)
RANGE = "a drill lasts 60 to 300 s (120 s is usual)"
CATS = "expected one of hip_flexor, hinge, mobility, glutes, seated"

#: (name, file text, expected headlines) -- the error corpus
CORPUS: list[tuple[str, str, list[str]]] = [
    (
        "category with a typo",
        sub('"mobility"', '"mobilty"'),
        [
            "custom.toml:6:12: error: drill.calf_raises.category:"
            f' {CATS}, got "mobilty" (did you mean "mobility"?)'
        ],
    ),
    (
        "unknown category",
        sub('"mobility"', '"calfs"'),
        [f'custom.toml:6:12: error: drill.calf_raises.category: {CATS}, got "calfs"'],
    ),
    (
        "category under a quoted key",
        sub('category = "mobility"', '"category" = "mobilty"'),
        [
            "custom.toml:6:14: error: drill.calf_raises.category:"
            f' {CATS}, got "mobilty" (did you mean "mobility"?)'
        ],
    ),
    (
        "unknown tag points at the tag",
        sub('["desk", "standing"]', '["desk", "kneel"]'),
        [
            "custom.toml:7:17: error: drill.calf_raises.tags:"
            f' unknown tag "kneel" (did you mean "kneeling"?); known tags: {", ".join(TAGS)}'
        ],
    ),
    (
        "no space tag",
        sub('["desk", "standing"]', '["band"]'),
        [
            "custom.toml:7:8: error: drill.calf_raises.tags: needs a tag saying where the"
            " drill is done: desk, standing, seated, floor"
        ],
    ),
    (
        "tag twice",
        sub('["desk", "standing"]', '["desk", "desk"]'),
        ['custom.toml:7:17: error: drill.calf_raises.tags: "desk" is listed twice'],
    ),
    (
        "seconds with a unit",
        sub("{ seconds = 60, text", '{ seconds = "60s", text'),
        [
            "custom.toml:10:17: error: drill.calf_raises.steps[1].seconds:"
            ' expected a whole number of seconds, got "60s"'
        ],
    ),
    (
        "zero seconds",
        sub("{ seconds = 60, text", "{ seconds = 0, text"),
        [
            "custom.toml:10:17: error: drill.calf_raises.steps[1].seconds:"
            " must be 1 to 300 seconds, got 0"
        ],
    ),
    (
        "fractional seconds",
        sub("{ seconds = 60, text", "{ seconds = 59.5, text"),
        [
            "custom.toml:10:17: error: drill.calf_raises.steps[1].seconds:"
            " expected a whole number of seconds, got number 59.5"
        ],
    ),
    (
        "too short in total",
        sub(
            "{ seconds = 60, side",
            "{ seconds = 20, side",
            sub("seconds = 60, text", "seconds = 10, text"),
        ),
        [f"custom.toml:9:9: error: drill.calf_raises.steps: steps add up to 30 s; {RANGE}"],
    ),
    (
        "too long in total",
        sub("{ seconds = 60, text", "{ seconds = 250, text"),
        [f"custom.toml:9:9: error: drill.calf_raises.steps: steps add up to 310 s; {RANGE}"],
    ),
    (
        "bad side",
        sub('side = "left"', 'side = "both"'),
        [
            "custom.toml:11:28: error: drill.calf_raises.steps[2].side:"
            ' expected "left" or "right", got "both"'
        ],
    ),
    (
        "step text too long",
        sub('text = "Again."', 'text = "' + "a" * 121 + '"'),
        [
            "custom.toml:11:43: error: drill.calf_raises.steps[2].text:"
            " is 121 characters long; keep it within 120"
        ],
    ),
    (
        "blank step text",
        sub('text = "Again."', 'text = "  "'),
        [
            "custom.toml:11:43: error: drill.calf_raises.steps[2].text:"
            " expected some text, got an empty string"
        ],
    ),
    (
        "missing step text points at the step",
        sub(', text = "Again."', ""),
        ["custom.toml:11:5: error: drill.calf_raises.steps[2].text: missing required field"],
    ),
    (
        "missing safety points at the drill",
        sub('safety = "Hold the desk."\n', ""),
        ["custom.toml:3:1: error: drill.calf_raises.safety: missing required field"],
    ),
    (
        "bad id",
        sub('id = "calf_raises"', 'id = "Calf-Raises"'),
        [f'custom.toml:4:6: error: drill[1].id: {ID_RULE}, got "Calf-Raises"'],
    ),
    (
        "misspelt field",
        sub('safety = "Hold', 'safty = "Hold'),
        [
            "custom.toml:8:1: warning: drill.calf_raises.safty: unknown field (ignored)",
            "custom.toml:3:1: error: drill.calf_raises.safety: missing required field",
        ],
    ),
    (
        "duplicate id in one file",
        BASE + BASE.split("\n", 2)[2],
        [
            "custom.toml:14:6: error: drill.calf_raises.id:"
            ' duplicate id "calf_raises" (first defined on line 4)'
        ],
    ),
    (
        "wrong schema",
        sub("schema = 1", "schema = 2"),
        ["custom.toml:1:10: error: schema: expected schema = 1, got integer 2"],
    ),
    (
        "drill is not a table array",
        'drill = "x"\n',
        ['custom.toml:1:1: error: drill: expected [[drill]] tables, got "x"'],
    ),
    (
        "no steps",
        BASE[:STEPS_AT] + "steps = []\n",
        ["custom.toml:9:9: error: drill.calf_raises.steps: expected 1 to 40 steps, got 0"],
    ),
    (
        "steps not an array",
        BASE[:STEPS_AT] + 'steps = "x"\n',
        [
            "custom.toml:9:9: error: drill.calf_raises.steps:"
            ' expected an array like [{ seconds = 30, text = "..." }], got "x"'
        ],
    ),
    (
        "a step that is not a table",
        BASE[:STEPS_AT] + "steps = [5]\n",
        [
            "custom.toml:9:10: error: drill.calf_raises.steps[1]:"
            ' expected a table like { seconds = 30, text = "..." }, got integer 5'
        ],
    ),
    (
        "title not text",
        sub('title = "Calf raises"', "title = 5"),
        ["custom.toml:5:9: error: drill.calf_raises.title: expected text in quotes, got integer 5"],
    ),
    (
        "steps as [[drill.steps]] sections",
        """\
[[drill]]
id = "calf_raises"
title = "Calf raises"
category = "mobility"
tags = ["desk"]
safety = "Hold the desk."

[[drill.steps]]
seconds = 60
text = "Up and down."

[[drill.steps]]
seconds = "1m"
text = "Again."
""",
        [
            "custom.toml:13:11: error: drill.calf_raises.steps[2].seconds:"
            ' expected a whole number of seconds, got "1m"'
        ],
    ),
    (
        "cue text too long",
        '[[cue]]\nid = "glare"\ntext = "' + "b" * 121 + '"\n',
        ["custom.toml:3:8: error: cue.glare.text: is 121 characters long; keep it within 120"],
    ),
    (
        "a variant that names the drill itself",
        sub(
            'tags = ["desk", "standing"]\n', 'tags = ["desk", "standing"]\nharder = "calf_raises"\n'
        ),
        ["custom.toml:8:10: error: drill.calf_raises.harder: names the drill itself"],
    ),
    (
        "cue without text",
        '[[cue]]\nid = "glare"\n',
        ["custom.toml:1:1: error: cue.glare.text: missing required field"],
    ),
    (
        "cue sources not an array",
        '[[cue]]\nid = "glare"\ntext = "Tilt the screen."\nsources = "S1"\n',
        [
            "custom.toml:4:11: error: cue.glare.sources:"
            ' expected an array like ["S30", "https://..."], got "S1"'
        ],
    ),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CORPUS], ids=[c[0] for c in CORPUS])
def test_error_corpus(text: str, expected: list[str]) -> None:
    checked = parse_content(text, "custom.toml")
    assert [d.headline() for d in checked.diagnostics] == expected
    assert not checked.ok


def test_an_error_shows_the_line_and_a_caret() -> None:
    checked = parse_content(sub('side = "left"', 'side = "both"'), "custom.toml")
    assert checked.diagnostics[0].format() == (
        "custom.toml:11:28: error: drill.calf_raises.steps[2].side:"
        ' expected "left" or "right", got "both"\n'
        '  11 |     { seconds = 60, side = "both", text = "Again." },\n'
        "                                  ^"
    )


def test_invalid_toml_is_reported_like_config() -> None:
    checked = parse_content(sub('title = "Calf raises"', 'title = "Calf raises'), "custom.toml")
    (diag,) = checked.diagnostics
    assert diag.headline().startswith("custom.toml:5:21: error: invalid TOML: ")
    assert diag.source == 'title = "Calf raises'


def test_unknown_fields_are_warnings_and_the_file_still_loads() -> None:
    text = sub(
        'safety = "Hold the desk."\n', 'safety = "Hold the desk."\ncolour = "red"\n'
    ).replace('side = "left", ', 'side = "left", reps = 5, ')
    checked = parse_content(text, "custom.toml")
    assert [d.headline() for d in checked.diagnostics] == [
        "custom.toml:9:1: warning: drill.calf_raises.colour: unknown field (ignored)",
        "custom.toml:12:36: warning: drill.calf_raises.steps[2].reps: unknown field (ignored)",
    ]
    assert checked.ok
    assert [d.id for d in checked.drills] == ["calf_raises"]


def test_positions_survive_multiline_strings_and_comments() -> None:
    text = sub(
        'safety = "Hold the desk."',
        'safety = """Hold\nthe desk. [not a header]\n"""  # comment ]',
    ).replace('"Again."', '"Again.", side2 = 1')
    checked = parse_content(text, "custom.toml")
    assert [d.headline() for d in checked.diagnostics] == [
        "custom.toml:13:53: warning: drill.calf_raises.steps[2].side2: unknown field (ignored)"
    ]
    assert checked.diagnostics[0].hint == "did you mean side?"


def test_a_valid_custom_file_loads() -> None:
    checked = parse_content(BASE, "custom.toml")
    assert checked.ok
    assert checked.diagnostics == ()
    (drill,) = checked.drills
    assert drill.seconds == 120
    assert drill.steps[1].side == "left"
    assert drill.sources == ()


def test_custom_drills_may_last_one_to_five_minutes() -> None:
    for first, second, ok in ((5, 54, False), (5, 55, True), (240, 60, True), (241, 60, False)):
        text = sub("{ seconds = 60, text", f"{{ seconds = {first}, text")
        text = text.replace("seconds = 60, side", f"seconds = {second}, side")
        checked = parse_content(text, "custom.toml")
        assert checked.ok is ok, (first, second)


#: 16 words: more than 5 s of reading at 3 words a second
WORDY = "Rise onto your toes, hold the desk with both hands, and lower your heels down slowly."


@pytest.mark.parametrize(("seconds", "ok"), [(4, False), (5, False), (6, True)])
def test_a_step_lasts_at_least_as_long_as_its_text_takes_to_read(seconds: int, ok: bool) -> None:
    """Step 1 is replaced by step 2 after its ``seconds``: a text read at 3 words a
    second (at least 5 s) must fit in them, in custom files as in the shipped one."""
    assert len(WORDY.split()) == 16
    assert reading_seconds(WORDY) == 6
    text = sub(
        '{ seconds = 60, text = "Rise onto your toes and lower, slowly." }',
        f'{{ seconds = {seconds}, text = "{WORDY}" }},'
        f' {{ seconds = {60 - seconds}, text = "Rest." }}',
    )
    checked = parse_content(text, "custom.toml")
    assert checked.ok is ok
    if not ok:
        (diag,) = checked.diagnostics
        assert diag.headline() == (
            f"custom.toml:10:17: error: drill.calf_raises.steps[1].seconds: is {seconds} s,"
            " too short to read its 16 words before the next step replaces them;"
            " give it at least 6 s or shorten the text"
        )
    short = sub("{ seconds = 60, text", "{ seconds = 4, text").replace(
        "seconds = 60, side", "seconds = 116, side"
    )
    (diag,) = parse_content(short, "custom.toml").diagnostics  # 7 words, still 5 s
    assert "is 4 s, too short to read its 7 words" in diag.message
    assert "at least 5 s" in diag.message


def test_an_empty_file_is_a_warning() -> None:
    checked = parse_content("schema = 1\n", "custom.toml")
    assert [d.headline() for d in checked.diagnostics] == [
        "custom.toml: warning: no [[cue]] or [[drill]] tables in this file"
    ]
    assert checked.ok


def test_builtin_rules_are_stricter() -> None:
    checked = parse_content(BASE, "drills.toml", builtin=True, known_sources={"S1"})
    assert [d.headline() for d in checked.diagnostics] == [
        "drills.toml:3:1: error: drill.calf_raises.sources: missing required field"
    ]
    text = sub('safety = "Hold the desk."\n', 'safety = "Hold the desk."\nsources = ["S99"]\n')
    checked = parse_content(text, "drills.toml", builtin=True, known_sources={"S1"})
    assert [d.headline() for d in checked.diagnostics] == [
        "drills.toml:9:12: error: drill.calf_raises.sources:"
        ' unknown source "S99" (see sources.toml)'
    ]
    text = text.replace('["S99"]', '["S1"]').replace("seconds = 60, side", "seconds = 50, side")
    checked = parse_content(text, "drills.toml", builtin=True, known_sources={"S1"})
    assert [d.headline() for d in checked.diagnostics] == [
        "drills.toml:10:9: error: drill.calf_raises.steps:"
        " steps add up to 110 s; a built-in drill lasts exactly 120 s"
    ]


def test_content_error_carries_diagnostics() -> None:
    checked = parse_content('drill = "x"\n', "drills.toml", builtin=True)
    error = ContentError(checked.diagnostics)
    assert error.diagnostics == list(checked.diagnostics)
    assert str(error) == 'drills.toml:1:1: error: drill: expected [[drill]] tables, got "x"'


# ---------------------------------------------------------- loading dirs


def _write(folder: Path, name: str, text: str | bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_a_broken_custom_file_never_hides_the_builtin_library(tmp_path: Path) -> None:
    user = tmp_path / "user"
    bad = _write(user, "a_bad.toml", sub('"mobility"', '"calfs"'))
    _write(user, "b_good.toml", BASE.replace("calf_raises", "calf_raises_2"))
    library, diags = load_library([user])
    builtin = builtin_library()
    assert library.drills[: len(builtin.drills)] == builtin.drills
    assert library.cues == builtin.cues
    assert [d.id for d in library.drills[len(builtin.drills) :]] == ["calf_raises_2"]
    assert [d.headline() for d in diags] == [
        f'{bad}:6:12: error: drill.calf_raises.category: {CATS}, got "calfs"',
        f"{bad}: warning: skipped this file (1 error);"
        " the built-in library and other content files still load",
    ]
    assert select(library).drills  # the rotation still works


def test_one_error_skips_the_whole_file(tmp_path: Path) -> None:
    text = BASE + '\n[[cue]]\nid = "glare"\ntext = "Tilt the screen."\n'
    text = text.replace('side = "left"', 'side = "up"')
    _write(tmp_path, "mixed.toml", text)
    library, diags = load_library([tmp_path])
    assert library.drill("calf_raises") is None
    assert "glare" not in {cue.id for cue in library.cues}
    assert diags[-1].message.startswith("skipped this file (1 error)")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe not utf-8", "invalid TOML: the file is not UTF-8 text"),
        (b"[[drill]\n", "invalid TOML: "),
    ],
)
def test_unreadable_files_are_skipped(tmp_path: Path, content: bytes, message: str) -> None:
    bad = _write(tmp_path, "bad.toml", content)
    library, diags = load_library([tmp_path])
    assert library.drills == builtin_library().drills
    assert diags[0].path == str(bad)
    assert diags[0].message.startswith(message)
    assert diags[0].severity == "error"
    assert diags[1].message.startswith("skipped this file")


def test_missing_folders_and_other_files_are_ignored(tmp_path: Path) -> None:
    _write(tmp_path / "there", "notes.txt", "not content")
    _write(tmp_path, "not_a_dir", "x")
    library, diags = load_library([tmp_path / "absent", tmp_path / "there", tmp_path / "not_a_dir"])
    assert diags == []
    assert library.drills == builtin_library().drills


def test_custom_content_may_replace_a_builtin_drill_with_a_warning(tmp_path: Path) -> None:
    path = _write(tmp_path, "mine.toml", BASE.replace("calf_raises", "hinge_wall"))
    library, diags = load_library([tmp_path])
    assert [d.headline() for d in diags] == [
        f"{path}:4:6: warning: drill.hinge_wall: replaces the drill with this id from"
        " the built-in library"
    ]
    drill = library.drill("hinge_wall")
    assert drill is not None
    assert drill.title == "Calf raises"
    assert library.origin("hinge_wall") == str(path)
    # it keeps the built-in drill's place in the library
    assert [d.id for d in library.drills] == [d.id for d in builtin_library().drills]


def test_policy_content_wins_over_user_content(tmp_path: Path) -> None:
    user = _write(tmp_path / "user", "mine.toml", BASE)
    policy = _write(tmp_path / "policy", "it.toml", BASE.replace("Calf raises", "IT calf raises"))
    library, diags = load_library([tmp_path / "user", tmp_path / "policy"])
    drill = library.drill("calf_raises")
    assert drill is not None
    assert drill.title == "IT calf raises"
    assert library.origin("calf_raises") == str(policy)
    assert [d.headline() for d in diags] == [
        f"{policy}:4:6: warning: drill.calf_raises: replaces the drill with this id from {user}"
    ]


def test_custom_cues_join_after_the_builtin_ones(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "cues.toml",
        '[[cue]]\nid = "glare"\ntext = "Tilt the screen away from bright windows."\n'
        '[[cue]]\nid = "feet"\ntext = "Both feet on the floor."\nsources = ["Clinic handout"]\n',
    )
    library, diags = load_library([tmp_path])
    ids = [cue.id for cue in library.cues]
    assert ids == [cue.id for cue in builtin_library().cues] + ["glare"]
    assert library.cues[0].text == "Both feet on the floor."
    assert library.origin("feet", "cue") == str(tmp_path / "cues.toml")
    assert [d.message for d in diags] == ["replaces the cue with this id from the built-in library"]


def test_custom_drills_join_the_rotation(tmp_path: Path) -> None:
    _write(tmp_path, "mine.toml", BASE)
    library, _ = load_library([tmp_path])
    content = select(library)
    assert "calf_raises" in [d.id for d in content.drills]
    assert content.drill("calf_raises") is not None


def test_a_variant_must_name_a_drill_of_the_library(tmp_path: Path) -> None:
    user = tmp_path / "user"
    path = _write(
        user,
        "calf.toml",
        sub(
            'tags = ["desk", "standing"]\n',
            'tags = ["desk", "standing"]\neasier = "hip_circles_march"\nharder = "calf_jumps"\n',
        ),
    )
    library, diags = load_library([user])
    calf = library.drill("calf_raises")
    assert calf is not None
    assert (calf.easier, calf.harder) == ("hip_circles_march", "calf_jumps")
    assert [d.headline() for d in diags] == [
        f'{path}: warning: drill "calf_raises": harder = "calf_jumps" names no drill in the'
        " library (ignored)"
    ]


def test_the_shipped_variants_are_true_pairs() -> None:
    library = builtin_library()
    pairs = {(d.id, d.harder) for d in library.drills if d.harder}
    assert pairs == {
        ("hipflexor_standing", "hipflexor_half_kneel"),
        ("hinge_wall", "good_morning_bw"),
        ("good_morning_bw", "hinge_dowel"),
        ("hip_abduction_standing", "lateral_band_walk"),
    }
    # every step up has its step down, within one category
    assert {(d.easier, d.id) for d in library.drills if d.easier} == pairs
    for easy, hard in pairs:
        a, b = library.drill(easy), library.drill(hard)
        assert a is not None
        assert b is not None
        assert a.category == b.category
    assert unknown_variants(library.drills) == []
    lone = [d for d in library.drills if d.id != "good_morning_bw"]  # a chain with a gap
    assert sorted((d.id, name, ident) for d, name, ident in unknown_variants(lone)) == [
        ("hinge_dowel", "easier", "good_morning_bw"),
        ("hinge_wall", "harder", "good_morning_bw"),
    ]
