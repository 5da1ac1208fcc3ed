"""``python -m ergobreak.coach``: the coach window, fed on stdin by the daemon.

It exits when told to close, when its window closes, or when the daemon's pipe
closes (the daemon went away). Lines it cannot read are logged to stderr and
dropped. ``ERGOBREAK_COACH_BENCH=1``: one timing line on stderr at the first frame.
"""

from __future__ import annotations

import logging
import os
import queue
import sys
import threading
import time
import tkinter as tk
from collections.abc import Callable
from typing import BinaryIO

from ergobreak.coach.protocol import Message, ProtocolError, decode, encode_request
from ergobreak.coach.window import Coach
from ergobreak.commands import Request

STARTED = time.monotonic()
log = logging.getLogger("ergobreak.coach")
#: how often the thread-fed fallback (no file handlers: Windows) looks for lines
POLL_MS = 50


def _send(request: Request) -> None:
    sys.stdout.write(encode_request(request))
    sys.stdout.flush()


def _lines(chunk: bytes, pending: bytearray) -> list[bytes]:
    pending += chunk
    *lines, rest = bytes(pending).split(b"\n")
    pending[:] = rest
    return lines


def _feed(root: tk.Tk, stream: BinaryIO, handle: Callable[[bytes | None], None]) -> None:
    """Hand each line of ``stream`` (None at its end) to ``handle`` on Tk's thread,
    never blocking Tk's loop: a file handler where Tk has them, else a reader thread."""
    pending = bytearray()
    if hasattr(root.tk, "createfilehandler") and os.name == "posix":
        fd = stream.fileno()

        def readable(_fd: int, _mask: int) -> None:
            chunk = os.read(fd, 65536)
            if not chunk:
                root.tk.deletefilehandler(fd)
                handle(None)
                return
            for line in _lines(chunk, pending):
                handle(line)

        root.tk.createfilehandler(fd, tk.READABLE, readable)
        return
    lines: queue.Queue[bytes | None] = queue.Queue()

    def read() -> None:
        for line in stream:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, name="coach-stdin", daemon=True).start()

    def drain() -> None:
        while True:
            try:
                item = lines.get_nowait()
            except queue.Empty:
                root.after(POLL_MS, drain)
                return
            handle(item)
            if item is None:
                return

    root.after(POLL_MS, drain)


def main() -> int:
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="coach: %(message)s")
    root = tk.Tk(className="ergobreak-coach")
    bench = os.environ.get("ERGOBREAK_COACH_BENCH") == "1"

    def first_frame() -> None:
        if bench:
            ms = (time.monotonic() - STARTED) * 1000
            print(f"coach-bench first-frame-ms {ms:.0f}", file=sys.stderr, flush=True)

    coach = Coach(root, _send, on_first_frame=first_frame)

    def handle(line: bytes | None) -> None:
        if line is None:  # the daemon closed the pipe: it is gone, or done with us
            coach.close()
            return
        if not line.strip():
            return
        try:
            message: Message = decode(line)
        except ProtocolError as exc:
            log.warning("dropped a line: %s", exc)
            return
        coach.handle(message)

    _feed(root, sys.stdin.buffer, handle)
    root.mainloop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
