"""Idle time from the compositor's Wayland idle protocols (KWin, wlroots compositors).

The protocols say when the user *became* idle, not for how long: a notification
created with a timeout ``T`` sends ``idled`` once no input came for ``T``, and
``resumed`` at the next input. So the adapter knows the idle time exactly from ``T``
on (``now - idled_at + T``) and only that it is below ``T`` before; it reads 0 then.

That is exact enough because the core only compares the idle time with its
thresholds and keeps the newest input it saw: every idle time below ``idle_pause``
means "present", and the daemon looks again at the moment the idle time could cross
``idle_pause`` (and ``start_after_idle`` while a prompt is up), by which time a user
who left has been idle for more than ``T`` and the reading is exact. The one error
is a reading taken within ``T`` of the last input: it puts that input at the
reading, at most ``T`` late. With ``T`` = 5 s, half the smallest default threshold
(a drill starts after 10 s without input), a drill starts at most 5 s late and an
away period begins at most 5 s late (of 60 s); with ``idle_pause`` set below 5 s,
away is seen after 5 s.

Nothing polls: the reader thread of the connection wakes only for ``idled`` and
``resumed``, two events per pause of ``T`` or more while the user works, none while
they type steadily. ``resumed`` is also the daemon's activity wake-up while the user
is away. Losing the compositor is the session's end; readings then raise
:class:`Unavailable`.

Protocols, preferred first (opcodes in the order of their XML):

* ``ext_idle_notifier_v1`` (ext-idle-notify-v1.xml, wayland-protocols staging,
  version 1): KWin 5.27, wlroots 0.17 / sway 1.8 and later.
* ``org_kde_kwin_idle`` (idle.xml, plasma-wayland-protocols, version 1): KWin and
  wlroots up to 0.17 (sway 1.7).

Both honour idle inhibitors (a video player asking the screen to stay on): while one
is active the user counts as present, as the compositor does.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Literal

from ergobreak.platform.base import Unavailable
from ergobreak.platform.wayland import WaylandDisplay

#: the notification's timeout T: see the module docstring
NOTICE_AFTER = 5.0

# wl_seat (wayland.xml), bound at version 1 only to name the seat to watch
SEAT = "wl_seat"

# ext-idle-notify-v1.xml, version 1
EXT_NOTIFIER = "ext_idle_notifier_v1"
EXT_GET_IDLE_NOTIFICATION = 1  # ext_idle_notifier_v1 request (new_id, timeout ms, seat)
EXT_NOTIFICATION_DESTROY = 0  # ext_idle_notification_v1 request
EXT_IDLED = 0  # ext_idle_notification_v1 events
EXT_RESUMED = 1

# idle.xml (plasma-wayland-protocols), version 1
KDE_MANAGER = "org_kde_kwin_idle"
KDE_GET_IDLE_TIMEOUT = 0  # org_kde_kwin_idle request (new_id, seat, timeout ms)
KDE_TIMEOUT_RELEASE = 0  # org_kde_kwin_idle_timeout request
KDE_IDLE = 0  # org_kde_kwin_idle_timeout events
KDE_RESUMED = 1

Flavour = Literal["ext", "kde"]
NAMES: dict[Flavour, str] = {"ext": "wayland-ext", "kde": "wayland-kde"}


def _boottime() -> float:
    """Seconds that keep counting while suspended, as the daemon's time base does."""
    return time.clock_gettime(getattr(time, "CLOCK_BOOTTIME", time.CLOCK_MONOTONIC))


class WaylandIdle:
    """An idle source on one idle notification of the compositor."""

    def __init__(
        self,
        display: WaylandDisplay,
        flavour: Flavour,
        *,
        notice_after: float = NOTICE_AFTER,
        clock: Callable[[], float] = _boottime,
    ) -> None:
        """Ask the compositor for an idle notification after ``notice_after`` seconds.

        Raises:
            Unavailable: the compositor offers neither the protocol nor a seat, or
                does not answer.
        """
        self.name = NAMES[flavour]
        self.notice_after = notice_after
        interface = EXT_NOTIFIER if flavour == "ext" else KDE_MANAGER
        #: what doctor says of it: the readings are "below T" until T has passed
        self.detail = (
            f"{interface} on {display.name}: exact from {notice_after:g} s of idle on, 0 below"
        )
        #: idled and resumed events heard (a figure the tests report)
        self.events = 0
        self._display = display
        self._clock = clock
        self._lock = threading.Lock()
        #: when ``idled`` arrived (None: not idle for ``notice_after`` yet)
        self._idled_at: float | None = None
        self._callback: Callable[[], None] | None = None
        timeout_ms = round(notice_after * 1000)
        if flavour == "ext":
            manager = display.bind(EXT_NOTIFIER, 1)
            seat = display.bind(SEAT, 1)
            self._watch = display.create(self._on_event)
            display.send(manager, EXT_GET_IDLE_NOTIFICATION, self._watch, timeout_ms, seat)
            self._release, self._idled, self._resumed = (
                EXT_NOTIFICATION_DESTROY,
                EXT_IDLED,
                EXT_RESUMED,
            )
        else:
            manager = display.bind(KDE_MANAGER, 1)
            seat = display.bind(SEAT, 1)
            self._watch = display.create(self._on_event)
            display.send(manager, KDE_GET_IDLE_TIMEOUT, self._watch, seat, timeout_ms)
            self._release, self._idled, self._resumed = KDE_TIMEOUT_RELEASE, KDE_IDLE, KDE_RESUMED
        display.roundtrip()  # a request the compositor refuses ends the connection here

    def idle_seconds(self) -> float:
        """0 while the user was idle for less than ``notice_after``; exact from then on."""
        lost = self._display.lost
        if lost is not None:
            raise Unavailable(f"{self._display.label} is gone: {lost}")
        with self._lock:
            idled_at = self._idled_at
        if idled_at is None:
            return 0.0
        return max(0.0, self._clock() - idled_at) + self.notice_after

    def wake_on_activity(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` at the next ``resumed``: the first input after the user was
        idle for ``notice_after`` (which they were when the daemon counts them away)."""
        lost = self._display.lost
        if lost is not None:
            raise Unavailable(f"{self._display.label} is gone: {lost}")
        with self._lock:
            self._callback = callback

    def close(self) -> None:
        with self._lock:
            self._callback = None
        # gone meanwhile: the compositor dropped the notification with the connection
        with contextlib.suppress(Unavailable):
            self._display.send(self._watch, self._release)
        # the shared connection is closed by whoever opened it

    # -- reader thread
    def _on_event(self, opcode: int, _args: bytes) -> None:
        self.events += 1
        if opcode == self._idled:
            with self._lock:
                self._idled_at = self._clock()
            return
        if opcode != self._resumed:
            return
        with self._lock:
            self._idled_at = None
            callback, self._callback = self._callback, None
        if callback is not None:
            callback()
