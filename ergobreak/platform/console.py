"""The notifier of last resort: one line per notification on the terminal or log.

Used when no notification server answers, and by ``ERGOBREAK_NOTIFIER=console``.
Buttons cannot be clicked here, so each line names the command that does the same.
"""

from __future__ import annotations

import sys
import threading
from typing import TextIO

from ergobreak.platform.base import Capabilities, Notification


class ConsoleNotifier:
    name = "console"
    capabilities = Capabilities()

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._next = 0
        self._lock = threading.Lock()

    def show(self, note: Notification) -> int:
        out = self._stream or sys.stderr
        line = f"[ergobreak] {note.title}"
        if note.body:
            line += ": " + " / ".join(note.body.splitlines())
        if note.actions:
            commands = ", ".join(f"ergobreak {a.request.cmd}" for a in note.actions)
            line += f" ({commands})"
        with self._lock:
            self._next += 1
            handle = self._next
            out.write(line + "\n")
            out.flush()
        return handle

    def update(self, handle: int, note: Notification) -> int:
        return self.show(note)

    def close(self, handle: int) -> None:
        pass  # a printed line cannot be taken back

    def stop(self) -> None:
        pass
