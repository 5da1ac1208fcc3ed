"""The live tray icon: which :class:`~ergobreak.artwork.badge.Look` a state has, and its pixels.

:func:`icon_key` maps a :class:`~ergobreak.tray.model.TrayState` to the small
:class:`Look` that fully decides the picture, so a caller re-renders and re-sends
the icon only when the key changes (the ring moves in 1/24 steps: a few times per
drill interval, never every second). :func:`render` draws a look with the pure-Python
:mod:`~ergobreak.artwork.raster` (Pillow would cost the daemon ~5 MB resident) and keeps
the most recent bitmaps in an LRU cache. Pillow images are made only for pystray's
own backends (:func:`to_image`), which load Pillow anyway.
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING, Any

from ergobreak.artwork.badge import BUCKETS, Look, scene
from ergobreak.artwork.raster import Bitmap, rasterize

if TYPE_CHECKING:
    from ergobreak.tray.model import TrayState

#: sizes sent to SNI hosts (they pick the closest); the xorg/win32/darwin backends
#: get the largest and let the OS scale it
SIZES = (16, 22, 24, 32, 48, 64)


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
    return Look(kind, progress=progress_bucket(state))


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
def render(look: Look, size: int) -> Bitmap:
    """``look`` as a ``size`` x ``size`` bitmap (cached; immutable)."""
    return rasterize(scene(look, size), size, size)


def render_set(look: Look, sizes: tuple[int, ...] = SIZES) -> tuple[Bitmap, ...]:
    """The look at several sizes, smallest first (each drawn for its size)."""
    return tuple(render(look, size) for size in sizes)


def argb32(image: Any) -> tuple[int, int, bytes]:
    """(width, height, ARGB32 in network byte order): an SNI ``IconPixmap`` entry, from a
    :class:`Bitmap` or (``pystray.Icon`` callers) a Pillow image."""
    if not isinstance(image, Bitmap):
        rgba = image if image.mode == "RGBA" else image.convert("RGBA")
        image = Bitmap(rgba.width, rgba.height, rgba.tobytes())
    return image.width, image.height, image.argb32()


def to_image(image: Any) -> Any:
    """A Pillow image of a :class:`Bitmap`, for pystray's backends (anything else is
    passed through: it is a Pillow image already)."""
    if not isinstance(image, Bitmap):
        return image
    from PIL import Image  # noqa: PLC0415 - only pystray's backends need Pillow

    return Image.frombytes("RGBA", image.size, image.rgba)
