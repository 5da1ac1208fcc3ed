"""Persist the core's timers so a restart (or crash) does not reset a desk session.

One small JSON file, replaced atomically. A missing file means "start fresh". A
damaged one — unreadable, too large, nested, not JSON, not ergobreak's, or a
snapshot the core refuses (:meth:`~ergobreak.core.machine.DeskSession.restore`
checks every field) — is renamed to ``state.json.corrupt-<time>``, as the history
store does with a damaged database, and :attr:`StateFile.problem` says why, for the
daemon to tell the user once. Nothing here stops the daemon.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from pathlib import Path
from typing import Any

from ergobreak.atomic import write_atomic
from ergobreak.tomlfile import read_bytes

log = logging.getLogger(__name__)

VERSION = 1
#: a real state file is about 400 bytes
MAX_BYTES = 64 * 1024
#: a real state file nests 2 deep ({"core": {...}})
MAX_DEPTH = 4
_JSON_NESTING = re.compile(r'"(?:[^"\\]|\\.)*"|(?P<open>[\[{])|(?P<close>[\]}])', re.DOTALL)


class StateFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        #: why the file found at start could not be used (it was moved aside)
        self.problem: str | None = None

    def load(self) -> dict[str, Any] | None:
        """The core's snapshot, or ``None``: no file, or a damaged one (moved aside)."""
        if not os.path.lexists(self.path):
            return None
        raw, problems = read_bytes(self.path, max_bytes=MAX_BYTES)
        if raw is None:
            self.reject(problems[0].message)
            return None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            self.reject("not UTF-8 text")
            return None
        if _depth(text) > MAX_DEPTH:
            self.reject(f"nested more than {MAX_DEPTH} levels deep")
            return None
        try:
            data = json.loads(text)
        except ValueError as exc:  # also integers over Python's digit limit
            self.reject(f"not JSON ({exc})")
            return None
        if not isinstance(data, dict) or data.get("v") != VERSION:
            self.reject(f"not ergobreak state (expected an object with v = {VERSION})")
            return None
        core = data.get("core")
        if not isinstance(core, dict):
            self.reject('no "core" object')
            return None
        return core

    def reject(self, reason: str) -> None:
        """Move the file aside because of ``reason`` (also a snapshot the core refused)."""
        self.problem = f"{self.path} could not be used ({reason})"
        try:
            aside = move_aside(self.path)
        except OSError as exc:
            self.problem += f" and could not be moved aside: {exc.strerror or exc}"
        else:
            self.problem += f"; it was moved to {aside.name}"
        log.warning("timers start fresh: %s", self.problem)

    def save(self, data: dict[str, Any]) -> None:
        try:
            write_atomic(self.path, json.dumps(data, sort_keys=True) + "\n", private=True)
        except OSError as exc:
            log.warning("cannot save state to %s: %s", self.path, exc)


def move_aside(path: Path, now: float | None = None) -> Path:
    """Rename ``path`` to ``<name>.corrupt-<time>`` (``-1``, ``-2`` ... if taken)."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.localtime(time.time() if now is None else now))
    base = path.with_name(f"{path.name}.corrupt-{stamp}")
    aside, n = base, 1
    while os.path.lexists(aside):
        aside = base.with_name(f"{base.name}-{n}")
        n += 1
    os.rename(path, aside)
    return aside


def _depth(text: str) -> int:
    """How deep the arrays and objects of a JSON text nest (strings skipped)."""
    depth = deepest = 0
    for match in _JSON_NESTING.finditer(text):
        if match.lastgroup == "open":
            depth += 1
            deepest = max(deepest, depth)
        elif match.lastgroup == "close":
            depth -= 1
    return deepest
