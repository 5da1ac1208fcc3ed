"""Layered configuration: built-in defaults < policy [defaults] < user file < command
line < policy [enforced], then policy [limits] clamp the result.

:func:`load` is the one entry point for everything that needs settings (the
daemon's start and reload, ``config show``, ``config check``). It reads, never
writes, and reports every problem at once:

* errors in the user file or on the command line raise :class:`ConfigError`
  (a running daemon keeps its last good settings);
* a bad policy entry is an error diagnostic that disables only that entry; the
  rest of the policy still applies (IT sees it with ``config check --policy``);
* unknown keys anywhere are warnings, so files can be shared across versions.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ergobreak.config.diagnostics import ConfigError, Diagnostic
from ergobreak.config.loader import SCHEMA_VERSION, check_table, flatten, parse_toml, read_text
from ergobreak.config.locate import Locator
from ergobreak.config.schema import KEY_BY_NAME, Key, ValueProblem, cross_check, defaults
from ergobreak.config.schema import to_settings as _to_settings
from ergobreak.core.content import Content
from ergobreak.core.duration import format_duration
from ergobreak.core.hours import format_hours
from ergobreak.core.settings import WEEKDAYS, Settings
from ergobreak.paths import paths

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

Layer = Literal["default", "policy default", "user", "command line", "enforced", "limit"]
POLICY_TABLES = ("defaults", "enforced", "limits")
POLICY_TOP = frozenset({"schema", "meta", *POLICY_TABLES})
LIMIT_KINDS = frozenset({"duration", "int"})


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a value came from: its layer and, for files, ``path:line``."""

    layer: Layer
    path: str | None = None
    line: int | None = None

    def where(self) -> str:
        if self.path is None:
            return self.layer
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass(frozen=True, slots=True)
class Limit:
    min: float | None
    max: float | None
    origin: Origin


@dataclass(frozen=True, slots=True)
class Clamped:
    """A value moved into a policy range (``wanted`` came from ``origin``)."""

    key: str
    wanted: Any
    value: Any
    origin: Origin
    limit: Limit


@dataclass(frozen=True, slots=True)
class Ignored:
    """A user or command-line value that a policy lock overrides."""

    key: str
    value: Any
    origin: Origin
    locked_by: Origin


@dataclass(frozen=True, slots=True, kw_only=True)
class Effective:
    """The settings in force, and why each value is what it is."""

    settings: Settings
    content: Content | None
    values: dict[str, Any]
    origins: dict[str, Origin]
    locked: dict[str, Origin]
    limits: dict[str, Limit]
    clamped: tuple[Clamped, ...]
    ignored: tuple[Ignored, ...]
    diagnostics: tuple[Diagnostic, ...]
    user_file: Path | None
    policy_files: tuple[Path, ...]
    organization: str | None = None
    contact: str | None = None

    @property
    def managed(self) -> bool:
        """A policy file applies (the tray says "Managed by your organization")."""
        return bool(self.policy_files)

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "error")

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "warning")


# ----------------------------------------------------------------- policy files


def discover_policy_files(
    policy_file: Path | None = None, policy_d: Path | None = None
) -> list[Path]:
    """``policy.toml`` then ``policy.d/*.toml`` in lexical order (later files win)."""
    p = paths()
    main = policy_file or p.policy_file
    folder = policy_d or p.policy_d
    found = [main] if main.is_file() else []
    with contextlib.suppress(OSError):
        found += sorted(f for f in folder.glob("*.toml") if f.is_file())
    return found


def _unsafe_reason(path: Path) -> str | None:
    """Why a policy file cannot be trusted (POSIX: must be root-owned, not group/other
    writable, in a directory that is not group/other writable either)."""
    if os.name != "posix":
        return None
    try:
        for item in (path, path.parent):
            info = item.stat()
            if info.st_uid != 0:
                return f"{item} is owned by uid {info.st_uid}, not root"
            if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                return f"{item} is writable by group or others (mode {stat.filemode(info.st_mode)})"
    except OSError as exc:
        return f"cannot check {path}: {exc.strerror or exc}"
    return None


@dataclass
class _PolicyParts:
    defaults: dict[str, tuple[Any, Origin]] = field(default_factory=dict)
    enforced: dict[str, tuple[Any, Origin]] = field(default_factory=dict)
    limits: dict[str, Limit] = field(default_factory=dict)
    organization: str | None = None
    contact: str | None = None
    applied: list[Path] = field(default_factory=list)


def _diag(
    path: str,
    locator: Locator | None,
    key: str | None,
    message: str,
    *,
    severity: Literal["error", "warning"] = "error",
    hint: str | None = None,
    at_key: bool = False,
) -> Diagnostic:
    pos = None
    if locator is not None and key is not None:
        pos = locator.key(key) if at_key else locator.value(key)
    line, col = pos if pos else (None, None)
    return Diagnostic(
        path=path,
        line=line,
        col=col,
        severity=severity,
        key=key,
        message=message,
        source=locator.source(line) if locator else None,
        hint=hint,
    )


def _read_policy(
    files: Sequence[Path], diags: list[Diagnostic], *, check_owner: bool
) -> _PolicyParts:
    parts = _PolicyParts()
    for path in files:
        name = str(path)
        if check_owner:
            reason = _unsafe_reason(path)
            if reason is not None:
                diags.append(
                    _diag(
                        name,
                        None,
                        None,
                        f"policy file refused: {reason}",
                        hint="install policy files as root:root, mode 0644",
                    )
                )
                continue
        text, problems = read_text(path)
        diags.extend(problems)
        if text is None:
            continue
        data, problems = parse_toml(text, name)
        diags.extend(problems)
        if data is None:
            continue
        locator = Locator(text)
        parts.applied.append(path)
        for top in data:
            if top not in POLICY_TOP:
                diags.append(
                    _diag(
                        name,
                        locator,
                        top,
                        "unknown policy table (ignored)",
                        severity="warning",
                        at_key=True,
                        hint="a policy has schema, [meta], [defaults], [enforced] and [limits]",
                    )
                )
        if data.get("schema", SCHEMA_VERSION) != SCHEMA_VERSION:
            diags.append(
                _diag(
                    name,
                    locator,
                    "schema",
                    f"expected schema = {SCHEMA_VERSION}, got {data['schema']!r}",
                )
            )
        meta = data.get("meta", {})
        if isinstance(meta, dict):
            if isinstance(meta.get("organization"), str):
                parts.organization = meta["organization"]
            if isinstance(meta.get("contact"), str):
                parts.contact = meta["contact"]
        for table in ("defaults", "enforced"):
            section = data.get(table, {})
            if not isinstance(section, dict):
                diags.append(_diag(name, locator, table, f"[{table}] must be a table", at_key=True))
                continue
            prefixed = _Prefixed(locator, table)
            good, problems = check_table(section, name, prefixed, allow_meta=False)
            diags.extend(_prefix(problems, table))
            target = parts.defaults if table == "defaults" else parts.enforced
            layer: Layer = "enforced" if table == "enforced" else "policy default"
            for key, value in good.items():
                pos = locator.key(f"{table}.{key}")
                target[key] = (value, Origin(layer, name, pos[0] if pos else None))
        section = data.get("limits", {})
        if isinstance(section, dict):
            _read_limits(section, name, locator, parts, diags)
        else:
            diags.append(_diag(name, locator, "limits", "[limits] must be a table", at_key=True))
    return parts


class _Prefixed:
    """A Locator view for keys inside a policy table (``defaults.drill.every``)."""

    def __init__(self, locator: Locator, table: str) -> None:
        self._locator = locator
        self._table = table

    def key(self, dotted: str) -> tuple[int, int] | None:
        return self._locator.key(f"{self._table}.{dotted}")

    def value(self, dotted: str) -> tuple[int, int] | None:
        return self._locator.value(f"{self._table}.{dotted}")

    def source(self, line: int | None) -> str | None:
        return self._locator.source(line)


def _prefix(diags: Iterable[Diagnostic], table: str) -> list[Diagnostic]:
    from dataclasses import replace  # noqa: PLC0415

    return [replace(d, key=f"{table}.{d.key}" if d.key else None) for d in diags]


def _read_limits(
    section: dict[str, Any],
    name: str,
    locator: Locator,
    parts: _PolicyParts,
    diags: list[Diagnostic],
) -> None:
    for key, raw in flatten(section).items():
        dotted = f"limits.{key}"
        spec = KEY_BY_NAME.get(key)
        if spec is None:
            diags.append(
                _diag(
                    name, locator, dotted, "unknown key (ignored)", severity="warning", at_key=True
                )
            )
            continue
        if spec.kind not in LIMIT_KINDS:
            diags.append(
                _diag(
                    name,
                    locator,
                    dotted,
                    f"limits apply to durations and numbers; {key} is {spec.expected}",
                    hint="to fix its value, put it in [enforced] instead",
                )
            )
            continue
        if not isinstance(raw, dict) or not raw or set(raw) - {"min", "max"}:
            diags.append(
                _diag(
                    name,
                    locator,
                    dotted,
                    f"expected {{ min = ..., max = ... }} (either or both), got {raw!r}",
                )
            )
            continue
        bounds: dict[str, float | None] = {"min": None, "max": None}
        ok = True
        for bound in ("min", "max"):
            if bound in raw:
                try:
                    bounds[bound] = float(_parse_unbounded(spec, raw[bound]))
                except ValueProblem as exc:
                    diags.append(_diag(name, locator, f"{dotted}.{bound}", str(exc)))
                    ok = False
        low, high = bounds["min"], bounds["max"]
        if ok and low is not None and high is not None and low > high:
            diags.append(
                _diag(
                    name,
                    locator,
                    dotted,
                    f"min ({_show(spec, low)}) is above max ({_show(spec, high)})",
                )
            )
            ok = False
        if ok:
            pos = locator.key(dotted)
            parts.limits[key] = Limit(low, high, Origin("limit", name, pos[0] if pos else None))


def _parse_unbounded(spec: Key, raw: object) -> Any:
    """Parse a limit bound with the key's type but without the key's own range."""
    from ergobreak.config.schema import _PARSERS  # noqa: PLC0415

    return _PARSERS[spec.kind](raw)


# -------------------------------------------------------------- value display


def _show(spec: Key | str, value: Any) -> str:
    """A value for prose ("at most 1h", "at most 3")."""
    key = KEY_BY_NAME[spec] if isinstance(spec, str) else spec
    shown = to_toml(key.name, value)
    return shown if isinstance(shown, str) else format_toml(shown)


def to_toml(key: str, value: Any) -> Any:
    """A parsed value back in the form people write in TOML."""
    kind = KEY_BY_NAME[key].kind
    if kind == "duration":
        return format_duration(value)
    if kind == "days":
        return [WEEKDAYS[d] for d in sorted(value)]
    if kind == "hours":
        return [format_hours(span) for span in value]
    if kind == "int":
        return int(value)
    if isinstance(value, (tuple, frozenset, set)):
        return list(value)
    return value


def format_toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(format_toml(v) for v in value) + "]"
    return str(value)


# ----------------------------------------------------------------- command line


def parse_cli_sets(items: Sequence[str]) -> tuple[dict[str, Any], list[Diagnostic]]:
    """``--set drill.every=45m`` items: TOML values, or bare words taken as strings."""
    raw: dict[str, Any] = {}
    diags: list[Diagnostic] = []
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            diags.append(
                Diagnostic(
                    path="command line",
                    line=None,
                    col=None,
                    severity="error",
                    key=None,
                    message=f'expected --set KEY=VALUE (e.g. drill.every=45m), got "{item}"',
                )
            )
            continue
        try:
            raw[key] = tomllib.loads(f"v = {text.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            raw[key] = text.strip()
    return raw, diags


# ------------------------------------------------------------------------ load


def load(
    user_file: Path | None = None,
    *,
    policy_files: Sequence[Path] | None = None,
    cli: Mapping[str, Any] | None = None,
    check_owner: bool = True,
    with_content: bool = True,
) -> Effective:
    """Read every layer and return the effective configuration.

    ``user_file``: the user's file (may not exist: then only defaults and policy).
    ``policy_files``: explicit policy files (``--policy``); ``None`` discovers the
    admin paths. ``cli``: raw values from ``--set``.

    Raises:
        ConfigError: the user file or the command line has errors (with every
            diagnostic, policy ones included).
    """
    diags: list[Diagnostic] = []
    values = defaults()
    origins: dict[str, Origin] = {key: Origin("default") for key in values}

    files = list(policy_files) if policy_files is not None else discover_policy_files()
    policy = _read_policy(files, diags, check_owner=check_owner and policy_files is None)

    for key, (value, origin) in policy.defaults.items():
        values[key], origins[key] = value, origin

    user_errors: list[Diagnostic] = []
    user_text: str | None = None
    user_locator: Locator | None = None
    user_values: dict[str, Any] = {}
    if user_file is not None and user_file.exists():
        text, problems = read_text(user_file)
        user_errors += problems
        if text is not None:
            data, problems = parse_toml(text, str(user_file))
            user_errors += problems
            if data is not None:
                user_text = text
                user_locator = Locator(text)
                user_values, problems = check_table(data, str(user_file), user_locator)
                user_errors += problems
    for key, value in user_values.items():
        pos = user_locator.key(key) if user_locator else None
        values[key] = value
        origins[key] = Origin("user", str(user_file), pos[0] if pos else None)

    cli_values: dict[str, Any] = {}
    if cli:
        for key, raw in cli.items():
            spec = KEY_BY_NAME.get(key)
            if spec is None:
                from ergobreak.config.loader import suggest  # noqa: PLC0415

                near = suggest(key)
                user_errors.append(
                    Diagnostic(
                        path="command line",
                        line=None,
                        col=None,
                        severity="error",
                        key=key,
                        message="unknown key",
                        hint=f"did you mean {near}?" if near else None,
                    )
                )
                continue
            try:
                cli_values[key] = spec.parse(raw)
            except ValueProblem as exc:
                user_errors.append(
                    Diagnostic(
                        path="command line",
                        line=None,
                        col=None,
                        severity="error",
                        key=key,
                        message=str(exc),
                    )
                )
    for key, value in cli_values.items():
        values[key], origins[key] = value, Origin("command line")

    # Enforced values replace whatever came before, and lock the key.
    ignored: list[Ignored] = []
    locked: dict[str, Origin] = {}
    for key, (value, origin) in policy.enforced.items():
        limit = policy.limits.get(key)
        if limit is not None and not _within(value, limit):
            diags.append(
                Diagnostic(
                    path=origin.path or "policy",
                    line=origin.line,
                    col=1 if origin.line else None,
                    severity="error",
                    key=f"enforced.{key}",
                    message=f"enforced value {_show(key, value)} is outside the policy's own"
                    f" limits ({_range(key, limit)}, {limit.origin.where()}); entry ignored",
                )
            )
            continue
        if origins[key].layer in ("user", "command line"):
            ignored.append(Ignored(key, values[key], origins[key], origin))
        values[key], origins[key] = value, origin
        locked[key] = origin

    # Limits clamp the final value: users may be stricter, never laxer.
    clamped: list[Clamped] = []
    for key, limit in policy.limits.items():
        value = values[key]
        if _within(value, limit):
            continue
        bound = limit.min if limit.min is not None and value < limit.min else limit.max
        new = int(bound) if KEY_BY_NAME[key].kind == "int" else float(bound)  # type: ignore[arg-type]
        clamped.append(Clamped(key, value, new, origins[key], limit))
        values[key] = new

    for key, message in cross_check(values):
        origin = origins[key]
        target = user_errors if origin.layer in ("user", "command line", "default") else diags
        locator = user_locator if origin.layer == "user" else None
        target.append(
            _diag(origin.path or origin.layer, locator, key, message)
            if origin.path
            else Diagnostic(
                path=origin.layer, line=None, col=None, severity="error", key=key, message=message
            )
        )

    content: Content | None = None
    if with_content and not any(d.severity == "error" for d in user_errors):
        content = _select_content(values, user_file, user_text, user_errors, diags)

    all_diags = diags + user_errors
    if any(d.severity == "error" for d in user_errors):
        raise ConfigError(all_diags)
    return Effective(
        settings=_to_settings(values),
        content=content,
        values=values,
        origins=origins,
        locked=locked,
        limits=dict(policy.limits),
        clamped=tuple(clamped),
        ignored=tuple(ignored),
        diagnostics=tuple(all_diags),
        user_file=user_file,
        policy_files=tuple(policy.applied),
        organization=policy.organization,
        contact=policy.contact,
    )


def _within(value: Any, limit: Limit) -> bool:
    if limit.min is not None and value < limit.min:
        return False
    return not (limit.max is not None and value > limit.max)


def _range(key: str, limit: Limit) -> str:
    if limit.min is not None and limit.max is not None:
        return f"{_show(key, limit.min)} to {_show(key, limit.max)}"
    if limit.min is not None:
        return f"at least {_show(key, limit.min)}"
    return f"at most {_show(key, limit.max)}"


def describe_limit(key: str, limit: Limit) -> str:
    return _range(key, limit)


def _select_content(
    values: dict[str, Any],
    user_file: Path | None,
    user_text: str | None,
    user_errors: list[Diagnostic],
    diags: list[Diagnostic],
) -> Content | None:
    from ergobreak.library import SelectionError, load_library, selection  # noqa: PLC0415

    library, problems = load_library()
    diags.extend(problems)
    try:
        chosen = selection(
            library, values, path=str(user_file) if user_file else None, text=user_text
        )
    except SelectionError as exc:
        user_errors.extend(exc.diagnostics)
        return None
    diags.extend(chosen.diagnostics)
    return Content(cues=library.cues, drills=chosen.drills, library=library.drills)
