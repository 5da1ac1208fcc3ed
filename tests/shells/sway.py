"""sway 1.7, headless, with waybar (its tray = the StatusNotifierWatcher and host) and
mako (the notification server), in a :class:`ShellSession`.

What a user of a wlroots desktop has, driven through the shell's own tools: ``wtype`` types
(virtual keyboard protocol, which resets sway's ``org_kde_kwin_idle``), ``grim`` takes
screenshots, ``makoctl`` lists and invokes notifications (``makoctl invoke`` is what a
click on a button does). Xwayland is off: it has no MIT-SCREEN-SAVER here, and a
Wayland-only session is what wlroots users increasingly run.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from desktop.rig import NOTIFICATIONS, SNI_WATCHER, wait_for
from PIL import Image, ImageChops

from .session import ShellSession
from .wlpointer import VirtualPointer

#: what a sway login sets
SWAY_ENV = {
    "XDG_CURRENT_DESKTOP": "sway",
    "XDG_SESSION_TYPE": "wayland",
    "XDG_SESSION_DESKTOP": "sway",
}
#: headless wlroots: no GPU, no input devices, one virtual output
_WLR_ENV = {
    "WLR_BACKENDS": "headless",
    "WLR_LIBINPUT_NO_DEVICES": "1",
    "WLR_RENDERER": "pixman",
    "WLR_HEADLESS_OUTPUTS": "1",
}

SCREEN = (1280, 800)
BAR_HEIGHT = 32  # waybar's minimum for these modules
#: the bar's background, set in our waybar style so a screenshot can find the bar
BAR_RGB = (0x20, 0x20, 0x20)
DESKTOP_RGB = (0x33, 0x55, 0x77)
#: GTK's menu background (Adwaita) and a bound for its text being darker
MENU_RGB = (255, 255, 255)
_TEXT_MAX = 200

_SWAY_CONFIG = """\
# Written by tests/shells/sway.py
output HEADLESS-1 resolution {width}x{height} position 0,0
output * bg #335577 solid_color
font pango:DejaVu Sans 10
xwayland disable
bar {{
    swaybar_command waybar
}}
exec mako
"""

_WAYBAR_CONFIG = {
    "layer": "top",
    "position": "top",
    "height": BAR_HEIGHT,
    "modules-left": ["sway/workspaces"],
    "modules-right": ["tray"],
    "tray": {"icon-size": 22, "spacing": 8},
}

_WAYBAR_STYLE = """\
* { font-family: "DejaVu Sans"; font-size: 12px; border: none; border-radius: 0; }
window#waybar { background: #202020; color: #ffffff; }
#tray { padding: 0 6px; }
"""

#: mako keeps every notification on screen until it is invoked or dismissed, so
#: ``makoctl list`` shows all a test caused; ids stay visible for ``makoctl invoke``
_MAKO_CONFIG = """\
max-visible=-1
default-timeout=0
max-history=50
"""


class Sway:
    """A running sway session; :meth:`start` it, :meth:`stop` it (or use ``with``)."""

    def __init__(self, timeout: float = 20.0) -> None:
        self.session = ShellSession("sway", SWAY_ENV, timeout=timeout)
        self.wayland_display = ""
        #: seconds from spawning sway until each readiness mark
        self.timings: dict[str, float] = {}
        self._shots = 0

    def __enter__(self) -> Sway:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> Sway:
        s = self.session
        s.start()
        try:
            # sway execs swaybar_command without a shell: waybar finds these by itself
            s.write("home/.config/waybar/config", json.dumps(_WAYBAR_CONFIG))
            s.write("home/.config/waybar/style.css", _WAYBAR_STYLE)
            s.write("home/.config/mako/config", _MAKO_CONFIG)
            config = s.write(
                "home/.config/sway/config",
                _SWAY_CONFIG.format(width=SCREEN[0], height=SCREEN[1]),
            )
            began = time.monotonic()
            sway = s.spawn("sway", ["sway", "--config", str(config)], env=_WLR_ENV)
            s.ready(sway, self._socket, "creates its Wayland socket")
            self.timings["socket"] = time.monotonic() - began
            self.wayland_display = self._socket()
            s.env["WAYLAND_DISPLAY"] = self.wayland_display
            s.ready(sway, lambda: s.belongs(s.bus.owner_pid(SNI_WATCHER)), "waybar's tray")
            self.timings["tray watcher"] = time.monotonic() - began
            s.ready(sway, lambda: s.belongs(s.bus.owner_pid(NOTIFICATIONS)), "mako")
            self.timings["notifications"] = time.monotonic() - began
        except BaseException:
            s.stop()
            raise
        return self

    def stop(self) -> None:
        self.session.stop()

    def _socket(self) -> str:
        socks = sorted(
            p.name
            for p in self.session.runtime_dir.glob("wayland-*")
            if not p.name.endswith(".lock") and p.is_socket()
        )
        return socks[0] if socks else ""

    # ------------------------------------------------------------------ the user's tools
    def type_text(self, text: str) -> None:
        """Type ``text`` through the virtual keyboard protocol (real compositor input)."""
        self.session.run("wtype", "--", text)

    def press_key(self, *keysyms: str) -> None:
        """Press and release keys by keysym name, e.g. ``press_key("Shift_L")``."""
        self.session.run("wtype", *(arg for key in keysyms for arg in ("-k", key)))

    def screenshot(self) -> Path:
        """The whole output as PNG (grim, wlr-screencopy), saved in the state dir."""
        self._shots += 1
        path = self.session.state_dir / f"shot-{self._shots:03d}.png"
        self.session.run("grim", str(path), env={"WAYLAND_DISPLAY": self.wayland_display})
        return path

    def makoctl(self, *args: str) -> str:
        return self.session.run("makoctl", *args).stdout

    def notifications(self) -> list[dict[str, Any]]:
        """What mako shows now, newest first: {"id", "summary", "body", "app_name",
        "actions": {key: label}}."""
        data = json.loads(self.makoctl("list"))["data"][0]
        return [{key: _plain(value) for key, value in entry.items()} for entry in data]

    def invoke(self, nid: int, action: str = "default") -> None:
        """Press a notification's button as a click would (``makoctl invoke``)."""
        self.makoctl("invoke", "-n", str(nid), action)

    def dismiss_all(self) -> None:
        self.makoctl("dismiss", "--all")
        wait_for(lambda: self.notifications() == [], 5, what="mako to show nothing")

    def pointer(self) -> VirtualPointer:
        """A mouse on sway's seat (close it when done)."""
        return VirtualPointer(self.session.runtime_dir / self.wayland_display, SCREEN)

    def wayland_globals(self) -> str:
        """``wayland-info`` output: the protocols sway offers its clients."""
        return self.session.run("wayland-info").stdout


def _plain(value: Any) -> Any:
    """makoctl's JSON wraps each D-Bus value as {"type": sig, "data": value}."""
    if isinstance(value, dict) and set(value) == {"type", "data"}:
        return _plain(value["data"])
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


# ---------------------------------------------------------------------- reading screenshots


def bar_items(shot: Path, left: int = SCREEN[0] // 2) -> tuple[int, int, int, int] | None:
    """Bounding box of whatever is drawn on the bar right of ``left`` (the tray), or None."""
    with Image.open(shot) as image:
        bar = image.convert("RGB").crop((left, 0, SCREEN[0], BAR_HEIGHT))
    drawn = ImageChops.difference(bar, Image.new("RGB", bar.size, BAR_RGB)).convert("L")
    box = drawn.point(lambda v: 255 if v > 8 else 0).getbbox()
    return None if box is None else (box[0] + left, box[1], box[2] + left, box[3])


def menu_box(shot: Path) -> tuple[int, int, int, int] | None:
    """Bounding box of an open GTK menu (a large block of :data:`MENU_RGB`), or None.
    Only rows and columns mostly of that colour count, so the pointer's white arrow
    next to the menu does not stretch the box."""
    with Image.open(shot) as image:
        rgb = image.convert("RGB")
    exact = ImageChops.difference(rgb, Image.new("RGB", rgb.size, MENU_RGB)).convert("L")
    white = exact.point(lambda v: 255 if v == 0 else 0)
    if white.histogram()[255] < 20_000:
        return None
    cols = [
        x
        for x in range(white.width)
        if white.crop((x, 0, x + 1, white.height)).histogram()[255] > 100
    ]
    rows = [
        y
        for y in range(white.height)
        if white.crop((0, y, white.width, y + 1)).histogram()[255] > 100
    ]
    return (cols[0], rows[0], cols[-1] + 1, rows[-1] + 1)


def menu_rows(shot: Path, box: tuple[int, int, int, int]) -> list[int]:
    """The y centre of every line of text in the menu at ``box``, top to bottom: one per
    visible item with a label (separators draw no text)."""
    with Image.open(shot) as image:
        menu = image.convert("L").crop(box)
    darkest_per_row = [
        menu.crop((0, y, menu.width, y + 1)).getextrema()[0] for y in range(menu.height)
    ]
    rows, start = [], None
    for y, darkest in enumerate([*darkest_per_row, 255]):
        if darkest < _TEXT_MAX and start is None:
            start = y
        elif darkest >= _TEXT_MAX and start is not None:
            rows.append(box[1] + (start + y) // 2)
            start = None
    return rows
