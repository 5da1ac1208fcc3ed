"""Copy the icon exports into the freedesktop hicolor layout the wheel installs.

``icons/`` (made by ``icons/make_icons.py``) names them ``ergobreak-<size>.png``;
icon themes need ``<size>x<size>/apps/ergobreak.png``, and a wheel's data files
keep their names, hence these copies. Run ``python packaging/linux/sync_icons.py``
after re-exporting the icons; ``tests/test_packaging.py`` fails while they differ.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ICONS = HERE.parent.parent / "icons"
SIZES = (16, 22, 24, 32, 48, 64, 128, 256)


def pairs() -> list[tuple[Path, Path]]:
    """(export in icons/, copy in the hicolor tree)."""
    tree = HERE / "icons" / "hicolor"
    out = [
        (ICONS / f"ergobreak-{n}.png", tree / f"{n}x{n}" / "apps" / "ergobreak.png") for n in SIZES
    ]
    out.append((ICONS / "ergobreak.svg", tree / "scalable" / "apps" / "ergobreak.svg"))
    return out


def main() -> int:
    for src, dst in pairs():
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        print(f"{src.relative_to(HERE.parent.parent)} -> {dst.relative_to(HERE.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
