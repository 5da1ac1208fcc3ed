"""Notice saved changes to the user's config and the policy files.

Linux: inotify (through ctypes, no dependency) on the directories that hold them,
read by one thread that blocks in ``select`` -- no timer, no wake-ups while nothing
changes. Editors save by writing a temp file and renaming it, so directories are
watched, not files; a directory that does not exist yet is found by watching its
nearest existing parent. Bursts of events are coalesced for :data:`SETTLE` seconds.

Elsewhere (and if inotify is unavailable): :class:`StatWatcher` compares
``(mtime, size, inode)`` at the engine's existing wake-ups: no extra wake-ups, at
the price of noticing a change at the next wake-up instead of at once.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import select
import struct
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

log = logging.getLogger(__name__)

SETTLE = 0.3

_IN_MODIFY = 0x002
_IN_ATTRIB = 0x004
_IN_CLOSE_WRITE = 0x008
_IN_MOVED_FROM = 0x040
_IN_MOVED_TO = 0x080
_IN_CREATE = 0x100
_IN_DELETE = 0x200
_IN_DELETE_SELF = 0x400
_IN_MOVE_SELF = 0x800
_IN_IGNORED = 0x8000
_IN_ONLYDIR = 0x01000000
_IN_NONBLOCK = 0o4000
_IN_CLOEXEC = 0o2000000
_MASK = (
    _IN_CLOSE_WRITE
    | _IN_MOVED_TO
    | _IN_MOVED_FROM
    | _IN_CREATE
    | _IN_DELETE
    | _IN_ATTRIB
    | _IN_MODIFY
    | _IN_DELETE_SELF
    | _IN_MOVE_SELF
    | _IN_ONLYDIR
)
_HEADER = struct.Struct("iIII")


def _existing(path: Path) -> Path:
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


class InotifyWatcher:
    """Calls ``on_change`` (from its own thread) after a watched file changed."""

    name = "inotify"

    def __init__(self, files: Sequence[Path], on_change: Callable[[], None]) -> None:
        libc_name = ctypes.util.find_library("c")
        if not sys.platform.startswith("linux") or libc_name is None:
            raise OSError("inotify is Linux-only")
        self._libc = ctypes.CDLL(libc_name, use_errno=True)
        fd = self._libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        self._fd = fd
        self._files = [Path(f) for f in files]
        self._on_change = on_change
        self._watches: dict[int, Path] = {}
        self._wake_r, self._wake_w = os.pipe()
        self._stopped = False
        self._rewatch()
        self._thread = threading.Thread(target=self._loop, name="config-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped = True
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")
        if self._thread.is_alive():
            self._thread.join(2)
        for fd in (self._fd, self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    @property
    def watched(self) -> list[Path]:
        return sorted(set(self._watches.values()))

    def _wanted_dirs(self) -> set[Path]:
        return {_existing(f.parent) for f in self._files}

    def _rewatch(self) -> None:
        wanted = self._wanted_dirs()
        for wd, path in list(self._watches.items()):
            if path not in wanted:
                self._libc.inotify_rm_watch(self._fd, wd)
                del self._watches[wd]
        have = set(self._watches.values())
        for directory in wanted - have:
            wd = self._libc.inotify_add_watch(self._fd, os.fsencode(directory), _MASK)
            if wd < 0:
                log.warning(
                    "cannot watch %s for config changes (errno %d)", directory, ctypes.get_errno()
                )
                continue
            self._watches[wd] = directory

    def _relevant(self, directory: Path, name: str) -> bool:
        candidate = directory / name if name else directory
        for f in self._files:
            if candidate in (f, f.parent) or candidate in f.parents:
                return True  # the file, or a folder on the way to it, changed
            if f.name.startswith("*") and candidate.parent == f.parent:
                return name.endswith(f.name[1:])  # any *.toml in policy.d
        return False

    def _drain(self) -> bool:
        """Read pending events; True if any concerns our files."""
        hit = False
        while True:
            try:
                data = os.read(self._fd, 64 * 1024)
            except BlockingIOError:
                return hit
            except OSError:
                return hit
            offset = 0
            while offset + _HEADER.size <= len(data):
                wd, mask, _cookie, length = _HEADER.unpack_from(data, offset)
                raw = data[offset + _HEADER.size : offset + _HEADER.size + length]
                offset += _HEADER.size + length
                name = os.fsdecode(raw.split(b"\0", 1)[0])
                directory = self._watches.get(wd)
                if mask & _IN_IGNORED:
                    self._watches.pop(wd, None)
                    hit = True
                    continue
                if directory is not None and self._relevant(directory, name):
                    hit = True

    def _loop(self) -> None:
        while not self._stopped:
            ready, _, _ = select.select([self._fd, self._wake_r], [], [])
            if self._stopped or self._wake_r in ready:
                return
            if not self._drain():
                continue
            # Let an editor finish its write-rename dance, then report once.
            while select.select([self._fd, self._wake_r], [], [], SETTLE)[0]:
                if self._stopped:
                    return
                self._drain()
            self._rewatch()
            try:
                self._on_change()
            except Exception:
                log.exception("config change callback failed")


class StatWatcher:
    """Portable fallback: call :meth:`changed` at wake-ups the daemon already has."""

    name = "stat"

    def __init__(self, files: Sequence[Path]) -> None:
        self._files = [Path(f) for f in files]
        self._seen = self._snapshot()

    def _snapshot(self) -> dict[Path, tuple[int, int, int] | None]:
        snap: dict[Path, tuple[int, int, int] | None] = {}
        for f in self._files:
            try:
                st = f.stat()
            except OSError:
                snap[f] = None
            else:
                snap[f] = (st.st_mtime_ns, st.st_size, st.st_ino)
        for folder in {f.parent for f in self._files if f.name == "*.toml"}:
            with contextlib.suppress(OSError):
                for g in folder.glob("*.toml"):
                    st = g.stat()
                    snap[g] = (st.st_mtime_ns, st.st_size, st.st_ino)
        return snap

    def changed(self) -> bool:
        now = self._snapshot()
        if now != self._seen:
            self._seen = now
            return True
        return False

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


def watch_config(
    files: Sequence[Path], on_change: Callable[[], None]
) -> InotifyWatcher | StatWatcher:
    """The best watcher here: inotify on Linux, else the stat fallback."""
    try:
        return InotifyWatcher(files, on_change)
    except OSError as exc:
        log.info("config changes are checked at wake-ups (%s)", exc)
        return StatWatcher(files)
