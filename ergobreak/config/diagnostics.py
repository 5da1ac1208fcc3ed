"""Config problems that explain themselves: ``path:line:col: error: key: message``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


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

    def location(self) -> str:
        if self.line is None:
            return self.path
        return f"{self.path}:{self.line}:{self.col or 1}"

    def headline(self) -> str:
        key = f"{self.key}: " if self.key else ""
        return f"{self.location()}: {self.severity}: {key}{self.message}"

    def format(self) -> str:
        lines = [self.headline()]
        if self.source is not None and self.line is not None:
            gutter = f"{self.line:>4} | "
            lines.append(gutter + self.source.rstrip("\n"))
            lines.append(" " * (len(gutter) + max(0, (self.col or 1) - 1)) + "^")
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
    """One or more errors (and maybe warnings) found while loading config."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        errors = [d for d in diagnostics if d.severity == "error"]
        super().__init__("\n".join(d.headline() for d in errors or diagnostics))
