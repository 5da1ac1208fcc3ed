"""A small client of the Wayland wire protocol: connect, list the globals, bind a few,
send requests and hear their events -- all an idle source needs, in the standard library.

The protocol is a stream of messages over a Unix socket, each a header of two 32-bit
words in the host's byte order (object id; size << 16 | opcode) and its arguments,
32-bit words too: ``uint`` and object ids as they are, strings as a length (NUL
included), the bytes and padding to a multiple of four. No request or event used here
passes a file descriptor, so plain ``send``/``recv`` carry it all.

One reader thread per connection blocks in ``recv`` and dispatches each event to the
handler of its object; it wakes only when the compositor sends something. The
compositor ends with the session: when it closes the connection (or reports a
protocol error, which it follows by closing it) the ``on_lost`` hooks hear it once.

Opcodes are the order of requests and events in the protocol XML, here wayland.xml
(Wayland 1.21; ``wl_display`` v1, ``wl_registry`` v1, ``wl_callback`` v1).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import struct
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ergobreak.platform.base import Unavailable

log = logging.getLogger("ergobreak.platform")

#: wl_display is always object 1; the ids a client creates count up from 2
DISPLAY_ID = 1
# wl_display requests and events (wayland.xml)
DISPLAY_SYNC = 0
DISPLAY_GET_REGISTRY = 1
DISPLAY_ERROR = 0
DISPLAY_DELETE_ID = 1
# wl_registry request and events (wayland.xml)
REGISTRY_BIND = 0
REGISTRY_GLOBAL = 0
REGISTRY_GLOBAL_REMOVE = 1
# wl_callback event (wayland.xml)
CALLBACK_DONE = 0

HEADER = struct.Struct("=II")
WORD = struct.Struct("=I")
#: libwayland's limit for one message (WL_MAX_MESSAGE_SIZE)
MAX_MESSAGE = 4096
#: how long the compositor may take to answer a round trip
ANSWER_WITHIN = 2.0

#: an event's handler: (opcode, arguments) on the reader thread; enqueue only
Handler = Callable[[int, bytes], None]


class ProtocolError(ValueError):
    """Bytes that are not a well-formed Wayland message."""


# --------------------------------------------------------------------------- wire format


def encode(object_id: int, opcode: int, *args: int | str) -> bytes:
    """One message: ``int`` arguments as ``uint`` words (object ids, new ids, names,
    versions, milliseconds), ``str`` ones as Wayland strings."""
    body = b"".join(_uint(a) if isinstance(a, int) else _string(a) for a in args)
    size = HEADER.size + len(body)
    if size > MAX_MESSAGE:
        raise ProtocolError(f"message of {size} bytes is over {MAX_MESSAGE}")
    return HEADER.pack(object_id, size << 16 | opcode) + body


def _uint(value: int) -> bytes:
    if not 0 <= value < 1 << 32:
        raise ProtocolError(f"{value} does not fit a uint")
    return WORD.pack(value)


def _string(text: str) -> bytes:
    raw = text.encode() + b"\0"
    return WORD.pack(len(raw)) + raw + b"\0" * (-len(raw) % 4)


@dataclass(frozen=True, slots=True)
class Event:
    object_id: int
    opcode: int
    args: bytes


def split(buffer: bytes) -> tuple[list[Event], bytes]:
    """The whole messages at the start of ``buffer``, and the bytes left over (the
    beginning of the next one, to be completed by the next read)."""
    events: list[Event] = []
    at = 0
    while len(buffer) - at >= HEADER.size:
        object_id, word = HEADER.unpack_from(buffer, at)
        size, opcode = word >> 16, word & 0xFFFF
        if size < HEADER.size or size % 4:
            raise ProtocolError(f"message size {size} at byte {at}")
        if len(buffer) - at < size:
            break
        events.append(Event(object_id, opcode, buffer[at + HEADER.size : at + size]))
        at += size
    return events, buffer[at:]


class Args:
    """Reads an event's arguments in order (the events used here have only ``uint``
    and ``string`` ones)."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._at = 0

    def uint(self) -> int:
        if self._at + 4 > len(self._data):
            raise ProtocolError("argument past the end of the message")
        (value,) = WORD.unpack_from(self._data, self._at)
        self._at += 4
        return int(value)

    def string(self) -> str:
        length = self.uint()
        end = self._at + length
        if length == 0 or end > len(self._data) or self._data[end - 1] != 0:
            raise ProtocolError("malformed string argument")
        text = self._data[self._at : end - 1].decode(errors="replace")
        self._at = end + (-length % 4)
        return text


# --------------------------------------------------------------------------- connection


def socket_for(env: Mapping[str, str]) -> tuple[socket.socket, str]:
    """Connect as libwayland does: ``WAYLAND_SOCKET`` (a connected descriptor handed
    down by the compositor), else ``WAYLAND_DISPLAY`` (absolute, or a name in
    ``XDG_RUNTIME_DIR``; ``wayland-0`` when unset). Returns the socket and its name."""
    handed = env.get("WAYLAND_SOCKET", "").strip()
    if handed:
        try:
            sock = socket.socket(fileno=int(handed))
        except (ValueError, OSError) as exc:
            raise Unavailable(f"WAYLAND_SOCKET={handed} is not a usable socket: {exc}") from None
        sock.set_inheritable(False)
        return sock, f"WAYLAND_SOCKET={handed}"
    name = env.get("WAYLAND_DISPLAY", "") or "wayland-0"
    if os.path.isabs(name):
        path = name
    else:
        runtime = env.get("XDG_RUNTIME_DIR", "")
        if not runtime:
            raise Unavailable("XDG_RUNTIME_DIR is not set: no Wayland socket to look for")
        path = os.path.join(runtime, name)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError as exc:
        sock.close()
        raise Unavailable(f"no Wayland compositor at {path}: {exc.strerror or exc}") from None
    return sock, name


class WaylandDisplay:
    """One connection to the compositor, with the globals it offered at connect time."""

    def __init__(self, sock: socket.socket, name: str) -> None:
        """Takes over ``sock``; lists the globals with one round trip. Raises
        :class:`Unavailable` when the compositor does not answer."""
        self.name = name
        self.label = f"the Wayland display {name}"
        #: interface name -> (global name, version), as the registry announced them
        self.globals: dict[str, tuple[int, int]] = {}
        #: why the connection ended, once it has
        self.lost: str | None = None
        #: how often the reader thread woke up (a figure the tests report)
        self.wakeups = 0
        self._sock = sock
        self._send_lock = threading.Lock()
        self._state = threading.Lock()
        self._next_id = DISPLAY_ID + 1
        self._handlers: dict[int, Handler] = {DISPLAY_ID: self._on_display}
        self._lost_hooks: list[Callable[[str], None]] = []
        self._waiting: set[threading.Event] = set()
        self._closing = False
        #: objects whose handler raised (logged once each)
        self._failed: set[int] = set()
        self._reader = threading.Thread(
            target=self._read, name="ergobreak-wayland-reader", daemon=True
        )
        self._reader.start()
        try:
            self._registry = self.create(self._on_registry)
            self.send(DISPLAY_ID, DISPLAY_GET_REGISTRY, self._registry)
            self.roundtrip()
        except Unavailable:
            self.close()
            raise

    @classmethod
    def open(cls, env: Mapping[str, str]) -> WaylandDisplay:
        sock, name = socket_for(env)
        return cls(sock, name)

    # -- any thread
    def create(self, handler: Handler | None = None) -> int:
        """A new object id, with the handler for its events."""
        with self._state:
            object_id = self._next_id
            self._next_id += 1
            if handler is not None:
                self._handlers[object_id] = handler
        return object_id

    def bind(self, interface: str, version: int, handler: Handler | None = None) -> int:
        """Bind the global ``interface`` at ``version`` (or the compositor's, if lower).

        Raises:
            Unavailable: the compositor does not offer it.
        """
        offered = self.globals.get(interface)
        if offered is None:
            raise Unavailable(f"the compositor offers no {interface}")
        name, highest = offered
        object_id = self.create(handler)
        self.send(self._registry, REGISTRY_BIND, name, interface, min(version, highest), object_id)
        return object_id

    def send(self, object_id: int, opcode: int, *args: int | str) -> None:
        message = encode(object_id, opcode, *args)
        if self.lost is not None:
            raise Unavailable(f"{self.label} is gone: {self.lost}")
        try:
            with self._send_lock:
                self._sock.sendall(message)
        except OSError as exc:
            self._lose(f"sending failed: {exc}")
            raise Unavailable(f"{self.label} is gone: {exc}") from None

    def roundtrip(self, timeout: float = ANSWER_WITHIN) -> None:
        """Wait until the compositor has handled every request sent so far (and its
        answers have been dispatched).

        Raises:
            Unavailable: it went away, reported an error or did not answer in time.
        """
        done = threading.Event()
        callback = self.create(lambda _opcode, _args: done.set())
        with self._state:
            self._waiting.add(done)
        try:
            self.send(DISPLAY_ID, DISPLAY_SYNC, callback)
            answered = done.wait(timeout)
        finally:
            with self._state:
                self._waiting.discard(done)
        if self.lost is not None:
            raise Unavailable(f"{self.label} is gone: {self.lost}")
        if not answered:
            raise Unavailable(f"{self.label} did not answer within {timeout:g} s")

    def on_lost(self, hook: Callable[[str], None]) -> None:
        """Call ``hook(reason)`` once when the compositor closes the connection or reports
        a protocol error, from the reader thread (record or enqueue only); at once if
        that happened already."""
        with self._state:
            lost = self.lost
            if lost is None:
                self._lost_hooks.append(hook)
        if lost is not None:
            hook(lost)

    def close(self) -> None:
        """Hang up (no loss is reported for it) and wait for the reader to end."""
        with self._state:
            self._closing = True
        with contextlib.suppress(OSError):  # the compositor may have hung up already
            self._sock.shutdown(socket.SHUT_RDWR)
        if self._reader is not threading.current_thread():
            self._reader.join()
        self._sock.close()

    # -- reader thread
    def _read(self) -> None:
        pending = b""
        while True:
            try:
                chunk = self._sock.recv(65536)
            except ConnectionResetError:
                chunk = b""  # it hung up with our requests unread: the same end
            except OSError as exc:
                self._lose(f"reading failed: {exc}")
                return
            self.wakeups += 1
            if not chunk:
                self._lose("the compositor closed the connection")
                return
            try:
                events, pending = split(pending + chunk)
                for event in events:
                    self._dispatch(event)
            except ProtocolError as exc:
                self._lose(f"malformed message from the compositor: {exc}")
                return

    def _dispatch(self, event: Event) -> None:
        with self._state:
            handler = self._handlers.get(event.object_id)
        if handler is None:
            return
        try:
            handler(event.opcode, event.args)
        except ProtocolError:
            raise
        except Exception:
            # A failing handler (a bug) loses that event, never the connection: the
            # reader is the only one listening to the compositor.
            if event.object_id not in self._failed:
                self._failed.add(event.object_id)
                log.exception("handling a Wayland event of object %d failed", event.object_id)

    def _on_display(self, opcode: int, data: bytes) -> None:
        args = Args(data)
        if opcode == DISPLAY_ERROR:
            object_id, code, message = args.uint(), args.uint(), args.string()
            self._lose(f"protocol error {code} on object {object_id}: {message}")
        elif opcode == DISPLAY_DELETE_ID:
            object_id = args.uint()
            with self._state:
                self._handlers.pop(object_id, None)

    def _on_registry(self, opcode: int, data: bytes) -> None:
        args = Args(data)
        if opcode == REGISTRY_GLOBAL:
            name, interface, version = args.uint(), args.string(), args.uint()
            self.globals.setdefault(interface, (name, version))
        elif opcode == REGISTRY_GLOBAL_REMOVE:
            name = args.uint()
            for interface, (known, _version) in list(self.globals.items()):
                if known == name:
                    del self.globals[interface]

    def _lose(self, reason: str) -> None:
        with self._state:
            if self.lost is not None:
                return
            self.lost = "closed by ergobreak" if self._closing else reason
            hooks = [] if self._closing else list(self._lost_hooks)
            waiting = list(self._waiting)
        for done in waiting:
            done.set()  # a round trip in progress ends now, with the reason
        for hook in hooks:
            hook(reason)
