"""Anti-aliased vector shapes in pure Python: ergobreak's pictures without Pillow.

Pillow costs a running daemon ~5 MB resident (``_imaging`` plus libjpeg, libtiff,
openjp2, freetype, ...), most of the tray's footprint, to draw a few discs, rings and
strokes a couple of times a minute at most. This module draws
:mod:`ergobreak.artwork.shapes` with the standard library alone, for the tray icon and
the notification icons alike.

How: each shape becomes closed contours, polygons plus exact circles, all wound the
same way (holes the other way). Every pixel row is sampled by :data:`SUBROWS`
sub-scanlines; on each, the contours' crossings give the shape's spans under the
nonzero rule, so overlaps inside one shape (a stroke's segments and round joins)
count once. Spans are painted, in shape order, into the sub-scanline kept as exact
intervals of colour, so shapes sharing an edge (the ring on the badge's rim) do not
bleed into each other as composited pixel coverages would. Finally each pixel gets
the exact average of its sub-scanlines' intervals: colour steps become deltas in an
accumulation buffer with one running sum per row, as in font rasterisers. Colours
are premultiplied until then, so edges against transparency do not darken.

:func:`rasterize` returns a :class:`Bitmap`: straight RGBA bytes, with the SNI
``IconPixmap`` form (:meth:`Bitmap.argb32`) and a PNG encoding (:func:`png`).
"""

from __future__ import annotations

import bisect
import itertools
import math
import struct
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ergobreak.artwork.shapes import Arc, Disc, Point, Poly, Rect, Shape, Stroke

#: sub-scanlines per pixel row; even, so edges on half pixels come out exact.
#: Horizontal coverage is exact whatever this is.
SUBROWS = 4

#: largest gap (px) between a true arc and the chords that stand in for it
_ARC_TOLERANCE = 0.01


@dataclass(frozen=True, slots=True)
class Bitmap:
    """``width`` x ``height`` pixels as straight (not premultiplied) RGBA bytes, row
    by row from the top."""

    width: int
    height: int
    rgba: bytes

    @property
    def size(self) -> tuple[int, int]:
        return (self.width, self.height)

    def argb32(self) -> bytes:
        """The pixels as ARGB32 in network byte order (A, R, G, B per pixel), the data
        of an SNI ``IconPixmap``."""
        src = self.rgba
        out = bytearray(len(src))
        out[0::4] = src[3::4]
        out[1::4] = src[0::4]
        out[2::4] = src[1::4]
        out[3::4] = src[2::4]
        return bytes(out)

    def png(self) -> bytes:
        return png(self.width, self.height, self.rgba)


def png(width: int, height: int, rgba: bytes) -> bytes:
    """A minimal PNG file (8-bit RGBA, no filtering) of straight RGBA pixels."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    stride = width * 4
    raw = b"".join(b"\0" + rgba[y * stride : (y + 1) * stride] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8 bit, RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


# --------------------------------------------------------------------------- drawing

_Colour = tuple[float, float, float, float]  # premultiplied R, G, B (0..255), A (0..1)
_CLEAR: _Colour = (0.0, 0.0, 0.0, 0.0)


class _SubRow:
    """One sub-scanline as exact intervals of colour: boundaries ``xs`` from 0 to the
    width, and ``colours[k]`` on ``[xs[k], xs[k + 1])``. Painting replaces (or blends
    over) intervals, so shapes sharing an edge do not bleed into each other, as they
    would if pixel coverages were composited (a dark rim where the ring meets the
    badge's edge)."""

    __slots__ = ("colours", "xs")

    def __init__(self, width: int) -> None:
        self.xs = [0.0, float(width)]
        self.colours = [_CLEAR]

    def _split(self, x: float) -> int:
        """Make ``x`` a boundary; its index."""
        k = bisect.bisect_left(self.xs, x)
        if self.xs[k] != x:  # inside interval k - 1: cut it in two
            self.xs.insert(k, x)
            self.colours.insert(k, self.colours[k - 1])
        return k

    def paint(self, a: float, b: float, colour: _Colour) -> None:
        first, stop = self._split(a), self._split(b)
        if colour[3] >= 1.0:
            del self.xs[first + 1 : stop]
            self.colours[first:stop] = [colour]
        else:
            r, g, b_, k = colour
            keep = 1.0 - k
            self.colours[first:stop] = [
                (r + cr * keep, g + cg * keep, b_ + cb * keep, k + ca * keep)
                for cr, cg, cb, ca in self.colours[first:stop]
            ]


def rasterize(shapes: Iterable[Shape], width: int, height: int) -> Bitmap:
    """``shapes`` drawn back to front on a transparent ``width`` x ``height`` canvas."""
    subrows: dict[int, _SubRow] = {}
    for shape in shapes:
        contours = _Contours(height)
        contours.shape(shape)
        red, green, blue, opacity = shape.color
        k = opacity / 255
        colour = (red * k, green * k, blue * k, k)
        for s, row in contours.crossings.items():
            sub = subrows.get(s)
            if sub is None:
                sub = subrows[s] = _SubRow(width)
            row.sort()
            winding = 0
            start = 0.0
            for x, d in row:  # nonzero rule: paint where the winding number is not 0
                if winding == 0:
                    start = x
                winding += d
                if winding == 0:
                    a = start if start > 0.0 else 0.0
                    b = x if x < width else float(width)
                    if b > a:
                        sub.paint(a, b, colour)
    return Bitmap(width, height, _pixels(subrows, width, height))


def _pixels(subrows: dict[int, _SubRow], width: int, height: int) -> bytes:
    """Average each pixel's share of its sub-rows' intervals: straight RGBA bytes."""
    out = bytearray(4 * width * height)
    weight = 1.0 / SUBROWS
    for y in range(height):
        # each colour step between intervals becomes deltas on the two pixels it falls
        # between; a running sum over them gives every pixel's exact average, and a
        # pixel without deltas repeats its left neighbour (most pixels: runs are cheap)
        acc_r, acc_g, acc_b, acc_a = ([0.0] * (width + 2) for _ in range(4))
        marked: set[int] = set()
        for s in range(y * SUBROWS, (y + 1) * SUBROWS):
            sub = subrows.get(s)
            if sub is None:
                continue
            before = _CLEAR
            for x, colour in zip(sub.xs, sub.colours, strict=False):  # xs has one more
                if colour == before:
                    continue
                i = int(x)
                f = x - i
                dr = (colour[0] - before[0]) * weight
                dg = (colour[1] - before[1]) * weight
                db = (colour[2] - before[2]) * weight
                da = (colour[3] - before[3]) * weight
                acc_r[i] += dr - dr * f
                acc_r[i + 1] += dr * f
                acc_g[i] += dg - dg * f
                acc_g[i + 1] += dg * f
                acc_b[i] += db - db * f
                acc_b[i + 1] += db * f
                acc_a[i] += da - da * f
                acc_a[i + 1] += da * f
                marked.add(i)
                marked.add(i + 1)
                before = colour
        r = g = b = a = 0.0
        row = 4 * y * width
        pixel = bytes(4)
        done = 0  # pixels of this row written so far
        for x in sorted(marked):
            if x >= width:
                break
            if pixel[3]:
                out[row + 4 * done : row + 4 * x] = pixel * (x - done)
            r += acc_r[x]
            g += acc_g[x]
            b += acc_b[x]
            a += acc_a[x]
            if a > 1e-6:  # un-premultiply; rounding error stays far below half a step
                u = 1.0 / a
                pixel = bytes(
                    (int(r * u + 0.5), int(g * u + 0.5), int(b * u + 0.5), int(a * 255 + 0.5))
                )
            else:
                pixel = bytes(4)
            out[row + 4 * x : row + 4 * x + 4] = pixel
            done = x + 1
        if pixel[3] and done < width:
            out[row + 4 * done : row + 4 * width] = pixel * (width - done)
    return bytes(out)


class _Contours:
    """Collects the crossings of one shape's contours with the sub-scanlines: for
    sub-scanline ``s`` (sampling y = (s + 0.5) / SUBROWS), ``crossings[s]`` holds
    ``(x, winding)`` pairs. Contours are wound positively: crossing upwards on their
    left (-1) and downwards on their right (+1); holes the other way round."""

    def __init__(self, height: int) -> None:
        self.crossings: dict[int, list[tuple[float, int]]] = {}
        self.limit = height * SUBROWS

    def _add(self, s: int, x: float, winding: int) -> None:
        row = self.crossings.get(s)
        if row is None:
            self.crossings[s] = [(x, winding)]
        else:
            row.append((x, winding))

    def shape(self, shape: Shape) -> None:
        match shape:
            case Disc(cx, cy, r, _):
                self.circle(cx, cy, r)
            case Arc(cx, cy, r, width, start, end, _):
                if end - start >= 360:
                    self.circle(cx, cy, r + width / 2)
                    self.circle(cx, cy, r - width / 2, hole=True)
                elif end > start:
                    self.polygon(_band(shape))
            case Rect(x0, y0, x1, y1, _):
                self.polygon(((x0, y0), (x1, y0), (x1, y1), (x0, y1)))
            case Poly(points, _):
                self.polygon(points)
            case Stroke(points, width, _, closed):
                half = width / 2
                pairs = list(itertools.pairwise(points))
                if closed and len(points) > 2:
                    pairs.append((points[-1], points[0]))
                for (x0, y0), (x1, y1) in pairs:  # a quad per segment ...
                    length = math.hypot(x1 - x0, y1 - y0)
                    if length > 0:
                        nx, ny = (y0 - y1) / length * half, (x1 - x0) / length * half
                        quad = ((x0 + nx, y0 + ny), (x1 + nx, y1 + ny), (x1 - nx, y1 - ny))
                        self.polygon((*quad, (x0 - nx, y0 - ny)))
                for x, y in points:  # ... and a disc per point: round caps and joins
                    self.circle(x, y, half)

    def polygon(self, points: Sequence[Point]) -> None:
        """A closed polygon, wound positively whichever way it was given."""
        if len(points) < 3:
            return
        following = (*points[1:], points[0])
        area = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(points, following, strict=True))
        sign = 1 if area >= 0 else -1
        n = SUBROWS
        x1, y1 = points[-1]
        for x0, y0 in points:
            xa, ya, xb, yb = x1, y1, x0, y0  # the edge from the previous point to this one
            x1, y1 = x0, y0
            if ya == yb:
                continue
            winding = sign
            if ya > yb:
                xa, ya, xb, yb, winding = xb, yb, xa, ya, -sign
            # an edge owns the samples in [ya, yb), so a vertex is never counted twice
            first = max(0, math.ceil(ya * n - 0.5))
            stop = min(self.limit, math.ceil(yb * n - 0.5))
            slope = (xb - xa) / (yb - ya)
            for s in range(first, stop):
                self._add(s, xa + ((s + 0.5) / n - ya) * slope, winding)

    def circle(self, cx: float, cy: float, r: float, *, hole: bool = False) -> None:
        """An exact circle (no polygon stands in for it)."""
        if r <= 0:
            return
        sign = -1 if hole else 1
        n = SUBROWS
        r2 = r * r
        first = max(0, math.ceil((cy - r) * n - 0.5))
        stop = min(self.limit, math.ceil((cy + r) * n - 0.5))
        for s in range(first, stop):
            dy = (s + 0.5) / n - cy
            h = r2 - dy * dy
            if h > 0:
                h = math.sqrt(h)
                self._add(s, cx - h, -sign)
                self._add(s, cx + h, sign)


def _band(arc: Arc) -> list[Point]:
    """The outline of a ring band from ``start`` to ``end`` degrees, clockwise from 12
    o'clock: out along the outer edge, back along the inner one."""
    outer, inner = arc.r + arc.width / 2, max(0.0, arc.r - arc.width / 2)
    step = math.degrees(2 * math.acos(max(0.0, 1 - _ARC_TOLERANCE / max(outer, 1e-9))))
    count = max(1, math.ceil((arc.end - arc.start) / step))
    span = arc.end - arc.start
    angles = [math.radians(arc.start + span * i / count) for i in range(count + 1)]
    cx, cy = arc.cx, arc.cy
    points = [(cx + outer * math.sin(a), cy - outer * math.cos(a)) for a in angles]
    points += [(cx + inner * math.sin(a), cy - inner * math.cos(a)) for a in reversed(angles)]
    return points
