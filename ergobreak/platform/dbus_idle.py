"""Idle time from the compositor over the session bus: works on Wayland.

* GNOME/Mutter: ``org.gnome.Mutter.IdleMonitor.GetIdletime`` (milliseconds), plus
  ``AddUserActiveWatch``: a one-shot ``WatchFired`` at the next input, which lets the
  daemon sleep while the user is away instead of polling for their return.
* KDE and others: ``org.freedesktop.ScreenSaver.GetSessionIdleTime``. KDE (the
  implementation in use) answers in milliseconds; GNOME answers NotSupported.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

from jeepney import DBusAddress, MatchRule, Message  # type: ignore[import-untyped]

from ergobreak.platform.base import Unavailable
from ergobreak.platform.dbus_link import CallFailed, DBusLink

MUTTER_NAME = "org.gnome.Mutter.IdleMonitor"
MUTTER_PATH = "/org/gnome/Mutter/IdleMonitor/Core"
MUTTER_API = DBusAddress(MUTTER_PATH, bus_name=MUTTER_NAME, interface=MUTTER_NAME)

SCREENSAVER_NAME = "org.freedesktop.ScreenSaver"
SCREENSAVER_PATH = "/org/freedesktop/ScreenSaver"
SCREENSAVER_API = DBusAddress(
    SCREENSAVER_PATH, bus_name=SCREENSAVER_NAME, interface=SCREENSAVER_NAME
)


class MutterIdle:
    """GNOME Shell's idle monitor (X11 and Wayland sessions alike)."""

    name = "mutter"

    def __init__(self, link: DBusLink) -> None:
        """Raises :class:`Unavailable` when Mutter's idle monitor is not on the bus."""
        self._link = link
        self._lock = threading.Lock()
        self._watch: int | None = None
        self._callback: Callable[[], None] | None = None
        self._subscription = None
        self.idle_seconds()
        self._subscription = link.subscribe(
            MatchRule(type="signal", interface=MUTTER_NAME, member="WatchFired"),
            self._on_fired,
            owner=MUTTER_NAME,
        )

    def idle_seconds(self) -> float:
        try:
            (ms,) = self._link.call(MUTTER_API, "GetIdletime")
        except Unavailable as exc:
            raise Unavailable(f"GNOME idle monitor: {exc}") from None
        return int(ms) / 1000.0

    def wake_on_activity(self, callback: Callable[[], None]) -> None:
        (watch,) = self._link.call(MUTTER_API, "AddUserActiveWatch")
        with self._lock:
            old, self._watch, self._callback = self._watch, int(watch), callback
        if old is not None:
            self._remove(old)

    def close(self) -> None:
        with self._lock:
            old, self._watch, self._callback = self._watch, None, None
        if old is not None:
            self._remove(old)
        if self._subscription is not None:
            self._subscription.cancel()

    def _remove(self, watch: int) -> None:
        # fails if it fired meanwhile (one-shot) or Mutter is gone: fine either way
        with contextlib.suppress(Unavailable):
            self._link.call(MUTTER_API, "RemoveWatch", "u", watch)

    # -- bus thread
    def _on_fired(self, msg: Message) -> None:
        (watch,) = msg.body
        with self._lock:
            if watch != self._watch:
                return
            callback, self._watch, self._callback = self._callback, None, None
        if callback is not None:
            callback()


class ScreenSaverIdle:
    """``org.freedesktop.ScreenSaver.GetSessionIdleTime`` (KDE Plasma)."""

    name = "screensaver"

    def __init__(self, link: DBusLink) -> None:
        self._link = link
        self.idle_seconds()

    def idle_seconds(self) -> float:
        try:
            (ms,) = self._link.call(SCREENSAVER_API, "GetSessionIdleTime")
        except CallFailed as exc:
            raise Unavailable(f"{SCREENSAVER_NAME} gives no idle time: {exc}") from None
        return int(ms) / 1000.0

    def close(self) -> None:
        pass
