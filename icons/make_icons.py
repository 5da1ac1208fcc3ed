"""Export the ergobreak icon from its drawing code: ``python icons/make_icons.py``.

The artwork is defined once, as vector shapes in ``ergobreak/artwork/badge.py``
(the package draws the live tray icon from the same code at run time, so it needs
no data files). This script writes the exports kept here for packaging (desktop
entries, app stores, README):

- ``ergobreak.svg``: the master, drawn at 256 units, in the "working" look;
- ``ergobreak-<size>.png`` for 16, 22, 24, 32, 48, 64, 128 and 256 px, each drawn
  for its size (stroke widths snap to whole pixels below 32 px), not scaled down, by
  the same rasteriser as the live icon (``ergobreak/artwork/raster.py``, no Pillow).

``tests/test_tray_icon.py`` fails when these files are stale; re-run the script
after changing the artwork and commit the result.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a checkout without installing

from ergobreak.artwork.badge import Look, scene  # noqa: E402
from ergobreak.artwork.raster import rasterize  # noqa: E402
from ergobreak.artwork.shapes import to_svg  # noqa: E402

#: the look of the app icon: the ring two-thirds full, like a tray mid-interval
APP_LOOK = Look("working", progress=16)
MASTER_SIZE = 256
PNG_SIZES = (16, 22, 24, 32, 48, 64, 128, 256)


def outputs() -> dict[str, bytes]:
    """File name -> content of every export."""
    files = {"ergobreak.svg": to_svg(scene(APP_LOOK, MASTER_SIZE), MASTER_SIZE).encode()}
    for size in PNG_SIZES:
        files[f"ergobreak-{size}.png"] = rasterize(scene(APP_LOOK, size), size, size).png()
    return files


def main() -> int:
    for name, data in outputs().items():
        (HERE / name).write_bytes(data)
        print(f"wrote icons/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
