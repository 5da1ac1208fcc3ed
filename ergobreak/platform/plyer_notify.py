"""Notifications on Windows and macOS through plyer, on a worker thread of its own.

plyer's Windows backend blocks while its balloon is shown, so calls are queued to
one worker thread and ``show`` returns at once. plyer has no buttons and no in-place
updates: the tray menu and the CLI offer start/snooze/skip instead.
"""

from __future__ import annotations

import itertools
import logging
import queue
import sys
import threading
from collections.abc import Callable
from typing import Any

from ergobreak.platform import icons
from ergobreak.platform.base import Capabilities, Notification, Unavailable

log = logging.getLogger("ergobreak.platform")

_STOP = object()


def _plyer_notify() -> Callable[..., Any]:
    try:
        from plyer import notification  # noqa: PLC0415 - heavy, platform-specific
    except ImportError as exc:
        raise Unavailable(f"plyer is not installed ({exc}); pip install plyer") from None
    return notification.notify  # type: ignore[no-any-return]


class PlyerNotifier:
    name = "plyer"
    capabilities = Capabilities(icons=True)

    def __init__(self, notify: Callable[..., Any] | None = None) -> None:
        self._notify = notify or _plyer_notify()
        self._queue: queue.Queue[object] = queue.Queue()
        self._ids = itertools.count(1)
        self._thread: threading.Thread | None = None

    def show(self, note: Notification) -> int:
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="ergobreak-plyer", daemon=True)
            self._thread.start()
        self._queue.put(note)
        return next(self._ids)

    def update(self, handle: int, note: Notification) -> int:
        return self.show(note)

    def close(self, handle: int) -> None:
        pass  # plyer cannot withdraw a notification

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout)
            self._thread = None

    def _work(self) -> None:
        while (item := self._queue.get()) is not _STOP:
            assert isinstance(item, Notification)
            try:
                self._notify(
                    title=item.title,
                    message=item.body,
                    app_name="ergobreak",
                    # plyer's balloon wants an .ico on Windows; ours are PNG
                    app_icon="" if sys.platform == "win32" else icons.resolve(item.icon),
                    timeout=int(item.timeout) if item.timeout else 10,
                )
            except Exception:  # one failed balloon must not end the worker
                log.exception("plyer could not show %r", item.title)
