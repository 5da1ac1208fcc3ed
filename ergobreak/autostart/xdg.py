"""XDG autostart (Linux and BSD desktops): ``ergobreak.desktop`` files.

Per the Desktop Application Autostart Specification a file in the user's
``$XDG_CONFIG_HOME/autostart`` replaces the one of the same name in the system
directories (``$XDG_CONFIG_DIRS/autostart``, default ``/etc/xdg/autostart``), and
``Hidden=true`` in the user's copy switches the system one off for that user
(GNOME also reads ``X-GNOME-Autostart-enabled=false``; we write both).

The files are written key by key here: configparser would lower-case keys, write
``key = value`` and know nothing of the spec's escaping or ``Exec`` quoting.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from ergobreak.atomic import write_atomic
from ergobreak.autostart.base import APP, Change, Entry, Found, Status

FILE_NAME = f"{APP}.desktop"
GROUP = "Desktop Entry"
#: our mark on files we wrote (vendor keys start with X-)
MARK = "X-Ergobreak-Autostart"
_OFF_KEYS = ("Hidden", "X-GNOME-Autostart-enabled")
#: characters that force an Exec argument into double quotes (spec, "The Exec key")
_RESERVED = frozenset(" \t\n\"'\\><~|&;$*?#()`")


# ------------------------------------------------------------------ the format


def escape(value: str) -> str:
    """A string value as the spec escapes it (backslash first, then the rest)."""
    out = value.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")
    out = out.replace("\r", "\\r")
    return "\\s" + out[1:] if out.startswith(" ") else out


def unescape(value: str) -> str:
    table = {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}
    out: list[str] = []
    chars = iter(value)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "")
            out.append(table.get(nxt, "\\" + nxt))
        else:
            out.append(ch)
    return "".join(out)


def quote_arg(arg: str) -> str:
    """One Exec argument: quoted if it holds a reserved character; ``%`` doubled."""
    if arg and not _RESERVED.intersection(arg):
        return arg.replace("%", "%%")
    inner = "".join("\\" + ch if ch in '"`$\\' else ch for ch in arg)
    return '"' + inner.replace("%", "%%") + '"'


def exec_value(argv: Sequence[str]) -> str:
    """The ``Exec=`` value, before the general string escaping (which :func:`render` adds)."""
    return " ".join(quote_arg(arg) for arg in argv)


def split_exec(value: str) -> list[str]:
    """Inverse of :func:`exec_value` (after :func:`unescape`): the argv it stands for."""
    args: list[str] = []
    cur: list[str] | None = None
    i, n = 0, len(value)
    while i < n:
        ch = value[i]
        if ch == " ":
            if cur is not None:
                args.append("".join(cur))
                cur = None
            i += 1
        elif ch == '"':
            cur = cur if cur is not None else []
            i += 1
            while i < n and value[i] != '"':
                if value[i] == "\\" and i + 1 < n:
                    i += 1
                cur.append(value[i])
                i += 1
            i += 1
        else:
            cur = cur if cur is not None else []
            cur.append(ch)
            i += 1
    if cur is not None:
        args.append("".join(cur))
    return [a.replace("%%", "%") for a in args]


def render(entry: Entry, *, hidden: bool = False) -> str:
    """The autostart file for ``entry`` (``hidden``: a switched-off user copy)."""
    keys: dict[str, str] = {
        "Type": "Application",
        "Version": "1.0",
        "Name": entry.name,
        "GenericName": "Break reminder",
        "Comment": entry.comment,
        "Icon": entry.icon,
        # TryExec: if the program is gone (uninstalled), desktops skip the entry.
        "TryExec": entry.argv[0],
        "Exec": exec_value(entry.argv),
        "Terminal": "false",
        "StartupNotify": "false",
        "X-GNOME-Autostart-enabled": "false" if hidden else "true",
        MARK: "true",
    }
    if hidden:
        keys["Hidden"] = "true"
    lines = [f"[{GROUP}]"] + [f"{k}={escape(v)}" for k, v in keys.items()]
    return "\n".join(lines) + "\n"


def parse(text: str) -> dict[str, str]:
    """The ``[Desktop Entry]`` keys of a desktop file, unescaped (other groups ignored)."""
    keys: dict[str, str] = {}
    group = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1]
            continue
        if group == GROUP and "=" in line:
            key, _, value = line.partition("=")
            keys.setdefault(key.strip(), unescape(value.strip()))
    return keys


def is_on(keys: Mapping[str, str]) -> bool:
    return keys.get("Hidden", "false") != "true" and (
        keys.get("X-GNOME-Autostart-enabled", "true") != "false"
    )


def hidden_copy(text: str) -> str:
    """A system file copied for one user with ``Hidden=true`` (comments, locales and
    other groups kept), which switches the system entry off for that user."""
    out: list[str] = []
    group = None
    inserted = False
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            if group == GROUP and not inserted:
                out += _off_lines()
                inserted = True
            group = line[1:-1]
        elif group == GROUP and line.partition("=")[0].strip() in _OFF_KEYS:
            continue
        out.append(raw)
    if not inserted:
        if group != GROUP:
            out.append(f"[{GROUP}]")
        out += _off_lines()
    return "\n".join(out) + "\n"


def _off_lines() -> list[str]:
    return ["Hidden=true", "X-GNOME-Autostart-enabled=false"]


# ------------------------------------------------------------------ the mechanism


def user_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "autostart"


def system_dirs(environ: Mapping[str, str] | None = None) -> list[Path]:
    """In precedence order (the spec: the first directory wins)."""
    env = os.environ if environ is None else environ
    dirs = [d for d in (env.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(":") if d]
    return [Path(d) / "autostart" for d in dirs or ["/etc/xdg"]]


class XdgAutostart:
    """``ergobreak.desktop`` in the user's and the system's autostart directories.

    ``--system`` writes to the *last* system directory (``/etc/xdg/autostart`` by
    default; distributions prepend their own, e.g. ``/etc/xdg/xdg-ubuntu``).
    """

    method = "xdg"

    def __init__(self, user: Path, system: Sequence[Path]) -> None:
        self.user_file = user / FILE_NAME
        self.system_files = [d / FILE_NAME for d in system]
        self.system_target = self.system_files[-1]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> XdgAutostart:
        return cls(user_dir(environ), system_dirs(environ))

    def _system(self) -> Path | None:
        return next((f for f in self.system_files if f.is_file()), None)

    def status(self) -> Status:
        found: list[Found] = []
        notes: list[str] = []
        enabled = False
        system = self._system()
        if system is not None:
            keys = parse(_read(system))
            enabled = is_on(keys)
            found.append(Found("system", "entry", str(system), enabled, keys.get("Exec")))
        if self.user_file.is_file():
            keys = parse(_read(self.user_file))
            enabled = is_on(keys)
            if enabled:
                found.append(Found("user", "entry", str(self.user_file), True, keys.get("Exec")))
            else:
                note = (
                    "Hidden=true: switches the system entry off for this user"
                    if system is not None
                    else "switched off (Hidden=true or X-GNOME-Autostart-enabled=false)"
                )
                found.append(Found("user", "override", str(self.user_file), False, None, note))
            if enabled:
                notes += _missing_program(keys)
        elif system is not None and enabled:
            notes += _missing_program(parse(_read(system)))
        return Status(self.method, enabled, tuple(found), tuple(notes))

    def enable(self, entry: Entry, *, system: bool = False) -> Change:
        if system:
            change = _write(self.system_target, render(entry))
            if self.user_file.is_file() and not is_on(parse(_read(self.user_file))):
                change += Change(
                    notes=(
                        f"this user's override {self.user_file} still switches it off"
                        " for them (left in place)",
                    )
                )
            return change
        sys_file = self._system()
        sys_on = sys_file is not None and is_on(parse(_read(sys_file)))
        if self.user_file.is_file():
            user_on = is_on(parse(_read(self.user_file)))
            if not user_on and sys_on:
                self.user_file.unlink()
                return Change((f"removed {self.user_file}: the system entry {sys_file} applies",))
            return _write(self.user_file, render(entry))
        if sys_on:
            return Change(notes=(f"already started at login by the system entry {sys_file}",))
        return _write(self.user_file, render(entry))

    def disable(self, *, system: bool = False) -> Change:
        if system:
            change = Change()
            if self.system_target.is_file():
                self.system_target.unlink()
                change = Change((f"removed {self.system_target}",))
            others = [f for f in self.system_files[:-1] if f.is_file()]
            if others:
                change += Change(
                    notes=tuple(f"also found {f} (not ours to remove)" for f in others)
                )
            return change
        change = Change()
        if self.user_file.is_file():
            if not is_on(parse(_read(self.user_file))):
                return Change(notes=(f"already switched off by {self.user_file}",))
            self.user_file.unlink()
            change = Change((f"removed {self.user_file}",))
        sys_file = self._system()
        if sys_file is not None and is_on(parse(_read(sys_file))):
            write_atomic(self.user_file, hidden_copy(_read(sys_file)))
            change += Change(
                (f"wrote {self.user_file} (Hidden=true): switches {sys_file} off for you",)
            )
        if not change.actions:
            change += Change(notes=("not started at login: nothing to do",))
        return change


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def _write(path: Path, text: str) -> Change:
    with contextlib.suppress(OSError):
        if path.read_text(encoding="utf-8") == text:
            return Change(notes=(f"{path} is up to date",))
    write_atomic(path, text)
    return Change((f"wrote {path}",))


def _missing_program(keys: Mapping[str, str]) -> list[str]:
    """A stale path after a reinstall is the usual reason an entry silently does nothing."""
    argv = split_exec(keys.get("Exec", ""))
    program = keys.get("TryExec") or (argv[0] if argv else "")
    if not program:
        return []
    if os.sep in program and not os.access(program, os.X_OK):
        return [f"{program} is not an executable file: the desktop will skip this entry"]
    if os.sep not in program and shutil.which(program) is None:
        return [f"{program} is not on PATH: the desktop will skip this entry"]
    return []
