"""The ergobreak badge: the tray icon in every state, and the app icon in ``icons/``.

An icon is a dark badge (readable on light and dark panels alike) with a ring that
fills with desk time toward the next drill, and a glyph for the state. :func:`scene`
returns the shapes for a :class:`Look` at a pixel size; the tray rasterises them
(:mod:`ergobreak.artwork.raster`, pure Python) and ``python icons/make_icons.py``
exports the master ``icons/ergobreak.svg`` and the PNGs from them
(:func:`ergobreak.artwork.shapes.to_svg`), so the exports are never hand-edited
copies that could drift.

Small sizes are drawn, not shrunk: stroke widths have pixel minimums and the main
strokes sit on whole pixels, so 16 and 22 px stay crisp.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from ergobreak.artwork.shapes import RGBA, Arc, Disc, Point, Poly, Rect, Shape, Stroke

Kind = Literal[
    "working", "away", "snoozed", "prompt", "drill", "paused", "quiet", "off_hours", "error"
]
KINDS: tuple[Kind, ...] = (
    "working",
    "away",
    "snoozed",
    "prompt",
    "drill",
    "paused",
    "quiet",
    "off_hours",
    "error",
)

#: ring resolution: the ring moves in 1/BUCKETS steps (15°: 2 px per step at 22 px)
BUCKETS = 24

BADGE: RGBA = (27, 34, 41, 255)
TRACK: RGBA = (100, 113, 124, 255)
GLYPH: RGBA = (246, 248, 249, 255)
DIM_GLYPH: RGBA = (176, 186, 194, 255)

#: ring colour per state; hues differ *and* glyphs differ, so colour is never the only cue
COLOURS: dict[Kind, RGBA] = {
    "working": (66, 165, 245, 255),  # blue: counting desk time
    "away": (120, 144, 163, 255),  # blue-grey: timers stopped
    "snoozed": (214, 150, 30, 255),  # dark amber: prompt deferred
    "prompt": (255, 186, 20, 255),  # amber: act now
    "drill": (102, 212, 92, 255),  # green: on your feet
    "paused": (150, 160, 168, 255),  # grey
    "quiet": (179, 136, 255, 255),  # violet: do not disturb
    "off_hours": (96, 125, 139, 255),
    "error": (255, 82, 82, 255),  # red
}


@dataclass(frozen=True, slots=True)
class Look:
    """Everything that decides the pixels (and nothing else: this is the cache key).

    ``progress`` is in ring buckets (0..BUCKETS); for a drill ``steps`` is the
    number of steps and ``left`` how many remain including the current one.
    """

    kind: Kind
    progress: int = 0
    steps: int = 0
    left: int = 0


# --------------------------------------------------------------------------- geometry


@dataclass(frozen=True, slots=True)
class _Frame:
    """Pixel geometry for one size: badge centre ``c``, ring radius and width, glyph
    box radius ``g`` and glyph stroke width ``sw``."""

    size: float
    c: float
    ring_r: float
    ring_w: float
    g: float
    sw: float

    def at(self, x: float, y: float) -> Point:
        """Glyph coordinates (-1..1 across the glyph box) to pixels."""
        return (self.c + x * self.g, self.c + y * self.g)


def _frame(size: float) -> _Frame:
    c = size / 2
    ring_w = max(2.0, size * 0.135)
    if size <= 32:
        ring_w = float(round(ring_w))  # whole pixels keep the ring edge crisp
    ring_r = c - ring_w / 2
    inner = ring_r - ring_w / 2
    g = inner - max(1.0, size * 0.06)
    sw = max(1.5, size * 0.1)
    if size <= 32:
        sw = float(max(2, round(sw)))
    return _Frame(size, c, ring_r, ring_w, g, sw)


def _snap(value: float, width: float) -> float:
    """Centre a stroke of ``width`` so its edges fall on pixel boundaries."""
    edge = value - width / 2
    return round(edge) + width / 2


# --------------------------------------------------------------------------- glyphs

# Digits on a -1..1 box, square-cornered like a seven-segment display but drawn as
# round-capped strokes: readable at 16 px, and every digit is one or two strokes.
_DIGITS: dict[int, tuple[tuple[Point, ...], ...]] = {
    0: (((-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1)),),
    1: (((-0.6, -0.55), (0.15, -1), (0.15, 1)),),
    2: (((-1, -1), (1, -1), (1, 0), (-1, 0), (-1, 1), (1, 1)),),
    3: (((-1, -1), (1, -1), (1, 1), (-1, 1)), ((-0.45, 0), (1, 0))),
    4: (((-1, -1), (-1, 0.15), (1, 0.15)), ((0.75, -1), (0.75, 1))),
    5: (((1, -1), (-1, -1), (-1, 0), (1, 0), (1, 1), (-1, 1)),),
    6: (((1, -1), (-1, -1), (-1, 1), (1, 1), (1, 0), (-1, 0)),),
    7: (((-1, -1), (1, -1), (-0.1, 1)),),
    8: (((-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1)), ((-1, 0), (1, 0))),
    9: (((1, 0), (-1, 0), (-1, -1), (1, -1), (1, 1), (-1, 1)),),
}


def _digit(f: _Frame, n: int, color: RGBA) -> list[Shape]:
    """Digit ``n`` centred in the glyph box, its strokes on whole pixels where small."""
    half_h = f.g * 0.72
    half_w = f.g * 0.44
    sw = f.sw
    if f.size <= 32:
        half_h = round(half_h - sw / 2) + sw / 2
        half_w = round(half_w - sw / 2) + sw / 2
    cx = _snap(f.c, sw)
    cy = _snap(f.c, sw)
    shapes: list[Shape] = []
    for path in _DIGITS[n]:
        pts = tuple((cx + x * half_w, cy + y * half_h) for x, y in path)
        shapes.append(Stroke(pts, sw, color))
    return shapes


def _person(f: _Frame, color: RGBA) -> list[Shape]:
    """Head and shoulders: the familiar "account" silhouette, i.e. you at your desk."""
    head_r = f.g * 0.36
    head_cy = f.c - f.g * 0.36
    sh_r = f.g * 0.76
    top = head_cy + head_r + max(1.0, f.size * 0.05)
    base = top + sh_r  # the shoulders are the top half of a disc, flat at the bottom
    steps = 24
    arc = tuple(
        (f.c - sh_r * math.cos(math.pi * i / steps), base - sh_r * math.sin(math.pi * i / steps))
        for i in range(steps + 1)
    )
    return [Poly(arc, color), Disc(f.c, head_cy, head_r, color)]


def _arrow_up(f: _Frame, color: RGBA) -> list[Shape]:
    """Stand up."""
    x = _snap(f.c, f.sw)
    top = f.c - f.g * 0.72
    stem = Stroke(((x, f.c + f.g * 0.72), (x, top)), f.sw, color)
    head = Stroke(
        ((x - f.g * 0.55, top + f.g * 0.55), (x, top), (x + f.g * 0.55, top + f.g * 0.55)),
        f.sw,
        color,
    )
    return [stem, head]


def _pause_bars(f: _Frame, color: RGBA) -> list[Shape]:
    w = max(2.0, round(f.g * 0.36)) if f.size <= 32 else f.g * 0.36
    gap = max(2.0, round(f.g * 0.3)) if f.size <= 32 else f.g * 0.3
    h = f.g * 0.62
    left = round(f.c - gap / 2 - w) if f.size <= 32 else f.c - gap / 2 - w
    top, bottom = f.c - h, f.c + h
    if f.size <= 32:
        top, bottom = round(top), round(bottom)
    return [
        Rect(left, top, left + w, bottom, color),
        Rect(left + w + gap, top, left + 2 * w + gap, bottom, color),
    ]


def _bar(f: _Frame, color: RGBA) -> list[Shape]:
    """Do-not-disturb: a bar across the ring."""
    y = _snap(f.c, f.sw)
    return [Stroke(((f.c - f.g * 0.6, y), (f.c + f.g * 0.6, y)), f.sw * 1.15, color)]


def _moon(f: _Frame, color: RGBA) -> list[Shape]:
    r = f.g * 0.78
    bite = r * 0.82
    return [
        Disc(f.c - f.g * 0.08, f.c + f.g * 0.04, r, color),
        Disc(f.c + f.g * 0.38, f.c - f.g * 0.3, bite, BADGE),
    ]


def _bang(f: _Frame, color: RGBA) -> list[Shape]:
    x = _snap(f.c, f.sw)
    dot_r = max(f.sw * 0.62, 1.2)
    return [
        Stroke(((x, f.c - f.g * 0.7), (x, f.c + f.g * 0.18)), f.sw, color),
        Disc(x, f.c + f.g * 0.66, dot_r, color),
    ]


def _zee(f: _Frame, color: RGBA) -> list[Shape]:
    a = f.g * 0.5
    pts = ((f.c - a, f.c - a), (f.c + a, f.c - a), (f.c - a, f.c + a), (f.c + a, f.c + a))
    return [Stroke(pts, f.sw, color)]


# --------------------------------------------------------------------------- rings


def _ring(f: _Frame, fraction: float, color: RGBA) -> list[Shape]:
    shapes: list[Shape] = [Arc(f.c, f.c, f.ring_r, f.ring_w, 0, 360, TRACK)]
    if fraction >= 1:
        shapes.append(Arc(f.c, f.c, f.ring_r, f.ring_w, 0, 360, color))
    elif fraction > 0:
        shapes.append(Arc(f.c, f.c, f.ring_r, f.ring_w, 0, 360 * fraction, color))
    return shapes


def _segments(f: _Frame, steps: int, left: int, color: RGBA) -> list[Shape]:
    """One ring segment per drill step; the steps still to do are lit, so the ring
    empties clockwise as the drill counts down."""
    if steps <= 1 or steps > 12:
        return _ring(f, left / max(1, steps), color)
    gap_px = max(1.5, f.size * 0.05)
    gap = math.degrees(gap_px / f.ring_r)
    span = 360 / steps
    shapes: list[Shape] = []
    for i in range(steps):
        lit = i >= steps - left
        start = i * span + gap / 2
        shapes.append(
            Arc(f.c, f.c, f.ring_r, f.ring_w, start, start + span - gap, color if lit else TRACK)
        )
    return shapes


def scene(look: Look, size: float) -> list[Shape]:
    """The shapes of ``look`` at ``size`` pixels, back to front."""
    f = _frame(size)
    colour = COLOURS[look.kind]
    shapes: list[Shape] = [Disc(f.c, f.c, size / 2, BADGE)]
    fraction = min(1.0, look.progress / BUCKETS)
    match look.kind:
        case "working":
            shapes += _ring(f, fraction, colour) + _person(f, GLYPH)
        case "away":
            shapes += _ring(f, fraction, colour) + _person(f, DIM_GLYPH)
        case "snoozed":
            shapes += _ring(f, 1, colour) + _zee(f, GLYPH)
        case "prompt":
            shapes += _ring(f, 1, colour) + _arrow_up(f, GLYPH)
        case "drill":
            left = max(0, min(look.left, 9))
            shapes += _segments(f, look.steps, look.left, colour) + _digit(f, left, GLYPH)
        case "paused":
            shapes += _ring(f, fraction, colour) + _pause_bars(f, GLYPH)
        case "quiet":
            shapes += _ring(f, fraction, colour) + _bar(f, GLYPH)
        case "off_hours":
            shapes += _ring(f, 0, colour) + _moon(f, DIM_GLYPH)
        case "error":
            shapes += _ring(f, 1, colour) + _bang(f, GLYPH)
    return shapes
