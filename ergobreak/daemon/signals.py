"""Stop and reload signals that take effect at once, whichever thread the kernel picks.

Python runs a signal handler on the main thread, and only when that thread next runs
bytecode. The kernel may deliver SIGTERM to any thread that does not block it (a D-Bus
receiver, the IPC server), so a main thread blocked in a lock or a select -- the engine
waiting for its next deadline, the tray's event loop -- would carry on until its wait
ended, up to a minute later. Instead, the C-level handler writes the signal number to a
wake-up pipe (``signal.set_wakeup_fd``), and one thread that sleeps in ``read`` acts on
it: no polling, no signal masks (children would inherit those).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from types import FrameType

log = logging.getLogger("ergobreak.daemon")


def _ignore(signum: int, frame: FrameType | None) -> None:
    """Installed so the C handler runs and writes the wake-up byte; the work is done
    by the reader thread."""


def install(actions: Mapping[int, Callable[[], None]]) -> None:
    """Run ``actions[signum]()`` on a thread of its own as soon as that signal arrives.

    Must be called from the main thread. Where wake-up pipes do not carry signal
    numbers (Windows), the plain handlers run on the main thread.
    """
    if sys.platform == "win32":
        for signum, action in actions.items():
            signal.signal(signum, lambda s, f, act=action: act())
        return
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)  # set_wakeup_fd requires it; the reader blocks
    for signum in actions:
        signal.signal(signum, _ignore)
    signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)

    def read() -> None:
        while True:
            try:
                data = os.read(read_end, 64)
            except OSError:
                return
            for signum in data:
                action = actions.get(signum)
                if action is None:
                    continue
                try:
                    action()
                except Exception:
                    log.exception("handling signal %d failed", signum)

    threading.Thread(target=read, name="ergobreak-signals", daemon=True).start()
