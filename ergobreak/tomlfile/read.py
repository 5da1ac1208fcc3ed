"""Reading TOML a person wrote: every file and text goes through here.

A problem becomes a :class:`Diagnostic` with line, column and excerpt, never an
exception, so callers can report it next to every other problem in the file.
``tomllib`` is the standard library's parser on 3.11+ and ``tomli`` (the same
parser) on 3.10; it is exported for tests, while ergobreak itself parses only
through :func:`parse_toml`.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from ergobreak.tomlfile.diagnostics import Diagnostic
from ergobreak.tomlfile.positions import split_lines

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = ["parse_toml", "read_text", "tomllib"]

_AT = re.compile(r"\(at line (\d+), column (\d+)\)")
_TUPLE = re.compile(r"\((?:'[^']*',\s*)+(?:'[^']*')?\)")
_PART = re.compile(r"'([^']*)'")
#: tomllib's words for a value it cannot read, typically an unquoted ``30m`` or ``yes``
_UNQUOTED = frozenset({"invalid value", "expected newline or end of document after a statement"})


def read_text(path: Path) -> tuple[str | None, list[Diagnostic]]:
    """The file's text, or why it cannot be read (missing, unreadable, not UTF-8)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, [Diagnostic.plain(str(path), "file not found")]
    except OSError as exc:
        return None, [Diagnostic.plain(str(path), f"cannot read: {exc.strerror or exc}")]
    try:
        return raw.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        start = raw.rfind(b"\n", 0, exc.start) + 1
        end = raw.find(b"\n", exc.start)
        line_bytes = raw[start : end if end >= 0 else len(raw)].rstrip(b"\r")
        return None, [
            Diagnostic(
                path=str(path),
                line=raw[: exc.start].count(b"\n") + 1,
                col=len(raw[start : exc.start].decode("utf-8", "replace")) + 1,
                severity="error",
                key=None,
                message=f"invalid TOML: the file is not UTF-8 text (byte 0x{raw[exc.start]:02x})",
                source=line_bytes.decode("utf-8", "replace"),
            )
        ]


def parse_toml(text: str, path: str) -> tuple[dict[str, Any] | None, list[Diagnostic]]:
    """Parse TOML; a syntax error becomes a diagnostic with line, column and excerpt."""
    try:
        return tomllib.loads(text), []
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        col = getattr(exc, "colno", None)
        message = getattr(exc, "msg", None) or str(exc)
        match = _AT.search(str(exc))
        if match and line is None:
            line, col = int(match.group(1)), int(match.group(2))
        message = _AT.sub("", message).strip()
        # tomllib names tables as Python tuples: ('drill', 'sub') -> [drill.sub]
        message = _TUPLE.sub(lambda m: "[" + ".".join(_PART.findall(m.group(0))) + "]", message)
        lines = split_lines(text)
        source = lines[line - 1] if line is not None and 1 <= line <= len(lines) else None
        message = message[0].lower() + message[1:] if message else "syntax error"
        hint = None
        if message in _UNQUOTED and source is not None and "=" in source[: (col or 1) - 1]:
            hint = 'text values need quotes (every = "30m"); true and false are lowercase'
        return None, [
            Diagnostic(
                path=path,
                line=line,
                col=col,
                severity="error",
                key=None,
                message=f"invalid TOML: {message}",
                source=source,
                hint=hint,
            )
        ]
