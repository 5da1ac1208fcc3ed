"""Reading TOML a person wrote: every file and text goes through here.

A problem becomes a :class:`Diagnostic` with line, column and excerpt, never an
exception, so callers can report it next to every other problem in the file.
Each caller names the largest file it reads (``max_bytes``); a larger one is not
read at all, and text beyond the limits of :mod:`~ergobreak.tomlfile.bounds`
never reaches the parser.

``tomllib`` is the standard library's parser on 3.11+ and ``tomli`` (the same
parser) on 3.10; it is exported for tests, while ergobreak itself parses only
through :func:`parse_toml`.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import sys
from pathlib import Path, PurePath
from typing import Any

from ergobreak.tomlfile.bounds import beyond, size
from ergobreak.tomlfile.diagnostics import Diagnostic
from ergobreak.tomlfile.positions import split_lines

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = ["parse_toml", "read_bytes", "read_text", "tomllib"]

_AT = re.compile(r"\(at line (\d+), column (\d+)\)")
_TUPLE = re.compile(r"\((?:'[^']*',\s*)+(?:'[^']*')?\)")
_PART = re.compile(r"'([^']*)'")
#: tomllib's words for a value it cannot read, typically an unquoted ``30m`` or ``yes``
_UNQUOTED = frozenset({"invalid value", "expected newline or end of document after a statement"})
#: never wait for a writer (a FIFO where a file should be); binary on Windows
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


def _too_large(path: str, found: int | None, limit: int) -> Diagnostic:
    """The error for a file over its size limit (``found``: its size, if known)."""
    name = PurePath(path).name or path
    what = size(found) if found is not None else f"over {size(limit)}"
    return Diagnostic.plain(
        path,
        f"{name} is {what}; the limit is {size(limit)}",
        hint="is this the right file? ergobreak reads it whole, so it must stay small",
    )


def read_bytes(path: Path, *, max_bytes: int) -> tuple[bytes | None, list[Diagnostic]]:
    """The file's bytes, or why not (missing, unreadable, over ``max_bytes``).

    A file over the limit is refused by its size before anything is read; one
    that grows while read, or has no size (a pipe), is read no further.
    """
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        return None, [Diagnostic.plain(str(path), "file not found")]
    except OSError as exc:
        return None, [Diagnostic.plain(str(path), f"cannot read: {exc.strerror or exc}")]
    chunks: list[bytes] = []
    got = 0
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        if stat.S_ISREG(info.st_mode) and info.st_size > max_bytes:
            return None, [_too_large(str(path), info.st_size, max_bytes)]
        while got <= max_bytes:
            chunk = os.read(fd, max_bytes + 1 - got)
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
    except OSError as exc:
        return None, [Diagnostic.plain(str(path), f"cannot read: {exc.strerror or exc}")]
    finally:
        os.close(fd)
    raw = b"".join(chunks)
    if len(raw) > max_bytes:
        return None, [_too_large(str(path), None, max_bytes)]
    return raw, []


def read_text(path: Path, *, max_bytes: int) -> tuple[str | None, list[Diagnostic]]:
    """The file's text, or why it cannot be read (missing, unreadable, over
    ``max_bytes``, not UTF-8)."""
    raw, problems = read_bytes(path, max_bytes=max_bytes)
    if raw is None:
        return None, problems
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


def parse_toml(
    text: str, path: str, *, max_bytes: int
) -> tuple[dict[str, Any] | None, list[Diagnostic]]:
    """Parse TOML; a syntax error or a broken limit becomes a diagnostic with line,
    column and excerpt."""
    if len(text) > max_bytes or (len(text) * 4 > max_bytes and len(text.encode()) > max_bytes):
        return None, [_too_large(path, len(text.encode()), max_bytes)]
    problem = _beyond(text, path)
    if problem is not None:
        return None, [problem]
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
    except Exception as exc:  # the bounds keep the parser's own limits out of reach: a backstop
        return None, [Diagnostic.plain(path, f"invalid TOML: {exc}")]


def _beyond(text: str, path: str) -> Diagnostic | None:
    """The first token of ``text`` past the limits of :mod:`~ergobreak.tomlfile.bounds`."""
    found = beyond(text)
    if found is None:
        return None
    offset, message, hint = found
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    return Diagnostic(
        path=path,
        line=text.count("\n", 0, offset) + 1,
        col=offset - start + 1,
        severity="error",
        key=None,
        message=message,
        source=text[start : end if end >= 0 else len(text)].rstrip("\r"),
        hint=hint,
    )
