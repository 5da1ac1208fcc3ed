"""The "How was it?" answers the rotation needs, in a small JSON file in the state folder.

Kept apart from the history (which policy may switch off, and which is cleared or
purged) so "It hurt" keeps a drill out across restarts whatever happens to it.
Replaced atomically; read field by field: an entry that is wrong is dropped with a
logged warning, a file that is wrong as a whole counts as no answers. Nothing in the
file can stop the daemon.
"""

from __future__ import annotations

import json
import logging
import math
import re
from pathlib import Path
from typing import cast

from ergobreak.atomic import write_atomic
from ergobreak.content.feedback import Answers, Said
from ergobreak.core.content import ANSWERS, ID_PATTERN, Answer
from ergobreak.tomlfile import read_bytes

log = logging.getLogger(__name__)

NAME = "feedback.json"
VERSION = 1
#: a few hundred entries of ~60 bytes; anything bigger is not ours
MAX_BYTES = 64 * 1024
#: most answers kept (the oldest go first); the library holds far fewer drills
MAX_ENTRIES = 500
_ID = re.compile(ID_PATTERN)


class FeedbackFile:
    """The answers, in memory and in ``path`` (None: in memory only, as ``--demo``)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._answers: Answers | None = None if path is not None else Answers()

    def answers(self) -> Answers:
        """The answers kept (read from the file the first time)."""
        if self._answers is None:
            self._answers = self._load()
        return self._answers

    def keep(self, answers: Answers, now: float) -> bool:
        """Remember ``answers`` (without those that no longer change anything);
        False when they could not be saved (logged; they still apply until a restart)."""
        current = answers.current(now)
        newest = sorted(current.latest.items(), key=lambda kv: kv[1].at)[-MAX_ENTRIES:]
        self._answers = Answers(dict(newest))
        if self.path is None:
            return True
        data = {
            "v": VERSION,
            "answers": {k: {"answer": v.answer, "at": v.at} for k, v in newest},
        }
        try:
            write_atomic(self.path, json.dumps(data, indent=1) + "\n", private=True)
        except OSError as exc:
            log.warning("drill feedback could not be saved to %s: %s", self.path, exc)
            return False
        return True

    def _load(self) -> Answers:
        assert self.path is not None
        raw, problems = read_bytes(self.path, max_bytes=MAX_BYTES)
        if raw is None:
            if self.path.exists():
                log.warning("drill feedback in %s is not used: %s", self.path, problems[0].message)
            return Answers()
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError) as exc:
            log.warning("drill feedback in %s is not used: %s", self.path, exc)
            return Answers()
        entries = data.get("answers") if isinstance(data, dict) else None
        if not isinstance(data, dict) or data.get("v") != VERSION or not isinstance(entries, dict):
            log.warning(
                "drill feedback in %s is not used: not an ergobreak feedback file (v = %d)",
                self.path,
                VERSION,
            )
            return Answers()
        latest: dict[str, Said] = {}
        for ident, entry in entries.items():
            said = _said(ident, entry)
            if said is None:
                log.warning("drill feedback in %s: entry %.60r dropped", self.path, ident)
            else:
                latest[ident] = said
        return Answers(latest)


def _said(ident: object, entry: object) -> Said | None:
    """One entry, checked field by field (None: not a valid entry)."""
    if not isinstance(ident, str) or not _ID.fullmatch(ident) or not isinstance(entry, dict):
        return None
    answer, at = entry.get("answer"), entry.get("at")
    if answer not in ANSWERS or isinstance(at, bool) or not isinstance(at, (int, float)):
        return None
    if not math.isfinite(at) or at < 0:
        return None
    return Said(cast(Answer, answer), float(at))
