"""How messages speak of what a person wrote: ``got "30"``, ``did you mean ...?``."""

from __future__ import annotations

import datetime as dt
import difflib
import os
from collections.abc import Iterable
from pathlib import Path


def found(raw: object) -> str:
    """How a TOML value reads in "expected ..., got ..." messages."""
    if isinstance(raw, bool):
        return f"boolean {str(raw).lower()}"
    if isinstance(raw, str):
        return f'"{raw}"'
    if isinstance(raw, int):
        return f"integer {raw}"
    if isinstance(raw, float):
        return f"number {raw}"
    if isinstance(raw, list):
        return "an array"
    if isinstance(raw, dict):
        return "a table" if raw else "an empty table"
    if isinstance(raw, dt.datetime):
        return f"date-time {raw.isoformat()}"
    if isinstance(raw, dt.date):
        return f"date {raw.isoformat()}"
    if isinstance(raw, dt.time):
        return f"time {raw.isoformat()}"
    return type(raw).__name__


def short_path(path: str | os.PathLike[str] | None) -> str:
    """``path`` with the home directory as ``~`` (how people read and type paths)."""
    if path is None:
        return ""
    text, home = str(path), str(Path.home())
    return "~" + text[len(home) :] if text.startswith(home + os.sep) else text


def near(name: str, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The choice closest to a misspelt ``name``, if any is close enough."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=cutoff)
    return close[0] if close else None


#: fuzzy "did you mean" hints per file
HINTS = 20


class Hints:
    """Hints ("did you mean ...?") for the first :data:`HINTS` misspelt names in one file.

    Each hint is a fuzzy match against every choice (about 0.3 ms); a file of
    thousands of unknown names would take seconds, and a person reads the first few.
    """

    def __init__(self, budget: int | None = None) -> None:
        self.left = HINTS if budget is None else budget

    def near(self, name: str, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
        if self.left <= 0:
            return None
        self.left -= 1
        return near(name, choices, cutoff)
