"""Logging for the daemon: a rotating file in the platform log dir, or the journal.

Under systemd (``$JOURNAL_STREAM`` names our stderr) lines go to stderr with
``<N>`` priority prefixes and no timestamps; otherwise to
``<log dir>/ergobreak.log`` (1 MiB, 5 backups), and also to stderr when it is a
terminal. Never logged: key events, window titles, break timelines above DEBUG.

The log says when breaks were taken, so it is the user's alone: the directory is
0700 and every log file 0600, whatever the umask, and ones left open to others by
an older ergobreak are tightened at start. A log that cannot be written (disk
full, read-only) costs one line on stderr per outage, not a traceback per record.
"""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
import stat
import sys
from pathlib import Path
from typing import Any

LOG_NAME = "ergobreak.log"
_PRIVATE_FILE = 0o600
_PRIVATE_DIR = 0o700

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


def _reason(exc: BaseException | None) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[:1].lower() + exc.strerror[1:]
    return str(exc) or type(exc).__name__


def _tell(line: str) -> None:
    """One line on stderr, if there is a stderr that takes it."""
    try:
        if sys.stderr is not None:
            print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass  # stderr is what failed (or is closed): nowhere left to say it


class _ReportsFailureOnce(logging.Handler):
    """A handler whose writes may fail: the first failure of an outage is one line on
    stderr; the records lost meanwhile are counted in the log once it works again."""

    #: what the failure line calls this log
    where = "the log"
    _lost = 0

    def handleError(self, record: logging.LogRecord) -> None:
        if self._lost == 0:
            _tell(
                f"ergobreak: cannot write {self.where}: {_reason(sys.exc_info()[1])};"
                " log lines are dropped until it works again"
            )
        self._lost += 1

    def emit(self, record: logging.LogRecord) -> None:
        lost = self._lost
        super().emit(record)  # the concrete handler's, which calls handleError
        if lost and self._lost == lost:  # this one was written: the outage is over
            self._lost = 0
            note = f"{lost} log line{'s' if lost != 1 else ''} could not be written before this one"
            super().emit(
                logging.LogRecord(record.name, logging.WARNING, __file__, 0, note, None, None)
            )


class PrivateLogFile(_ReportsFailureOnce, logging.handlers.RotatingFileHandler):
    """The rotating log file, opened 0600 (and never through a symlink)."""

    def __init__(self, path: Path, **kwargs: Any) -> None:
        super().__init__(path, **kwargs)
        self.where = f"the log {path}"

    def _open(self) -> io.TextIOWrapper:
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(self.baseFilename, flags, _PRIVATE_FILE)
        try:
            if os.name == "posix":
                os.fchmod(fd, _PRIVATE_FILE)  # an older, readable one is tightened
            return open(fd, "a", encoding=self.encoding, errors=self.errors)
        except BaseException:
            os.close(fd)
            raise


class FailSafeStream(_ReportsFailureOnce, logging.StreamHandler):  # type: ignore[type-arg]
    """stderr (the terminal or the journal), which can fail like a file."""

    where = "the log to standard error"


def private_log_dir(path: Path) -> None:
    """Create ``path`` and any missing parent 0700, or make an existing ``path`` of ours
    0700 (with the log files in it 0600).

    Raises:
        OSError: it cannot be created, or it belongs to someone else (EPERM).
    """
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=_PRIVATE_DIR, exist_ok=True)
    if os.name != "posix":
        return  # per-user profile folders are private by their ACLs
    info = path.stat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise PermissionError(1, "not a directory of yours", str(path))
    if stat.S_IMODE(info.st_mode) & ~_PRIVATE_DIR:
        os.chmod(path, _PRIVATE_DIR)
    for old in path.glob(f"{LOG_NAME}*"):
        old_info = old.lstat()
        if stat.S_ISREG(old_info.st_mode) and stat.S_IMODE(old_info.st_mode) & ~_PRIVATE_FILE:
            os.chmod(old, _PRIVATE_FILE)


def setup_logging(log_dir: Path, *, verbose: bool = False) -> None:
    root = logging.getLogger("ergobreak")
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    root.propagate = False
    for old in list(root.handlers):
        root.removeHandler(old)
    if under_journal():
        journal = FailSafeStream(sys.stderr)
        journal.setFormatter(JournalFormatter("%(name)s: %(message)s"))
        root.addHandler(journal)
        return
    to_terminal = sys.stderr is not None and (sys.stderr.isatty() or verbose)
    try:
        private_log_dir(log_dir)
        file_handler = PrivateLogFile(
            log_dir / LOG_NAME, maxBytes=1 << 20, backupCount=5, encoding="utf-8"
        )
        file_handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        )
        root.addHandler(file_handler)
    except OSError as exc:
        instead = "logging to the terminal only" if to_terminal else "running without a log"
        _tell(
            f"ergobreak: cannot write logs to {exc.filename or log_dir}: {_reason(exc)}; {instead}"
        )
    if to_terminal:
        console = FailSafeStream(sys.stderr)
        console.setFormatter(logging.Formatter("ergobreak: %(message)s"))
        console.setLevel(logging.DEBUG if verbose else logging.INFO)
        root.addHandler(console)
