"""Notification icons, drawn once into the user cache (no image files shipped).

An icon id is ``"ergobreak"``, ``"posture"`` or ``"drill-<category>"``; anything
containing a path separator is taken as a file path as it is. They are drawn with the
pure-Python rasteriser the tray uses too and written as PNG with zlib, so a daemon that shows
notifications never loads Pillow (~5 MB resident).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from ergobreak.artwork.raster import rasterize
from ergobreak.artwork.shapes import Disc, Shape, Stroke

SIZE = 64
#: one colour per drill category, so a glance tells which kind of drill is offered
COLORS: dict[str, tuple[int, int, int]] = {
    "ergobreak": (40, 85, 119),
    "posture": (46, 125, 50),
    "drill-hip_flexor": (198, 40, 40),
    "drill-hinge": (239, 108, 0),
    "drill-mobility": (21, 101, 192),
    "drill-glutes": (106, 27, 154),
    "drill-seated": (0, 121, 107),
}
ICON_IDS = tuple(COLORS)


def cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("ergobreak", appauthor=False)) / "icons"


def resolve(icon: str | None) -> str:
    """A file path for ``icon`` (drawn on first use), or ``""`` when there is none."""
    if not icon:
        return ""
    if os.sep in icon or "/" in icon:
        return icon
    if icon not in COLORS:
        return ""
    path = cache_dir() / f"{icon}.png"
    if not path.exists():
        try:
            _draw(icon, path)
        except OSError:
            return ""  # a read-only cache costs the icon, never the notification
    return str(path)


def shapes(icon: str) -> list[Shape]:
    """A disc in the icon's colour with a small standing figure: head, spine and arms,
    and legs upright (posture) or in a stride (drills)."""
    white = (255, 255, 255, 255)
    legs = ((32, 40), (32, 53)) if icon == "posture" else ((23, 53), (32, 40), (42, 53))
    return [
        Disc(SIZE / 2, SIZE / 2, SIZE / 2 - 2, (*COLORS[icon], 255)),
        Disc(32, 16, 6, white),
        Stroke(((32, 22), (32, 40)), 4, white),
        Stroke(((21, 29), (43, 29)), 4, white),
        Stroke(legs, 4, white),
    ]


def _draw(icon: str, path: Path) -> None:
    data = rasterize(shapes(icon), SIZE, SIZE).png()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
