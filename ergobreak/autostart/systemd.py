"""A systemd user unit bound to the graphical session (opt-in: ``--method systemd``).

``ergobreak.service`` in ``$XDG_CONFIG_HOME/systemd/user`` with
``WantedBy=graphical-session.target``; enabling writes the same
``graphical-session.target.wants/`` link ``systemctl --user enable`` would, so it
works without a running user manager. Not every desktop activates
``graphical-session.target`` (GNOME, KDE Plasma and others with systemd session
support do), which is why XDG autostart stays the default. Per user only: for
every user IT deploys the XDG entry, which systemd sessions run through
``systemd-xdg-autostart-generator`` anyway.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from ergobreak.atomic import write_atomic
from ergobreak.autostart.base import APP, AutostartError, Change, Entry, Found, Status

UNIT = f"{APP}.service"
TARGET = "graphical-session.target"
_UNSAFE_EXE = frozenset("\\\"'")
_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+=,:@")


def quote_arg(arg: str, *, executable: bool = False) -> str:
    """One ExecStart word (systemd.service(5) "Command lines"): ``%`` is doubled
    (specifiers), and ``$`` in arguments (variables; the executable gets no
    substitution); anything unusual is double-quoted with C-style escapes."""
    doubled = arg.replace("%", "%%")
    if not executable:
        doubled = doubled.replace("$", "$$")
    if arg and set(arg) <= _PLAIN:
        return doubled
    inner = doubled.replace("\\", "\\\\").replace('"', '\\"')
    inner = inner.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")
    return f'"{inner}"'


def exec_start(argv: Sequence[str]) -> str:
    """The ExecStart value. systemd refuses an executable path with quotes,
    backslashes or control characters; such a path goes through ``env``."""
    exe, *args = argv
    if _UNSAFE_EXE.intersection(exe) or any(ord(c) < 32 for c in exe):
        exe, args = "/usr/bin/env", [exe, *args]
    return " ".join([quote_arg(exe, executable=True), *(quote_arg(a) for a in args)])


def render(entry: Entry) -> str:
    argv = exec_start(entry.argv)
    return f"""\
[Unit]
Description={f"{entry.name}: {entry.comment}".replace("%", "%%")}
PartOf={TARGET}
After={TARGET}

[Service]
Type=simple
ExecStart={argv}
# after a crash, not after Quit from the tray (exit 0)
Restart=on-failure
RestartSec=5

[Install]
WantedBy={TARGET}
"""


def user_unit_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "systemd" / "user"


def _reload_user_manager() -> str | None:
    """Tell a running user manager about the change; nothing to do without one."""
    if shutil.which("systemctl") is None:
        return None
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run(
            ["systemctl", "--user", "daemon-reload"], capture_output=True, timeout=10, check=False
        )
        if done.returncode == 0:
            return "reloaded the systemd user manager"
    return None


class SystemdUserUnit:
    method = "systemd"

    def __init__(
        self,
        unit_dir: Path,
        system_dirs: Sequence[Path] = (Path("/etc/systemd/user"),),
        reload: Callable[[], str | None] = _reload_user_manager,
    ) -> None:
        self.unit = unit_dir / UNIT
        self.wants = unit_dir / f"{TARGET}.wants" / UNIT
        self.system_dirs = list(system_dirs)
        self._reload = reload

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SystemdUserUnit:
        return cls(user_unit_dir(environ))

    def status(self) -> Status:
        found: list[Found] = []
        enabled = False
        for d in self.system_dirs:
            unit = d / UNIT
            if unit.is_file():
                on = (d / f"{TARGET}.wants" / UNIT).exists()
                found.append(Found("system", "entry", str(unit), on, _exec_start(unit)))
                enabled = enabled or on
        if self._masked():
            found.append(Found("user", "override", str(self.unit), False, None, "masked"))
            return Status(self.method, False, tuple(found))
        if self.unit.is_file():
            on = self.wants.exists()
            note = None if on else f"not wanted by {TARGET} (not enabled)"
            found.append(Found("user", "entry", str(self.unit), on, _exec_start(self.unit), note))
            enabled = enabled or on
        return Status(self.method, enabled, tuple(found))

    def enable(self, entry: Entry, *, system: bool = False) -> Change:
        if system:
            raise AutostartError(
                "--method systemd is per user; for every user deploy the XDG entry"
                " (`ergobreak autostart enable --system`), which systemd sessions run too"
            )
        actions: list[str] = []
        text = render(entry)
        current = self.unit.read_text(encoding="utf-8") if self.unit.is_file() else None
        if current != text:
            write_atomic(self.unit, text)
            actions.append(f"wrote {self.unit}")
        if not self.wants.is_symlink():
            self.wants.parent.mkdir(parents=True, exist_ok=True)
            self.wants.symlink_to(self.unit)
            actions.append(f"linked {self.wants}")
        return self._finish(actions)

    def disable(self, *, system: bool = False) -> Change:
        if system:
            raise AutostartError("--method systemd is per user (see `autostart status`)")
        if self._masked():
            return Change(notes=(f"{self.unit} is masked: already off",))
        actions: list[str] = []
        for path in (self.wants, self.unit):
            if path.is_symlink() or path.exists():
                path.unlink()
                actions.append(f"removed {path}")
        if not actions:
            return Change(notes=("no systemd user unit: nothing to do",))
        return self._finish(actions)

    def _masked(self) -> bool:
        return self.unit.is_symlink() and os.path.realpath(self.unit) == os.devnull

    def _finish(self, actions: list[str]) -> Change:
        if not actions:
            return Change(notes=(f"{self.unit} is up to date",))
        done = self._reload()
        return Change(tuple(actions), (done,) if done else ())


def _exec_start(unit: Path) -> str | None:
    with contextlib.suppress(OSError):
        for line in unit.read_text(encoding="utf-8").splitlines():
            if line.startswith("ExecStart="):
                return line.partition("=")[2]
    return None
