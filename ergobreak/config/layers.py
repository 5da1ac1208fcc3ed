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

A policy entry that breaks a rule on its own (a cross-key relation, an enforced
value outside the policy's limits, [routines] values that leave no drill) is
dropped with an error at its line, so a policy mistake never leaves anyone
without settings. :func:`try_load` is the reload contract: an immutable
:class:`Effective` or the list of diagnostics.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import stat
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from ergobreak.config.diagnostics import ConfigError, Diagnostic, Severity
from ergobreak.config.loader import (
    check_table,
    parse_toml,
    read_text,
    schema_problem,
    suggest,
    suggest_table,
)
from ergobreak.config.locate import Locator
from ergobreak.config.schema import (
    KEY_BY_NAME,
    TABLES,
    Key,
    ValueProblem,
    conflict_message,
    conflicts,
    defaults,
    found,
)
from ergobreak.config.schema import to_settings as _to_settings
from ergobreak.core.content import Content
from ergobreak.core.duration import format_duration
from ergobreak.core.hours import format_hours
from ergobreak.core.settings import WEEKDAYS, Settings
from ergobreak.paths import paths
from ergobreak.toml import tomllib

Layer = Literal["default", "policy default", "user", "command line", "enforced", "limit"]
PolicyTable = Literal["defaults", "enforced", "limits"]
POLICY_TABLES: tuple[PolicyTable, ...] = ("defaults", "enforced", "limits")
POLICY_TOP = frozenset({"schema", "meta", *POLICY_TABLES})
META_FIELDS = ("organization", "contact")
LIMIT_KINDS = frozenset({"duration", "int"})
ROUTINE_KEYS = tuple(key for key in KEY_BY_NAME if key.startswith("routines."))
#: layers a user can change (a value from one of them that breaks a rule is the user's to fix)
USER_LAYERS = frozenset({"user", "command line"})
_TABLE_OF_LAYER: dict[str, PolicyTable] = {
    "policy default": "defaults",
    "enforced": "enforced",
    "limit": "limits",
}


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
    """A policy range; ``origin`` is the last policy entry that set a bound."""

    min: float | None
    max: float | None
    origin: Origin
    #: where each bound was set, when files merged them (else ``origin``)
    min_origin: Origin | None = None
    max_origin: Origin | None = None


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
    """The settings in force, and why each value is what it is. Immutable: the
    mappings are read-only views, the values tuples, frozensets and numbers."""

    settings: Settings
    content: Content | None
    values: Mapping[str, Any]
    origins: Mapping[str, Origin]
    locked: Mapping[str, Origin]
    limits: Mapping[str, Limit]
    clamped: tuple[Clamped, ...]
    ignored: tuple[Ignored, ...]
    diagnostics: tuple[Diagnostic, ...]
    user_file: Path | None
    policy_files: tuple[Path, ...]
    organization: str | None = None
    contact: str | None = None

    def __post_init__(self) -> None:
        for name in ("values", "origins", "locked", "limits"):
            mapping = getattr(self, name)
            if not isinstance(mapping, MappingProxyType):
                object.__setattr__(self, name, MappingProxyType(dict(mapping)))

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
    """``policy.toml`` then ``policy.d/*.toml`` in lexical order (later files win).

    Hidden files (``.name.toml``, e.g. an editor's swap or a half-copied file)
    are skipped. Paths are fixed per OS (:func:`ergobreak.paths.policy_dir`); no
    environment variable moves them.
    """
    p = paths()
    main = policy_file or p.policy_file
    folder = policy_d or p.policy_d
    found_files = [main] if main.is_file() else []
    with contextlib.suppress(OSError):
        found_files += sorted(
            f for f in folder.glob("*.toml") if f.is_file() and not f.name.startswith(".")
        )
    return found_files


def unsafe_reason(path: Path, *, root: Path | None = None) -> str | None:
    """Why a policy file cannot be trusted, or ``None``.

    On POSIX the file and every directory from its own up to ``root`` (default:
    its own directory) must be owned by root and not writable by group or
    others; a symlink is checked at both ends. Always ``None`` elsewhere.
    """
    if os.name != "posix":
        return None
    items: list[Path] = [path]
    folder = path.parent
    while True:
        items.append(folder)
        if root is None or folder in (root, folder.parent):
            break
        if root not in folder.parents:
            break
        folder = folder.parent
    try:
        if path.is_symlink():  # where it points first: that is the file read
            real = path.resolve()
            items = [real, real.parent, *items]
        for item in items:
            info = item.stat()
            if info.st_uid != 0:
                return f"{item} is owned by uid {info.st_uid}, not root"
            if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                return f"{item} is writable by group or others (mode {stat.filemode(info.st_mode)})"
    except OSError as exc:
        return f"cannot check {path}: {exc.strerror or exc}"
    return None


def _located(
    path: str,
    locator: Locator | None,
    key: str | None,
    message: str,
    *,
    severity: Severity = "error",
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


@dataclass
class _Policy:
    """Every policy file merged (later files win per key and per bound)."""

    defaults: dict[str, tuple[Any, Origin]] = field(default_factory=dict)
    enforced: dict[str, tuple[Any, Origin]] = field(default_factory=dict)
    limits: dict[str, Limit] = field(default_factory=dict)
    organization: str | None = None
    contact: str | None = None
    applied: list[Path] = field(default_factory=list)
    locators: dict[str, Locator] = field(default_factory=dict)

    def origin(self, table: PolicyTable, key: str) -> Origin | None:
        if table == "limits":
            limit = self.limits.get(key)
            return limit.origin if limit else None
        entry = (self.defaults if table == "defaults" else self.enforced).get(key)
        return entry[1] if entry else None

    def diag(
        self, table: PolicyTable, key: str, message: str, *, hint: str | None = None
    ) -> Diagnostic:
        """An error at the entry ``[table] key`` currently comes from."""
        origin = self.origin(table, key)
        path = origin.path if origin and origin.path else "policy"
        return _located(
            path,
            self.locators.get(path),
            f"{table}.{key}",
            message,
            hint=hint,
            at_key=table == "limits",
        )

    def copy(self) -> _Policy:
        return replace(
            self,
            defaults=dict(self.defaults),
            enforced=dict(self.enforced),
            limits=dict(self.limits),
        )

    def drop(self, table: PolicyTable, key: str) -> None:
        if table == "limits":
            self.limits.pop(key, None)
        else:
            (self.defaults if table == "defaults" else self.enforced).pop(key, None)


def _read_policy(
    files: Sequence[Path], diags: list[Diagnostic], *, check_owner: bool, root: Path | None
) -> _Policy:
    policy = _Policy()
    for path in files:
        name = str(path)
        if check_owner:
            reason = unsafe_reason(path, root=root)
            if reason is not None:
                diags.append(
                    _located(
                        name,
                        None,
                        None,
                        f"policy file refused: {reason}",
                        hint="install policy files as root:root, mode 0644,"
                        " in directories only root can write",
                    )
                )
                continue
        text, problems = read_text(path)
        diags.extend(problems)
        if text is None:
            continue
        data, problems = parse_toml(text, name)
        if data is None:
            diags.extend(problems)
            diags.append(
                Diagnostic.plain(
                    name,
                    "policy file skipped: it is not valid TOML; other policy files still apply",
                )
            )
            continue
        locator = Locator(text)
        policy.locators[name] = locator
        policy.applied.append(path)
        file_diags: list[Diagnostic] = []
        _read_policy_file(data, name, locator, policy, file_diags)
        file_diags.sort(key=lambda d: (d.line or 0, d.col or 0))
        diags.extend(file_diags)
    # An enforced value outside the policy's own limits is IT's mistake: say so, drop it.
    for key, (value, _origin) in list(policy.enforced.items()):
        limit = policy.limits.get(key)
        if limit is not None and not _within(value, limit):
            diags.append(
                policy.diag(
                    "enforced",
                    key,
                    f"enforced value {_show(key, value)} is outside the policy's own limits"
                    f" ({_range(key, limit)}, {limit.origin.where()}); entry ignored",
                )
            )
            policy.drop("enforced", key)
    return policy


def _read_policy_file(
    data: dict[str, Any],
    name: str,
    locator: Locator,
    policy: _Policy,
    diags: list[Diagnostic],
) -> None:
    for top, raw in data.items():
        if top in POLICY_TOP:
            continue
        hint = "a policy has schema, [meta], [defaults], [enforced] and [limits]"
        close = difflib.get_close_matches(top, sorted(POLICY_TOP), n=1, cutoff=0.6)
        if top in TABLES:
            hint = f"settings go in [defaults.{top}], [enforced.{top}] or [limits.{top}]"
        elif close:
            hint = f"did you mean {close[0] if close[0] == 'schema' else f'[{close[0]}]'}?"
        diags.append(
            _located(
                name,
                locator,
                top,
                f"unknown policy {'table' if isinstance(raw, dict) else 'key'} (ignored)",
                severity="warning",
                at_key=True,
                hint=hint,
            )
        )
    if "schema" in data:
        problem = schema_problem(data["schema"])
        if problem is not None:
            diags.append(_located(name, locator, "schema", problem[0], hint=problem[1]))
    meta = data.get("meta", {})
    if not isinstance(meta, dict):
        diags.append(_located(name, locator, "meta", f"expected a table [meta], got {found(meta)}"))
        meta = {}
    for key, raw in meta.items():
        if key not in META_FIELDS:
            diags.append(
                _located(
                    name,
                    locator,
                    f"meta.{key}",
                    "unknown key (ignored)",
                    severity="warning",
                    at_key=True,
                    hint="[meta] has organization and contact",
                )
            )
        elif not isinstance(raw, str):
            diags.append(
                _located(name, locator, f"meta.{key}", f"expected a string, got {found(raw)}")
            )
        elif key == "organization":
            policy.organization = raw
        else:
            policy.contact = raw
    for table in ("defaults", "enforced"):
        section = data.get(table, {})
        if not isinstance(section, dict):
            diags.append(
                _located(name, locator, table, f"expected a table [{table}], got {found(section)}")
            )
            continue
        good, problems = check_table(section, name, locator, allow_meta=False, prefix=f"{table}.")
        diags.extend(problems)
        target = policy.defaults if table == "defaults" else policy.enforced
        layer: Layer = "enforced" if table == "enforced" else "policy default"
        for key, value in good.items():
            pos = locator.key(f"{table}.{key}")
            target[key] = (value, Origin(layer, name, pos[0] if pos else None))
    section = data.get("limits", {})
    if not isinstance(section, dict):
        diags.append(
            _located(name, locator, "limits", f"expected a table [limits], got {found(section)}")
        )
        return
    for top, raw in section.items():
        if top not in TABLES:
            near_top = suggest_table(top) if isinstance(raw, dict) else suggest(top)
            diags.append(
                _located(
                    name,
                    locator,
                    f"limits.{top}",
                    f"unknown {'table' if isinstance(raw, dict) else 'key'} (ignored)",
                    severity="warning",
                    at_key=True,
                    hint=(
                        None
                        if not near_top
                        else f"did you mean [limits.{near_top}]?"
                        if isinstance(raw, dict)
                        else f"did you mean limits.{near_top}?"
                    ),
                )
            )
        elif not isinstance(raw, dict):
            diags.append(
                _located(
                    name,
                    locator,
                    f"limits.{top}",
                    f"expected a table [limits.{top}], got {found(raw)}",
                )
            )
        else:
            for leaf, bounds in raw.items():
                _read_limit(
                    f"{top}.{leaf}", bounds, name=name, locator=locator, policy=policy, diags=diags
                )


def _read_limit(
    key: str,
    raw: object,
    *,
    name: str,
    locator: Locator,
    policy: _Policy,
    diags: list[Diagnostic],
) -> None:
    dotted = f"limits.{key}"
    spec = KEY_BY_NAME.get(key)

    def error(message: str, *, at: str = dotted, hint: str | None = None) -> None:
        diags.append(_located(name, locator, at, message, hint=hint))

    if spec is None:
        near = suggest(key)
        diags.append(
            _located(
                name,
                locator,
                dotted,
                "unknown key (ignored)",
                severity="warning",
                at_key=True,
                hint=f"did you mean limits.{near}?" if near else None,
            )
        )
        return
    if spec.kind not in LIMIT_KINDS:
        error(
            f"limits apply to durations and numbers; {key} is {spec.expected}",
            hint="to fix its value, put it in [enforced] instead",
        )
        return
    example = '{ min = "10m", max = "1h" }' if spec.kind == "duration" else "{ min = 1, max = 3 }"
    if not isinstance(raw, dict):
        error(f"expected bounds like {example} (either or both), got {found(raw)}")
        return
    if not raw:
        error(f"expected bounds like {example} (either or both), got an empty table")
        return
    ok = True
    for bound in raw:
        if bound not in ("min", "max"):
            error(
                f'unknown bound "{bound}" (a limit has min and/or max); entry ignored',
                at=f"{dotted}.{bound}",
            )
            ok = False
    bounds: dict[str, float | None] = {"min": None, "max": None}
    for bound in ("min", "max"):
        if bound not in raw:
            continue
        try:
            value = spec.parse(raw[bound], bounded=False)
        except ValueProblem as exc:
            error(f"{exc}; entry ignored", at=f"{dotted}.{bound}")
            ok = False
            continue
        # Compare with the key's own range before any float conversion (TOML
        # integers are unbounded); a bound beyond it is no bound at all.
        if bound == "min" and spec.max is not None and value > spec.max:
            error(
                f"min {spec.show(value)} is above the largest value {key} allows"
                f" ({spec.show(spec.max)}); entry ignored",
                at=f"{dotted}.min",
            )
            ok = False
        elif bound == "max" and spec.min is not None and value < spec.min:
            error(
                f"max {spec.show(value)} is below the smallest value {key} allows"
                f" ({spec.show(spec.min)}); entry ignored",
                at=f"{dotted}.max",
            )
            ok = False
        else:
            if spec.min is not None:
                value = max(value, spec.min)
            if spec.max is not None:
                value = min(value, spec.max)
            bounds[bound] = float(value)
    if not ok:
        return
    earlier = policy.limits.get(key)
    pos = locator.key(dotted)
    here = Origin("limit", name, pos[0] if pos else None)
    low, low_from = bounds["min"], here
    high, high_from = bounds["max"], here
    if earlier is not None and low is None:
        low, low_from = earlier.min, earlier.min_origin or earlier.origin
    if earlier is not None and high is None:
        high, high_from = earlier.max, earlier.max_origin or earlier.origin
    if low is not None and high is not None and low > high:
        other = high_from if low_from == here else low_from
        also = f" (with the bound from {other.where()})" if other != here else ""
        error(f"min {spec.show(low)} is above max {spec.show(high)}{also}; entry ignored")
        return
    policy.limits[key] = Limit(
        low,
        high,
        here,
        min_origin=low_from if low is not None else None,
        max_origin=high_from if high is not None else None,
    )


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
                Diagnostic.plain(
                    "command line", f'expected --set KEY=VALUE (e.g. drill.every=45m), got "{item}"'
                )
            )
            continue
        try:
            raw[key] = tomllib.loads(f"v = {text.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            raw[key] = text.strip()
    return raw, diags


# ------------------------------------------------------------------------ load


@dataclass
class _Merged:
    values: dict[str, Any]
    origins: dict[str, Origin]
    locked: dict[str, Origin]
    ignored: list[Ignored]
    clamped: list[Clamped]

    def fixable(self, key: str) -> bool:
        """The value is the user's (file or command line) and in force as given."""
        return self.origins[key].layer in USER_LAYERS


def _merge(
    policy: _Policy,
    user: Mapping[str, tuple[Any, Origin]],
    cli: Mapping[str, Any],
) -> _Merged:
    values = defaults()
    origins: dict[str, Origin] = {key: Origin("default") for key in values}
    for key, (value, origin) in policy.defaults.items():
        values[key], origins[key] = value, origin
    for key, (value, origin) in user.items():
        values[key], origins[key] = value, origin
    for key, value in cli.items():
        values[key], origins[key] = value, Origin("command line")
    # Enforced values replace whatever came before, and lock the key.
    ignored: list[Ignored] = []
    locked: dict[str, Origin] = {}
    for key, (value, origin) in policy.enforced.items():
        if key in user:
            ignored.append(Ignored(key, user[key][0], user[key][1], origin))
        if key in cli:
            ignored.append(Ignored(key, cli[key], Origin("command line"), origin))
        values[key], origins[key] = value, origin
        locked[key] = origin
    # Limits clamp the final value: users may be stricter, never laxer.
    clamped: list[Clamped] = []
    for key, limit in policy.limits.items():
        value = values[key]
        if _within(value, limit):
            continue
        bound = limit.min if limit.min is not None and value < limit.min else limit.max
        assert bound is not None
        new = int(bound) if KEY_BY_NAME[key].kind == "int" else float(bound)
        clamped.append(Clamped(key, value, new, origins[key], limit))
        values[key], origins[key] = new, limit.origin
    return _Merged(values, origins, locked, ignored, clamped)


def _policy_entry(merged: _Merged, key: str) -> tuple[PolicyTable, str] | None:
    table = _TABLE_OF_LAYER.get(merged.origins[key].layer)
    return (table, key) if table else None


def _resolve_conflicts(
    merged: _Merged,
    policy: _Policy,
    diags: list[Diagnostic],
    rebuild: Callable[[_Policy], _Merged],
) -> bool:
    """Drop one policy entry that breaks a relation between keys on its own (no
    user value involved), preferring one whose removal mends the relation.
    Returns whether one was dropped (then merge again)."""
    for key, other in conflicts(merged.values):
        if merged.fixable(key) or merged.fixable(other):
            continue
        entries = [e for e in (_policy_entry(merged, key), _policy_entry(merged, other)) if e]
        if not entries:
            continue

        def mends(entry: tuple[PolicyTable, str], pair: tuple[str, str] = (key, other)) -> bool:
            trial = policy.copy()
            trial.drop(*entry)
            return pair not in conflicts(rebuild(trial).values)

        table, culprit = next((e for e in entries if mends(e)), entries[0])
        partner = other if culprit == key else key
        problem = conflict_message(merged.values, culprit, partner)
        if table == "limits":
            clamp = next(c for c in merged.clamped if c.key == culprit)
            verb = "raises" if clamp.value > clamp.wanted else "lowers"
            message = (
                f"{verb} {culprit} to {_show(culprit, clamp.value)}, but it {problem};"
                " entry ignored"
            )
        else:
            message = f"{problem}; entry ignored"
        partner_origin = merged.origins[partner]
        hint = f"set {partner} in the policy as well"
        if partner_origin.layer in _TABLE_OF_LAYER:
            hint = (
                f"{partner} = {_show(partner, merged.values[partner])} is also set by the"
                f" policy ({partner_origin.where()})"
            )
        diags.append(policy.diag(table, culprit, message, hint=hint))
        policy.drop(table, culprit)
        return True
    return False


def _user_conflicts(
    merged: _Merged, user_locator: Locator | None, errors: list[Diagnostic]
) -> None:
    """Relations broken by a value the user can change: errors at that value."""
    for key, other in conflicts(merged.values):
        if merged.fixable(key):
            at, partner = key, other
        elif merged.fixable(other):
            at, partner = other, key
        else:  # pragma: no cover - built-in defaults satisfy every relation
            at, partner = key, other
        origin = merged.origins[at]
        other_origin = merged.origins[partner]
        hint = None
        if other_origin.layer in _TABLE_OF_LAYER:
            hint = (
                f"{partner} = {_show(partner, merged.values[partner])} comes from your"
                f" organization's policy ({other_origin.where()})"
            )
        message = conflict_message(merged.values, at, partner)
        if origin.layer == "user" and origin.path is not None:
            errors.append(_located(origin.path, user_locator, at, message, hint=hint))
        else:
            errors.append(Diagnostic.plain(origin.path or origin.layer, message, key=at, hint=hint))


def load(
    user_file: Path | None = None,
    *,
    policy_files: Sequence[Path] | None = None,
    cli: Mapping[str, Any] | None = None,
    check_owner: bool = True,
    with_content: bool = True,
    user_text: str | None = None,
) -> Effective:
    """Read every layer and return the effective configuration. Never writes.

    ``user_file``: the user's file (may not exist: then only defaults and policy).
    ``policy_files``: explicit policy files (``--policy`` drafts, not checked for
    ownership); ``None`` discovers the admin paths and refuses unsafe files.
    ``cli``: raw values from ``--set``. ``user_text``: use this as the user
    file's content instead of reading it (to validate an edit before writing).

    Raises:
        ConfigError: the user file or the command line has errors (with every
            diagnostic, policy ones included).
    """
    diags: list[Diagnostic] = []
    if policy_files is None:
        found_paths = paths()
        files = discover_policy_files(found_paths.policy_file, found_paths.policy_d)
        policy = _read_policy(
            files, diags, check_owner=check_owner, root=found_paths.policy_file.parent
        )
    else:
        policy = _read_policy(list(policy_files), diags, check_owner=False, root=None)

    user_errors: list[Diagnostic] = []
    user_locator: Locator | None = None
    user: dict[str, tuple[Any, Origin]] = {}
    text: str | None = user_text
    if text is None and user_file is not None and user_file.exists():
        text, problems = read_text(user_file)
        user_errors += problems
    if text is not None:
        name = str(user_file) if user_file is not None else "config"
        data, problems = parse_toml(text, name)
        user_errors += problems
        if data is not None:
            user_locator = Locator(text)
            good, problems = check_table(data, name, user_locator)
            user_errors += problems
            for key, value in good.items():
                pos = user_locator.key(key)
                if KEY_BY_NAME[key].policy_only:
                    line, col = pos if pos else (None, None)
                    user_errors.append(
                        Diagnostic(
                            path=name,
                            line=line,
                            col=col,
                            severity="warning",
                            key=key,
                            message="only IT policy can set this (ignored)",
                            source=user_locator.source(line),
                            hint="use `ergobreak autostart enable` or `disable`",
                        )
                    )
                    continue
                user[key] = (value, Origin("user", name, pos[0] if pos else None))

    cli_values: dict[str, Any] = {}
    for key, raw in (cli or {}).items():
        spec = KEY_BY_NAME.get(key)
        if spec is None:
            near = suggest(key)
            hint = f"did you mean {near}?" if near else None
            user_errors.append(Diagnostic.plain("command line", "unknown key", key=key, hint=hint))
            continue
        try:
            cli_values[key] = spec.parse(raw)
        except ValueProblem as exc:
            user_errors.append(Diagnostic.plain("command line", str(exc), key=key))

    # A policy entry that breaks a rule on its own is dropped (and reported); a
    # rule broken by the user's own value is the user's error.
    content: Content | None = None
    for _ in range(len(KEY_BY_NAME) * 3 + 1):
        merged = _merge(policy, user, cli_values)
        if _resolve_conflicts(merged, policy, diags, lambda p: _merge(p, user, cli_values)):
            continue
        if not with_content or _has_errors(user_errors) or conflicts(merged.values):
            break
        content, dropped = _select_content(
            merged,
            policy,
            rebuild=lambda p: _merge(p, user, cli_values),
            user_file=user_file,
            user_text=text,
            user_errors=user_errors,
            diags=diags,
        )
        if not dropped:
            break
    _user_conflicts(merged, user_locator, user_errors)

    all_diags = diags + user_errors
    if _has_errors(user_errors):
        raise ConfigError(all_diags)
    return Effective(
        settings=_to_settings(merged.values),
        content=content,
        values=merged.values,
        origins=merged.origins,
        locked=merged.locked,
        limits=dict(policy.limits),
        clamped=tuple(merged.clamped),
        ignored=tuple(merged.ignored),
        diagnostics=tuple(all_diags),
        user_file=user_file,
        policy_files=tuple(policy.applied),
        organization=policy.organization,
        contact=policy.contact,
    )


def try_load(
    user_file: Path | None = None,
    *,
    policy_files: Sequence[Path] | None = None,
    cli: Mapping[str, Any] | None = None,
) -> Effective | list[Diagnostic]:
    """The live-reload contract: the new settings, or every diagnostic when the
    configuration has errors (then keep the last good :class:`Effective`).

    Never raises for anything in the files and never writes. A returned
    :class:`Effective` may still carry warnings and policy errors (bad policy
    entries are dropped, the rest applies): see ``.diagnostics``.
    """
    try:
        return load(user_file, policy_files=policy_files, cli=cli)
    except ConfigError as exc:
        return list(exc.diagnostics)


def _has_errors(diags: Sequence[Diagnostic]) -> bool:
    return any(d.severity == "error" for d in diags)


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
    """``"at most 1h"``, ``"10m to 40m"``."""
    return _range(key, limit)


def _select_content(
    merged: _Merged,
    policy: _Policy,
    *,
    rebuild: Callable[[_Policy], _Merged],
    user_file: Path | None,
    user_text: str | None,
    user_errors: list[Diagnostic],
    diags: list[Diagnostic],
) -> tuple[Content | None, bool]:
    """The drill rotation; ``(content, dropped)``: ``dropped`` when policy entries
    alone left no drill and were dropped (then merge and select again)."""
    from ergobreak.library import SelectionError, load_library, selection  # noqa: PLC0415

    library, problems = load_library()
    policy_only = not any(merged.fixable(key) for key in ROUTINE_KEYS)
    text = None if policy_only else user_text
    try:
        chosen = selection(
            library,
            merged.values,
            path=str(user_file) if user_file else None,
            text=text,
        )
    except SelectionError as exc:
        entries = [e for e in (_policy_entry(merged, k) for k in ROUTINE_KEYS) if e]
        if policy_only and entries:
            # Drop one entry if that brings a drill back, else all of them.
            def mends(entry: tuple[PolicyTable, str]) -> bool:
                trial = policy.copy()
                trial.drop(*entry)
                try:
                    selection(library, rebuild(trial).values)
                except SelectionError:
                    return False
                return True

            one = next((e for e in reversed(entries) if mends(e)), None)
            error = next(d for d in exc.diagnostics if d.severity == "error")
            for table, key in [one] if one else entries:
                diags.append(
                    policy.diag(table, key, f"{error.message}; entry ignored", hint=error.hint)
                )
                policy.drop(table, key)
            return None, True
        diags.extend(problems)
        user_errors.extend(_relocate(d, merged, policy) for d in exc.diagnostics)
        return None, False
    diags.extend(problems)
    diags.extend(_relocate(d, merged, policy) for d in chosen.diagnostics)
    return Content(cues=library.cues, drills=chosen.drills, library=library.drills), False


def _relocate(diag: Diagnostic, merged: _Merged, policy: _Policy) -> Diagnostic:
    """Point a selection diagnostic about a policy value at the policy entry."""
    if diag.key not in KEY_BY_NAME:
        return diag
    entry = _policy_entry(merged, diag.key)
    if entry is None:
        return diag
    at = policy.diag(entry[0], entry[1], diag.message)
    return replace(diag, path=at.path, line=at.line, col=at.col, source=at.source, key=at.key)
