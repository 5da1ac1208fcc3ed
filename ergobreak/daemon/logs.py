"""Logging for the daemon: a rotating file in the platform log dir, or the journal.

Under systemd (``$JOURNAL_STREAM`` names our stderr) lines go to stderr with
``<N>`` priority prefixes and no timestamps; otherwise to
``<log dir>/ergobreak.log`` (1 MiB, 5 backups), and also to stderr when it is a
terminal. Never logged: key events, window titles, break timelines above DEBUG.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path

_PRIORITY = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}


class JournalFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"<{_PRIORITY.get(record.levelno, 6)}>{super().format(record)}"


def under_journal() -> bool:
    stream = os.environ.get("JOURNAL_STREAM", "")
    dev, _, inode = stream.partition(":")
    try:
        st = os.fstat(sys.stderr.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return bool(inode) and f"{st.st_dev}:{st.st_ino}" == f"{dev}:{inode}"


def setup_logging(log_dir: Path, *, verbose: bool = False) -> None:
    root = logging.getLogger("ergobreak")
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    root.propagate = False
    for old in list(root.handlers):
        root.removeHandler(old)
    if under_journal():
        journal = logging.StreamHandler(sys.stderr)
        journal.setFormatter(JournalFormatter("%(name)s: %(message)s"))
        root.addHandler(journal)
        return
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.RotatingFileHandler(
            log_dir / "ergobreak.log", maxBytes=1 << 20, backupCount=5, encoding="utf-8"
        )
        file_handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        )
        root.addHandler(file_handler)
    except OSError as exc:
        print(f"ergobreak: cannot write logs to {log_dir}: {exc}", file=sys.stderr)
    if sys.stderr is not None and (sys.stderr.isatty() or verbose):
        console = logging.StreamHandler(sys.stderr)
        console.setFormatter(logging.Formatter("ergobreak: %(message)s"))
        console.setLevel(logging.DEBUG if verbose else logging.INFO)
        root.addHandler(console)
