"""The tray icon's pixels: snapshots of every state, and what must hold whatever the art.

Snapshots live in ``tests/snapshots/tray/<state>-<size>.png``. After changing the
artwork on purpose, look at the new images and rewrite them with::

    ERGOBREAK_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/test_tray_icon.py
    .venv/bin/python icons/make_icons.py        # the exported app icons, too
"""

from __future__ import annotations

import dataclasses
import io
import itertools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat
from tray_views import VIEWS, WALL

from ergobreak.artwork.badge import (
    BADGE,
    BUCKETS,
    COLOURS,
    DIM_GLYPH,
    GLYPH,
    KINDS,
    TRACK,
    Kind,
    Look,
)
from ergobreak.artwork.raster import Bitmap
from ergobreak.tray.icon import argb32, icon_key, progress_bucket, render_set, to_image
from ergobreak.tray.icon import render as render_bitmap
from ergobreak.tray.model import TrayState

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots" / "tray"
UPDATE = os.environ.get("ERGOBREAK_UPDATE_SNAPSHOTS") == "1"

#: one representative look per state
LOOKS: dict[Kind, Look] = {
    "working": Look("working", progress=10),
    "away": Look("away", progress=10),
    "snoozed": Look("snoozed"),
    "prompt": Look("prompt"),
    "drill": Look("drill", steps=5, left=3),
    "paused": Look("paused", progress=6),
    "quiet": Look("quiet", progress=16),
    "off_hours": Look("off_hours"),
    "error": Look("error"),
}
LIGHT_PANEL = (240, 240, 240)
DARK_PANEL = (32, 32, 32)


def render(look: Look, size: int) -> Image.Image:
    """The live icon's bitmap as a Pillow image, to measure it."""
    image: Image.Image = to_image(render_bitmap(look, size))
    return image


def on(background: tuple[int, int, int], image: Image.Image) -> Image.Image:
    tile = Image.new("RGBA", image.size, (*background, 255))
    tile.alpha_composite(image)
    return tile.convert("RGB")


def pixels(image: Image.Image) -> list[tuple[int, ...]]:
    rgb = image.convert("RGB")
    data = rgb.tobytes()
    return [tuple(data[i : i + 3]) for i in range(0, len(data), 3)]


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    diff = ImageChops.difference(a.convert("RGBA"), b.convert("RGBA"))
    return sum(ImageStat.Stat(diff).mean) / 4


def luminance(rgb: tuple[int, ...]) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


# --------------------------------------------------------------------------- snapshots


def test_every_state_has_a_snapshot_look() -> None:
    assert set(LOOKS) == set(KINDS)


@pytest.mark.parametrize("size", [22, 48])
@pytest.mark.parametrize("kind", KINDS)
def test_snapshot(kind: Kind, size: int) -> None:
    image = render(LOOKS[kind], size)
    path = SNAPSHOTS / f"{kind}-{size}.png"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(render_bitmap(LOOKS[kind], size).png())
    assert path.exists(), f"no snapshot {path.name}: run with ERGOBREAK_UPDATE_SNAPSHOTS=1"
    with Image.open(path) as reference:
        assert reference.size == (size, size)
        # the rasteriser is deterministic pure Python; the tolerance only lets tiny
        # deliberate tweaks through without a new snapshot
        assert mean_difference(image, reference) < 1.5


# --------------------------------------------------------------------------- properties


@pytest.mark.parametrize("size", [16, 22, 48])
def test_states_look_different_from_each_other(size: int) -> None:
    for (a, la), (b, lb) in itertools.combinations(LOOKS.items(), 2):
        assert mean_difference(render(la, size), render(lb, size)) > 4, (a, b)


@pytest.mark.parametrize("size", [16, 22, 48])
@pytest.mark.parametrize("kind", KINDS)
def test_readable_on_light_and_dark_panels(kind: Kind, size: int) -> None:
    """Much of the icon stands out from either panel (WCAG's 3:1 for graphics): the
    badge on light panels, ring and glyph on dark ones; the glyph stands out from
    the badge."""
    image = render(LOOKS[kind], size)
    for panel in (LIGHT_PANEL, DARK_PANEL):
        shown = pixels(on(panel, image))
        standing_out = sum(contrast(p, panel) >= 3 for p in shown) / len(shown)
        assert standing_out > 0.3, (panel, standing_out)
    glyph = max(pixels(on(DARK_PANEL, image)), key=luminance)
    assert contrast(glyph, BADGE) >= 7


def test_the_ring_moves_visibly_with_each_bucket() -> None:
    for size in (16, 22):
        frames = [render(Look("working", progress=p), size) for p in range(BUCKETS + 1)]
        for before, after in itertools.pairwise(frames):
            assert mean_difference(before, after) > 0.3


def test_drill_steps_count_down() -> None:
    frames = [render(Look("drill", steps=5, left=left), 22) for left in (5, 4, 3, 2, 1)]
    for before, after in itertools.pairwise(frames):
        assert mean_difference(before, after) > 2


def test_small_sizes_are_drawn_not_shrunk() -> None:
    """16 px icons are drawn for 16 px: more of their pixels are clean palette
    colours (not blends) than in the 48 px icon scaled down."""

    def clean(image: Image.Image, kind: Kind) -> float:
        palette = [c[:3] for c in (BADGE, TRACK, GLYPH, DIM_GLYPH, COLOURS[kind], LIGHT_PANEL)]
        shown = pixels(on(LIGHT_PANEL, image))
        hits = sum(
            any(all(abs(a - b) <= 24 for a, b in zip(p, c, strict=True)) for c in palette)
            for p in shown
        )
        return hits / len(shown)

    drawn = {k: clean(render(LOOKS[k], 16), k) for k in KINDS}
    shrunk = {
        k: clean(render(LOOKS[k], 48).resize((16, 16), Image.Resampling.LANCZOS), k) for k in KINDS
    }
    assert all(drawn[k] >= shrunk[k] for k in KINDS), (drawn, shrunk)
    assert sum(drawn.values()) > sum(shrunk.values()) + 0.2


def test_renders_are_cached_and_sets_are_drawn_per_size() -> None:
    look = Look("quiet", progress=3)
    assert render_bitmap(look, 22) is render_bitmap(look, 22)
    images = render_set(look)
    assert [im.size for im in images] == [(s, s) for s in (16, 22, 24, 32, 48, 64)]


def test_argb32_is_network_byte_order() -> None:
    """A, R, G, B per pixel, from a bitmap and from a Pillow image alike (what the
    Pillow-based argb32 sent before the rasteriser)."""
    rgba = bytes([0x11, 0x22, 0x33, 0x44, 0xAA, 0xBB, 0xCC, 0xFF])
    argb = bytes([0x44, 0x11, 0x22, 0x33, 0xFF, 0xAA, 0xBB, 0xCC])
    assert argb32(Bitmap(2, 1, rgba)) == (2, 1, argb)
    image = Image.new("RGBA", (2, 1), (0x11, 0x22, 0x33, 0x44))
    image.putpixel((1, 0), (0xAA, 0xBB, 0xCC, 0xFF))
    assert argb32(image) == (2, 1, argb)


def test_pystray_backends_get_the_same_pixels_as_pillow_images() -> None:
    bitmap = render_bitmap(LOOKS["prompt"], 22)
    image = to_image(bitmap)
    assert (image.mode, image.size) == ("RGBA", (22, 22))
    assert image.tobytes() == bitmap.rgba
    assert argb32(image) == argb32(bitmap)
    assert to_image(image) is image


# --------------------------------------------------------------------------- icon_key


def tray_state(name: str = "working", **changes: object) -> TrayState:
    return TrayState(view=dataclasses.replace(VIEWS[name], **changes), wall=WALL)  # type: ignore[arg-type]


def test_icon_key_changes_only_when_the_picture_does() -> None:
    """A whole drill interval of desk time, second by second: 24 pictures, not 1800."""
    keys = [
        icon_key(tray_state(drill_desk=float(d), next_drill_in=1800.0 - d)) for d in range(1800)
    ]
    assert len(set(keys)) == BUCKETS
    changes = sum(a != b for a, b in itertools.pairwise(keys))
    assert changes == BUCKETS - 1


def test_icon_key_per_state() -> None:
    assert icon_key(tray_state("prompt")) == Look("prompt")
    assert icon_key(tray_state("snoozed")) == Look("snoozed")
    assert icon_key(tray_state("drill", step=2, steps=5)) == Look("drill", steps=5, left=4)
    assert icon_key(tray_state("paused")).kind == "paused"
    assert icon_key(tray_state("away")).kind == "away"
    assert icon_key(tray_state(state="quiet")).kind == "quiet"
    assert icon_key(tray_state(state="off_hours")) == Look("off_hours")
    erroneous = dataclasses.replace(tray_state(), config_error="bad")
    assert icon_key(erroneous) == Look("error")
    # a running drill matters more than a config error
    assert icon_key(dataclasses.replace(tray_state("drill"), config_error="bad")).kind == "drill"


def test_progress_falls_back_to_the_posture_timer() -> None:
    s = tray_state(drill_every=None, posture_desk=600.0, posture_every=1200.0)
    assert progress_bucket(s) == BUCKETS // 2
    assert progress_bucket(tray_state(drill_every=None, posture_every=None)) == 0


# --------------------------------------------------------------------------- exports


def test_icons_dir_matches_the_drawing_code() -> None:
    """icons/ holds exports of ergobreak/artwork/badge.py; stale files fail here."""
    sys.path.insert(0, str(ROOT / "icons"))
    try:
        import make_icons  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(ROOT / "icons"))
    for name, data in make_icons.outputs().items():
        path = ROOT / "icons" / name
        assert path.exists(), f"icons/{name} is missing: run python icons/make_icons.py"
        if name.endswith(".svg"):
            assert path.read_bytes() == data, "icons/ergobreak.svg is stale"
        else:
            with Image.open(path) as committed, Image.open(io.BytesIO(data)) as fresh:
                assert mean_difference(committed, fresh) < 1.5, f"icons/{name} is stale"


@pytest.mark.timeout(120)
def test_svg_master_looks_like_the_png_in_a_browser(tmp_path: Path) -> None:
    """The SVG export says the same as the rasteriser (rendered by headless Chromium)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.fail("headless Chromium is needed: apt-get install chromium")
    shot = tmp_path / "svg.png"
    done = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            "--window-size=256,256",
            "--default-background-color=00000000",
            (ROOT / "icons" / "ergobreak.svg").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert shot.exists(), done.stderr[-2000:]
    with Image.open(shot) as browser_view, Image.open(ROOT / "icons/ergobreak-256.png") as png:
        assert (
            mean_difference(on(LIGHT_PANEL, browser_view.convert("RGBA")), on(LIGHT_PANEL, png)) < 3
        )
