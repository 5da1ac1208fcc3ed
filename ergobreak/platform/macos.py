"""macOS idle time: ``CGEventSourceSecondsSinceLastEventType`` over ctypes.

Untested on a real Mac: the unit tests load a fake function table, which checks
the call (state, event type, result handling) but not the OS.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import sys
from collections.abc import Callable

from ergobreak.platform.base import Unavailable

#: kCGEventSourceStateHIDSystemState: input as the hardware saw it, for every app
HID_SYSTEM_STATE = 1
#: kCGAnyInputEventType (~0): keyboard, mouse, trackpad, tablet
ANY_INPUT_EVENT = 0xFFFFFFFF
FRAMEWORK = "/System/Library/Frameworks/CoreGraphics.framework/CoreGraphics"

SecondsSince = Callable[[int, int], float]


def load_framework(name: str, path: str) -> ctypes.CDLL:
    """A system framework (``path`` if the loader cannot find ``name``).

    Raises:
        Unavailable: not macOS, or the framework does not load.
    """
    if sys.platform != "darwin":
        raise Unavailable("not macOS")
    try:
        return ctypes.CDLL(ctypes.util.find_library(name) or path)
    except OSError as exc:
        raise Unavailable(f"cannot load {name}: {exc}") from None


def load_seconds_since() -> SecondsSince:
    """The real CoreGraphics function. Raises :class:`Unavailable` off macOS."""
    lib = load_framework("CoreGraphics", FRAMEWORK)
    func = lib.CGEventSourceSecondsSinceLastEventType
    func.argtypes = [ctypes.c_int32, ctypes.c_uint32]
    func.restype = ctypes.c_double
    return func  # type: ignore[no-any-return,unused-ignore]


class MacIdle:
    name = "macos"

    def __init__(self, seconds_since: SecondsSince | None = None) -> None:
        self._func = seconds_since or load_seconds_since()
        self.idle_seconds()

    def idle_seconds(self) -> float:
        value = float(self._func(HID_SYSTEM_STATE, ANY_INPUT_EVENT))
        if not math.isfinite(value) or value < 0:
            raise Unavailable(f"CoreGraphics returned an idle time of {value!r}")
        return value

    def close(self) -> None:
        pass
