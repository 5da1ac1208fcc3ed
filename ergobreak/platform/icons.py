"""Notification icons, drawn once with Pillow into the user cache (no image files shipped).

An icon id is ``"ergobreak"``, ``"posture"`` or ``"drill-<category>"``; anything
containing a path separator is taken as a file path as it is.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

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


def _draw(icon: str, path: Path) -> None:
    from PIL import Image, ImageDraw  # noqa: PLC0415 - only on first use of an icon

    image = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((2, 2, SIZE - 3, SIZE - 3), fill=(*COLORS[icon], 255))
    white = (255, 255, 255, 255)
    # a small standing figure: head, spine, arms, legs
    draw.ellipse((27, 11, 37, 21), fill=white)
    draw.line((32, 22, 32, 40), fill=white, width=4)
    draw.line((21, 29, 43, 29), fill=white, width=4)
    if icon == "posture":
        draw.line((32, 40, 32, 53), fill=white, width=4)  # upright
    else:
        draw.line((32, 40, 23, 53), fill=white, width=4)  # a stride
        draw.line((32, 40, 42, 53), fill=white, width=4)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    image.save(tmp, "PNG")
    tmp.replace(path)
