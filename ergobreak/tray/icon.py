"""The live tray icon: which :class:`~ergobreak.tray.art.Look` a state has, and its pixels.

:func:`icon_key` maps a :class:`~ergobreak.tray.model.TrayState` to the small
:class:`Look` that fully decides the picture, so a caller re-renders and re-sends
the icon only when the key changes (the ring moves in 1/24 steps: a few times per
drill interval, never every second). :func:`render` draws a look with Pillow,
imported on first use, and keeps the most recent images in an LRU cache.
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING

from ergobreak.tray.art import BUCKETS, Arc, Disc, Look, Poly, Rect, Stroke, scene

if TYPE_CHECKING:
    from PIL import Image

    from ergobreak.tray.model import TrayState

#: sizes sent to SNI hosts (they pick the closest); the xorg/win32/darwin backends
#: get the largest and let the OS scale it
SIZES = (16, 22, 24, 32, 48, 64)

#: drawn this many times larger, then box-filtered down: smooth edges, exact geometry
SUPERSAMPLE = 8


def icon_key(state: TrayState) -> Look:
    """The look of ``state``; equal keys mean identical pictures.

    Precedence, most pressing first: a running drill, a pending prompt, a config
    error, then the calmer states.
    """
    view = state.view
    if view.state == "drill":
        steps = view.steps or 1
        left = steps - (view.step or 1) + 1
        return Look("drill", steps=steps, left=left)
    if view.state == "prompt":
        return Look("prompt")
    if state.config_error:
        return Look("error")
    if view.state == "off_hours":
        return Look("off_hours")
    if view.state == "snoozed":
        return Look("snoozed")
    kind = view.state if view.state in ("paused", "quiet", "away") else "working"
    return Look(kind, progress=progress_bucket(state))  # type: ignore[arg-type]


def progress_bucket(state: TrayState) -> int:
    """Desk time toward the next drill (or posture check when drills are off) in
    ring buckets, rounded down so the ring is never full before it is due."""
    view = state.view
    if view.drill_every:
        fraction = view.drill_desk / view.drill_every
    elif view.posture_every:
        fraction = view.posture_desk / view.posture_every
    else:
        return 0
    return max(0, min(BUCKETS, math.floor(fraction * BUCKETS + 1e-9)))


@functools.lru_cache(maxsize=64)
def render(look: Look, size: int) -> Image.Image:
    """``look`` as a ``size`` x ``size`` RGBA image (cached; treat it as read-only)."""
    from PIL import Image, ImageDraw  # noqa: PLC0415 - Pillow only when drawing

    ss = SUPERSAMPLE
    canvas = Image.new("RGBA", (size * ss, size * ss), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)

    def box(cx: float, cy: float, r: float) -> tuple[float, float, float, float]:
        return ((cx - r) * ss, (cy - r) * ss, (cx + r) * ss - 1, (cy + r) * ss - 1)

    for shape in scene(look, size):
        match shape:
            case Disc(cx, cy, r, color):
                draw.ellipse(box(cx, cy, r), fill=color)
            case Arc(cx, cy, r, width, start, end, color):
                outer = box(cx, cy, r + width / 2)
                band = max(1, round(width * ss))
                if end - start >= 360:
                    draw.ellipse(outer, outline=color, width=band)
                else:  # Pillow: degrees clockwise from 3 o'clock
                    draw.arc(outer, start - 90, end - 90, fill=color, width=band)
            case Rect(x0, y0, x1, y1, color):
                draw.rectangle((x0 * ss, y0 * ss, x1 * ss - 1, y1 * ss - 1), fill=color)
            case Poly(points, color):
                draw.polygon([(x * ss, y * ss) for x, y in points], fill=color)
            case Stroke(points, width, color, closed):
                pts = [(x * ss, y * ss) for x, y in points]
                if closed:
                    pts.append(pts[0])
                w = round(width * ss)
                draw.line(pts, fill=color, width=w)
                for x, y in points:  # round joins and caps
                    draw.ellipse(box(x, y, width / 2), fill=color)
    # average premultiplied, or edges against transparency turn dark
    return canvas.convert("RGBa").reduce(ss).convert("RGBA")


def render_set(look: Look, sizes: tuple[int, ...] = SIZES) -> tuple[Image.Image, ...]:
    """The look at several sizes, smallest first (each drawn for its size)."""
    return tuple(render(look, size) for size in sizes)


def argb32(image: Image.Image) -> tuple[int, int, bytes]:
    """(width, height, ARGB32 in network byte order): an SNI ``IconPixmap`` entry."""
    from PIL import Image  # noqa: PLC0415 - Pillow only when drawing

    rgba = image if image.mode == "RGBA" else image.convert("RGBA")
    red, green, blue, alpha = rgba.split()
    # Pillow has no ARGB packer: reorder the bands, then dump them as-is
    return rgba.width, rgba.height, Image.merge("RGBA", (alpha, red, green, blue)).tobytes()
