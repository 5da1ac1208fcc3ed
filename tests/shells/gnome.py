"""GNOME Shell 43 in a :class:`ShellSession`, in either flavour a user gets from GDM:

* ``wayland``: ``gnome-shell --headless --wayland --virtual-monitor``, input through
  Mutter's RemoteDesktop API (:mod:`shells.mutter_input`), screenshots with
  ``gnome-screenshot`` (allow-listed for the Shell's Screenshot API);
* ``x11``: ``gnome-shell --x11`` on its own Xvfb, input with ``xdotool`` (XTEST, which
  resets both the X and Mutter idle counters), screenshots with ``import``.

The tray is the AppIndicator extension, enabled as Ubuntu ships it; the notification
server is the Shell's own (``org.freedesktop.Notifications`` is owned by the
``org.gnome.Shell.Notifications`` gjs proxy, which forwards to gnome-shell). GNOME
dies without a system bus, so the session gets a private one. The Shell starts in the
overview; :meth:`Gnome.start` leaves it, as a user's first keypress would.

The pixel helpers at the end find what a user sees: the tray icon in the top bar, the
rows of an open menu, a banner and its buttons.
"""

from __future__ import annotations

import contextlib
import os
import select
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, TypeVar, cast

from desktop.rig import NOTIFICATIONS, SNI_WATCHER, Proc, wait_for
from jeepney import DBusAddress, DBusErrorResponse  # type: ignore[import-untyped]
from PIL import Image

from .mutter_input import ESCAPE, SHIFT_L, MutterInput
from .session import SessionError, ShellSession

T = TypeVar("T")
Flavour = Literal["wayland", "x11"]
FLAVOURS: tuple[Flavour, ...] = ("wayland", "x11")

SCREEN = (1280, 800)
TOP_BAR = 32  # the top bar's height at scale 1
SHELL_NAME = "org.gnome.Shell"
SHELL_API = DBusAddress("/org/gnome/Shell", SHELL_NAME, SHELL_NAME)
IDLE_MONITOR = "org.gnome.Mutter.IdleMonitor"
REMOTE_DESKTOP = "org.gnome.Mutter.RemoteDesktop"

#: the tray (as on Ubuntu), no first-run tour, no hot corner under a pushed pointer
GSETTINGS = (
    ("org.gnome.shell", "enabled-extensions", "['ubuntu-appindicators@ubuntu.com']"),
    ("org.gnome.shell", "welcome-dialog-last-shown-version", "'999'"),
    ("org.gnome.desktop.interface", "enable-hot-corners", "false"),
)
#: GNOME's own do-not-disturb switch (the "Do Not Disturb" toggle in the calendar menu)
BANNERS = ("org.gnome.desktop.notifications", "show-banners")

#: GNOME 43's default dark theme: a banner's body, lighter while hovered (and expanded,
#: showing its buttons), and the button row
BANNER_RGB = (63, 63, 63)
HOVERED_RGB = (71, 71, 71)
BUTTON_RGB = (82, 82, 82)


class Input(Protocol):
    """A user's keyboard and mouse, through the flavour's own input path."""

    def key(self) -> None: ...
    def escape(self) -> None: ...
    def move_to(self, x: float, y: float) -> None: ...
    def click(self) -> None: ...
    def close(self) -> None: ...


class RemoteDesktopInput:
    """Wayland: Mutter's RemoteDesktop session (see :mod:`shells.mutter_input`)."""

    def __init__(self, address: str) -> None:
        self._mutter = MutterInput(address, SCREEN)

    def key(self) -> None:
        self._mutter.key(SHIFT_L)

    def escape(self) -> None:
        self._mutter.key(ESCAPE)

    def move_to(self, x: float, y: float) -> None:
        self._mutter.move_to(x, y)

    def click(self) -> None:
        self._mutter.click()

    def close(self) -> None:
        self._mutter.close()


class XdotoolInput:
    """X11: ``xdotool`` (XTEST) as the user, on the session's display."""

    def __init__(self, session: ShellSession) -> None:
        self._session = session

    def key(self) -> None:
        self._xdotool("key", "shift")

    def escape(self) -> None:
        self._xdotool("key", "Escape")

    def move_to(self, x: float, y: float) -> None:
        # no --sync: it waits for a motion event, which never comes if the pointer is
        # there already; the X server keeps XTEST events in order anyway
        self._xdotool("mousemove", str(round(x)), str(round(y)))

    def click(self) -> None:
        self._xdotool("click", "1")

    def close(self) -> None:
        pass

    def _xdotool(self, *args: str) -> None:
        self._session.run("xdotool", *args)


class Gnome:
    """A running GNOME Shell session; :meth:`start` it, :meth:`stop` it (or use ``with``)."""

    def __init__(self, flavour: Flavour, timeout: float = 30.0) -> None:
        self.flavour = flavour
        env = {
            "XDG_CURRENT_DESKTOP": "GNOME",
            "XDG_SESSION_TYPE": flavour,
            "XDG_SESSION_DESKTOP": "gnome",
        }
        self.session = ShellSession(f"gnome-{flavour}", env, system_bus=True, timeout=timeout)
        self.display = ""
        #: seconds from spawning gnome-shell until each readiness mark
        self.timings: dict[str, float] = {}
        self._input: Input | None = None
        self._shell: Proc | None = None
        self._pids: dict[str, int] = {}
        self._shots = 0

    def __enter__(self) -> Gnome:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def input(self) -> Input:
        if self._input is None:
            raise SessionError("GNOME is not running")
        return self._input

    @property
    def shell_pid(self) -> int:
        if self._shell is None:
            raise SessionError("GNOME is not running")
        return self._shell.pid

    def start(self) -> Gnome:
        s = self.session
        s.start()
        try:
            for schema, key, value in GSETTINGS:
                self.gsettings_set(schema, key, value)
            if self.flavour == "x11":
                self.display = self._start_xvfb()
                s.env["DISPLAY"] = self.display
                argv = ["gnome-shell", "--x11", "--sm-disable"]
            else:
                width, height = SCREEN
                argv = ["gnome-shell", "--headless", "--wayland", "--sm-disable"]
                argv += ["--virtual-monitor", f"{width}x{height}"]
            began = time.monotonic()
            self._shell = shell = s.spawn("gnome-shell", argv)
            for mark, name in (
                ("shell on the bus", SHELL_NAME),
                ("tray watcher", SNI_WATCHER),
                ("notifications", NOTIFICATIONS),
                ("idle monitor", IDLE_MONITOR),
            ):
                s.ready(shell, lambda name=name: self._owned(name), f"owns {name}")
                self.timings[mark] = time.monotonic() - began
            if self.flavour == "wayland":
                s.ready(shell, lambda: self._owned(REMOTE_DESKTOP), f"owns {REMOTE_DESKTOP}")
                self._input = RemoteDesktopInput(s.bus_address)
            else:
                self._input = XdotoolInput(s)
            self.leave_overview()
            self.timings["desktop"] = time.monotonic() - began
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        try:
            if self._input is not None:
                with contextlib.suppress(OSError, DBusErrorResponse):  # the shell may be gone
                    self._input.close()
        finally:
            self._input = None
            self._shell = None
            self.session.stop()

    def pid_of(self, name: str) -> int | None:
        """PID behind a bus name (unique names are never reused: cached)."""
        if name not in self._pids:
            try:
                (pid,) = self.session.bus.call_bus("GetConnectionUnixProcessID", name)
            except DBusErrorResponse:
                return None
            self._pids[name] = int(pid)
        return self._pids[name]

    def _owned(self, name: str) -> bool:
        return self.session.belongs(self.session.bus.owner_pid(name))

    def _start_xvfb(self) -> str:
        """Xvfb on a free display (``-displayfd``: the server picks it and says which)."""
        read_fd, write_fd = os.pipe()
        try:
            width, height = SCREEN
            argv = ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{width}x{height}x24"]
            xvfb = self.session.spawn("xvfb", [*argv, "-nolisten", "tcp"], pass_fds=[write_fd])
            os.close(write_fd)
            write_fd = -1
            data = b""
            deadline = time.monotonic() + self.session.timeout
            while not data.endswith(b"\n"):
                left = deadline - time.monotonic()
                if not xvfb.alive() or left <= 0 or not select.select([read_fd], [], [], left)[0]:
                    raise SessionError("Xvfb named no display")
                chunk = os.read(read_fd, 64)
                if not chunk:
                    raise SessionError("Xvfb exited before naming its display")
                data += chunk
            return f":{int(data)}"
        finally:
            os.close(read_fd)
            if write_fd >= 0:
                os.close(write_fd)

    # ------------------------------------------------------------------ the user's view
    def overview_active(self) -> bool:
        return bool(self.session.bus.get_property(SHELL_API, "OverviewActive"))

    def leave_overview(self) -> None:
        """GNOME 43 opens the overview once its start-up animation is done (on X11 a
        moment after the bus names appear); Escape leaves it, as it does for a user."""
        shell = self._shell_proc()
        self.session.ready(shell, self.overview_active, "opens the overview at start")
        self.session.ready(shell, self._overview_left, "leaves the overview")

    def _overview_left(self) -> bool:
        if self.overview_active():
            self.input.escape()
            return False
        return True

    def _shell_proc(self) -> Proc:
        if self._shell is None:
            raise SessionError("GNOME is not running")
        return self._shell

    def screenshot(self) -> Path:
        """The whole screen as PNG, saved in the state dir."""
        self._shots += 1
        path = self.session.state_dir / f"shot-{self.flavour}-{self._shots:03d}.png"
        if self.flavour == "wayland":
            self.session.run("gnome-screenshot", "-f", str(path))
        else:
            self.session.run("import", "-window", "root", str(path))
        if not path.exists():
            raise SessionError(f"no screenshot written to {path}")
        return path

    def gsettings_set(self, schema: str, key: str, value: str) -> None:
        self.session.run("gsettings", "set", schema, key, value)

    def gsettings_get(self, schema: str, key: str) -> str:
        return self.session.run("gsettings", "get", schema, key).stdout.strip()

    def idle_seconds(self) -> float:
        """Mutter's idle time, as ergobreak reads it."""
        address = DBusAddress("/org/gnome/Mutter/IdleMonitor/Core", IDLE_MONITOR, IDLE_MONITOR)
        (ms,) = self.session.bus.call(address, "GetIdletime")
        return int(ms) / 1000.0

    def hover_click(self, hover: tuple[float, float], target: tuple[float, float]) -> None:
        """Move in over ``hover`` (a banner expands only when the pointer enters it
        after it appeared), let it settle, then click ``target``."""
        self.input.move_to(*hover)
        time.sleep(0.6)  # the banner's expand animation (ANIMATION_TIME 200 ms, eased)
        self.input.move_to(*target)
        time.sleep(0.1)
        self.input.click()

    def park_pointer(self) -> None:
        """Pointer somewhere empty, low on the screen: over no banner, menu or corner."""
        self.input.move_to(SCREEN[0] / 2, SCREEN[1] - 100)


# --------------------------------------------------------------------------- pixels


@dataclass(frozen=True)
class Box:
    left: int
    top: int
    right: int  # exclusive
    bottom: int  # exclusive

    @property
    def centre(self) -> tuple[float, float]:
        return (self.left + self.right) / 2, (self.top + self.bottom) / 2


RGB = tuple[int, int, int]


def _near(a: RGB, b: RGB, tolerance: int) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


class Pixels:
    """An RGB screenshot (or a part of it), read pixel by pixel."""

    def __init__(self, png: Path, area: Box | None = None) -> None:
        with Image.open(png) as image:
            rgb = image.convert("RGB")
        if area is not None:
            rgb = rgb.crop((area.left, area.top, area.right, area.bottom))
        self.left: int = area.left if area else 0
        self.top: int = area.top if area else 0
        self.width: int = rgb.width
        self.height: int = rgb.height
        self._image = rgb
        self._data = rgb.tobytes()

    def at(self, x: int, y: int) -> RGB:
        """The pixel at screen coordinates (x, y)."""
        i = 3 * ((y - self.top) * self.width + (x - self.left))
        return self._data[i], self._data[i + 1], self._data[i + 2]

    def colours(self) -> set[RGB]:
        return {cast(RGB, colour) for _n, colour in self._image.getcolors(1 << 24) or ()}

    def xs(self) -> range:
        return range(self.left, self.left + self.width)

    def ys(self) -> range:
        return range(self.top, self.top + self.height)


def find_colour(png: Path, rgb: RGB, area: Box, tolerance: int = 6) -> Box | None:
    """The bounding box of the pixels near ``rgb`` inside ``area``, or None."""
    pixels = Pixels(png, area)
    hits = [
        (x, y) for y in pixels.ys() for x in pixels.xs() if _near(pixels.at(x, y), rgb, tolerance)
    ]
    if not hits:
        return None
    xs = [x for x, _ in hits]
    ys = [y for _, y in hits]
    return Box(min(xs), min(ys), max(xs) + 1, max(ys) + 1)


def colours_in(png: Path, area: Box) -> set[RGB]:
    return Pixels(png, area).colours()


def text_rows(png: Path, column: Box, brightness: int = 110, min_height: int = 5) -> list[Box]:
    """Bands of light text in ``column`` (menu labels on the dark theme), top to bottom.
    Separators are 1 px and dim, so they are no band."""
    pixels = Pixels(png, column)
    lit = [any(min(pixels.at(x, y)) >= brightness for x in pixels.xs()) for y in pixels.ys()]
    return [
        Box(column.left, column.top + top, column.right, column.top + bottom)
        for top, bottom in _runs(lit)
        if bottom - top >= min_height
    ]


def label_box(png: Path, row: Box, brightness: int = 110) -> Box:
    """The lit part of a text row: where the label is, so a click lands on its entry
    however wide the menu is (a row spans the whole column searched)."""
    pixels = Pixels(png, row)
    xs = [x for x in pixels.xs() if any(min(pixels.at(x, y)) >= brightness for y in pixels.ys())]
    if not xs:
        return row
    return Box(min(xs), row.top, max(xs) + 1, row.bottom)


def _runs(flags: list[bool], gap: int = 3) -> Iterator[tuple[int, int]]:
    """Runs of True (start, end exclusive), bridging gaps shorter than ``gap``."""
    start = last = -1
    for i, flag in enumerate(flags):
        if not flag:
            continue
        if start >= 0 and i - last > gap:
            yield start, last + 1
            start = -1
        if start < 0:
            start = i
        last = i
    if start >= 0:
        yield start, last + 1


def banner(png: Path) -> Box | None:
    """The notification banner at the top centre (GNOME shows one at a time). Call it
    with no menu open: an expanded submenu has nearly the banner's grey."""
    middle = SCREEN[0] // 2
    area = Box(middle - 300, TOP_BAR, middle + 300, 400)
    found = [find_colour(png, rgb, area, 1) for rgb in (BANNER_RGB, HOVERED_RGB)]
    return max((b for b in found if b), key=lambda b: b.bottom - b.top, default=None)


def banner_buttons(png: Path) -> list[Box]:
    """The buttons of an expanded banner, left to right (empty when it shows none).

    The button row is a lighter band at the banner's foot; 1 px lines of the banner's
    colour divide it, and the focused button has a blue ring and fill: any run of
    non-divider pixels wider than a label's padding is one button."""
    found = banner(png)
    if found is None:
        return []
    pixels = Pixels(png)
    probe = found.right - 8
    rows = [y for y in range(found.top, found.bottom) if _near(pixels.at(probe, y), BUTTON_RGB, 2)]
    if not rows:
        return []
    top, bottom = rows[0], rows[-1] + 1
    y = top + 3  # below the focus ring's edge
    inside = [not _near(pixels.at(x, y), HOVERED_RGB, 1) for x in range(found.left, found.right)]
    return [
        Box(found.left + start, top, found.left + end, bottom)
        for start, end in _runs(inside, gap=1)
        if end - start > 40
    ]


def until(
    predicate: Callable[[], T | None], timeout: float, what: str, interval: float = 0.05
) -> T:
    """:func:`wait_for` for a predicate that answers a value or None: the value."""
    found = wait_for(predicate, timeout, interval=interval, what=what)
    assert found is not None
    return found
