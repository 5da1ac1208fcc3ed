"""Exit codes and small helpers shared by the subcommands."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ergobreak.tomlfile.wording import short_path as short_path  # noqa: PLC0414 (re-export)

#: success
EXIT_OK = 0
#: the command failed, or the config it checked has errors
EXIT_FAILURE = 1
#: bad command-line usage
EXIT_USAGE = 2
#: the value is locked by IT policy
EXIT_LOCKED = 3
#: no running ergobreak to talk to: none, one that does not answer, or one not to be trusted
EXIT_NOT_RUNNING = 4

#: C0 controls, DEL and C1 controls (ESC and CSI start terminal escape sequences)
_CONTROLS = {code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0))}


def printable(text: str) -> str:
    """``text`` with every control character spelled out (``\\x1b``), so what another
    program sent can neither move the cursor, recolour the terminal nor fake a line."""
    return text.translate(_CONTROLS)


def scrub(value: Any) -> Any:
    """A decoded JSON value with :func:`printable` applied to every string in it."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable(k): scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


def os_error_line(prog: str, exc: OSError, writing: Path | None = None) -> str:
    """The line (no newline) for a file operation that failed, for stderr instead of
    a traceback.

    With ``writing``, a failure on that file, beside it (a temporary file) or on a
    folder above it reads "PROG: cannot write ~/.config/ergobreak/config.toml:
    read-only file system"; anything else names the file the system named.
    """
    reason = exc.strerror or str(exc) or type(exc).__name__
    reason = reason[:1].lower() + reason[1:]
    failed = Path(os.fsdecode(exc.filename)) if exc.filename is not None else None
    if writing is not None and (
        failed is None
        or failed == writing
        or failed.parent == writing.parent
        or failed in writing.parents
    ):
        return f"{prog}: cannot write {short_path(writing)}: {reason}"
    if failed is not None:
        return f"{prog}: {short_path(failed)}: {reason}"
    return f"{prog}: {reason}"
