"""One ergobreak per user: a lock file in a private runtime directory.

The runtime directory holds the lock (with the daemon's PID) and the control socket.
It must be ours and 0700: on Linux without ``$XDG_RUNTIME_DIR`` it lives in /tmp,
where someone else could have created it first -- and then hand out a socket of
their own to the command line. The daemon creates or tightens it
(:func:`ensure_private_dir`); the command line only checks (:func:`check_private`).
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from pathlib import Path
from typing import IO, Literal

LOCK_NAME = "instance.lock"
Kind = Literal["directory", "socket"]
#: how to recognise each kind of file in the runtime directory, and the most it may allow
_PRIVATE = {"directory": (stat.S_ISDIR, 0o700), "socket": (stat.S_ISSOCK, 0o600)}


class InstanceError(RuntimeError):
    """Another instance runs, or the runtime directory cannot be trusted."""


def _owner(uid: int) -> str:
    import pwd  # noqa: PLC0415 - POSIX only

    try:
        return f"uid {uid} ({pwd.getpwuid(uid).pw_name})"
    except KeyError:
        return f"uid {uid}"


def _ours(path: Path, kind: Kind) -> os.stat_result:
    """``path``'s lstat, once it is known to be a ``kind`` of ours (POSIX).

    Raises:
        FileNotFoundError: there is nothing at ``path``.
        InstanceError: someone else's, or not a ``kind``.
    """
    info = path.lstat()
    if info.st_uid != os.getuid():
        raise InstanceError(
            f"{path} belongs to {_owner(info.st_uid)}, not to you, so someone may be posing"
            " as ergobreak: ask an administrator to remove it, or set XDG_RUNTIME_DIR to a"
            " private directory of yours"
        )
    is_kind, _ = _PRIVATE[kind]
    if not is_kind(info.st_mode):
        raise InstanceError(f"{path} is not a {kind}: remove it, then start ergobreak again")
    return info


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (0700) or check that an existing one is ours, and make it private.

    Raises:
        InstanceError: owned by someone else, or not a directory.
    """
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if os.name == "posix" and _ours(path, "directory").st_mode & 0o077:
        os.chmod(path, 0o700)
    return path


def check_private(path: Path, kind: Kind) -> None:
    """Refuse ``path`` unless it is a ``kind`` ("directory" or "socket") of ours that
    nobody else may use. Checks only; changes nothing (POSIX; a no-op elsewhere).

    Raises:
        FileNotFoundError: there is nothing at ``path``.
        InstanceError: someone else's, not a ``kind``, or open to others.
    """
    if os.name != "posix":
        return
    mode = stat.S_IMODE(_ours(path, kind).st_mode)
    _, limit = _PRIVATE[kind]
    if mode & ~limit:
        raise InstanceError(
            f"{path} is open to other users (mode {mode:04o}, expected {limit:04o}):"
            f" make it private with `chmod {limit:o} {path}`"
        )


def _pid_in(text: str) -> int | None:
    return int(text) if text.strip().isdigit() else None


def lock_holder(runtime_dir: Path) -> int | None:
    """The PID the running daemon wrote into its lock file, if there is one."""
    try:
        with open(runtime_dir / LOCK_NAME, encoding="ascii", errors="replace") as f:
            return _pid_in(f.read(32))
    except OSError:
        return None


class InstanceLock:
    """An exclusive lock held for the daemon's lifetime (released by the OS on exit)."""

    def __init__(self, runtime_dir: Path) -> None:
        self.path = runtime_dir / LOCK_NAME
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
            pid = _pid_in(f.read(32)) or "?"
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
