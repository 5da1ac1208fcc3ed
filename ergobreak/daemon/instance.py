"""One ergobreak per user: a lock file in a private runtime directory.

The runtime directory holds the lock, the control socket and the IPC key. It must
be ours and 0700: on Linux without ``$XDG_RUNTIME_DIR`` it lives in /tmp, where
someone else could have created it first.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from pathlib import Path
from typing import IO


class InstanceError(RuntimeError):
    """Another instance runs, or the runtime directory cannot be trusted."""


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (0700) or check that an existing one is ours and private.

    Raises:
        InstanceError: owned by someone else or open to others.
    """
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if os.name == "posix":
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
            raise InstanceError(f"{path} is not a directory")
        if info.st_uid != os.getuid():
            raise InstanceError(f"{path} belongs to uid {info.st_uid}, not to you")
        if info.st_mode & 0o077:
            os.chmod(path, 0o700)
    return path


class InstanceLock:
    """An exclusive lock held for the daemon's lifetime (released by the OS on exit)."""

    def __init__(self, runtime_dir: Path) -> None:
        self.path = runtime_dir / "instance.lock"
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        """Raises:
        InstanceError: another ergobreak holds it (the message has its PID)."""
        f = open(self.path, "a+", encoding="ascii")  # noqa: SIM115 - held until release
        try:
            if sys.platform == "win32":  # pragma: no cover - untested on real Windows
                import msvcrt  # noqa: PLC0415

                msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl  # noqa: PLC0415

                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.seek(0)
            pid = f.read().strip() or "?"
            f.close()
            raise InstanceError(f"ergobreak is already running (pid {pid})") from None
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        self._file = f

    def release(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None
