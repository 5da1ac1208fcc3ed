"""``ergobreak routines list`` and ``ergobreak routines show``."""

from __future__ import annotations

import json
from functools import partial
from html import escape
from pathlib import Path
from xml.etree import ElementTree

import pytest
from scaffold import DEFAULT_ROTATION
from scaffold import cli as run_cli

from ergobreak.cli import main
from ergobreak.content import builtin_library, library, safety_text, sources

CUSTOM = """\
[[drill]]
id = "calf_raises"
title = "Calf raises"
category = "mobility"
tags = ["desk", "standing"]
safety = "Hold the desk."
sources = ["Clinic handout 2025", "S37"]
steps = [
    { seconds = 30, text = "Rise onto your toes and lower, slowly." },
    { seconds = 30, side = "left", text = "Left foot only, holding the desk." },
]
"""


cli = partial(run_cli, "routines")


@pytest.fixture(autouse=True)
def content_folders(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No real files (``isolated``), and the user and policy content folders under
    tmp_path (not created)."""
    dirs = (isolated / "user", isolated / "policy")
    monkeypatch.setattr(library, "content_dirs", lambda: dirs)
    return isolated


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------- list


def test_list_shows_every_drill_and_the_rotation() -> None:
    code, out, err = cli("list")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["#", "id", "category", "seconds", "tags", "title"]
    assert lines[1].split()[:4] == ["1", "hipflexor_standing", "hip_flexor", "120"]
    assert lines[1].endswith("Standing hip-flexor stretch")
    assert "desk, standing, balance" in lines[1]
    rows = {line.split()[1]: line.split()[0] for line in lines[1:15]}
    assert set(rows) == {d.id for d in builtin_library().drills}
    assert [
        ident
        for ident, _ in sorted(
            ((i, n) for i, n in rows.items() if n != "-"), key=lambda item: int(item[1])
        )
    ] == DEFAULT_ROTATION
    assert "Rotation: 8 of 14 drills (default settings)." in out
    assert "  glute_bridge          floor work (routines.floor = false)" in out
    assert "  seated_reset          category seated is not in routines.categories" in out


def test_list_json() -> None:
    code, out, err = cli("list", "--json")
    assert (code, err) == (0, "")
    rows = json.loads(out)
    assert [row["id"] for row in rows] == [d.id for d in builtin_library().drills]
    first = rows[0]
    assert first == {
        "id": "hipflexor_standing",
        "title": "Standing hip-flexor stretch",
        "category": "hip_flexor",
        "tags": ["desk", "standing", "balance"],
        "seconds": 120,
        "rotation": 1,
        "left_out": None,
        "origin": "built-in",
    }
    by_id = {row["id"]: row for row in rows}
    assert [r["id"] for r in sorted(rows, key=lambda r: r["rotation"] or 99)][:8] == (
        DEFAULT_ROTATION
    )
    assert by_id["hinge_dowel"]["rotation"] is None
    assert by_id["hinge_dowel"]["left_out"] == "needs stick (routines.equipment)"
    assert all(row["seconds"] == 120 for row in rows)


def test_list_follows_the_config(tmp_path: Path) -> None:
    config = write(tmp_path / "c.toml", '[routines]\nfloor = true\ncategories = ["glutes"]\n')
    code, out, err = cli("list", "--json", "--config", str(config))
    assert (code, err) == (0, "")
    placed = {row["id"]: row["rotation"] for row in json.loads(out) if row["rotation"]}
    assert placed == {
        "glute_squeeze_backlift": 1,
        "hip_abduction_standing": 2,
        "glute_bridge": 3,
        "clamshell": 4,
    }


def test_list_reads_the_user_config_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write(tmp_path / "config.toml", "[routines]\nprefer_seated = true\n")
    monkeypatch.setenv("ERGOBREAK_CONFIG", str(config))
    code, out, _ = cli("list")
    assert code == 0
    assert f"Rotation: 2 of 14 drills ({config})." in out


def test_list_with_an_empty_rotation_explains_and_fails(tmp_path: Path) -> None:
    config = write(
        tmp_path / "c.toml", '[routines]\ncategories = ["seated"]\nexclude_tags = ["desk"]\n'
    )
    code, out, err = cli("list", "--config", str(config))
    assert code == 1
    assert err.startswith(
        f"{config}:1:1: error: routines: no drill is eligible:"
        ' routines.categories = ["seated"] selects 1 drill;'
        ' routines.exclude_tags = ["desk"] removes seated_reset\n'
    )
    assert "No rotation: see the error above" in out
    assert "\n-  seated_reset" in out


def test_list_with_a_broken_config_fails(tmp_path: Path) -> None:
    config = write(tmp_path / "c.toml", "[routines]\nfloor = 1\n")
    code, out, err = cli("list", "--config", str(config))
    assert (code, out) == (1, "")
    assert err.startswith(f"{config}:2:9: error: routines.floor: expected true or false")


def test_list_marks_custom_drills_and_reports_broken_files(isolated: Path) -> None:
    write(isolated / "policy" / "clinic.toml", CUSTOM)
    bad = write(isolated / "user" / "mine.toml", CUSTOM.replace('"mobility"', '"calves"'))
    code, out, err = cli("list")
    assert code == 0
    assert "calf_raises" in out
    assert "Calf raises (custom)" in out
    assert err.splitlines()[0] == (
        f"{bad}:4:12: error: drill.calf_raises.category: expected one of hip_flexor, hinge,"
        ' mobility, glutes, seated, got "calves"'
    )
    assert f"{bad}: warning: skipped this file (1 error)" in err
    code, out, _ = cli("list", "--json")
    rows = {row["id"]: row for row in json.loads(out)}
    assert rows["calf_raises"]["origin"] == str(isolated / "policy" / "clinic.toml")
    assert rows["calf_raises"]["seconds"] == 60
    assert rows["calf_raises"]["rotation"] is not None


# ------------------------------------------------------------------- show


def test_show_prints_steps_with_start_times_safety_and_sources() -> None:
    code, out, err = cli("show", "hipflexor_standing")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "Standing hip-flexor stretch (hipflexor_standing)"
    assert lines[1] == "hip_flexor, 2:00, tags: desk, standing, balance"
    assert lines[2] == "A gentle stretch for the front of the hips, standing beside your desk."
    steps = [line.split()[:3] for line in lines[4:9]]
    assert steps == [
        ["0:00", "15", "s"],
        ["0:15", "40", "s"],
        ["0:55", "5", "s"],
        ["1:00", "40", "s"],
        ["1:40", "20", "s"],
    ]
    assert lines[5].split()[3] == "left"
    assert lines[7].split()[3] == "right"
    assert lines[9].split() == ["2:00", "done"]
    drill = builtin_library().drill("hipflexor_standing")
    assert drill is not None
    assert f"Safety: {drill.safety}" in lines
    assert safety_text()["footer"] in lines
    for ref in drill.sources:
        assert f"  {ref}  {sources()[ref].title}" in lines
        for url in sources()[ref].urls:
            assert f"      {url}" in lines
    assert lines[-1] == "Stop rules, red flags and when to see a professional: ergobreak safety"


def test_show_json() -> None:
    code, out, err = cli("show", "hinge_wall", "--json")
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert doc["id"] == "hinge_wall"
    assert doc["seconds"] == 120
    assert [s["start"] for s in doc["steps"]] == [0, 10, 15, 20, 60, 70, 110]
    assert [s["pose"] for s in doc["steps"]][2:4] == ["wall_soft", "wall_hinge_reps"]
    assert sum(s["seconds"] for s in doc["steps"]) == 120
    assert doc["footer"] == safety_text()["footer"]
    assert doc["sources"][0] == {
        "id": "S52",
        "title": sources()["S52"].title,
        "urls": list(sources()["S52"].urls),
    }
    assert doc["origin"] == "built-in"


def test_show_unknown_id_suggests_a_close_one() -> None:
    code, out, err = cli("show", "hinge_wal")
    assert (code, out) == (1, "")
    assert err == (
        "ergobreak routines show: no routine named 'hinge_wal' (did you mean hinge_wall?);"
        " see: ergobreak routines list\n"
    )
    code, _, err = cli("show", "zzz")
    assert code == 1
    assert "did you mean" not in err


def test_show_a_custom_drill(isolated: Path) -> None:
    path = write(isolated / "user" / "mine.toml", CUSTOM)
    code, out, err = cli("show", "calf_raises")
    assert (code, err) == (0, "")
    assert f"from {path}" in out
    assert "  Clinic handout 2025" in out.splitlines()
    assert f"  S37  {sources()['S37'].title}" in out.splitlines()
    assert "   1:00  done" in out.splitlines()


def test_routines_without_an_action_prints_help() -> None:
    code, out, _ = cli()
    assert code == 2
    assert "list" in out
    assert "show" in out


def test_top_level_help_lists_routines(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "routines" in capsys.readouterr().out


def test_safety_prints_every_packaged_safety_text() -> None:
    code, out, err = run_cli("safety")
    assert (code, err) == (0, "")
    flat = " ".join(out.split())
    for text in safety_text().values():
        assert " ".join(text.split()) in flat
    headings = [line for line in out.splitlines() if line and not line.startswith(" ")]
    assert headings[:3] == ["About ergobreak", "When to stop", "When to get emergency help"]
    assert "docs/" not in out


def test_the_trays_safety_page_is_made_from_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ergobreak import opener

    opened: list[Path] = []

    def record(path: Path) -> dict[str, object]:
        opened.append(path)
        return {"ok": True}

    monkeypatch.setattr(opener, "open_path", record)
    assert opener.open_safety(tmp_path) == {"ok": True}
    [page] = opened
    html = page.read_text(encoding="utf-8")
    assert "<h2>When to stop</h2>" in html
    for heading, text in opener.safety_sections():
        assert f"<h2>{escape(heading)}</h2>" in html
        assert escape(text.split("\n\n")[0]) in html
    assert "docs/" not in html


# ------------------------------------------------------------------- show --html

SVG = "{http://www.w3.org/2000/svg}svg"


def parse(text: str) -> ElementTree.Element:
    """Our own page or sheet as XML: well-formed, or this raises."""
    return ElementTree.fromstring(text.removeprefix("<!DOCTYPE html>\n"))  # noqa: S314


def _page(drill_id: str) -> tuple[str, ElementTree.Element]:
    code, out, err = cli("show", drill_id, "--html")
    assert (code, err) == (0, "")
    return out, parse(out)


def test_show_html_is_a_well_formed_page_with_the_safety_note_first() -> None:
    drill = builtin_library().drill("hipflexor_half_kneel")
    assert drill is not None
    out, root = _page(drill.id)
    assert out.startswith("<!DOCTYPE html>\n")
    assert root.findtext("head/title") == drill.title
    body = root.find("body")
    assert body is not None
    assert [child.tag for child in body][:2] == ["h1", "p"]
    assert "".join(body[1].itertext()) == f"Safety: {drill.safety}"
    steps = body.findall("ol/li")
    assert len(steps) == len(drill.steps)
    for li, step in zip(steps, drill.steps, strict=True):
        assert len(li.findall(SVG)) == 1
        text = [p.text for p in li.iter("p")]
        assert step.text in text
        assert (step.side.capitalize() if step.side else None) in [*text, None]
    assert "Left" in out
    assert "Right" in out
    assert "40 s" in out
    assert "5 s" in out


def test_show_html_draws_one_picture_per_step_of_every_drill_mirrored_per_side() -> None:
    from ergobreak.artwork.figure import Look, scene
    from ergobreak.artwork.shapes import to_svg

    for drill in builtin_library().drills:
        out, root = _page(drill.id)
        assert len(list(root.iter(SVG))) == len(drill.steps), drill.id
        first = drill.steps[0]
        assert first.pose is not None
        shapes = scene(first.pose, 0.0, side=first.side, size=160, look=Look.standard(), still=True)
        assert to_svg(shapes, 160, title="Step 1").strip() in out
    # the same pose, left then right: two different (mirrored) pictures
    out, root = _page("hipflexor_standing")
    pictures = [ElementTree.tostring(svg) for svg in root.iter(SVG)]
    assert pictures[0] != pictures[2]


def test_show_html_escapes_custom_text_and_shows_text_only_for_an_unknown_pose(
    isolated: Path,
) -> None:
    path = write(
        isolated / "user" / "mine.toml",
        CUSTOM.replace("Hold the desk.", "Hold the <desk> & breathe.")
        .replace('{ seconds = 30, text = "Rise', '{ seconds = 30, pose = "stand", text = "Rise')
        .replace('side = "left", text', 'side = "left", pose = "moonwalk", text'),
    )
    code, out, err = cli("show", "calf_raises", "--html")
    assert code == 0
    line = CUSTOM.splitlines().index(
        '    { seconds = 30, side = "left", text = "Left foot only, holding the desk." },'
    )
    assert f"{path}:{line + 1}" in err
    assert "warning: drill.calf_raises.steps[2].pose: unknown pose `moonwalk`" in err
    assert "the step shows text only" in err
    assert "Hold the &lt;desk&gt; &amp; breathe." in out
    root = parse(out)
    first, second = root.findall("body/ol/li")
    assert len(first.findall(SVG)) == 1  # a known pose in custom content is drawn
    assert second.findall(SVG) == []
    assert library.load_library([isolated / "user"])[0].drill("calf_raises") is not None


def test_an_unknown_pose_is_not_checked_when_the_caller_names_no_poses(isolated: Path) -> None:
    write(isolated / "user" / "mine.toml", CUSTOM.replace("side = ", 'pose = "moonwalk", side = '))
    loaded, diags = library.load_library([isolated / "user"])
    assert diags == []
    drill = loaded.drill("calf_raises")
    assert drill is not None
    assert drill.steps[1].pose == "moonwalk"
    checked, diags = library.load_library([isolated / "user"], known_poses={"stand"})
    assert [d.severity for d in diags] == ["warning"]
    drill = checked.drill("calf_raises")
    assert drill is not None
    assert drill.steps[1].pose is None


# ------------------------------------------------------------------- docs sheets

DOCS = Path(__file__).parent.parent / "docs"


def test_the_docs_pose_sheets_are_up_to_date() -> None:
    from ergobreak.cli.routines import drill_sheet

    drills = builtin_library().drills
    for drill in drills:
        sheet = DOCS / "poses" / f"{drill.id}.svg"
        assert sheet.exists(), "run: python -m ergobreak.cli.routines --sheets docs/poses"
        assert sheet.read_text(encoding="utf-8") == drill_sheet(drill), (
            f"{sheet.name} is out of date: python -m ergobreak.cli.routines --sheets docs/poses"
        )
        root = parse(sheet.read_text(encoding="utf-8"))
        assert root.get("width") == str(120 * len(drill.steps))
    assert {p.stem for p in (DOCS / "poses").glob("*.svg")} == {d.id for d in drills}
    content = (DOCS / "content.md").read_text(encoding="utf-8")
    for drill in drills:
        assert f"](poses/{drill.id}.svg)" in content, drill.id
