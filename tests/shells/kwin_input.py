"""Input through KWin's own path: ``org_kde_kwin_fake_input`` over the Wayland wire
protocol, in pure Python (one AF_UNIX socket, no libwayland binding to build).

KWin 5.27 offers the global only when started with ``KWIN_WAYLAND_NO_PERMISSION_CHECKS=1``.
Events injected here go through KWin's input pipeline like a real device's: they reset
its idle timers (``ext_idle_notifier_v1``, ``org_kde_kwin_idle``) and reach the surface
under the pointer.

KWin offers the global only to clients whose executable it can look up, which a client
running as root is not: the tests run this file as the session's user, as a small server
that reads one command a line from stdin and answers ``ok`` (or ``error: ...``) once the
compositor has processed it::

    key [CODE] | type TEXT | move X Y | click X Y [BUTTON] | typing SECONDS|off

``typing`` is a user at the keyboard: a shift key every SECONDS until ``typing off``.
"""

from __future__ import annotations

import os
import select
import socket
import struct
import sys
import time
from collections.abc import Callable, Iterator

FAKE_INPUT = "org_kde_kwin_fake_input"
#: linux/input-event-codes.h
KEY_LEFTSHIFT = 42
KEY_ENTER = 28
BTN_LEFT = 0x110
BTN_RIGHT = 0x111
#: org_kde_kwin_fake_input requests (kwin's fake-input.xml, version 4)
_AUTHENTICATE, _BUTTON, _POINTER_MOTION_ABSOLUTE, _KEYBOARD_KEY = 0, 2, 9, 10
_PRESSED, _RELEASED = 1, 0
#: US layout letters and digits as evdev key codes (what ``type`` can say)
_KEYS = {
    **dict(zip("1234567890", range(2, 12), strict=True)),
    **dict(zip("qwertyuiop", range(16, 26), strict=True)),
    **dict(zip("asdfghjkl", range(30, 39), strict=True)),
    **dict(zip("zxcvbnm", range(44, 51), strict=True)),
    "\n": KEY_ENTER,
}


def _string(text: str) -> bytes:
    raw = text.encode() + b"\0"
    return struct.pack("<I", len(raw)) + raw + b"\0" * (-len(raw) % 4)


def _fixed(value: float) -> bytes:
    return struct.pack("<i", round(value * 256))


class FakeInput:
    """One client connection with the fake-input global bound and authenticated."""

    def __init__(self, socket_path: str) -> None:
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(10)
        self._sock.connect(socket_path)
        self._next_id = 2  # 1 is wl_display
        self._buf = b""
        registry = self._new_id()
        self._send(1, 1, struct.pack("<I", registry))  # wl_display.get_registry
        offered: dict[str, tuple[int, int]] = {}

        def on_global(obj: int, opcode: int, body: bytes) -> None:
            if obj == registry and opcode == 0:  # wl_registry.global(name, interface, version)
                (name, length) = struct.unpack_from("<II", body)
                interface = body[8 : 8 + length - 1].decode()
                (version,) = struct.unpack_from("<I", body, 8 + length + (-length % 4))
                offered[interface] = (name, version)

        self.roundtrip(on_global)
        if FAKE_INPUT not in offered:
            raise RuntimeError(
                f"{FAKE_INPUT} is not offered (KWin needs KWIN_WAYLAND_NO_PERMISSION_CHECKS=1)"
            )
        name, version = offered[FAKE_INPUT]
        self._fake = self._new_id()
        bind = struct.pack("<I", name) + _string(FAKE_INPUT)
        self._send(registry, 0, bind + struct.pack("<II", min(version, 4), self._fake))
        self._send(self._fake, _AUTHENTICATE, _string("ergobreak tests") + _string("desktop tests"))
        self.roundtrip()

    def close(self) -> None:
        self._sock.close()

    def key(self, code: int = KEY_LEFTSHIFT) -> None:
        """Press and release one key (shift by default: it types nothing anywhere)."""
        self._send(self._fake, _KEYBOARD_KEY, struct.pack("<II", code, _PRESSED))
        self._send(self._fake, _KEYBOARD_KEY, struct.pack("<II", code, _RELEASED))
        self.roundtrip()

    def type(self, text: str) -> None:
        for char in text:
            self.key(_KEYS[char])

    def move(self, x: float, y: float) -> None:
        self._send(self._fake, _POINTER_MOTION_ABSOLUTE, _fixed(x) + _fixed(y))
        self.roundtrip()

    def click(self, x: float, y: float, button: int = BTN_LEFT) -> None:
        """Move there, let the client under the pointer see it enter, then press and
        release (a press in the same frame as the motion can land on the old surface)."""
        self.move(x, y)
        time.sleep(0.2)
        self._send(self._fake, _BUTTON, struct.pack("<II", button, _PRESSED))
        self.roundtrip()
        time.sleep(0.05)
        self._send(self._fake, _BUTTON, struct.pack("<II", button, _RELEASED))
        self.roundtrip()

    def roundtrip(self, on_event: Callable[[int, int, bytes], None] | None = None) -> None:
        """wl_display.sync and wait for its callback: every request before it is done."""
        callback = self._new_id()
        self._send(1, 0, struct.pack("<I", callback))
        for obj, opcode, body in self._events():
            if obj == callback:
                return
            if obj == 1 and opcode == 0:
                raise RuntimeError(f"wl_display.error {body!r}")
            if on_event is not None:
                on_event(obj, opcode, body)

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def _send(self, obj: int, opcode: int, payload: bytes = b"") -> None:
        header = struct.pack("<II", obj, ((8 + len(payload)) << 16) | opcode)
        self._sock.sendall(header + payload)

    def _events(self) -> Iterator[tuple[int, int, bytes]]:
        while True:
            while len(self._buf) >= 8:
                obj, size_opcode = struct.unpack_from("<II", self._buf)
                size = size_opcode >> 16
                if len(self._buf) < size:
                    break
                body, self._buf = self._buf[8:size], self._buf[size:]
                yield obj, size_opcode & 0xFFFF, body
            chunk = self._sock.recv(65536)
            if not chunk:
                raise EOFError("the compositor closed the connection")
            self._buf += chunk


def serve(device: FakeInput) -> None:
    every: float | None = None  # typing on its own, between commands
    while True:
        if not select.select([sys.stdin], [], [], every)[0]:
            device.key()
            continue
        line = sys.stdin.readline()
        if not line:
            return
        what, *args = line.split()
        try:
            if what == "typing":
                every = None if args[0] == "off" else float(args[0])
            else:
                _do(device, what, args)
        except (ValueError, IndexError, KeyError) as exc:
            print(f"error: {exc}", flush=True)
        else:
            print("ok", flush=True)


def _do(device: FakeInput, what: str, args: list[str]) -> None:
    if what == "key":
        device.key(int(args[0]) if args else KEY_LEFTSHIFT)
    elif what == "type":
        device.type(args[0])
    elif what == "move":
        device.move(float(args[0]), float(args[1]))
    elif what == "click":
        device.click(float(args[0]), float(args[1]), int(args[2]) if len(args) > 2 else BTN_LEFT)
    else:
        raise ValueError(f"unknown command {what!r}")


if __name__ == "__main__":
    runtime = os.environ["XDG_RUNTIME_DIR"]
    serve(FakeInput(os.path.join(runtime, os.environ.get("WAYLAND_DISPLAY", "wayland-0"))))
