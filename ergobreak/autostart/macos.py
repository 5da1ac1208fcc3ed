"""macOS: a LaunchAgent plist in ``~/Library/LaunchAgents`` or ``/Library/LaunchAgents``.

Keys (launchd.plist(5)): ``RunAtLoad`` starts it at login; ``KeepAlive =
{SuccessfulExit = false}`` restarts it after a crash but not after Quit (exit 0);
``ProcessType = Interactive`` keeps launchd from throttling it like a background
job; ``LimitLoadToSessionType = Aqua`` keeps a machine-wide agent out of ssh
sessions. The plist is written with plistlib, nothing is loaded now: it takes
effect at the next login.

A user switches a machine-wide agent off for themselves with ``launchctl disable
gui/<uid>/<label>`` (what ``disable`` does); macOS 13+ also has the Login Items
switch in System Settings, which IT can lock with the Managed Login Items payload.
The ``launchctl print-disabled`` output format is from observation (untested here:
no macOS in this test setup).
"""

from __future__ import annotations

import contextlib
import os
import plistlib
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ergobreak.atomic import write_atomic
from ergobreak.autostart.base import Change, Entry, Found, Scope, Status

LABEL = "org.ergobreak.agent"
FILE_NAME = f"{LABEL}.plist"
#: runs ``launchctl ARGS`` and returns its standard output ("" when it fails)
Launchctl = Callable[[Sequence[str]], str]


def agent(entry: Entry, label: str = LABEL) -> dict[str, Any]:
    return {
        "Label": label,
        "ProgramArguments": list(entry.argv),
        "RunAtLoad": True,
        "KeepAlive": {"SuccessfulExit": False},
        "ProcessType": "Interactive",
        "LimitLoadToSessionType": "Aqua",
    }


def render(entry: Entry, label: str = LABEL) -> bytes:
    return plistlib.dumps(agent(entry, label), fmt=plistlib.FMT_XML, sort_keys=True)


def disabled_labels(text: str) -> dict[str, bool]:
    """``launchctl print-disabled gui/<uid>`` as {label: disabled}.

    Lines look like ``"org.example.agent" => disabled`` (older releases print
    ``=> true`` for disabled).
    """
    states: dict[str, bool] = {}
    for line in text.splitlines():
        label, sep, state = line.strip().partition("=>")
        if sep and label.strip().startswith('"'):
            states[label.strip().strip('"')] = state.strip() in ("disabled", "true")
    return states


def _launchctl(args: Sequence[str]) -> str:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run(
            ["launchctl", *args], capture_output=True, text=True, timeout=10, check=False
        )
        if done.returncode == 0:
            return done.stdout
    return ""


class LaunchAgents:
    method = "launchagent"

    def __init__(
        self,
        user_dir: Path,
        system_dir: Path = Path("/Library/LaunchAgents"),
        *,
        uid: int | None = None,
        launchctl: Launchctl = _launchctl,
        label: str = LABEL,
    ) -> None:
        self.label = label
        self.user_file = user_dir / f"{label}.plist"
        self.system_file = system_dir / f"{label}.plist"
        self.uid = uid if uid is not None else getattr(os, "getuid", lambda: 0)()
        self.launchctl = launchctl

    @classmethod
    def from_env(cls) -> LaunchAgents:
        return cls(Path.home() / "Library" / "LaunchAgents")

    @property
    def domain(self) -> str:
        return f"gui/{self.uid}"

    def _switched_off(self) -> bool:
        return disabled_labels(self.launchctl(["print-disabled", self.domain])).get(
            self.label, False
        )

    def status(self) -> Status:
        found: list[Found] = []
        enabled = False
        places: tuple[tuple[Scope, Path], ...] = (
            ("system", self.system_file),
            ("user", self.user_file),
        )
        for scope, path in places:
            data = _load(path)
            if data is None:
                continue
            on = not data.get("Disabled", False) and bool(data.get("RunAtLoad"))
            command = " ".join(str(a) for a in data.get("ProgramArguments", []))
            found.append(Found(scope, "entry", str(path), on, command))
            enabled = enabled or on
        if self._switched_off():
            note = f"launchctl disable {self.domain}/{self.label}"
            found.append(
                Found("user", "override", f"{self.domain}/{self.label}", False, None, note)
            )
            enabled = False
        return Status(self.method, enabled, tuple(found))

    def enable(self, entry: Entry, *, system: bool = False) -> Change:
        target = self.system_file if system else self.user_file
        notes: list[str] = []
        actions: list[str] = []
        if not system and _load(self.system_file) is not None:
            if self._switched_off():
                self.launchctl(["enable", f"{self.domain}/{self.label}"])
                actions.append(f"launchctl enable {self.domain}/{self.label}")
            else:
                notes.append(f"already started at login by {self.system_file}")
            return Change(tuple(actions), tuple(notes))
        text = render(entry, self.label)
        if target.is_file() and target.read_bytes() == text:
            notes.append(f"{target} is up to date")
        else:
            write_atomic(target, text.decode("utf-8"))
            actions.append(f"wrote {target}")
        if system and self._switched_off():
            notes.append("this user switched it off (launchctl disable): left in place")
        return Change(tuple(actions), tuple(notes))

    def disable(self, *, system: bool = False) -> Change:
        target = self.system_file if system else self.user_file
        actions: list[str] = []
        if target.is_file():
            target.unlink()
            actions.append(f"removed {target}")
        if not system and _load(self.system_file) is not None and not self._switched_off():
            self.launchctl(["disable", f"{self.domain}/{self.label}"])
            actions.append(
                f"launchctl disable {self.domain}/{self.label}: switches {self.system_file}"
                " off for you"
            )
        if not actions:
            return Change(notes=("no LaunchAgent: nothing to do",))
        return Change(tuple(actions))


def _load(path: Path) -> dict[str, Any] | None:
    try:
        with path.open("rb") as f:
            data = plistlib.load(f)
    except (OSError, plistlib.InvalidFileException, ValueError):
        return None
    return data if isinstance(data, dict) else None
