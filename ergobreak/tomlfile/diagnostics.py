"""Problems that explain themselves: ``path:line:col: error: key: message``.

Paths under the home directory are shown with ``~``; :meth:`Diagnostic.brief`
is the one-line form for a notification or a status line, the problem first.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from ergobreak.tomlfile.positions import Positions, Where
from ergobreak.tomlfile.wording import short_path

Severity = Literal["error", "warning"]

log = logging.getLogger(__name__)
#: the most of a source line shown under a diagnostic (a line may be 64 KB)
EXCERPT = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class Diagnostic:
    path: str
    line: int | None
    col: int | None
    severity: Severity
    key: str | None
    message: str
    #: the offending source line, shown with a caret under ``col``
    source: str | None = None
    hint: str | None = None

    @classmethod
    def at(
        cls,
        path: str,
        positions: Positions | None,
        where: Where | None,
        message: str,
        *,
        key: str | None = None,
        severity: Severity = "error",
        hint: str | None = None,
        at_key: bool = False,
    ) -> Diagnostic:
        """A problem at ``where`` in the text ``positions`` scanned: a dotted key
        or a path, at its value (``at_key``: at the key). ``key`` is what the
        message names, by default ``where`` when that is a dotted key. Without
        ``positions`` or ``where`` (or when the text does not have it), no line."""
        found = positions.find(where, at_key=at_key) if positions and where is not None else None
        line, col = found if found else (None, None)
        return cls(
            path=path,
            line=line,
            col=col,
            severity=severity,
            key=key if key is not None or not isinstance(where, str) else where,
            message=message,
            source=positions.source(line) if positions else None,
            hint=hint,
        )

    @classmethod
    def plain(
        cls,
        path: str,
        message: str,
        *,
        key: str | None = None,
        severity: Severity = "error",
        hint: str | None = None,
    ) -> Diagnostic:
        """A problem with no position (the command line, a whole file)."""
        return cls(
            path=path, line=None, col=None, severity=severity, key=key, message=message, hint=hint
        )

    @classmethod
    def failed(cls, path: str, exc: Exception) -> Diagnostic:
        """A bug in ergobreak met while checking ``path``, as the file's error, so the
        caller goes on as for any broken file. The traceback goes to the log (INFO:
        a command line shows no log, the daemon's log file keeps it)."""
        log.info("checking %s failed", path, exc_info=exc)
        return cls.plain(
            path,
            f"ergobreak failed while checking this file ({type(exc).__name__}: {exc})",
            hint="this is a bug in ergobreak; please report it, with the file",
        )

    def location(self) -> str:
        """``~/.config/ergobreak/config.toml:39:9`` (the home directory as ``~``)."""
        if self.line is None:
            return short_path(self.path)
        return f"{short_path(self.path)}:{self.line}:{self.col or 1}"

    def brief(self) -> str:
        """One line, the problem first, then the fix and where: ``drill.evrey:
        unknown key (ignored); did you mean drill.every? (~/.config/ergobreak/config.toml:39)``.
        For a notification bubble or a status line, where the start is what is read."""
        key = f"{self.key}: " if self.key else ""
        hint = f"; {self.hint}" if self.hint else ""
        where = short_path(self.path) + (f":{self.line}" if self.line is not None else "")
        return f"{key}{self.message}{hint} ({where})"

    def headline(self) -> str:
        key = f"{self.key}: " if self.key else ""
        return f"{self.location()}: {self.severity}: {key}{self.message}"

    def format(self) -> str:
        lines = [self.headline()]
        if self.source is not None and self.line is not None:
            gutter = f"{self.line:>4} | "
            excerpt, caret = _excerpt(self.source.rstrip("\n"), max(0, (self.col or 1) - 1))
            lines.append(gutter + excerpt)
            lines.append(" " * (len(gutter) + caret) + "^")
        if self.hint:
            lines.append(f"     = {self.hint}")
        return "\n".join(lines)

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "col": self.col,
            "severity": self.severity,
            "key": self.key,
            "message": self.message,
            "hint": self.hint,
        }


class ConfigError(Exception):
    """One or more errors (and maybe warnings) found while loading settings."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        errors = [d for d in diagnostics if d.severity == "error"]
        super().__init__("\n".join(d.headline() for d in errors or diagnostics))


def _excerpt(source: str, caret: int) -> tuple[str, int]:
    """At most :data:`EXCERPT` characters of ``source`` around ``caret``, with ``…``
    where it is cut, and where the caret falls in what is shown."""
    if len(source) <= EXCERPT:
        return source, caret
    start = max(0, min(caret - EXCERPT // 2, len(source) - EXCERPT))
    head = "…" if start else ""
    tail = "…" if start + EXCERPT < len(source) else ""
    return head + source[start : start + EXCERPT] + tail, caret - start + len(head)
