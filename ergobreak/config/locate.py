"""Find where a dotted key sits in TOML source, for error messages.

``tomllib`` gives values, not positions. A line scanner that follows table
headers and (dotted) keys covers how people write config files; inline tables
are searched by key name within their line.
"""

from __future__ import annotations

import re
from typing import Protocol

_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(
    r"""^(\s*)((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)
_INLINE_KEY = re.compile(r"""([{,]\s*)([A-Za-z0-9_-]+)\s*=""")


def _split(dotted: str) -> list[str]:
    parts = re.findall(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""", dotted)
    return [p[1:-1] if p[:1] in "\"'" else p for p in parts]


class Positions(Protocol):
    """What diagnostics need from a locator: key and value positions, source lines."""

    def key(self, dotted: str) -> tuple[int, int] | None: ...

    def value(self, dotted: str) -> tuple[int, int] | None: ...

    def source(self, line: int | None) -> str | None: ...


class Locator:
    """Map dotted keys to 1-based ``(line, col)`` of the key and of its value."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.keys: dict[str, tuple[int, int, int]] = {}
        self.tables: dict[str, int] = {}
        table: list[str] = []
        in_multiline = False
        for n, line in enumerate(self.lines, start=1):
            if in_multiline:
                if line.count('"""') % 2 == 1 or line.count("'''") % 2 == 1:
                    in_multiline = False
                continue
            header = _HEADER.match(line)
            if header:
                table = _split(header.group(1))
                self.tables.setdefault(".".join(table), n)
                continue
            key = _KEY.match(line)
            if not key:
                continue
            path = table + _split(key.group(2))
            dotted = ".".join(path)
            value_col = key.end() + 1
            while value_col <= len(line) and line[value_col - 1] == " ":
                value_col += 1
            self.keys.setdefault(dotted, (n, len(key.group(1)) + 1, value_col))
            rest = line[key.end() :]
            if rest.count('"""') % 2 == 1 or rest.count("'''") % 2 == 1:
                in_multiline = True
            if "{" in rest:
                for inner in _INLINE_KEY.finditer(line, key.end()):
                    self.keys.setdefault(
                        f"{dotted}.{inner.group(2)}", (n, inner.start(2) + 1, inner.end() + 2)
                    )

    def key(self, dotted: str) -> tuple[int, int] | None:
        """Position of the key itself, or of its table header for a table; a key
        the scanner did not find (e.g. deep in nested inline tables) falls back to
        its nearest located ancestor, so a diagnostic always has a line."""
        hit = self.keys.get(dotted)
        if hit:
            return hit[0], hit[1]
        if dotted in self.tables:
            return self.tables[dotted], 1
        # A table only implied by a deeper header ([a.b] defines a): its first use.
        inner = [n for name, n in self.tables.items() if name.startswith(dotted + ".")]
        inner += [hit[0] for name, hit in self.keys.items() if name.startswith(dotted + ".")]
        if inner:
            return min(inner), 1
        parent = dotted.rpartition(".")[0]
        return self.key(parent) if parent else None

    def value(self, dotted: str) -> tuple[int, int] | None:
        hit = self.keys.get(dotted)
        if hit:
            return hit[0], hit[2]
        return self.key(dotted)

    def source(self, line: int | None) -> str | None:
        if line is None or not 1 <= line <= len(self.lines):
            return None
        return self.lines[line - 1]
