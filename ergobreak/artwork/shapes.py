"""Vector shapes, the drawing model every ergobreak picture is made of, and SVG out.

A picture is a list of shapes painted back to front, in pixel coordinates:
:mod:`ergobreak.artwork.raster` turns it into pixels (standard library only) and
:func:`to_svg` into a standalone SVG document.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from typing import TypeAlias

RGBA: TypeAlias = tuple[int, int, int, int]
Point: TypeAlias = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Disc:
    cx: float
    cy: float
    r: float
    color: RGBA


@dataclass(frozen=True, slots=True)
class Arc:
    """A band of ``width`` centred on radius ``r``, from ``start`` to ``end`` degrees,
    clockwise from 12 o'clock, with flat ends."""

    cx: float
    cy: float
    r: float
    width: float
    start: float
    end: float
    color: RGBA


@dataclass(frozen=True, slots=True)
class Rect:
    x0: float
    y0: float
    x1: float
    y1: float
    color: RGBA


@dataclass(frozen=True, slots=True)
class Poly:
    """A filled polygon."""

    points: tuple[Point, ...]
    color: RGBA


@dataclass(frozen=True, slots=True)
class Stroke:
    """A polyline with round caps and joins."""

    points: tuple[Point, ...]
    width: float
    color: RGBA
    closed: bool = False


Shape: TypeAlias = Disc | Arc | Rect | Poly | Stroke


# --------------------------------------------------------------------------- SVG


def _hex(color: RGBA) -> str:
    r, g, b, a = color
    return f"#{r:02x}{g:02x}{b:02x}" + ("" if a == 255 else f"{a:02x}")


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _arc_path(a: Arc) -> str:
    if a.end - a.start >= 360:
        return (
            f'<circle cx="{_num(a.cx)}" cy="{_num(a.cy)}" r="{_num(a.r)}" fill="none" '
            f'stroke="{_hex(a.color)}" stroke-width="{_num(a.width)}"/>'
        )

    def point(deg: float) -> str:
        rad = math.radians(deg - 90)
        return f"{_num(a.cx + a.r * math.cos(rad))} {_num(a.cy + a.r * math.sin(rad))}"

    large = 1 if a.end - a.start > 180 else 0
    return (
        f'<path d="M {point(a.start)} A {_num(a.r)} {_num(a.r)} 0 {large} 1 {point(a.end)}" '
        f'fill="none" stroke="{_hex(a.color)}" stroke-width="{_num(a.width)}"/>'
    )


def to_svg(
    shapes: list[Shape], size: float, title: str = "ergobreak", *, width: float | None = None
) -> str:
    """The shapes as a standalone SVG document of ``size`` x ``size`` user units
    (``width`` x ``size`` for a strip of pictures)."""
    body = []
    for s in shapes:
        match s:
            case Disc():
                body.append(
                    f'<circle cx="{_num(s.cx)}" cy="{_num(s.cy)}" r="{_num(s.r)}" '
                    f'fill="{_hex(s.color)}"/>'
                )
            case Arc():
                body.append(_arc_path(s))
            case Rect():
                body.append(
                    f'<rect x="{_num(s.x0)}" y="{_num(s.y0)}" width="{_num(s.x1 - s.x0)}" '
                    f'height="{_num(s.y1 - s.y0)}" fill="{_hex(s.color)}"/>'
                )
            case Poly():
                pts = " ".join(f"{_num(x)},{_num(y)}" for x, y in s.points)
                body.append(f'<polygon points="{pts}" fill="{_hex(s.color)}"/>')
            case Stroke():
                pts = " ".join(f"{_num(x)},{_num(y)}" for x, y in s.points)
                tag = "polygon" if s.closed else "polyline"
                body.append(
                    f'<{tag} points="{pts}" fill="none" stroke="{_hex(s.color)}" '
                    f'stroke-width="{_num(s.width)}" stroke-linecap="round" '
                    f'stroke-linejoin="round"/>'
                )
    n, w = _num(size), _num(size if width is None else width)
    lines = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{n}" viewBox="0 0 {w} {n}">',
        f"  <title>{escape(title)}</title>",
        *(f"  {line}" for line in body),
        "</svg>",
        "",
    ]
    return "\n".join(lines)
