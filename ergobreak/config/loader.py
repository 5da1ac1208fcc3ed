"""Read a user config file into validated settings, reporting every problem at once.

This is the single-file loader; layering with IT policy builds on :func:`check_table`.
Loading never writes anything.
"""

from __future__ import annotations

import difflib
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ergobreak.config.diagnostics import ConfigError, Diagnostic
from ergobreak.config.locate import Locator, Positions
from ergobreak.config.schema import (
    KEY_BY_NAME,
    META_KEYS,
    TABLES,
    ValueProblem,
    cross_check,
    defaults,
    to_settings,
)
from ergobreak.core.settings import Settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

_AT = re.compile(r"\(at line (\d+), column (\d+)\)")
SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class Loaded:
    settings: Settings
    values: dict[str, Any]
    diagnostics: list[Diagnostic]


def flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"drill": {"every": "30m"}}`` -> ``{"drill.every": "30m"}``; known leaves stay whole."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and dotted not in KEY_BY_NAME:
            if not value:
                flat[dotted] = value
            flat.update(flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def suggest(name: str) -> str | None:
    """A close known key for a misspelt one."""
    candidates = list(KEY_BY_NAME) + sorted(TABLES)
    leaf_matches = [k for k in KEY_BY_NAME if k.rsplit(".", 1)[-1] == name.rsplit(".", 1)[-1]]
    if len(leaf_matches) == 1 and leaf_matches[0] != name:
        return leaf_matches[0]
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.75)
    return close[0] if close else None


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
        lines = text.splitlines()
        source = lines[line - 1] if line is not None and 1 <= line <= len(lines) else None
        return None, [
            Diagnostic(
                path=path,
                line=line,
                col=col,
                severity="error",
                key=None,
                message=f"invalid TOML: {message[0].lower() + message[1:] if message else message}",
                source=source,
            )
        ]
    except UnicodeDecodeError as exc:  # pragma: no cover - loads() takes str
        return None, [
            Diagnostic(path=path, line=None, col=None, severity="error", key=None, message=str(exc))
        ]


def check_table(
    data: dict[str, Any], path: str, locator: Positions, *, allow_meta: bool = True
) -> tuple[dict[str, Any], list[Diagnostic]]:
    """Validate one settings table; return parsed values for good keys and diagnostics."""
    good: dict[str, Any] = {}
    diags: list[Diagnostic] = []

    def diag(
        key: str, severity: str, message: str, *, at_value: bool, hint: str | None = None
    ) -> None:
        pos = locator.value(key) if at_value else locator.key(key)
        line, col = pos if pos else (None, None)
        diags.append(
            Diagnostic(
                path=path,
                line=line,
                col=col,
                severity="error" if severity == "error" else "warning",
                key=key,
                message=message,
                source=locator.source(line),
                hint=hint,
            )
        )

    for key, raw in flatten(data).items():
        if allow_meta and key in META_KEYS:
            if key == "schema" and raw != SCHEMA_VERSION:
                diag(
                    key, "error", f"expected schema = {SCHEMA_VERSION}, got {raw!r}", at_value=True
                )
            continue
        spec = KEY_BY_NAME.get(key)
        if spec is None:
            if isinstance(raw, dict) and not raw:
                continue
            near = suggest(key)
            diag(
                key,
                "warning",
                "unknown key (ignored)",
                at_value=False,
                hint=f"did you mean {near}?" if near else None,
            )
            continue
        try:
            good[key] = spec.parse(raw)
        except ValueProblem as exc:
            diag(key, "error", str(exc), at_value=True)
    return good, diags


def read_text(path: Path) -> tuple[str | None, list[Diagnostic]]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, [_file_diag(path, "file not found")]
    except OSError as exc:
        return None, [_file_diag(path, f"cannot read: {exc.strerror or exc}")]
    try:
        return raw.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [
            Diagnostic(
                path=str(path),
                line=line,
                col=None,
                severity="error",
                key=None,
                message="invalid TOML: the file is not UTF-8 text",
            )
        ]


def _file_diag(path: Path, message: str) -> Diagnostic:
    return Diagnostic(
        path=str(path), line=None, col=None, severity="error", key=None, message=message
    )


def load_file(path: Path | None) -> Loaded:
    """Defaults overlaid with one user file (``None``: defaults only).

    Raises:
        ConfigError: with every diagnostic, when any of them is an error.
    """
    values = defaults()
    diags: list[Diagnostic] = []
    if path is not None:
        text, diags = read_text(path)
        if text is not None:
            data, diags = parse_toml(text, str(path))
            if data is not None:
                good, diags = check_table(data, str(path), Locator(text))
                values.update(good)
                locator = Locator(text)
                for key, message in cross_check(values):
                    pos = locator.value(key)
                    line, col = pos if pos else (None, None)
                    diags.append(
                        Diagnostic(
                            path=str(path),
                            line=line,
                            col=col,
                            severity="error",
                            key=key,
                            message=message,
                            source=locator.source(line),
                        )
                    )
    if any(d.severity == "error" for d in diags):
        raise ConfigError(diags)
    return Loaded(settings=to_settings(values), values=values, diagnostics=diags)
