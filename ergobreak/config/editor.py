"""``ergobreak config edit``: edit a copy, validate it, and only then put it in place.

Like ``visudo``: the user edits a temporary copy next to the real file (through a
symbolic link: next to the file it points at, which is the one replaced); on save it
is validated with every layer (policy, content selection); errors are shown with
the real file's name and the user chooses to edit again or keep the previous file.
An invalid file is never left in place by this command.
"""

from __future__ import annotations

import dataclasses
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from ergobreak.atomic import write_atomic
from ergobreak.config.layers import load
from ergobreak.config.loader import MAX_BYTES, write_target
from ergobreak.tomlfile import ConfigError, Diagnostic, read_bytes


class NoEditor(RuntimeError):
    """No usable editor; the message says how to choose one."""


def editor_command(env: dict[str, str] | None = None) -> list[str]:
    """``$VISUAL``, then ``$EDITOR``, then a sensible default for this OS.

    Raises:
        NoEditor: nothing usable was found.
    """
    env = dict(os.environ) if env is None else env
    for var in ("VISUAL", "EDITOR"):
        value = env.get(var, "").strip()
        if value:
            return shlex.split(value, posix=os.name == "posix")
    if sys.platform == "win32":  # pragma: no cover - untested on real Windows
        return ["notepad"]
    if sys.platform == "darwin":  # pragma: no cover - untested on real macOS
        return ["open", "-W", "-n", "-t"]
    for candidate in ("editor", "sensible-editor", "nano", "vi"):
        found = shutil.which(candidate, path=env.get("PATH"))
        if found:
            return [found]
    raise NoEditor("no editor found: set $EDITOR (for example EDITOR=nano)")


@dataclasses.dataclass(frozen=True, slots=True)
class Outcome:
    saved: bool
    changed: bool
    diagnostics: tuple[Diagnostic, ...] = ()
    #: the editor's exit status when it failed (the command exits with it)
    editor_failed: int | None = None


Ask = Callable[[str], str]


def _relabel(
    diags: tuple[Diagnostic, ...] | list[Diagnostic], tmp: Path, real: Path
) -> list[Diagnostic]:
    return [dataclasses.replace(d, path=str(real)) if d.path == str(tmp) else d for d in diags]


def edit(
    path: Path,
    template: str,
    *,
    command: list[str],
    out: TextIO,
    err: TextIO,
    ask: Ask | None,
) -> Outcome:
    """Run the edit loop for ``path``; ``ask`` answers "edit again?" (None: never).

    Raises:
        OSError: the editor could not be started, or the file not written.
    """
    target = write_target(path)
    if path.is_symlink() and not target.exists():
        problem = Diagnostic.plain(str(path), "a symbolic link to a file that does not exist")
        err.write(problem.format() + "\n")
        return Outcome(saved=False, changed=False, diagnostics=(problem,))
    original, problems = _read(target, out)
    if problems:
        for diag in problems:
            err.write(diag.format() + "\n")
        return Outcome(saved=False, changed=False, diagnostics=tuple(problems))
    if original is None:
        out.write(f"{path} does not exist yet: starting from the commented template.\n")
    text = original if original is not None else template
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.stem}.edit-", suffix=".toml", dir=target.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        while True:
            result = subprocess.run([*command, str(tmp)], check=False)
            if result.returncode != 0:
                err.write(
                    f"ergobreak config edit: the editor exited with status {result.returncode};"
                    f" {path} was not changed\n"
                )
                return Outcome(saved=False, changed=False, editor_failed=result.returncode)
            edited = tmp.read_text(encoding="utf-8", errors="replace")
            if edited == (original if original is not None else template) and original is not None:
                out.write("No changes.\n")
                return Outcome(saved=False, changed=False)
            problems = _check(tmp, path)
            errors = [d for d in problems if d.severity == "error"]
            for diag in problems:
                err.write(diag.format() + "\n")
            if not errors:
                write_atomic(target, edited)
                out.write(f"Saved {path}. A running ergobreak applies it within seconds.\n")
                return Outcome(saved=True, changed=True, diagnostics=tuple(problems))
            answer = ask("(e)dit again or (k)eep the previous file? [e/K] ") if ask else "k"
            if answer.strip().lower() not in ("e", "edit", "y", "yes"):
                state = "left as it was" if original is not None else "not created"
                out.write(f"Kept the previous settings: {path} {state}.\n")
                return Outcome(saved=False, changed=False, diagnostics=tuple(problems))
    finally:
        tmp.unlink(missing_ok=True)


def _read(path: Path, out: TextIO) -> tuple[str | None, list[Diagnostic]]:
    """The file's text to edit (``None``: no file), or why it cannot be edited (not
    a regular file, too large); bytes that are not UTF-8 become U+FFFD, with a
    note, so the user sees where they are and can fix them."""
    if not path.exists():
        return None, []
    raw, problems = read_bytes(path, max_bytes=MAX_BYTES)
    if raw is None:
        return None, problems
    try:
        return raw.decode("utf-8"), []
    except UnicodeDecodeError:
        out.write(f"{path} is not UTF-8 text: what cannot be read shows as \ufffd.\n")
        return raw.decode("utf-8", "replace"), []


def _check(tmp: Path, real: Path) -> list[Diagnostic]:
    try:
        effective = load(tmp)
    except ConfigError as exc:
        return _relabel(exc.diagnostics, tmp, real)
    # Policy problems are IT's to fix; only this file's own warnings matter here.
    return _relabel([d for d in effective.diagnostics if d.path == str(tmp)], tmp, real)
