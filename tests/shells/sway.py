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

from .session import ShellSession

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
