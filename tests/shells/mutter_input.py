"""Keyboard and pointer input through Mutter's RemoteDesktop D-Bus API.

This is GNOME's own path for remote input (gnome-remote-desktop uses it): Mutter turns
the calls into real input events, so they reset ``org.gnome.Mutter.IdleMonitor``, move
the pointer over banners and press buttons, exactly as a user's keyboard and mouse do.
While a session runs, GNOME Shell shows a remote-desktop indicator in the top bar (to
the left of the system menu, so the tray shifts left): keep one session for a whole test
module so the layout stays put.

Pointer motion is relative only (absolute motion needs a screencast stream), so
:meth:`MutterInput.move_to` first pushes the pointer into the bottom-right corner, where
it clamps, and then moves from there: bottom-right has no hot corner.
"""

from __future__ import annotations

import threading
import time

from desktop.rig import Bus
from jeepney import DBusAddress  # type: ignore[import-untyped]

NAME = "org.gnome.Mutter.RemoteDesktop"
PATH = "/org/gnome/Mutter/RemoteDesktop"
SESSION_API = f"{NAME}.Session"

SHIFT_L = 0xFFE1
ESCAPE = 0xFF1B
#: evdev code of the left mouse button (linux/input-event-codes.h BTN_LEFT)
BTN_LEFT = 0x110
#: a push larger than any screen: the pointer clamps in the corner
_FAR = 10_000.0


class MutterInput:
    """One RemoteDesktop session on its own bus connection; thread-safe. ``close`` it."""

    def __init__(self, address: str, screen: tuple[int, int]) -> None:
        self.screen = screen
        self._lock = threading.Lock()
        self._bus = Bus(address)
        try:
            (path,) = self._bus.call(DBusAddress(PATH, NAME, NAME), "CreateSession")
            self._session = DBusAddress(path, NAME, SESSION_API)
            self._bus.call(self._session, "Start")
        except BaseException:
            self._bus.close()
            raise
        self._pointer: tuple[float, float] | None = None

    def key(self, keysym: int = SHIFT_L) -> None:
        """Press and release one key (by X keysym; Shift types nothing anywhere)."""
        with self._lock:
            self._call("NotifyKeyboardKeysym", "ub", keysym, True)
            self._call("NotifyKeyboardKeysym", "ub", keysym, False)

    def move_to(self, x: float, y: float) -> None:
        """Put the pointer at (x, y) in screen pixels."""
        width, height = self.screen
        with self._lock:
            if self._pointer is None:
                self._call("NotifyPointerMotionRelative", "dd", _FAR, _FAR)
                self._pointer = (width - 1.0, height - 1.0)
            px, py = self._pointer
            self._call("NotifyPointerMotionRelative", "dd", x - px, y - py)
            self._pointer = (x, y)

    def click(self, button: int = BTN_LEFT) -> None:
        with self._lock:
            self._call("NotifyPointerButton", "ib", button, True)
            time.sleep(0.05)  # a press and a release, as a hand makes them
            self._call("NotifyPointerButton", "ib", button, False)

    def close(self) -> None:
        with self._lock:
            try:
                self._call("Stop")
            finally:
                self._bus.close()

    def _call(self, method: str, signature: str | None = None, *args: object) -> None:
        self._bus.call(self._session, method, signature, *args)
