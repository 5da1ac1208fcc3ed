"""Persist the core's timers so a restart (or crash) does not reset a desk session.

One small JSON file, replaced atomically. A missing, unreadable or foreign file
means "start fresh"; it never stops the daemon.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from ergobreak.atomic import write_atomic

log = logging.getLogger(__name__)


class StateFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable state file %s: %s", self.path, exc)
            return None
        if not isinstance(data, dict) or not isinstance(data.get("core"), dict):
            log.warning("ignoring state file %s: not ergobreak state", self.path)
            return None
        return data

    def save(self, data: dict[str, Any]) -> None:
        try:
            write_atomic(self.path, json.dumps(data, sort_keys=True) + "\n", private=True)
        except OSError as exc:
            log.warning("cannot save state to %s: %s", self.path, exc)
