"""Shapes (``ergobreak.artwork.shapes``) as Tk canvas items.

:func:`items` is pure (tested without a display): each shape becomes one
``(kind, coords, options)`` for ``Canvas.create_<kind>``; Tk has no alpha, so a
translucent colour is blended over the background. :func:`draw` paints them.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Sequence
from typing import Any, TypeAlias

from ergobreak.artwork.shapes import RGBA, Arc, Disc, Poly, Rect, Shape, Stroke

Item: TypeAlias = tuple[str, tuple[float, ...], dict[str, Any]]


def colour(rgba: RGBA, background: RGBA) -> str:
    """``#rrggbb`` of ``rgba`` painted over the opaque ``background``."""
    r, g, b, a = rgba
    mix = [
        round(c * a / 255 + bg * (255 - a) / 255)
        for c, bg in zip((r, g, b), background[:3], strict=True)
    ]
    return "#{:02x}{:02x}{:02x}".format(*mix)


def items(shapes: Sequence[Shape], background: RGBA, dx: float = 0, dy: float = 0) -> list[Item]:
    """The canvas items for ``shapes``, moved by ``dx``, ``dy``."""
    out: list[Item] = []
    for s in shapes:
        fill = colour(s.color, background)
        match s:
            case Disc():
                box = (s.cx - s.r + dx, s.cy - s.r + dy, s.cx + s.r + dx, s.cy + s.r + dy)
                out.append(("oval", box, {"fill": fill, "outline": ""}))
            case Arc():
                box = (s.cx - s.r + dx, s.cy - s.r + dy, s.cx + s.r + dx, s.cy + s.r + dy)
                if s.end - s.start >= 360:
                    out.append(("oval", box, {"outline": fill, "width": s.width}))
                else:
                    # shapes: clockwise from 12 o'clock; Tk: counterclockwise from 3
                    options = {
                        "start": 90 - s.end,
                        "extent": s.end - s.start,
                        "style": "arc",
                        "outline": fill,
                        "width": s.width,
                    }
                    out.append(("arc", box, options))
            case Rect():
                box = (s.x0 + dx, s.y0 + dy, s.x1 + dx, s.y1 + dy)
                out.append(("rectangle", box, {"fill": fill, "outline": ""}))
            case Poly():
                out.append(("polygon", _flat(s.points, dx, dy), {"fill": fill, "outline": ""}))
            case Stroke():
                points = (*s.points, s.points[0]) if s.closed or len(s.points) == 1 else s.points
                options = {
                    "fill": fill,
                    "width": s.width,
                    "capstyle": "round",
                    "joinstyle": "round",
                }
                out.append(("line", _flat(points, dx, dy), options))
    return out


def _flat(points: tuple[tuple[float, float], ...], dx: float, dy: float) -> tuple[float, ...]:
    return tuple(v for x, y in points for v in (x + dx, y + dy))


def draw(
    canvas: tk.Canvas, shapes: Sequence[Shape], background: RGBA, tag: str, **at: float
) -> None:
    """Replace the items tagged ``tag`` on ``canvas`` with ``shapes`` (at ``dx``/``dy``).

    Items of the same kinds as last time are moved and restyled in place (an
    animation frame changes only coordinates): fewer X requests than new items."""
    wanted = items(shapes, background, at.get("dx", 0), at.get("dy", 0))
    have = canvas.find_withtag(tag)
    # Tk answers the kind's name ("line"); typeshed types it int | None
    if len(have) == len(wanted) and all(
        str(canvas.type(item)) == kind for item, (kind, _, _) in zip(have, wanted, strict=True)
    ):
        for item, (_, coords, options) in zip(have, wanted, strict=True):
            canvas.coords(item, *coords)
            canvas.itemconfigure(item, **options)
        return
    canvas.delete(tag)
    for kind, coords, options in wanted:
        getattr(canvas, f"create_{kind}")(*coords, tags=(tag,), **options)
