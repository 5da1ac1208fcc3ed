"""Where each key and array element sits in a TOML text, for diagnostics.

``tomllib`` gives values, not positions. :class:`Positions` scans the text once
(tables, arrays of tables, dotted keys, inline tables, arrays, strings of every
kind) and maps the paths of the parsed data to 1-based ``(line, col)``. It keeps
every prefix of every path, so a path costs the square of its length: the scan
stops at a path deeper than :data:`~ergobreak.tomlfile.bounds.MAX_DEPTH`, which
only text the parser is never given can hold.
"""

from __future__ import annotations

import contextlib
import re
from bisect import bisect_right
from collections.abc import Sequence

from ergobreak.tomlfile.bounds import MAX_DEPTH, STRING

#: a path into parsed TOML: ``("drill", 2, "steps", 0, "text")``
PathKey = tuple[str | int, ...]
#: a dotted key (``"drill.every"``) or a path
Where = str | PathKey

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_SCALAR_END = re.compile(r"[,\]}\r\n#]")
#: blanks and comments, on one line or across lines
_SPACE = re.compile(r"(?:[ \t]+|#[^\n]*)*")
_SPACE_LINES = re.compile(r"(?:[ \t\r\n]+|#[^\n]*)*")
_STRING = re.compile(STRING, re.DOTALL)


def split_lines(text: str) -> list[str]:
    """The lines of ``text`` as TOML (and ``tomllib``'s line numbers) count them:
    ended by ``\\n`` or ``\\r\\n`` only (``str.splitlines`` also splits at
    characters a TOML string or comment may hold, such as U+2028)."""
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    if lines[-1] == "":  # the newline ending the last line starts no new one
        lines.pop()
    return lines


class Positions:
    """1-based ``(line, col)`` of every key and array element in a TOML text.

    Paths follow the parsed data: ``("drill", 2, "steps", 0, "text")`` is the
    ``text`` of the first step of the third ``[[drill]]``, whether the steps are
    written as inline tables or as ``[[drill.steps]]`` sections. Only run on text
    that ``tomllib`` accepted; on anything else it keeps what it found so far.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = split_lines(text)
        #: path -> (line, key col, value col); a table header's cols are its ``[``
        self.keys: dict[PathKey, tuple[int, int, int]] = {}
        #: path -> where it is first used, for tables only implied by deeper
        #: keys (``[a.b]`` or ``a.b = 1`` define ``a``)
        self._implied: dict[PathKey, tuple[int, int]] = {}
        #: ``"a.b"`` -> the first path its parts join to (``'a.b'`` quoted is one part)
        self._dotted: dict[str, PathKey] = {}
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self._arrays: dict[PathKey, int] = {}
        #: line -> (path, col, line it was first written or used on): a key or table
        #: written again (``tomllib`` refuses the text at that line)
        self.repeats: dict[int, tuple[PathKey, int, int]] = {}
        with contextlib.suppress(IndexError, ValueError):
            self._scan()

    def find(self, where: Where, *, at_key: bool = False) -> tuple[int, int] | None:
        """Where ``where`` is written: its value, or with ``at_key`` its key (a
        table: its header). A path the text does not spell out falls back to its
        first use, then to its nearest written ancestor (at the ancestor's key).
        A dotted key matches a path whose parts join to it, quoted parts included."""
        if isinstance(where, str):
            path = self._dotted.get(where) or tuple(where.split("."))
        else:
            path = where
        for n in range(len(path), 0, -1):
            hit = self.keys.get(path[:n])
            if hit:
                line, key_col, value_col = hit
                return line, (key_col if at_key or n < len(path) else value_col)
            implied = self._implied.get(path[:n])
            if implied:
                return implied
        return None

    def source(self, line: int | None) -> str | None:
        """The text of line ``line`` (1-based), for the excerpt under a diagnostic."""
        if line is None or not 1 <= line <= len(self.lines):
            return None
        return self.lines[line - 1]

    # -- scanner

    def _record(self, path: PathKey, line: int, key_col: int, value_col: int) -> None:
        if len(path) > MAX_DEPTH:
            raise ValueError(f"deeper than {MAX_DEPTH} at line {line}")
        first = self.keys.get(path) or self._implied.get(path)
        if first is not None and first[0] != line:
            self.repeats.setdefault(line, (path, key_col, first[0]))
        self.keys.setdefault(path, (line, key_col, value_col))
        # Ancestors nearest first, up to one already known: it was recorded with its
        # own ancestors and dotted names, so each prefix is handled once per text.
        known = len(path) - 1
        while known > 0 and path[:known] not in self._implied:
            self._implied[path[:known]] = (line, key_col)
            known -= 1
        names = next((i for i, part in enumerate(path) if not isinstance(part, str)), len(path))
        for n in range(known + 1, names + 1):
            self._dotted.setdefault(".".join(map(str, path[:n])), path[:n])

    def _lc(self, i: int) -> tuple[int, int]:
        line = bisect_right(self._starts, i)
        return line, i - self._starts[line - 1] + 1

    def _skip(self, i: int, *, newlines: bool) -> int:
        match = (_SPACE_LINES if newlines else _SPACE).match(self.text, i)
        assert match is not None  # both match the empty string
        return match.end()

    def _scan(self) -> None:
        t = self.text
        table: PathKey = ()
        i = 0
        while True:
            i = self._skip(i, newlines=True)
            if i >= len(t):
                return
            if t[i] != "[":
                i = self._keyval(i, table)
                continue
            start = i
            many = t.startswith("[[", i)
            parts, i = self._key(i + (2 if many else 1))
            i = self._skip(i, newlines=False) + (2 if many else 1)
            full = (*self._resolve(parts[:-1]), parts[-1])
            if many:
                index = self._arrays.get(full, 0)
                self._arrays[full] = index + 1
                table = (*full, index)
            else:
                table = full
            line, col = self._lc(start)
            self._record(table, line, col, col)

    def _resolve(self, parts: Sequence[str]) -> PathKey:
        out: PathKey = ()
        for part in parts:
            out = (*out, part)
            if out in self._arrays:
                out = (*out, self._arrays[out] - 1)
        return out

    def _key(self, i: int) -> tuple[tuple[str, ...], int]:
        t = self.text
        parts: list[str] = []
        while True:
            i = self._skip(i, newlines=False)
            if t[i] in "\"'":
                end = self._string_end(i)
                parts.append(t[i + 1 : end - 1])
                i = end
            else:
                match = _BARE.match(t, i)
                if not match:
                    raise ValueError(f"no key at offset {i}")
                parts.append(match.group())
                i = match.end()
            j = self._skip(i, newlines=False)
            if j < len(t) and t[j] == ".":
                i = j + 1
                continue
            return tuple(parts), i

    def _keyval(self, i: int, table: PathKey) -> int:
        start = i
        parts, i = self._key(i)
        i = self._skip(i, newlines=False)
        if self.text[i] != "=":
            raise ValueError(f"no '=' at offset {i}")
        i = self._skip(i + 1, newlines=False)
        line, key_col = self._lc(start)
        self._record((*table, *parts), line, key_col, self._lc(i)[1])
        return self._value(i, (*table, *parts))

    def _value(self, i: int, path: PathKey) -> int:
        t = self.text
        if t[i] == "[":
            i, index = i + 1, 0
            while True:
                i = self._skip(i, newlines=True)
                if t[i] == "]":
                    return i + 1
                line, col = self._lc(i)
                self._record((*path, index), line, col, col)
                i = self._progress(i, self._value(i, (*path, index)))
                index += 1
                i = self._skip(i, newlines=True)
                if t[i] == ",":
                    i += 1
        if t[i] == "{":
            i += 1
            while True:
                i = self._skip(i, newlines=True)
                if t[i] == "}":
                    return i + 1
                i = self._progress(i, self._keyval(i, path))
                i = self._skip(i, newlines=True)
                if t[i] == ",":
                    i += 1
        if t[i] in "\"'":
            return self._string_end(i)
        match = _SCALAR_END.search(t, i)
        return match.start() if match else len(t)

    @staticmethod
    def _progress(before: int, after: int) -> int:
        if after <= before:
            raise ValueError(f"stuck at offset {before}")
        return after

    def _string_end(self, i: int) -> int:
        match = _STRING.match(self.text, i)
        if match is None:
            raise ValueError(f"no string at offset {i}")
        return match.end()
