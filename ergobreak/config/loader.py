"""Read a user config file into validated settings, reporting every problem at once.

This is the single-file loader; layering with IT policy builds on :func:`check_table`.
Loading never writes anything.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ergobreak.config.diagnostics import ConfigError, Diagnostic, Severity
from ergobreak.config.locate import Locator, Positions
from ergobreak.config.schema import (
    KEY_BY_NAME,
    META_KEYS,
    TABLES,
    ValueProblem,
    cross_check,
    defaults,
    found,
    to_settings,
)
from ergobreak.core.settings import Settings
from ergobreak.toml import tomllib

_AT = re.compile(r"\(at line (\d+), column (\d+)\)")
_TUPLE = re.compile(r"\((?:'[^']*',\s*)+(?:'[^']*')?\)")
_PART = re.compile(r"'([^']*)'")
#: tomllib's words for a value it cannot read, typically an unquoted ``30m`` or ``yes``
_UNQUOTED = frozenset({"invalid value", "expected newline or end of document after a statement"})
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
    """A close known key for a misspelt one (never ``name`` itself)."""
    candidates = [k for k in (*KEY_BY_NAME, *sorted(TABLES)) if k != name]
    leaf = name.rsplit(".", 1)[-1]
    leaf_matches = [k for k in KEY_BY_NAME if k.rsplit(".", 1)[-1] == leaf and k != name]
    if len(leaf_matches) == 1:
        return leaf_matches[0]
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.75)
    return close[0] if close else None


def suggest_table(name: str) -> str | None:
    """A close known table for a misspelt one."""
    close = difflib.get_close_matches(name, sorted(TABLES - {name}), n=1, cutoff=0.6)
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
        # tomllib names tables as Python tuples: ('drill', 'sub') -> [drill.sub]
        message = _TUPLE.sub(lambda m: "[" + ".".join(_PART.findall(m.group(0))) + "]", message)
        lines = text.splitlines()
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
    except UnicodeDecodeError as exc:  # pragma: no cover - loads() takes str
        return None, [Diagnostic.plain(path, str(exc))]


def schema_problem(raw: object) -> tuple[str, str | None] | None:
    """``(message, hint)`` when a file's ``schema = ...`` is not this version's."""
    if type(raw) is int and raw == SCHEMA_VERSION:
        return None
    hint = "this file is for another version of ergobreak" if type(raw) is int else None
    return f"expected schema = {SCHEMA_VERSION}, got {found(raw)}", hint


def check_table(
    data: dict[str, Any],
    path: str,
    locator: Positions,
    *,
    allow_meta: bool = True,
    prefix: str = "",
) -> tuple[dict[str, Any], list[Diagnostic]]:
    """Validate one settings table; return parsed values for good keys and diagnostics.

    Unknown keys and tables are warnings (files can be shared across versions);
    a known table written as something else (``drill = 5``) is an error.
    ``prefix`` names where the table sits in the file (``"enforced."`` in a
    policy): diagnostics use it, the returned keys do not.
    """
    good: dict[str, Any] = {}
    diags: list[Diagnostic] = []

    def diag(
        key: str,
        severity: Severity,
        message: str,
        *,
        at_value: bool,
        hint: str | None = None,
    ) -> None:
        pos = locator.value(prefix + key) if at_value else locator.key(prefix + key)
        line, col = pos if pos else (None, None)
        diags.append(
            Diagnostic(
                path=path,
                line=line,
                col=col,
                severity=severity,
                key=prefix + key,
                message=message,
                source=locator.source(line),
                hint=hint,
            )
        )

    def unknown(key: str, raw: object) -> None:
        if isinstance(raw, dict):
            near = suggest_table(key) if "." not in key else None
            diag(
                key,
                "warning",
                "unknown table (ignored)",
                at_value=False,
                hint=f"did you mean [{prefix}{near}]?" if near else None,
            )
        else:
            near = suggest(key)
            diag(
                key,
                "warning",
                "unknown key (ignored)",
                at_value=False,
                hint=f"did you mean {prefix}{near}?" if near else None,
            )

    for top, section in data.items():
        if allow_meta and top in META_KEYS:
            problem = schema_problem(section) if top == "schema" else None
            if problem is not None:
                diag(top, "error", problem[0], at_value=True, hint=problem[1])
            continue
        if top not in TABLES:
            unknown(top, section)
            continue
        if not isinstance(section, dict):
            diag(
                top,
                "error",
                f"expected a table of settings ([{top}]), got {found(section)}",
                at_value=True,
            )
            continue
        for key, raw in flatten(section, top + ".").items():
            spec = KEY_BY_NAME.get(key)
            if spec is None:
                unknown(key, raw)
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


def cross_diagnostics(
    values: dict[str, Any], path: str, locator: Positions, written: set[str]
) -> list[Diagnostic]:
    """Errors for broken relations between keys, at the key written in the file."""
    diags = []
    for key, message in cross_check(values, blame=written.__contains__):
        pos = locator.value(key) if key in written else None
        line, col = pos if pos else (None, None)
        diags.append(
            Diagnostic(
                path=path,
                line=line,
                col=col,
                severity="error",
                key=key,
                message=message,
                source=locator.source(line),
            )
        )
    return diags


def _file_diag(path: Path, message: str) -> Diagnostic:
    return Diagnostic.plain(str(path), message)


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
                locator = Locator(text)
                good, diags = check_table(data, str(path), locator)
                values.update(good)
                diags += cross_diagnostics(values, str(path), locator, set(good))
    if any(d.severity == "error" for d in diags):
        raise ConfigError(diags)
    return Loaded(settings=to_settings(values), values=values, diagnostics=diags)
