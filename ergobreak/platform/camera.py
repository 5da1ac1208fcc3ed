"""Linux: a call is on while a camera is in use, i.e. some process holds a ``/dev/video*`` open.

Video calls open the camera; nothing else we can see says "in a meeting" as
reliably. We read only the targets of ``/proc/PID/fd`` links of processes we may
inspect (our own user's, which is where the call app runs). With no camera device
present the check costs one glob.
"""

from __future__ import annotations

import glob
import os

from ergobreak.core.events import SeatedReason
from ergobreak.platform.base import Unavailable


class CameraInUse:
    """A :class:`~ergobreak.platform.base.SeatedDetector`: a camera in use means a call."""

    name = "camera"
    reason: SeatedReason = "call"

    def __init__(self, devices: str = "/dev/video*", proc: str = "/proc") -> None:
        """``devices`` (a glob) and ``proc`` are parameters for tests only.

        Raises:
            Unavailable: there is no /proc to look into (not Linux).
        """
        if not os.path.isdir(os.path.join(proc, "self", "fd")):
            raise Unavailable(f"{proc} has no per-process fd lists (not Linux?)")
        self._devices = devices
        self._proc = proc
        self._me = os.getpid()

    @property
    def detail(self) -> str:
        found = sorted(glob.glob(self._devices))
        return f"watching {', '.join(found)}" if found else f"no {self._devices} device now"

    def holders(self) -> list[int]:
        """PIDs holding a camera device open (other than us)."""
        devices = set(glob.glob(self._devices))
        if not devices:
            return []
        pids = []
        with os.scandir(self._proc) as entries:
            for entry in entries:
                if not entry.name.isdigit() or int(entry.name) == self._me:
                    continue
                if _holds(os.path.join(entry.path, "fd"), devices):
                    pids.append(int(entry.name))
        return pids

    def active(self) -> bool:
        return bool(self.holders())

    def close(self) -> None:
        pass


def _holds(fd_dir: str, devices: set[str]) -> bool:
    try:
        with os.scandir(fd_dir) as fds:
            for fd in fds:
                try:
                    if os.readlink(fd.path) in devices:
                        return True
                except OSError:
                    continue  # closed while we looked
    except OSError:
        pass  # another user's process, or gone
    return False
