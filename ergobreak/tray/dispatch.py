"""Run tray mutations on the UI thread, for the backends that do not do it themselves.

pystray's GTK/AppIndicator backends marshal through ``GLib.idle_add`` and its xorg
backend through X client messages, but darwin and win32 touch the UI from the
calling thread (pystray #60), which AppKit punishes with SIGTRAP. A
:class:`UiDispatcher` queues mutations by key (a newer icon replaces an older one
that was not applied yet), asks the UI thread once to :meth:`~UiDispatcher.drain`
the queue, and runs directly when already on the UI thread or when no marshalling
is needed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class UiDispatcher:
    """``wake`` asks the UI thread to call :meth:`drain` soon (e.g.
    ``AppHelper.callAfter``); None runs every mutation in the caller's thread."""

    def __init__(self, wake: Callable[[], None] | None = None) -> None:
        self._wake = wake
        self._lock = threading.Lock()
        self._pending: dict[str, Callable[[], None]] = {}
        self._scheduled = False
        self.ui_thread: threading.Thread | None = None

    @property
    def direct(self) -> bool:
        return self._wake is None

    def post(self, key: str, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the UI thread; replaces a pending call with the same key."""
        if self._wake is None or threading.current_thread() is self.ui_thread:
            fn()
            return
        with self._lock:
            self._pending.pop(key, None)
            self._pending[key] = fn
            wake, self._scheduled = not self._scheduled, True
        if wake:
            self._wake()

    def drain(self) -> None:
        """Run what is pending (call on the UI thread; the first call claims it)."""
        if self.ui_thread is None:
            self.ui_thread = threading.current_thread()
        with self._lock:
            pending, self._pending = self._pending, {}
            self._scheduled = False
        for key, fn in pending.items():
            try:
                fn()
            except Exception:
                log.exception("tray update %r failed", key)

    def kick(self) -> None:
        """Wake the UI thread if anything is pending (after its loop started)."""
        with self._lock:
            wake = bool(self._pending)
            self._scheduled = self._scheduled or wake
        if wake and self._wake is not None:
            self._wake()


def darwin_dispatcher() -> UiDispatcher:
    """Marshal onto the Cocoa main thread."""
    from PyObjCTools import AppHelper  # type: ignore[import-not-found]  # noqa: PLC0415

    dispatcher = UiDispatcher(lambda: AppHelper.callAfter(dispatcher.drain))
    return dispatcher


#: a private message for "drain the queue" (WM_APP range: free for applications)
WM_ERGOBREAK_DRAIN = 0x8000 + 0x42


def win32_dispatcher(icon: Any) -> UiDispatcher:
    """Marshal onto the thread running pystray's win32 message loop by posting a
    private message to its window; before the window exists, mutations wait and
    :meth:`UiDispatcher.kick` (called once the loop runs) delivers them."""
    from pystray._util import win32  # noqa: PLC0415

    def wake() -> None:
        hwnd = getattr(icon, "_hwnd", None)  # created when the loop starts
        if hwnd:
            win32.PostMessage(hwnd, WM_ERGOBREAK_DRAIN, 0, 0)

    dispatcher = UiDispatcher(wake)
    icon._message_handlers[WM_ERGOBREAK_DRAIN] = lambda _w, _l: dispatcher.drain()
    return dispatcher
