"""Read a user config file into validated settings, reporting every problem at once.

This is the single-file loader; layering with IT policy builds on :func:`check_table`.
Loading never writes anything.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ergobreak.config.kinds import ValueProblem
from ergobreak.config.origin import Layer, Origin
from ergobreak.config.schema import (
    KEY_BY_NAME,
    META_KEYS,
    TABLES,
    cross_check,
    defaults,
    suspicions,
    to_settings,
)
from ergobreak.core.settings import Settings
from ergobreak.tomlfile import (
    ConfigError,
    Diagnostic,
    Hints,
    Positions,
    Severity,
    found,
    near,
    parse_toml,
    read_text,
)
from ergobreak.tomlfile.wording import short_path

SCHEMA_VERSION = 1
#: the largest settings file (``config.toml``, a policy file) read: 17 times the
#: commented template with every key, and parsed and checked in milliseconds
MAX_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Loaded:
    settings: Settings
    values: dict[str, Any]
    diagnostics: list[Diagnostic]


def missing_user_file(path: Path, *, named_by: str | None) -> str | None:
    """Why the user's file ``path`` cannot be used as the settings, or ``None``.

    A missing file at the default path means the built-in defaults. A file named
    on purpose (``named_by``: ``"--config"`` or ``"$ERGOBREAK_CONFIG"``) that does
    not exist is a mistake, and so is a symbolic link to nothing, wherever it is.
    """
    if path.is_symlink() and not path.exists():
        return (
            f"{short_path(path)} is a symbolic link to {short_path(os.readlink(path))},"
            " which does not exist"
        )
    if named_by is None or path.exists():
        return None
    init = "ergobreak config init" + (
        f" --config {short_path(path)}" if named_by == "--config" else ""
    )
    return f"{named_by} names {short_path(path)}, which does not exist (to start one: {init})"


def write_target(path: Path) -> Path:
    """The file an edit of ``path`` replaces: through symbolic links to the file
    they point at (a dotfile manager's link stays a link), else ``path``."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"drill": {"every": "30m"}}`` -> ``{"drill.every": "30m"}``; known leaves stay whole.

    Depth first, in the file's order, with a stack instead of recursion: each
    value is visited once, however deep the tables go.
    """
    flat: dict[str, Any] = {}
    stack = [(prefix, iter(table.items()))]
    while stack:
        outer, items = stack[-1]
        for key, value in items:
            dotted = f"{outer}{key}"
            if isinstance(value, dict) and value and dotted not in KEY_BY_NAME:
                stack.append((dotted + ".", iter(value.items())))
                break
            flat[dotted] = value
        else:
            stack.pop()
    return flat


def suggest(name: str, hints: Hints | None = None) -> str | None:
    """A close known key for a misspelt one (never ``name`` itself); with ``hints``,
    only while the file has hints left."""
    candidates = [k for k in (*KEY_BY_NAME, *sorted(TABLES)) if k != name]
    leaf = name.rsplit(".", 1)[-1]
    leaf_matches = [k for k in KEY_BY_NAME if k.rsplit(".", 1)[-1] == leaf and k != name]
    if len(leaf_matches) == 1:
        return leaf_matches[0]
    return (hints.near if hints else near)(name, candidates, cutoff=0.75)


def suggest_table(name: str, hints: Hints | None = None) -> str | None:
    """A close known table for a misspelt one."""
    return (hints.near if hints else near)(name, sorted(TABLES - {name}))


def schema_problem(raw: object) -> tuple[str, str | None] | None:
    """``(message, hint)`` when a file's ``schema = ...`` is not this version's."""
    if type(raw) is int and raw == SCHEMA_VERSION:
        return None
    hint = "this file is for another version of ergobreak" if type(raw) is int else None
    return f"expected schema = {SCHEMA_VERSION}, got {found(raw)}", hint


def check_table(
    data: dict[str, Any],
    path: str,
    positions: Positions,
    *,
    allow_meta: bool = True,
    prefix: str = "",
    hints: Hints | None = None,
) -> tuple[dict[str, Any], list[Diagnostic]]:
    """Validate one settings table; return parsed values for good keys and diagnostics.

    Unknown keys and tables are warnings (files can be shared across versions);
    a known table written as something else (``drill = 5``) is an error.
    ``prefix`` names where the table sits in the file (``"enforced."`` in a
    policy): diagnostics use it, the returned keys do not. ``hints``: the file's
    "did you mean" budget, when it has more than this table.
    """
    hints = hints or Hints()
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
        diags.append(
            Diagnostic.at(
                path,
                positions,
                prefix + key,
                message,
                severity=severity,
                hint=hint,
                at_key=not at_value,
            )
        )

    def unknown(key: str, raw: object) -> None:
        if isinstance(raw, dict):
            near = suggest_table(key, hints) if "." not in key else None
            diag(
                key,
                "warning",
                "unknown table (ignored)",
                at_value=False,
                hint=f"did you mean [{prefix}{near}]?" if near else None,
            )
        else:
            near = suggest(key, hints)
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


def cross_diagnostics(
    values: dict[str, Any], path: str, positions: Positions, written: set[str]
) -> list[Diagnostic]:
    """Errors for broken relations between keys, at the key written in the file."""
    return [
        Diagnostic.at(path, positions, key if key in written else None, message, key=key)
        for key, message in cross_check(values, blame=written.__contains__)
    ]


def suspicion_diagnostics(
    values: Mapping[str, Any],
    origins: Mapping[str, Origin],
    positions: Mapping[str, Positions | None],
    *,
    tables: Mapping[Layer, str] | None = None,
    rotation: Sequence[str] | None = None,
    library: Collection[str] | None = None,
) -> list[Diagnostic]:
    """Warnings for valid values that can hardly be meant
    (:func:`~ergobreak.config.schema.suspicions`), each at the first key concerned
    that someone wrote: the user's file or the command line before a policy entry
    (``tables``: the policy table of each policy layer, ``"enforced"`` for the
    enforced layer; ``rotation`` and ``library``: the drill ids chosen and all of
    them). Built-in defaults alone never warn."""
    tables = tables or {}
    found: list[Diagnostic] = []
    for at, hint in suspicions(values, rotation=rotation, library=library):
        written = [(k, m) for k, m in at if origins[k].layer != "default"]
        mine = [(k, m) for k, m in written if origins[k].layer in ("user", "command line")]
        if not written:
            continue
        key, message = (mine or written)[0]
        origin = origins[key]
        table = tables.get(origin.layer)
        if origin.path is None or (origin.layer != "user" and table is None):
            found.append(
                Diagnostic.plain(
                    origin.path or origin.layer, message, key=key, severity="warning", hint=hint
                )
            )
            continue
        where = f"{table}.{key}" if table else key
        found.append(
            Diagnostic.at(
                origin.path,
                positions.get(origin.path),
                where,
                message,
                severity="warning",
                hint=hint,
                at_key=table == "limits",
            )
        )
    return found


def check_text(text: str, path: str) -> tuple[dict[str, Any], list[Diagnostic]]:
    """A user file's text on its own (no policy, no content): the built-in
    defaults overlaid with its good values, and every diagnostic."""
    values = defaults()
    data, diags = parse_toml(text, path, max_bytes=MAX_BYTES)
    if data is None:
        return values, diags
    try:
        positions = Positions(text)
        good, diags = check_table(data, path, positions)
        checked = {**values, **good}
        diags += cross_diagnostics(checked, path, positions, set(good))
        if not any(d.severity == "error" for d in diags):
            origins = {k: Origin("user", path) if k in good else Origin("default") for k in checked}
            diags += suspicion_diagnostics(checked, origins, {path: positions})
        return checked, diags
    except Exception as exc:  # a bug: an error in the file like any other, never a traceback
        return values, [Diagnostic.failed(path, exc)]


def load_file(path: Path | None) -> Loaded:
    """Defaults overlaid with one user file (``None``: defaults only).

    Raises:
        ConfigError: with every diagnostic, when any of them is an error.
    """
    values = defaults()
    diags: list[Diagnostic] = []
    if path is not None:
        text, diags = read_text(path, max_bytes=MAX_BYTES)
        if text is not None:
            values, diags = check_text(text, str(path))
    if any(d.severity == "error" for d in diags):
        raise ConfigError(diags)
    return Loaded(settings=to_settings(values), values=values, diagnostics=diags)
