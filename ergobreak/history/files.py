"""Files the history writes for the user: atomic, readable by this user only (reports
and exports hold personal data)."""

from __future__ import annotations

from pathlib import Path

from ergobreak.atomic import write_atomic

#: the HTML report's name beside the history store (``stats clear`` deletes it too)
REPORT_NAME = "report.html"


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically; a new file is readable by this user only.

    Raises:
        OSError: the directory cannot be created or written.
    """
    write_atomic(path, text, private=True)
