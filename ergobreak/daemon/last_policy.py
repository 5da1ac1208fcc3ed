r"""The last good IT policy, kept in the state folder so a restart keeps it in force.

A running daemon keeps the policy it last read without an error: each policy file's
path and text, and each OS channel source's entries (a registry key, a managed
preferences file) under a name like ``registry:HKLM\Software\Policies\ergobreak``,
as :func:`ergobreak.config.sources.kept_text` writes them. While the policy is
broken, unsafe or unreadable (a file, a registry key it may not read, a broken
plist), it uses those instead, so a mistake in the policy never unlocks what it
enforced. The file is replaced atomically; a missing or damaged one means "none
kept" (the daemon then uses what it can read of the policy now). The texts are
only ever read as policy again, with the same checks as the first time.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

from ergobreak.atomic import write_atomic
from ergobreak.tomlfile import read_bytes

log = logging.getLogger(__name__)

VERSION = 1
#: a few policy files of at most 64 KB each (and channel entries), escaped as JSON
MAX_BYTES = 1024 * 1024
NAME = "policy-last-good.json"


class LastPolicy:
    """The last good policy: in memory, and in ``path`` when one is given."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._texts: tuple[tuple[str, str], ...] | None = None
        self._read = path is None

    def texts(self) -> tuple[tuple[str, str], ...] | None:
        """The policy files as last read without an error (``()``: no policy then),
        or ``None`` when none was ever kept."""
        if not self._read:
            self._read = True
            self._texts = self._load()
        return self._texts

    def keep(self, texts: Sequence[tuple[str, str]]) -> None:
        """Remember ``texts`` as the last good policy (written only when it changed)."""
        texts = tuple((str(name), str(text)) for name, text in texts)
        if texts == self.texts():
            return
        self._texts = texts
        if self.path is None:
            return
        data = {"v": VERSION, "files": [{"path": name, "text": text} for name, text in texts]}
        try:
            write_atomic(self.path, json.dumps(data, indent=1) + "\n", private=True)
        except OSError as exc:
            log.warning("the last good policy could not be saved to %s: %s", self.path, exc)

    def _load(self) -> tuple[tuple[str, str], ...] | None:
        assert self.path is not None
        raw, problems = read_bytes(self.path, max_bytes=MAX_BYTES)
        if raw is None:
            if self.path.exists():
                log.warning("the last good policy in %s is not used: %s", self.path, problems)
            return None
        try:
            data = json.loads(raw.decode("utf-8"))
            files = data["files"] if isinstance(data, dict) and data.get("v") == VERSION else None
            if not isinstance(files, list):
                raise ValueError(f"not an ergobreak policy copy (v = {VERSION})")
            texts = tuple((f["path"], f["text"]) for f in files)
            if not all(isinstance(n, str) and isinstance(t, str) for n, t in texts):
                raise ValueError("a path or text is not a string")
        except (ValueError, KeyError, TypeError, RecursionError) as exc:
            log.warning("the last good policy in %s is not used: %s", self.path, exc)
            return None
        return texts
