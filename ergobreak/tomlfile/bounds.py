"""Limits on a TOML text, checked before the parser sees it.

``tomllib`` recurses once per nested array or inline table (about 500 of them
overflow Python's stack), does work quadratic in the parts of a dotted key, and
converts integers with ``int()`` (more than 4,300 digits raise). :func:`beyond`
keeps every text that reaches it far inside those limits, in one linear pass: the
depth of the deepest value (the length of its path in the parsed data: ``[a.b]``
then ``c = [[1]]`` puts ``1`` at depth 5) and the length of each number or date.
:func:`~ergobreak.tomlfile.read.parse_toml` checks them, and the size its caller
chose for the kind of file, before it parses; nothing ergobreak reads nests deeper
than 5.
"""

from __future__ import annotations

import math
import re

#: a string of any of TOML's four kinds, quotes included; a one-line string that
#: is not closed ends with its line (as far as the parser reads it, too)
STRING = (
    r'"""(?:[^\\]|\\.)*?""""{0,2}'
    r"|'''.*?''''{0,2}"
    r'|"(?:[^"\\\n]|\\.)*"?'
    r"|'[^'\n]*'?"
)
#: deepest value a file may hold (tables, dotted keys, arrays and inline tables together)
MAX_DEPTH = 32
#: longest number or date: a TOML integer fits 64 bits (at most 19 digits, some
#: underscores), and a date-time with microseconds and an offset is 32 characters
MAX_LITERAL = 100

_TOKEN = re.compile(
    r"[ \t\r]+|#[^\n]*"  # blanks and comments: skipped
    r"|(?P<nl>\n)"
    rf"|(?P<str>{STRING})"
    r"|(?P<open>\[\[|\[|\{)|(?P<close>\]\]|\]|\})|(?P<punct>[=,])"
    r"|(?P<bare>[^ \t\r\n#\"'\[\]{}=,]+)",
    re.DOTALL,
)
_NUMBER_START = frozenset("0123456789+-")


def size(n: int) -> str:
    """``48 MB``, ``64 KB``, ``70.1 KB``, ``900 bytes`` (rounded up, 1 KB = 1024 bytes)."""
    for unit, scale in (("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            amount = n / scale
            if n % scale == 0:
                return f"{n // scale} {unit}"
            return f"{math.ceil(amount * 10) / 10:.1f} {unit}"
    return f"{n} bytes"


def beyond(text: str) -> tuple[int, str, str] | None:
    """``(offset, message, hint)`` of the first token beyond a limit.

    A lexer, not a parser: it splits strings and comments off exactly as TOML
    does, so every bracket, dot and key part the parser would see is counted, and
    on broken text it can only count more, never less.
    """
    header = 0  # depth of the table in force: [a.b] is 2, [[a.b]] 3 (with the index)
    depth = 0  # depth of the value (or key part) at this point
    #: open arrays and inline tables: (bracket, depth outside it)
    stack: list[tuple[str, int]] = []
    key = True  # a key comes next: at a line's start, after "{" or a "," in an inline table
    fresh = True  # nothing yet on this line (a "[" here opens a table header)
    in_header = False
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind is None:  # space or comment
            continue
        piece = match.group()
        if kind == "nl":
            if not stack:
                key, fresh, in_header, depth = True, True, False, header
            continue
        starts_line, fresh = fresh, False
        if in_header:
            if kind == "close":
                in_header = False
                header = depth
            elif kind in ("bare", "str"):
                depth += _parts(piece, kind)
        elif key and kind == "open" and piece != "{" and starts_line and not stack:
            in_header, depth = True, 1 if piece == "[[" else 0
        elif key:
            if kind in ("bare", "str"):
                depth += _parts(piece, kind)
            elif piece == "=":
                key = False
            elif kind == "close" and stack:
                depth = stack.pop()[1]
                key = False
        elif kind == "open":
            for bracket in piece:
                stack.append((bracket, depth))
                if bracket == "{":
                    key = True
                else:
                    depth += 1
        elif kind == "close":
            for _ in piece:
                if stack:
                    depth = stack.pop()[1]
        elif piece == "," and stack:
            bracket, outside = stack[-1]
            key = bracket == "{"
            depth = outside if key else outside + 1
        elif kind == "bare" and len(piece) > MAX_LITERAL and piece[0] in _NUMBER_START:
            return (
                match.start(),
                f"a value {len(piece):,} characters long; numbers and dates may have"
                f" at most {MAX_LITERAL}",
                "a TOML integer has at most 19 digits",
            )
        if depth > MAX_DEPTH:
            return (
                match.start(),
                f"nested more than {MAX_DEPTH} levels deep",
                "tables, dotted keys, arrays and inline tables all count;"
                " ergobreak's files need at most 5",
            )
    return None


def _parts(piece: str, kind: str | None) -> int:
    """Key parts in one piece: a quoted key is one, ``a.b.`` is two."""
    if kind == "str":
        return 1
    return sum(1 for part in piece.split(".") if part)
