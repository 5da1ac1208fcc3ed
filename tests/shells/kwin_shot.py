"""A screenshot of a KWin 5.27 Wayland session through ``org.kde.KWin.ScreenShot2``
(``CaptureWorkspace``: the whole workspace, written raw into a pipe we pass).

KWin answers only when started with ``KWIN_SCREENSHOT_NO_PERMISSION_CHECKS=1``; any
client of the session bus may then ask. The image comes as a QImage's bytes: format 6
(ARGB32 premultiplied) or 4 (RGB32), both BGRA in memory on little-endian machines.

"""

from __future__ import annotations

import os
import threading

from jeepney import DBusAddress, MessageType, new_method_call  # type: ignore[import-untyped]
from jeepney.io.blocking import open_dbus_connection  # type: ignore[import-untyped]
from PIL import Image

SCREENSHOT = DBusAddress(
    "/org/kde/KWin/ScreenShot2", "org.kde.KWin.ScreenShot2", "org.kde.KWin.ScreenShot2"
)


def capture(bus_address: str, out: str) -> tuple[int, int]:
    """Save the workspace as a PNG at ``out``; return its size. KWin refuses to answer
    while the screen is locked (the call times out), as it should."""
    read_end, write_end = os.pipe()
    chunks: list[bytes] = []
    # read while KWin writes: a 1280x800 frame is 4 MB, far more than a pipe holds
    reader = threading.Thread(target=_drain, args=(read_end, chunks), daemon=True)
    reader.start()
    with open_dbus_connection(bus_address, enable_fds=True) as bus:
        call = new_method_call(
            SCREENSHOT, "CaptureWorkspace", "a{sv}h", ({"include-cursor": ("b", False)}, write_end)
        )
        reply = bus.send_and_get_reply(call, timeout=10)
    os.close(write_end)
    reader.join(10)
    if reply.header.message_type == MessageType.error:
        raise RuntimeError(f"ScreenShot2.CaptureWorkspace: {reply.body}")
    meta = {key: value for key, (_sig, value) in reply.body[0].items()}
    size = (int(meta["width"]), int(meta["height"]))
    image = Image.frombuffer("RGBA", size, b"".join(chunks), "raw", "BGRA", meta["stride"], 1)
    image.convert("RGB").save(out)
    return size


def _drain(fd: int, chunks: list[bytes]) -> None:
    with os.fdopen(fd, "rb") as pipe:
        while chunk := pipe.read(1 << 20):
            chunks.append(chunk)
