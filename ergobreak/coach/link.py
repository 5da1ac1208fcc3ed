"""The daemon's side of the coach: start the window process, talk to it, reap it.

Imported by the daemon only when a drill opens a window; it imports no Tk (the
child does). One :class:`CoachLink` per drill: :meth:`open` spawns
``python -m ergobreak.coach`` with pipes, :meth:`send` writes messages, a reader
thread turns each line of the child's stdout into a validated
:class:`~ergobreak.commands.Request` for ``on_request`` (the path tray and
notification buttons take), a second thread logs its stderr, and the child is
waited for when its stdout ends (no zombies).
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import IO

from ergobreak.coach.protocol import Close, Message, ProtocolError, decode_request, encode
from ergobreak.commands import Request

log = logging.getLogger("ergobreak.coach")

#: how long :meth:`CoachLink.close` waits for the child to go before it is killed
CLOSE_WAIT = 3.0


def available(environ: dict[str, str] | None = None) -> tuple[bool, str]:
    """Whether a coach window can open here, and why (or why not): a display (X, or
    Wayland with XWayland's DISPLAY; Windows and macOS always have one) and Tk."""
    env = os.environ if environ is None else environ
    if sys.platform.startswith("linux") or "bsd" in sys.platform:
        display = env.get("DISPLAY")
        if not display:
            why = "Wayland without XWayland" if env.get("WAYLAND_DISPLAY") else "no display"
            return False, why
        where = f"on {display}"
    else:
        where = "on the desktop"
    if importlib.util.find_spec("tkinter") is None:
        return False, "no Tk: install python3-tk"
    return True, where


class CoachLink:
    """One coach window process. ``on_request``: a request from its buttons (reader
    thread); ``on_exit``: the child is gone, with its exit code (reader thread)."""

    def __init__(
        self,
        on_request: Callable[[Request], None],
        on_exit: Callable[[int], None] | None = None,
        argv: list[str] | None = None,
    ) -> None:
        self.on_request = on_request
        self.on_exit = on_exit
        self.argv = argv or [sys.executable, "-m", "ergobreak.coach"]
        self.proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def open(self, first: Message) -> None:
        """Start the window and send it ``first`` (an ``open``).

        Raises:
            OSError: the process could not start.
        """
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            close_fds=True,
        )
        assert self.proc.stdout is not None
        assert self.proc.stderr is not None
        log.info("coach window started (pid %d)", self.proc.pid)
        for name, target, stream in (
            ("coach-out", self._read, self.proc.stdout),
            ("coach-err", self._log, self.proc.stderr),
        ):
            thread = threading.Thread(target=target, args=(stream,), name=name, daemon=True)
            thread.start()
        self.send(first)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def send(self, message: Message) -> bool:
        """Write ``message``; False when the window is gone (its pipe broke)."""
        with self._lock:
            proc = self.proc
            if proc is None or proc.stdin is None or proc.stdin.closed:
                return False
            try:
                proc.stdin.write(encode(message).encode())
                proc.stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                return False
            return True

    def close(self, *, wait: bool = False) -> None:
        """Ask the window to close and close its pipe; it is killed if it has not gone
        within :data:`CLOSE_WAIT` (waited for here with ``wait``, else on a thread: the
        engine thread calls this, and the reader may be waiting on the engine)."""
        proc = self.proc
        if proc is None:
            return
        self.send(Close())
        self._close_stdin()
        if wait:
            _reap(proc)
        else:
            threading.Thread(target=_reap, args=(proc,), name="coach-reap", daemon=True).start()

    def _close_stdin(self) -> None:
        with self._lock:
            stdin = self.proc.stdin if self.proc is not None else None
            if stdin is not None and not stdin.closed:
                with contextlib.suppress(OSError):
                    stdin.close()

    def _read(self, stream: IO[bytes]) -> None:
        for line in stream:
            if not line.strip():
                continue
            try:
                request = decode_request(line)
            except ProtocolError as exc:
                log.warning("coach window: dropped a line: %s", exc)
                continue
            log.info("coach window asks: %s %s", request.cmd, request.args or "")
            try:
                self.on_request(request)
            except Exception:  # the handler's bug must not stop the reading
                log.exception("coach window: handling %s failed", request.cmd)
        stream.close()
        assert self.proc is not None
        code = self.proc.wait()  # stdout ended: the child is exiting; reap it
        self._close_stdin()
        log.info("coach window exited (%d)", code)
        if self.on_exit is not None:
            self.on_exit(code)

    @staticmethod
    def _log(stream: IO[bytes]) -> None:
        for line in stream:
            log.info("coach window: %s", line.decode(errors="replace").rstrip())
        stream.close()


def _reap(proc: subprocess.Popen[bytes]) -> None:
    try:
        proc.wait(CLOSE_WAIT)
    except subprocess.TimeoutExpired:
        log.warning("coach window (pid %d) did not close; killed", proc.pid)
        proc.kill()
        proc.wait()
