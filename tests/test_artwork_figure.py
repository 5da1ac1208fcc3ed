"""The drill figure as shapes and SVG: snapshots of every pose and every motion's
keyframes, and what holds at any moment of any motion.

After changing a pose, look at the new pictures and regenerate the snapshots with
``python -m ergobreak.artwork.figure --snapshots tests/snapshots/poses``.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from ergobreak.artwork import figure
from ergobreak.artwork.figure import Look, known, period, scene
from ergobreak.artwork.shapes import Arc, Disc, Poly, Rect, Shape, Stroke, to_svg
from ergobreak.content.library import builtin_library

SNAPSHOTS = Path(__file__).parent / "snapshots" / "poses"
REGENERATE = "python -m ergobreak.artwork.figure --snapshots tests/snapshots/poses"


@pytest.mark.parametrize(("stem", "name", "t", "still"), figure.snapshot_frames())
def test_the_svg_matches_its_snapshot(stem: str, name: str, t: float, still: bool) -> None:
    path = SNAPSHOTS / f"{stem}.svg"
    assert path.exists(), f"no snapshot {path.name}: run `{REGENERATE}`"
    got = figure.snapshot_svg(name, t, still)
    assert got == path.read_text(encoding="utf-8"), (
        f"{stem} differs from its snapshot; if the change is meant, run `{REGENERATE}`"
    )


def test_no_snapshot_is_left_over() -> None:
    stems = {stem for stem, *_ in figure.snapshot_frames()}
    assert {p.stem for p in SNAPSHOTS.glob("*.svg")} == stems


def test_every_shipped_step_has_a_known_pose() -> None:
    for drill in builtin_library().drills:
        for number, step in enumerate(drill.steps, 1):
            assert step.pose is not None, f"{drill.id} step {number} has no pose"
            assert known(step.pose), f"{drill.id} step {number}: unknown {step.pose}"
    assert not known("moonwalk")


def test_period_is_the_sum_of_a_motions_keyframes() -> None:
    assert period("good_morning") == pytest.approx(6.0)  # 3 s down, 1 s pause, 2 s up
    assert period("wall_hinge_reps") == pytest.approx(6.0)
    assert period("hinge_deep") == 0.0


def _points(shape: Shape) -> list[tuple[float, float]]:
    match shape:
        case Disc() | Arc():
            return [
                (shape.cx - shape.r, shape.cy - shape.r),
                (shape.cx + shape.r, shape.cy + shape.r),
            ]
        case Rect():
            return [(shape.x0, shape.y0), (shape.x1, shape.y1)]
        case Poly() | Stroke():
            return list(shape.points)
    raise AssertionError(shape)


@pytest.mark.parametrize("name", figure.names())
def test_any_moment_is_finite_and_inside_the_box(name: str) -> None:
    size = 160.0
    span = max(period(name), 1.0)
    for i in range(41):
        shapes = scene(name, span * i / 40, side="right", size=size, look=Look.standard())
        assert isinstance(shapes[0], Rect)
        assert shapes[0].color == Look.standard().background
        for shape in shapes:
            for x, y in _points(shape):
                assert math.isfinite(x)
                assert math.isfinite(y)
                assert -0.5 <= x <= size + 0.5, (name, i, shape)
                assert -0.5 <= y <= size + 0.5, (name, i, shape)


def _mirror(shape: Shape, size: float) -> Shape:
    match shape:
        case Disc():
            return Disc(size - shape.cx, shape.cy, shape.r, shape.color)
        case Rect():
            return Rect(size - shape.x1, shape.y0, size - shape.x0, shape.y1, shape.color)
        case Stroke():
            pts = tuple((size - x, y) for x, y in shape.points)
            return Stroke(pts, shape.width, shape.color, shape.closed)
    raise AssertionError(shape)


def _rounded(shapes: list[Shape]) -> str:
    return to_svg(shapes, 200)


@pytest.mark.parametrize("name", figure.names())
def test_left_is_the_mirror_image_of_right(name: str) -> None:
    look = Look.standard()
    for t in (0.0, 0.37, 1.3):
        right = scene(name, t, side="right", size=200, look=look)
        left = scene(name, t, side="left", size=200, look=look)
        assert _rounded([_mirror(s, 200) for s in right]) == _rounded(left)


def test_the_working_side_is_drawn_in_the_accent_and_only_with_a_side() -> None:
    look = Look.standard()
    sided = scene("split_stretch", 0.0, side="left", size=160, look=look)
    plain = scene("split_stretch", 0.0, side=None, size=160, look=look)
    assert any(getattr(s, "color", None) == look.accent for s in sided)
    assert not any(getattr(s, "color", None) == look.accent for s in plain)


def test_still_shows_the_motions_key_pose_at_any_time() -> None:
    look = Look.standard()
    assert figure.figure_at("good_morning", 2.0, still=True) == figure.figure_at("hinge_deep", 0)
    stills = {
        _rounded(scene("good_morning", t, side=None, size=160, look=look, still=True))
        for t in (0.0, 1.0, 4.5)
    }
    assert len(stills) == 1
    moving = {
        _rounded(scene("good_morning", t, side=None, size=160, look=look)) for t in (0.5, 2.0, 5.0)
    }
    assert len(moving) == 3


def test_high_contrast_uses_its_own_colours() -> None:
    hc, std = Look.high_contrast(), Look.standard()
    assert hc != std
    assert hc.body == (0, 0, 0, 255)
    assert hc.background == (255, 255, 255, 255)
    shapes = scene("stand", 0.0, side="right", size=160, look=hc)
    assert {getattr(s, "color", None) for s in shapes} <= {
        hc.background,
        hc.body,
        hc.far,
        hc.accent,
        hc.prop,
    }


def test_the_figure_fills_the_box_readably_at_160_px() -> None:
    shapes = scene("stand", 0.0, side="right", size=160, look=Look.standard())
    ys = [y for s in shapes[2:] for _, y in _points(s)]
    assert max(ys) - min(ys) > 110  # a standing figure at least 110 px tall
    widths = [s.width for s in shapes if isinstance(s, Stroke) and s.color != Look.standard().prop]
    assert min(widths) >= 4.0  # the thinnest limb at least 4 px


def _lib(text: str) -> figure.Library:
    from ergobreak.tomlfile.read import tomllib

    return figure.parse_library(tomllib.loads(text))


def test_the_pose_file_is_checked_as_it_loads() -> None:
    ok = '[pose.a]\nview = "side"\ncontacts = ["near_foot:floor"]\nangles = { hip_near = 10 }\n'
    assert _lib(ok).poses["a"].angle("hip_near") == 10
    with pytest.raises(ValueError, match="not side-view angles"):
        _lib(ok.replace("hip_near", "fold_near"))
    with pytest.raises(ValueError, match="contact"):
        _lib(ok.replace("near_foot:floor", "nose:floor"))
    with pytest.raises(ValueError, match="view"):
        _lib(ok.replace('"side"', '"top"'))
    frames = '[{ pose = "a", seconds = 1 }, { pose = "b", seconds = 1 }]'
    mixed = f'{ok}[pose.b]\nview = "front"\ncontacts = ["side:floor"]\n'
    mixed += f'[motion.m]\nkey = "a"\nframes = {frames}\n'
    with pytest.raises(ValueError, match="one view"):
        _lib(mixed)
