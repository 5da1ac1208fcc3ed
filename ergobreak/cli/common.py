"""Exit codes and small helpers shared by the subcommands."""

from __future__ import annotations

from typing import Any

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
