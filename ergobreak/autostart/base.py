"""Start at login: the small interface every OS implementation meets, and its values.

One implementation per mechanism -- XDG autostart files, a systemd user unit, the
Windows ``Run`` keys, macOS LaunchAgents -- chosen at runtime by
:mod:`ergobreak.autostart.select`. Each reads and writes only its own entry
(``ergobreak``) and never acts on its own: only ``ergobreak autostart enable``
writes an entry, so an entry the user removed is never re-created.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

Scope = Literal["user", "system"]
#: "entry" starts ergobreak (when enabled); "override" is the user's switch that turns
#: an entry off for them (a Hidden=true copy, Task Manager's StartupApproved, launchctl)
Kind = Literal["entry", "override"]

APP = "ergobreak"
#: what every login entry runs: wait for a tray host that appears late at login
AUTOSTART_ARGS = ("run", "--autostart")
COMMENT = "Posture checks and 2-minute drills, timed by desk-session time"


class AutostartError(RuntimeError):
    """A change that cannot be made; the message says why and what to do instead."""


@dataclass(frozen=True, slots=True)
class Entry:
    """What to start at login."""

    argv: tuple[str, ...]
    name: str = APP
    comment: str = COMMENT
    icon: str = APP


@dataclass(frozen=True, slots=True)
class Found:
    """One login item on this machine, or the user's override of one."""

    scope: Scope
    kind: Kind
    location: str
    enabled: bool
    command: str | None = None
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "scope": self.scope,
            "kind": self.kind,
            "location": self.location,
            "enabled": self.enabled,
            "command": self.command,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class Status:
    """What one mechanism will do at this user's next login, and why."""

    method: str
    #: ergobreak starts at this user's login through this mechanism
    enabled: bool
    found: tuple[Found, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def system(self) -> bool:
        """A machine-wide entry exists and is switched on (overrides aside)."""
        return any(f.scope == "system" and f.kind == "entry" and f.enabled for f in self.found)

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "enabled": self.enabled,
            "system": self.system,
            "found": [f.to_json() for f in self.found],
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True)
class Change:
    """What ``enable``/``disable`` did: ``actions`` changed the machine, ``notes`` did not."""

    actions: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.actions)

    def __add__(self, other: Change) -> Change:
        return Change(self.actions + other.actions, self.notes + other.notes)


class Autostart(Protocol):
    """One way to start ergobreak at login."""

    #: "xdg", "systemd", "registry" or "launchagent"
    method: str

    def status(self) -> Status: ...

    def enable(self, entry: Entry, *, system: bool = False) -> Change:
        """Write the entry (``system``: for every user). Idempotent.

        Raises:
            AutostartError: it cannot be done here (the message says what to do).
            OSError: the file or key cannot be written (e.g. no admin rights).
        """
        ...

    def disable(self, *, system: bool = False) -> Change:
        """Remove the entry; for one user, switch off a machine-wide one. Idempotent."""
        ...


def default_argv(
    argv0: str | None = None,
    executable: str | None = None,
    platform: str | None = None,
) -> tuple[str, ...]:
    """The command a login entry runs, as absolute paths of *this* installation.

    The ``ergobreak`` script that is running (kept as invoked, not resolved: under
    ``pipx install --global`` that is the stable ``/usr/local/bin/ergobreak`` link,
    not the venv behind it), else the script beside this interpreter, else
    ``python -m ergobreak``. Not ``shutil.which``: ``$PATH`` may find another
    installation. On Windows ``pythonw.exe`` is preferred: the console-script
    launcher would flash a console window at every login.
    """
    argv0 = sys.argv[0] if argv0 is None else argv0
    executable = executable or sys.executable
    platform = platform or sys.platform
    python = Path(executable)
    if platform == "win32":
        windowed = python.with_name("pythonw.exe")
        exe = windowed if windowed.is_file() else python
        return (str(exe), "-m", APP, *AUTOSTART_ARGS)
    if argv0 and Path(argv0).name == APP and os.access(argv0, os.X_OK):
        return (os.path.abspath(argv0), *AUTOSTART_ARGS)
    beside = python.parent / APP
    if os.access(beside, os.X_OK):
        return (str(beside), *AUTOSTART_ARGS)
    return (os.path.abspath(executable), "-m", APP, *AUTOSTART_ARGS)


def one_line(argv: Sequence[str]) -> str:
    """``argv`` for people (shell-quoted where needed)."""
    import shlex  # noqa: PLC0415 - only for display

    return shlex.join(argv)
