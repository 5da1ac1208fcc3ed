"""The pure-Python rasteriser: coverage, geometry, byte order, PNG, speed, and that the
daemon's icon paths never load Pillow."""

from __future__ import annotations

import io
import itertools
import math
import os
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
from PIL import Image

from ergobreak.artwork.badge import KINDS, Look, scene
from ergobreak.artwork.raster import Bitmap, png, rasterize
from ergobreak.artwork.shapes import Arc, Disc, Poly, Rect, Shape, Stroke
from ergobreak.tray.icon import SIZES

ROOT = Path(__file__).resolve().parent.parent
WHITE = (255, 255, 255, 255)


def alphas(bitmap: Bitmap) -> list[list[int]]:
    a = bitmap.rgba[3::4]
    return [list(a[y * bitmap.width : (y + 1) * bitmap.width]) for y in range(bitmap.height)]


def coverage(shapes: list[Shape], size: int) -> float:
    """Painted area in pixels (sum of alpha)."""
    return sum(rasterize(shapes, size, size).rgba[3::4]) / 255


# --------------------------------------------------------------------------- coverage


@pytest.mark.parametrize(
    ("rect", "expected"),
    [
        (Rect(0, 0, 0.5, 1, WHITE), 128),  # left half
        (Rect(0, 0, 1, 0.5, WHITE), 128),  # top half
        (Rect(0.25, 0.25, 0.75, 0.75, WHITE), 64),  # a centred quarter
        (Rect(0.3, 0, 0.7, 1, WHITE), 102),  # any horizontal fraction is exact
    ],
)
def test_partly_covered_pixels_get_their_share(rect: Rect, expected: int) -> None:
    (alpha,) = alphas(rasterize([rect], 1, 1))[0]
    assert abs(alpha - expected) <= 1


def test_a_diagonal_halves_the_pixels_it_crosses() -> None:
    bitmap = rasterize([Poly(((0, 0), (4, 0), (0, 4)), WHITE)], 4, 4)
    for y, row in enumerate(alphas(bitmap)):
        assert abs(row[3 - y] - 128) <= 16  # on the diagonal
        assert all(a == 255 for a in row[: 3 - y])
        assert all(a == 0 for a in row[4 - y :])


@pytest.mark.parametrize(("cx", "cy", "r"), [(8, 8, 6), (8.3, 7.6, 5.2), (11, 11, 11), (3, 4, 1.5)])
def test_disc_area_is_pi_r_squared(cx: float, cy: float, r: float) -> None:
    assert coverage([Disc(cx, cy, r, WHITE)], 24) == pytest.approx(math.pi * r * r, rel=0.02)


def test_ring_and_rect_areas() -> None:
    ring = Arc(12, 12, 8, 3, 0, 360, WHITE)
    assert coverage([ring], 24) == pytest.approx(math.pi * (9.5**2 - 6.5**2), rel=0.02)
    rect = Rect(2.5, 3.25, 9.75, 11, WHITE)
    assert coverage([rect], 16) == pytest.approx(7.25 * 7.75, abs=0.05)


def test_shapes_outside_the_canvas_are_clipped() -> None:
    bitmap = rasterize([Disc(0, 0, 5, WHITE), Rect(-3, 6, 20, 7, WHITE)], 8, 8)
    assert sum(bitmap.rgba[3::4]) / 255 == pytest.approx(math.pi * 25 / 4 + 8, rel=0.02)


# --------------------------------------------------------------------------- strokes, arcs


def test_stroke_joints_have_no_gaps_and_overlaps_count_once() -> None:
    """A translucent polyline: where segments and round joins overlap, the pixel is no
    more opaque than elsewhere (one shape, one coverage), and the joints are solid."""
    half = (255, 255, 255, 128)
    zigzag = ((3, 3), (17, 3), (3, 17), (17, 17))
    bitmap = rasterize([Stroke(zigzag, 3, half)], 20, 20)
    grid = alphas(bitmap)
    assert max(max(row) for row in grid) == 128
    for x, y in zigzag:  # joints and caps are filled
        assert grid[y][x] == 128
    for t in range(11):  # and so is the centreline of every segment
        for (x0, y0), (x1, y1) in itertools.pairwise(zigzag):
            px, py = x0 + (x1 - x0) * t / 10, y0 + (y1 - y0) * t / 10
            assert grid[int(py)][int(px)] > 100, (px, py)


def test_stroke_area_is_segments_plus_one_cap_disc() -> None:
    straight = Stroke(((4, 10), (10, 10), (16, 10)), 4, WHITE)
    assert coverage([straight], 20) == pytest.approx(12 * 4 + math.pi * 4, rel=0.02)
    # a square outline: a 14 px square with round corners (r 1) less the 10 px hole
    closed = Stroke(((4, 4), (16, 4), (16, 16), (4, 16)), 2, WHITE, closed=True)
    assert coverage([closed], 20) == pytest.approx(14**2 - (4 - math.pi) - 10**2, rel=0.02)


def test_strokes_on_whole_pixels_are_crisp() -> None:
    row = alphas(rasterize([Stroke(((5, 1), (5, 9)), 2, WHITE)], 10, 10))[5]
    assert row == [0, 0, 0, 0, 255, 255, 0, 0, 0, 0]


@pytest.mark.parametrize(
    ("start", "end", "lit"),
    [(0, 90, "NE"), (90, 180, "SE"), (180, 270, "SW"), (270, 360 - 1e-9, "NW"), (0, 180, "NE SE")],
)
def test_arcs_run_clockwise_from_twelve_o_clock(start: float, end: float, lit: str) -> None:
    grid = alphas(rasterize([Arc(20, 20, 15, 4, start, end, WHITE)], 40, 40))
    quadrants = {  # the flat ends lie on the lines through the centre
        "NE": (range(20, 40), range(20)),
        "SE": (range(20, 40), range(20, 40)),
        "SW": (range(20), range(20, 40)),
        "NW": (range(20), range(20)),
    }
    for name, (xs, ys) in quadrants.items():
        painted = sum(grid[y][x] for y in ys for x in xs) / 255
        if name in lit.split():
            assert painted == pytest.approx(math.pi * (17**2 - 13**2) / 4, rel=0.02), name
        else:
            assert painted == 0, name


def test_a_full_ring_has_a_hole() -> None:
    grid = alphas(rasterize([Arc(10, 10, 7, 2, 0, 360, WHITE)], 20, 20))
    assert grid[10][10] == 0
    assert grid[10][3] == grid[10][16] == grid[3][10] == grid[16][10] == 255


# --------------------------------------------------------------------------- compositing


def test_shapes_sharing_an_edge_do_not_bleed() -> None:
    """A ring drawn over a badge of the same outer radius: the antialiased rim is the
    ring's colour, not darkened by the badge under it (per-pixel coverage compositing
    would leave a dark halo there)."""
    bitmap = rasterize(
        [Disc(11, 11, 11, (0, 0, 0, 255)), Arc(11, 11, 9.5, 3, 0, 360, (255, 200, 0, 255))], 22, 22
    )
    px = bitmap.rgba
    rim = [px[i : i + 4] for i in range(0, len(px), 4) if 0 < px[i + 3] < 255]
    assert rim
    assert all(p[0] >= 250 and p[1] >= 195 for p in rim)


def test_translucent_colours_blend_over_what_is_below() -> None:
    bitmap = rasterize(
        [Rect(0, 0, 2, 1, (0, 0, 255, 255)), Rect(1, 0, 2, 1, (255, 0, 0, 128))], 2, 1
    )
    assert bitmap.rgba[:4] == bytes((0, 0, 255, 255))
    r, g, b, a = bitmap.rgba[4:]
    assert (abs(r - 128) <= 1, g, abs(b - 127) <= 1, a) == (True, 0, True, 255)
    alone = rasterize([Rect(0, 0, 1, 1, (255, 0, 0, 128))], 1, 1)
    assert alone.rgba == bytes((255, 0, 0, 128))  # straight alpha out


# --------------------------------------------------------------------------- formats


def test_argb32_is_a_r_g_b_per_pixel_like_the_pillow_version_was() -> None:
    bitmap = rasterize(scene(Look("drill", steps=5, left=3), 22), 22, 22)
    image = Image.frombytes("RGBA", bitmap.size, bitmap.rgba)
    red, green, blue, alpha = image.split()  # what icon.argb32 did with Pillow
    assert bitmap.argb32() == Image.merge("RGBA", (alpha, red, green, blue)).tobytes()
    one = Bitmap(1, 1, bytes((0x11, 0x22, 0x33, 0x44)))
    assert one.argb32() == bytes((0x44, 0x11, 0x22, 0x33))


def test_png_decodes_to_the_same_pixels() -> None:
    bitmap = rasterize(scene(Look("working", progress=9), 24), 24, 24)
    data = bitmap.png()
    with Image.open(io.BytesIO(data)) as image:
        assert (image.mode, image.size) == ("RGBA", (24, 24))
        assert image.tobytes() == bitmap.rgba
    # the structure, read with the standard library: IHDR, one IDAT, IEND, valid CRCs
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, tags = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        tag, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        assert struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])[0] == zlib.crc32(
            tag + body
        )
        tags.append(tag)
        pos += 12 + length
    assert tags == [b"IHDR", b"IDAT", b"IEND"]
    assert png(1, 1, bytes(4)) != png(1, 1, bytes((1, 2, 3, 4)))


# --------------------------------------------------------------------------- speed


def test_rendering_a_look_at_every_sni_size_takes_milliseconds() -> None:
    """The icon changes about every 75 s of work; pure Python must stay far inside the
    daemon's 0.05 % CPU budget (about 10 ms per look for all sizes here; the bound is
    loose so slow CI machines pass)."""
    looks = [Look(kind, progress=7, steps=5, left=2) for kind in KINDS]
    started = time.perf_counter()
    for look in looks:
        for size in SIZES:
            rasterize(scene(look, size), size, size)
    per_look = (time.perf_counter() - started) / len(looks)
    assert per_look < 0.15


# --------------------------------------------------------------------------- import hygiene


def test_the_sni_tray_and_notification_icons_never_load_pillow(tmp_path: Path) -> None:
    """What the daemon runs on Linux: a TrayController on SNI showing states (render,
    cache, ARGB32 for the item) and notification icons drawn into the cache."""
    code = (
        "import sys\n"
        "sys.path.insert(0, 'tests')\n"
        "from tray_views import UTC, VIEWS, WALL\n"
        "from ergobreak.tray.backend import Choice\n"
        "from ergobreak.tray.controller import TrayController\n"
        "from ergobreak.tray.model import TrayState\n"
        "from ergobreak.platform import icons\n"
        "tray = TrayController(lambda r: None, choice=Choice('sni', 'test'))\n"
        "for name in ('working', 'prompt', 'drill', 'paused'):\n"
        "    tray.show(TrayState(view=VIEWS[name], wall=WALL, tz=UTC))\n"
        "pixmaps = tray.icon.item._shown.pixmaps\n"
        "assert [w for w, h, data in pixmaps] == [16, 22, 24, 32, 48, 64], pixmaps\n"
        "assert all(len(data) == 4 * w * h for w, h, data in pixmaps)\n"
        "assert tray.sent['icon'] == 4\n"
        "for icon in icons.ICON_IDS:\n"
        "    assert open(icons.resolve(icon), 'rb').read(4) == b'\\x89PNG'\n"
        "assert 'PIL' not in sys.modules, sorted(m for m in sys.modules if 'PIL' in m)\n"
    )
    clean = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "PYSTRAY_BACKEND")}
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, "XDG_CACHE_HOME": str(tmp_path)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert len(list((tmp_path / "ergobreak" / "icons").glob("*.png"))) == 7
