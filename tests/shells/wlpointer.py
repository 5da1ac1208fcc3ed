"""A virtual pointer on a wlroots compositor (``zwlr_virtual_pointer_v1``), in pure Python.

Headless sway has no input devices, so its seat offers clients no pointer at all and
``swaymsg seat - cursor press`` reaches nobody. A virtual pointer is a real input device
to sway: clients (waybar, mako) then get ``wl_pointer`` events exactly as from a mouse.
Only the few requests a click needs are spoken, over the Wayland wire protocol:
wayland.xml (wl_display, wl_registry, wl_callback) and wlr-virtual-pointer-unstable-v1.xml
(version 1).
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path

_DISPLAY = 1  # wl_display is object 1
_DISPLAY_SYNC, _DISPLAY_GET_REGISTRY = 0, 1  # requests
_DISPLAY_ERROR = 0  # event
_REGISTRY_BIND = 0  # request
_REGISTRY_GLOBAL = 0  # event
MANAGER = "zwlr_virtual_pointer_manager_v1"
_MANAGER_CREATE = 0  # create_virtual_pointer(seat: object|null, id: new_id)
_MOTION_ABSOLUTE, _BUTTON, _FRAME, _DESTROY = 1, 2, 4, 8

BTN_LEFT, BTN_RIGHT = 0x110, 0x111  # linux/input-event-codes.h


def _string(text: str) -> bytes:
    raw = text.encode() + b"\0"
    return struct.pack("<I", len(raw)) + raw + b"\0" * (-len(raw) % 4)


class VirtualPointer:
    """A mouse for the compositor at ``socket_path``, moving over an output of
    ``extent`` (width, height) in layout coordinates. Close it (or use ``with``)."""

    def __init__(self, socket_path: Path, extent: tuple[int, int]) -> None:
        self.extent = extent
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(5)
        self._sock.connect(str(socket_path))
        self._buf = b""
        self._next = 2
        self._started = time.monotonic()
        registry = self._new_id()
        self._send(_DISPLAY, _DISPLAY_GET_REGISTRY, struct.pack("<I", registry))
        globals_: dict[str, tuple[int, int]] = {}
        for obj, opcode, body in self._until_synced():
            if obj == registry and opcode == _REGISTRY_GLOBAL:
                name, length = struct.unpack_from("<II", body)
                iface = body[8 : 8 + length - 1].decode()
                (version,) = struct.unpack_from("<I", body, 8 + length + (-length % 4))
                globals_[iface] = (name, version)
        if MANAGER not in globals_:
            self.close()
            raise RuntimeError(f"the compositor offers no {MANAGER}: {sorted(globals_)}")
        manager = self._new_id()
        name = globals_[MANAGER][0]
        bind = struct.pack("<I", name) + _string(MANAGER) + struct.pack("<II", 1, manager)
        self._send(registry, _REGISTRY_BIND, bind)
        self._pointer = self._new_id()
        self._send(manager, _MANAGER_CREATE, struct.pack("<II", 0, self._pointer))
        self.sync()

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> VirtualPointer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def move(self, x: int, y: int) -> None:
        width, height = self.extent
        self._send(
            self._pointer, _MOTION_ABSOLUTE, struct.pack("<5I", self._ms(), x, y, width, height)
        )
        self._send(self._pointer, _FRAME)
        self.sync()

    def click(self, x: int, y: int, button: int = BTN_LEFT) -> None:
        """Move to (x, y), then press and release ``button`` there."""
        self.move(x, y)
        for state in (1, 0):
            self._send(self._pointer, _BUTTON, struct.pack("<3I", self._ms(), button, state))
            self._send(self._pointer, _FRAME)
            self.sync()

    def sync(self) -> None:
        """Wait until the compositor has handled everything sent so far."""
        for _ in self._until_synced():
            pass

    # -- wire
    def _ms(self) -> int:
        return int((time.monotonic() - self._started) * 1000) & 0xFFFFFFFF

    def _new_id(self) -> int:
        self._next += 1
        return self._next - 1

    def _send(self, obj: int, opcode: int, payload: bytes = b"") -> None:
        header = struct.pack("<II", obj, ((8 + len(payload)) << 16) | opcode)
        self._sock.sendall(header + payload)

    def _until_synced(self) -> Iterator[tuple[int, int, bytes]]:
        """Events up to the reply to a new wl_display.sync (a protocol error raises)."""
        callback = self._new_id()
        self._send(_DISPLAY, _DISPLAY_SYNC, struct.pack("<I", callback))
        while True:
            while len(self._buf) >= 8:
                obj, size_op = struct.unpack_from("<II", self._buf)
                size = size_op >> 16
                if len(self._buf) < size:
                    break
                body, self._buf = self._buf[8:size], self._buf[size:]
                if obj == callback:
                    return
                if obj == _DISPLAY and size_op & 0xFFFF == _DISPLAY_ERROR:
                    raise RuntimeError(f"Wayland protocol error: {body!r}")
                yield obj, size_op & 0xFFFF, body
            chunk = self._sock.recv(65536)
            if not chunk:
                raise EOFError("the compositor closed the connection")
            self._buf += chunk
