"""Write every file generated from the settings schema, or check that they are current.

``python -m ergobreak.config.generate`` writes the Group Policy / Intune templates,
the macOS profile, the Jamf manifest and the key table of ``docs/configuration.md``
(:mod:`ergobreak.config.export`); ``--check`` writes nothing and exits 1 naming
each file that is out of date. Run it from a source checkout after changing the
schema; a test runs ``--check``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ergobreak.config.export import admx, keytable, mdm

#: the source checkout this module lives in
ROOT = Path(__file__).resolve().parents[2]

ADMX = Path("packaging/windows/admx/ergobreak.admx")
ADML = Path("packaging/windows/admx/en-US/ergobreak.adml")
PROFILE = Path("packaging/macos/org.ergobreak.mobileconfig")
MANIFEST = Path("packaging/macos/jamf-manifest.json")
# a source checkout's docs (this tool writes the checkout; nothing installed points there)
KEY_TABLE = Path("docs") / "configuration.md"


def outputs() -> dict[Path, Callable[[bytes | None], bytes]]:
    """Each generated file and how to make it from its current content (or ``None``)."""
    templates = admx.render()
    return {
        ADMX: lambda _: templates[0],
        ADML: lambda _: templates[1],
        PROFILE: lambda _: mdm.profile(),
        MANIFEST: lambda _: mdm.manifest(),
        KEY_TABLE: _key_table,
    }


def _key_table(current: bytes | None) -> bytes:
    if current is None:
        raise ValueError(f"{KEY_TABLE} is missing")
    return keytable.replace_table(current.decode("utf-8")).encode("utf-8")


def stale(root: Path) -> dict[Path, bytes]:
    """The files under ``root`` that are not current, with what they should hold."""
    found: dict[Path, bytes] = {}
    for relative, make in outputs().items():
        path = root / relative
        current = path.read_bytes() if path.exists() else None
        wanted = make(current)
        if current != wanted:
            found[relative] = wanted
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ergobreak.config.generate", description=__doc__.split("\n", 1)[0]
    )
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if stale")
    parser.add_argument("--root", type=Path, default=ROOT, help="the source checkout")
    args = parser.parse_args(argv)
    try:
        changes = stale(args.root)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for relative, content in changes.items():
        if args.check:
            print(f"out of date: {relative} (run: python -m ergobreak.config.generate)")
            continue
        path = args.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        print(f"wrote {relative}")
    return 1 if args.check and changes else 0


if __name__ == "__main__":
    sys.exit(main())
