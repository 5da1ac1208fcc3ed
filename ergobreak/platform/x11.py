"""X11: idle time from MIT-SCREEN-SAVER, quiet while the active window is fullscreen.

Both read one shared Xlib connection, from the scheduler thread only (Xlib is not
thread-safe), and cost one or two round trips per call (~0.1 ms on a local
server). Under Wayland, XWayland only sees input sent to X clients, so the selector
never picks these there unless asked to (``ERGOBREAK_IDLE=x11``).

The X server ends with the session. :meth:`X11Display.on_lost` hears of it at once:
on Linux a thread blocks in ``poll(POLLRDHUP)`` on the connection's socket, which
wakes only when the server hangs up (it reads nothing, so Xlib's own reads are left
alone); elsewhere the next query that fails tells it.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import socket
import threading
from collections.abc import Callable
from typing import Any

from ergobreak.platform.base import Unavailable

try:  # python-xlib is a Linux-only dependency
    import Xlib.display
    import Xlib.error
    import Xlib.X

    HAVE_XLIB = True
    #: the server hung up (or the socket broke): the display is gone for good
    _GONE: tuple[type[BaseException], ...] = (Xlib.error.ConnectionClosedError, OSError)
    _XERRORS: tuple[type[BaseException], ...] = (Xlib.error.XError, *_GONE)
except ImportError:  # pragma: no cover - exercised on Windows/macOS only
    HAVE_XLIB = False
    _GONE = _XERRORS = (OSError,)


class X11Display:
    """One connection to ``$DISPLAY`` for the X adapters."""

    def __init__(self, name: str | None = None) -> None:
        """``name`` defaults to ``$DISPLAY``. Raises :class:`Unavailable` without
        python-xlib, a display name or a server."""
        if not HAVE_XLIB:
            raise Unavailable("python-xlib is not installed (pip install python-xlib)")
        if name is None:
            name = os.environ.get("DISPLAY")
        if not name:
            raise Unavailable("no X display: $DISPLAY is not set")
        if not _local_server_answers(name):
            raise Unavailable(f"no X server answers on display {name}")
        try:
            self.display: Any = Xlib.display.Display(name)
        except Exception as exc:  # DisplayNameError, DisplayConnectionError, OSError
            raise Unavailable(f"cannot open X display {name}: {exc}") from None
        self.name = name
        self.label = f"the X display {name}"
        self.root = self.display.screen().root
        self._atoms: dict[str, int] = {}
        #: why the server went away, once it has
        self.lost: str | None = None
        self._lock = threading.Lock()
        self._lost_hooks: list[Callable[[str], None]] = []
        self._watcher: threading.Thread | None = None
        self._stop = (-1, -1)

    def atom(self, name: str) -> int:
        if name not in self._atoms:
            self._atoms[name] = int(self.display.intern_atom(name))
        return self._atoms[name]

    def on_lost(self, hook: Callable[[str], None]) -> None:
        """Call ``hook(reason)`` once, when the server hangs up, from the thread that
        noticed (the watcher, or the scheduler thread's failing query): it must only
        record or enqueue."""
        self._lost_hooks.append(hook)
        if self._watcher is None and hasattr(select, "POLLRDHUP"):
            self._stop = os.pipe()
            self._watcher = threading.Thread(
                target=self._watch, name="ergobreak-x11-watch", daemon=True
            )
            self._watcher.start()

    def connection_lost(self, reason: str) -> None:
        """The server hung up (an adapter's query found out): tell the hooks, once."""
        with self._lock:
            if self.lost is not None:
                return
            self.lost = reason
        for hook in list(self._lost_hooks):
            hook(reason)

    def _watch(self) -> None:
        stop = self._stop[0]
        poller = select.poll()
        poller.register(self.display.fileno(), select.POLLRDHUP)
        poller.register(stop, select.POLLIN)
        if stop not in {fd for fd, _events in poller.poll()}:
            self.connection_lost("the X server closed the connection")

    def close(self) -> None:
        if self._watcher is not None:
            os.write(self._stop[1], b"x")  # ends the watcher if the server did not
            self._watcher.join()
            for fd in self._stop:
                os.close(fd)
            self._watcher = None
        try:
            self.display.close()
        except _XERRORS:
            # The server went away first: Xlib gives up before closing its socket.
            with contextlib.suppress(OSError, AttributeError):
                self.display.display.socket.close()


def _local_server_answers(name: str) -> bool:
    """For ``:N`` displays, check the server's socket first: python-xlib leaks a socket
    when it cannot connect (it falls back to TCP), which a daemon probing at start
    and a warnings-as-errors test suite both notice. Remote names are left to Xlib."""
    match = re.fullmatch(r"(?:unix)?:(\d+)(?:\.\d+)?", name)
    if match is None:
        return True
    path = f"/tmp/.X11-unix/X{match.group(1)}"  # noqa: S108 - the X11 convention
    for address in ("\0" + path, path):  # Linux abstract socket first, as Xlib does
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            try:
                sock.connect(address)
            except OSError:
                continue
            return True
    return False


class X11Idle:
    """Idle seconds from the MIT-SCREEN-SAVER extension (the server's input clock)."""

    name = "x11"

    def __init__(self, x: X11Display) -> None:
        if not x.display.has_extension("MIT-SCREEN-SAVER"):
            raise Unavailable(f"X display {x.name} lacks the MIT-SCREEN-SAVER extension")
        self._x = x
        self.idle_seconds()  # prove it answers now rather than at the first wake-up

    def idle_seconds(self) -> float:
        try:
            info = self._x.root.screensaver_query_info()
        except _GONE as exc:
            self._x.connection_lost(repr(exc))
            raise Unavailable(f"X idle query failed: {exc!r}") from None
        except _XERRORS as exc:
            raise Unavailable(f"X idle query failed: {exc!r}") from None
        return int(info.idle) / 1000.0

    def close(self) -> None:
        pass  # the shared display is closed by whoever opened it


class X11Fullscreen:
    """Quiet while the active window carries ``_NET_WM_STATE_FULLSCREEN`` (EWMH)."""

    name = "fullscreen"

    def __init__(self, x: X11Display) -> None:
        self._x = x
        self._active = x.atom("_NET_ACTIVE_WINDOW")
        self._state = x.atom("_NET_WM_STATE")
        self._fullscreen = x.atom("_NET_WM_STATE_FULLSCREEN")
        if not self._has_ewmh_wm():
            raise Unavailable(
                "no EWMH window manager on this display (_NET_SUPPORTING_WM_CHECK unset)"
            )

    def _has_ewmh_wm(self) -> bool:
        """A WM that exited leaves the root property behind; EWMH's check is that the
        window it names exists and names itself."""
        check_atom = self._x.atom("_NET_SUPPORTING_WM_CHECK")
        try:
            check = self._x.root.get_full_property(check_atom, Xlib.X.AnyPropertyType)
            if check is None or not len(check.value):
                return False
            window = self._x.display.create_resource_object("window", int(check.value[0]))
            own = window.get_full_property(check_atom, Xlib.X.AnyPropertyType)
        except _XERRORS:
            return False
        return own is not None and len(own.value) > 0 and int(own.value[0]) == window.id

    def active(self) -> bool:
        try:
            prop = self._x.root.get_full_property(self._active, Xlib.X.AnyPropertyType)
            if prop is None or not len(prop.value) or not prop.value[0]:
                return False
            window = self._x.display.create_resource_object("window", int(prop.value[0]))
            state = window.get_full_property(self._state, Xlib.X.AnyPropertyType)
        except Xlib.error.BadWindow:
            return False  # the window closed between the two reads
        except _GONE as exc:
            self._x.connection_lost(repr(exc))
            raise Unavailable(f"X fullscreen query failed: {exc!r}") from None
        except _XERRORS as exc:
            raise Unavailable(f"X fullscreen query failed: {exc!r}") from None
        return state is not None and self._fullscreen in state.value

    def close(self) -> None:
        pass  # the shared display is closed by whoever opened it
