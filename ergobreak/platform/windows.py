"""Windows adapters over ctypes: idle time, "user is busy" quiet, sleep-aware clocks.

Untested on a real Windows machine: the unit tests drive these wrappers through
fake function tables (see :class:`Win32`), which checks our arithmetic and struct
handling but not the OS.

* Idle: ``GetLastInputInfo`` gives the tick of the last input; ``GetTickCount`` now.
  Both are 32-bit milliseconds that wrap every 49.7 days, so subtract modulo 2**32.
* Quiet: ``SHQueryUserNotificationState`` -- Windows' own answer to "may an app
  notify now": not during fullscreen apps, presentations or quiet time.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ergobreak.platform.base import Unavailable


class LASTINPUTINFO(ctypes.Structure):
    _fields_ = [("cbSize", ctypes.c_uint), ("dwTime", ctypes.c_uint32)]


#: QUERY_USER_NOTIFICATION_STATE values that mean "do not interrupt"
QUNS_NAMES = {
    1: "not present (locked, screensaver, switching users)",
    2: "busy (a fullscreen app)",
    3: "running a Direct3D fullscreen app",
    4: "presentation mode",
    5: "accepts notifications",
    6: "quiet time (first hour after setup)",
    7: "a fullscreen Store app",
}
QUIET_STATES = frozenset({2, 3, 4, 6, 7})
S_OK = 0


@dataclass(frozen=True, slots=True)
class Win32:
    """The Win32 functions we call, as ctypes exposes them (fakes in tests)."""

    GetLastInputInfo: Callable[[Any], int]
    GetTickCount: Callable[[], int]
    SHQueryUserNotificationState: Callable[[Any], int]
    QueryUnbiasedInterruptTime: Callable[[Any], int] | None = None
    GetTickCount64: Callable[[], int] | None = None


def load_win32() -> Win32:
    """The real functions. Raises :class:`Unavailable` off Windows."""
    if sys.platform != "win32":
        raise Unavailable("not Windows")
    user32 = ctypes.WinDLL("user32", use_last_error=True)  # type: ignore[attr-defined,unused-ignore]
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined,unused-ignore]
    shell32 = ctypes.WinDLL("shell32")  # type: ignore[attr-defined,unused-ignore]
    user32.GetLastInputInfo.argtypes = [ctypes.POINTER(LASTINPUTINFO)]
    user32.GetLastInputInfo.restype = ctypes.c_int
    kernel32.GetTickCount.restype = ctypes.c_uint32
    kernel32.GetTickCount64.restype = ctypes.c_uint64
    kernel32.QueryUnbiasedInterruptTime.argtypes = [ctypes.POINTER(ctypes.c_uint64)]
    kernel32.QueryUnbiasedInterruptTime.restype = ctypes.c_int
    shell32.SHQueryUserNotificationState.argtypes = [ctypes.POINTER(ctypes.c_int)]
    shell32.SHQueryUserNotificationState.restype = ctypes.c_long
    return Win32(
        GetLastInputInfo=user32.GetLastInputInfo,
        GetTickCount=kernel32.GetTickCount,
        SHQueryUserNotificationState=shell32.SHQueryUserNotificationState,
        QueryUnbiasedInterruptTime=kernel32.QueryUnbiasedInterruptTime,
        GetTickCount64=kernel32.GetTickCount64,
    )


class WindowsIdle:
    name = "windows"

    def __init__(self, api: Win32 | None = None) -> None:
        self._api = api or load_win32()
        self.idle_seconds()

    def idle_seconds(self) -> float:
        info = LASTINPUTINFO()
        info.cbSize = ctypes.sizeof(LASTINPUTINFO)
        if not self._api.GetLastInputInfo(ctypes.byref(info)):
            raise Unavailable("GetLastInputInfo failed")
        now = self._api.GetTickCount() & 0xFFFFFFFF
        return ((now - int(info.dwTime)) & 0xFFFFFFFF) / 1000.0

    def close(self) -> None:
        pass


class WindowsBusy:
    """Quiet while Windows itself would hold notifications back."""

    name = "windows_busy"

    def __init__(self, api: Win32 | None = None) -> None:
        self._api = api or load_win32()
        self.state()

    def state(self) -> int:
        value = ctypes.c_int(0)
        result = self._api.SHQueryUserNotificationState(ctypes.byref(value))
        if result != S_OK:
            raise Unavailable(
                f"SHQueryUserNotificationState failed (HRESULT {result & 0xFFFFFFFF:#x})"
            )
        return int(value.value)

    def active(self) -> bool:
        return self.state() in QUIET_STATES

    def close(self) -> None:
        pass


def sleep_clocks(
    api: Win32 | None = None,
) -> tuple[Callable[[], float], Callable[[], float]] | None:
    """(excludes sleep, includes sleep) in seconds, for the time-jump backstop."""
    try:
        api = api or load_win32()
    except (Unavailable, OSError, AttributeError):
        return None
    unbiased, ticks = api.QueryUnbiasedInterruptTime, api.GetTickCount64
    if unbiased is None or ticks is None:
        return None

    def steady() -> float:
        value = ctypes.c_uint64(0)
        unbiased(ctypes.byref(value))
        return value.value / 1e7  # 100 ns units

    return steady, lambda: ticks() / 1000.0
