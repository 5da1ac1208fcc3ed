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

import os
import re
import stat
import sys
from dataclasses import replace
from pathlib import Path, PurePath
from typing import Any

from ergobreak.tomlfile.bounds import beyond, size
from ergobreak.tomlfile.diagnostics import Diagnostic
from ergobreak.tomlfile.positions import Positions, split_lines

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
#: typographic quotes, which word processors and some editors put for ``"`` and ``'``
SMART_QUOTES = "\u201c\u201d\u2018\u2019\u201e\u00ab\u00bb"
_SMART_VALUE = re.compile(rf"=\s*[{SMART_QUOTES}]|[{SMART_QUOTES}]\s*(?:#.*)?$")
#: what the excerpt shows for a NUL byte (one column wide, so the caret stays put)
_NUL_SHOWN = "\u2400"


def _too_large(path: str, found: int | None, limit: int) -> Diagnostic:
    """The error for a file over its size limit (``found``: its size, if known)."""
    name = PurePath(path).name or path
    what = size(found) if found is not None else f"over {size(limit)}"
    return Diagnostic.plain(
        path,
        f"{name} is {what}; the limit is {size(limit)}",
        hint="is this the right file? ergobreak reads it whole, so it must stay small",
    )


def not_regular(mode: int) -> str | None:
    """What a file of this ``st_mode`` is when it is not a regular file (``"a FIFO
    (named pipe)"``), else ``None``."""
    if stat.S_ISREG(mode):
        return None
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    )
    return next((what for test, what in kinds if test(mode)), "not a regular file")


def _refused(path: Path, what: str) -> Diagnostic:
    return Diagnostic.plain(
        str(path),
        f"not a regular file: it is {what}; nothing was read",
        hint="point ergobreak at a plain text file",
    )


def read_bytes(path: Path, *, max_bytes: int) -> tuple[bytes | None, list[Diagnostic]]:
    """The file's bytes, or why not (missing, unreadable, over ``max_bytes``, not a
    regular file).

    A file over the limit is refused by its size before anything is read; a
    directory, FIFO, socket or device is refused by its kind before it is even
    opened (opening a FIFO for reading waits for a writer), and checked again
    once open; a file that grows while read is read no further.
    """
    try:
        what = not_regular(os.stat(path).st_mode)
    except FileNotFoundError:
        return None, [Diagnostic.plain(str(path), "file not found")]
    except OSError as exc:
        return None, [Diagnostic.plain(str(path), f"cannot read: {exc.strerror or exc}")]
    if what is not None:
        return None, [_refused(path, what)]
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
        what = not_regular(info.st_mode)  # replaced between the two looks
        if what is not None:
            return None, [_refused(path, what)]
        if info.st_size > max_bytes:
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
    problem = _bom_or_nul(text, path) or _beyond(text, path)
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
        named = _named_problem(text, path, lines, line, message)
        if named is not None:
            return None, [named]
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


def _at_offset(text: str, path: str, offset: int, message: str, hint: str) -> Diagnostic:
    """An error at character ``offset`` of ``text``, with its line as the excerpt (a
    NUL byte in it shown as a visible symbol of the same width)."""
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    source = text[start : end if end >= 0 else len(text)].rstrip("\r")
    return Diagnostic(
        path=path,
        line=text.count("\n", 0, offset) + 1,
        col=offset - start + 1,
        severity="error",
        key=None,
        message=message,
        source=source.replace("\x00", _NUL_SHOWN),
        hint=hint,
    )


def _beyond(text: str, path: str) -> Diagnostic | None:
    """The first token of ``text`` past the limits of :mod:`~ergobreak.tomlfile.bounds`."""
    found = beyond(text)
    if found is None:
        return None
    offset, message, hint = found
    return _at_offset(text, path, offset, message, hint)


def _bom_or_nul(text: str, path: str) -> Diagnostic | None:
    """A byte order mark at the start, or a NUL byte anywhere: named as such (the
    parser calls them an "invalid statement" or an unexpected character)."""
    if text.startswith("\ufeff"):
        bom = _at_offset(
            text,
            path,
            0,
            "invalid TOML: the file starts with a byte order mark (BOM, U+FEFF)",
            'save it as UTF-8 without a BOM (in Notepad: "UTF-8", not "UTF-8 with BOM")',
        )
        return replace(bom, source=(bom.source or "")[1:])
    offset = text.find("\x00")
    if offset < 0:
        return None
    return _at_offset(
        text,
        path,
        offset,
        "invalid TOML: the file holds a NUL byte (\\x00), which text never has",
        "the file may be damaged or saved in another format: save it again as plain text",
    )


def _named_problem(
    text: str, path: str, lines: list[str], line: int | None, message: str
) -> Diagnostic | None:
    """A syntax error the parser words vaguely, said plainly: a key or table
    written twice (with the line of each), or a typographic quote."""
    if line is not None and (message == "cannot overwrite a value" or message.endswith(" twice")):
        cut = sum(len(lines[i]) + 1 for i in range(min(line, len(lines))))
        repeat = Positions(text[:cut]).repeats.get(line)
        if repeat is not None:
            where, col, first = repeat
            name = ".".join(str(part) for part in where if isinstance(part, str))
            table = message.endswith(" twice")
            return Diagnostic(
                path=path,
                line=line,
                col=col,
                severity="error",
                key=None if table else name,
                message=(
                    f"invalid TOML: [{name}] is declared twice, on line {first} and on line {line}"
                    if table
                    else f"invalid TOML: set twice, on line {first} and on line {line}"
                ),
                source=lines[line - 1],
                hint=f"merge the two [{name}] tables into one" if table else "keep one of them",
            )
    for number, source in enumerate(lines, start=1):
        if line is not None and number > line:
            break
        match = None if source.lstrip().startswith("#") else _SMART_VALUE.search(source)
        if match is None:
            continue
        col = next(i for i in range(match.start(), len(source)) if source[i] in SMART_QUOTES)
        return Diagnostic(
            path=path,
            line=number,
            col=col + 1,
            severity="error",
            key=None,
            message=f"invalid TOML: {source[col]} is a typographic (smart) quote;"
            " TOML needs straight quotes, \" or '",
            source=source,
            hint='type it again as a plain " or \' (every = "30m"); word processors and'
            " some editors change quotes as you type",
        )
    return None
