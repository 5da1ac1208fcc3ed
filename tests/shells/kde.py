"""KDE Plasma 5.27 on ``kwin_wayland --virtual``, in a :class:`ShellSession`.

What a Plasma user has, driven through the shell's own paths: KWin's fake-input protocol
types and clicks (:mod:`shells.kwin_input`: real compositor input, which resets KWin's
idle timers and reaches the surface under the pointer), KWin's ScreenShot2 takes
screenshots (:mod:`shells.kwin_shot`), plasmashell brings kded5 (the StatusNotifierWatcher),
the system tray and the notification server, and KScreenLocker locks the session and
unlocks it when the user's password is typed into its greeter (PAM, as at a real desk).

Facts this relies on (Plasma 5.27.5, Debian 12): ``/usr/bin/kwin_wayland`` carries the
file capability ``cap_sys_resource=ep``, which a container may refuse (exec fails with
EPERM even as root), so a plain copy runs instead; KWin offers fake input and screenshots
to any client only with its ``*_NO_PERMISSION_CHECKS`` variables; the tray sits at the
right end of a 44 px panel along the bottom edge, notification popups stack above it at
the right, and a popup's buttons are right-aligned in their given order.
"""

from __future__ import annotations

import os
import secrets
import shutil
import string
import subprocess
import sys
import time
from pathlib import Path

from desktop.rig import NOTIFICATIONS, SNI_WATCHER, wait_for
from jeepney import DBusAddress  # type: ignore[import-untyped]
from PIL import Image, ImageChops, ImageStat

from . import kwin_input, kwin_shot
from .kwin_input import BTN_LEFT, KEY_ENTER, KEY_LEFTSHIFT
from .monitor import Monitor
from .session import SessionError, ShellSession
from .users import system_python

#: what a Plasma Wayland login sets
KDE_ENV = {
    "XDG_CURRENT_DESKTOP": "KDE",
    "XDG_SESSION_TYPE": "wayland",
    "XDG_SESSION_DESKTOP": "KDE",
    "KDE_FULL_SESSION": "true",
    "KDE_SESSION_VERSION": "5",
}
#: KWin serves fake input and screenshots to any client (tests, not just KDE's own tools)
_KWIN_ENV = {
    "KWIN_WAYLAND_NO_PERMISSION_CHECKS": "1",
    "KWIN_SCREENSHOT_NO_PERMISSION_CHECKS": "1",
}
SCREEN = (1280, 800)
#: the bottom panel: the tray is in its right half
PANEL_TOP = 756
SOCKET = "wayland-0"
#: a password field no password matches (what ``useradd`` leaves)
LOCKED = "!"
KWIN_NAME = "org.kde.KWin"
SCREENSAVER = DBusAddress(
    "/ScreenSaver", "org.freedesktop.ScreenSaver", "org.freedesktop.ScreenSaver"
)


class Kde:
    """A running Plasma session; :meth:`start` it, :meth:`stop` it (or use ``with``)."""

    def __init__(self, timeout: float = 30.0) -> None:
        self.session = ShellSession("kde", KDE_ENV, system_bus=True, timeout=timeout)
        #: seconds from spawning kwin_wayland until each readiness mark
        self.timings: dict[str, float] = {}
        self.password = ""
        self._input: Hands | None = None
        self._shots = 0
        self._notes: Monitor | None = None
        #: the screen with nothing but the wallpaper and the panel
        self.desktop = Image.new("RGB", SCREEN)

    def __enter__(self) -> Kde:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> Kde:
        s = self.session
        s.start()
        try:
            # KScreenLocker locks after 5 idle minutes by default: only a test locks here
            s.write("home/.config/kscreenlockerrc", "[Daemon]\nAutolock=false\n")
            kwin = self._kwin_binary()
            began = time.monotonic()
            compositor = s.spawn(
                "kwin_wayland",
                [str(kwin), "--virtual", "--socket", SOCKET, *_screen_args()],
                env=_KWIN_ENV,
            )
            s.ready(compositor, (s.runtime_dir / SOCKET).is_socket, "creates its Wayland socket")
            self.timings["socket"] = time.monotonic() - began
            s.env["WAYLAND_DISPLAY"] = SOCKET
            s.ready(compositor, lambda: s.belongs(s.bus.owner_pid(KWIN_NAME)), "org.kde.KWin")
            self.timings["kwin on the bus"] = time.monotonic() - began
            shell = s.spawn("plasmashell", ["plasmashell"], env={"QT_QPA_PLATFORM": "wayland"})
            for name, mark in ((SNI_WATCHER, "tray watcher"), (NOTIFICATIONS, "notifications")):
                s.ready(shell, lambda name=name: s.belongs(s.bus.owner_pid(name)), name)
                self.timings[mark] = time.monotonic() - began
            self._notes = s.monitor(["type='method_call',member='Notify'", "type='method_return'"])
            desktop = wait_for(self._settled, 20, interval=0.2, what="the desktop drawn")
            assert desktop is not None
            self.desktop = desktop
            self.timings["desktop drawn"] = time.monotonic() - began
        except BaseException:
            s.stop()
            raise
        return self

    def stop(self) -> None:
        if self._input is not None:
            self._input.close()
            self._input = None
        try:
            self.session.stop()
        finally:
            if self.password:
                self._set_password(LOCKED)  # as useradd left it

    def memory_mib(self, field: str = "Pss") -> float:
        """Memory of every process of the session: ``Pss`` (shared pages split between
        their users) or ``Rss`` (counted in full in each, as ``ps`` shows it)."""
        total = 0
        for proc in self.session.members():
            try:
                rollup = Path(f"/proc/{proc.pid}/smaps_rollup").read_text()
            except OSError:
                continue
            for line in rollup.splitlines():
                if line.startswith(f"{field}:"):
                    total += int(line.split()[1])
        return total / 1024

    def _kwin_binary(self) -> Path:
        """A copy of kwin_wayland without the file capability (see the module doc)."""
        target = self.session.state_dir / "bin" / "kwin_wayland"
        target.parent.mkdir(mode=0o755)
        shutil.copy(shutil.which("kwin_wayland") or "/usr/bin/kwin_wayland", target)
        target.chmod(0o755)
        self.session.user.own(target.parent, target)
        return target

    # ------------------------------------------------------------------ the user's hands
    @property
    def input(self) -> Hands:
        """Keyboard and pointer through KWin (one connection for the session)."""
        if self._input is None:
            self._input = Hands(self.session)
        return self._input

    def screenshot(self) -> Path:
        """The whole workspace as PNG (ScreenShot2), saved in the state dir."""
        self._shots += 1
        path = self.session.state_dir / f"shot-{self._shots:03d}.png"
        kwin_shot.capture(self.session.bus_address, str(path))
        return path

    def image(self) -> Image.Image:
        with Image.open(self.screenshot()) as shot:
            rgb: Image.Image = shot.convert("RGB")
        return rgb

    # ------------------------------------------------------------------ notifications
    def clear_notifications(self) -> None:
        """Close every popup (ids are the replies to Notify, counted from 1) and wait until
        the screen above the panel is the bare desktop again."""
        assert self._notes is not None
        calls = {(m.sender, m.serial) for m in self._notes.messages(member="Notify")}
        for reply in self._notes.messages(kind="method_return"):
            if (reply.destination, reply.reply_serial) in calls:
                self.session.bus.close_notification(int(reply.body[0]))
        wait_for(lambda: self._bare(self.image()), 10, interval=0.2, what="no popups")

    def _bare(self, image: Image.Image) -> bool:
        box = (0, 0, SCREEN[0], PANEL_TOP)
        return ImageChops.difference(image.crop(box), self.desktop.crop(box)).getbbox() is None

    def _settled(self) -> Image.Image | None:
        """The screen once Plasma has drawn it all: wallpaper and panel (it starts black),
        two shots in a row the same."""
        first, second = self.image(), self.image()
        if ImageChops.difference(first, second).getbbox() is not None:
            return None
        grey = second.convert("L")
        wallpaper = ImageStat.Stat(grey.crop((0, 0, SCREEN[0], PANEL_TOP))).mean[0]
        panel = ImageStat.Stat(grey.crop((0, PANEL_TOP, SCREEN[0], SCREEN[1]))).mean[0]
        return second if wallpaper > 30 and panel > 100 else None

    def replaced_closed_ones(self) -> list[str]:
        """plasmashell's complaints about an update to a notification it had closed."""
        log = self.session.log_path("plasmashell").read_text(errors="replace")
        return [line for line in log.splitlines() if "Trying to replace notification" in line]

    # ------------------------------------------------------------------ lock
    def locked(self) -> bool:
        return bool(self.session.bus.call(SCREENSAVER, "GetActive")[0])

    def lock(self) -> None:
        """Lock as the user would (KScreenLocker through org.freedesktop.ScreenSaver)."""
        if not self.password:
            self.password = "".join(secrets.choice(string.ascii_lowercase) for _ in range(12))
            self._set_password(self.password)
        self.session.bus.call(SCREENSAVER, "Lock")
        wait_for(self.locked, 10, interval=0.05, what="the session to lock")

    def unlock(self) -> None:
        """Type the password into the greeter and press Enter (PAM checks it)."""

        # the greeter may still be starting: retype until KScreenLocker lets go
        def typed() -> bool:
            self.input.key()  # wakes the greeter from its clock view
            self.input.type(self.password)
            self.input.key(KEY_ENTER)
            return wait_for_false(self.locked, 3)

        wait_for(typed, 20, interval=0.1, what="the greeter to accept the password")

    def _set_password(self, password: str) -> None:
        """The session user's password: a random one while a test locks, else locked."""
        if os.geteuid() != 0:
            raise SessionError("unlocking the screen needs the user's password: run as root")
        user = self.session.user.name
        if password == LOCKED:
            subprocess.run(["usermod", "-p", LOCKED, user], check=True, capture_output=True)
        else:
            subprocess.run(
                ["chpasswd"],
                input=f"{user}:{password}\n",
                text=True,
                check=True,
                capture_output=True,
            )


class Hands:
    """The user's keyboard and pointer: :mod:`shells.kwin_input` served as the user."""

    def __init__(self, session: ShellSession) -> None:
        script = session.state_dir / "kwin_input.py"
        shutil.copy(kwin_input.__file__, script)
        script.chmod(0o644)
        python = sys.executable if session.user.is_current else system_python()
        with open(session.log_path("kwin_input"), "ab") as log:
            self._proc = subprocess.Popen(
                [
                    *("setpriv", *session.user.become(), "--pdeathsig", "TERM", "--"),
                    *(python, str(script)),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                env=session.env,
                cwd=session.home,
                text=True,
            )

    def close(self) -> None:
        for pipe in (self._proc.stdin, self._proc.stdout):
            if pipe is not None:
                pipe.close()
        self._proc.wait(5)

    def key(self, code: int = KEY_LEFTSHIFT) -> None:
        """Press and release a key (shift by default: it types nothing anywhere)."""
        self._do(f"key {code}")

    def type(self, text: str) -> None:
        """Type lowercase letters and digits (US layout)."""
        self._do(f"type {text}")

    def move(self, x: float, y: float) -> None:
        self._do(f"move {x} {y}")

    def click(self, x: float, y: float, button: int = BTN_LEFT) -> None:
        self._do(f"click {x} {y} {button}")

    def typing(self, every: float | None) -> None:
        """A user at the keyboard: a shift key every ``every`` seconds (None: stop)."""
        if every is not None:
            self.key()  # now, not ``every`` from now
        self._do(f"typing {'off' if every is None else every}")

    def _do(self, command: str) -> None:
        assert self._proc.stdin is not None
        assert self._proc.stdout is not None
        self._proc.stdin.write(command + "\n")
        self._proc.stdin.flush()
        answer = self._proc.stdout.readline().strip()
        if answer != "ok":
            raise SessionError(f"kwin_input {command!r}: {answer or 'exited'}")


def _screen_args() -> list[str]:
    return ["--width", str(SCREEN[0]), "--height", str(SCREEN[1])]


def wait_for_false(predicate: object, timeout: float) -> bool:
    """True as soon as ``predicate()`` is false, False if it stays true for ``timeout``."""
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while predicate():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True
