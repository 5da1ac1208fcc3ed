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

The OS policy channels (the registry on Windows, managed preferences on macOS:
:func:`os_policy_sources`) are policy like the files and merge over them key by
key: the channel's value wins (``docs/deploying.md``, "Which policy wins").
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ergobreak.config.kinds import ValueProblem
from ergobreak.config.loader import MAX_BYTES, check_table, suggest, suspicion_diagnostics
from ergobreak.config.managed_prefs import managed_prefs_sources
from ergobreak.config.origin import Origin
from ergobreak.config.policy import (
    TABLE_OF_LAYER,
    Limit,
    Policy,
    PolicyTable,
    PolicyText,
    load_policy,
    within,
)
from ergobreak.config.registry import registry_sources
from ergobreak.config.schema import (
    KEY_BY_NAME,
    ROUTINE_KEYS,
    conflict_message,
    conflicts,
    defaults,
    to_filters,
    to_settings,
)
from ergobreak.config.sources import PolicySource, SourceStatus
from ergobreak.config.values import show_value
from ergobreak.content.library import load_library
from ergobreak.content.selection import Filters, SelectionError, selection
from ergobreak.core.content import Content
from ergobreak.core.duration import format_amount
from ergobreak.core.settings import Settings
from ergobreak.tomlfile import ConfigError, Diagnostic, Positions, parse_toml, read_text

#: layers a user can change (a value from one of them that breaks a rule is the user's to fix)
USER_LAYERS = frozenset({"user", "command line"})


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
    #: the applied policy files as read (path, text): what a daemon keeps as the last
    #: good policy, to use while the files on disk are broken (:func:`load`'s ``policy_texts``)
    policy_texts: tuple[PolicyText, ...] = ()
    #: errors in the policy files on disk: a file refused, unreadable, not TOML, or a
    #: bad entry (a daemon then keeps its last good policy)
    policy_errors: tuple[Diagnostic, ...] = ()
    #: whether the policy in force is the one on disk (False: the last good one is kept,
    #: or the files on disk have errors)
    policy_current: bool = True
    #: every policy source found (files, registry keys, managed preferences), highest
    #: precedence first, and whether it applies
    policy_sources: tuple[SourceStatus, ...] = ()

    def __post_init__(self) -> None:
        for name in ("values", "origins", "locked", "limits"):
            mapping = getattr(self, name)
            if not isinstance(mapping, MappingProxyType):
                object.__setattr__(self, name, MappingProxyType(dict(mapping)))

    @property
    def filters(self) -> Filters:
        """The ``[routines]`` settings in force, for choosing drills."""
        return to_filters(self.values)

    @property
    def managed(self) -> bool:
        """A policy applies (the tray says "Managed by your organization")."""
        return bool(self.policy_files) or any(s.error is None for s in self.policy_sources)

    @property
    def policy_channels(self) -> tuple[str, ...]:
        r"""The OS channel sources that apply (``HKLM\Software\Policies\ergobreak``)."""
        return tuple(
            s.name for s in self.policy_sources if s.channel != "policy file" and s.error is None
        )

    def overrides(self) -> tuple[Diagnostic, ...]:
        """The user's own values that the policy locks or clamps, as warnings at them
        ("drill.every is set by your organization; your value is ignored")."""
        notes: list[Diagnostic] = []
        for ignored in self.ignored:
            if ignored.origin.layer in USER_LAYERS:
                notes.append(
                    _note(
                        ignored.origin,
                        f"{ignored.key} is set by your organization; your value is ignored",
                    )
                )
        for clamp in self.clamped:
            if clamp.origin.layer in USER_LAYERS:
                verb = "raised" if clamp.value > clamp.wanted else "limited"
                shown = (
                    format_amount(clamp.value)
                    if KEY_BY_NAME[clamp.key].kind == "duration"
                    else show_value(clamp.key, clamp.value)
                )
                notes.append(
                    _note(
                        clamp.origin,
                        f"{clamp.key} = {show_value(clamp.key, clamp.wanted)}"
                        f" is {verb} to {shown} by your organization",
                    )
                )
        return tuple(notes)

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "error")

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "warning")


def _note(origin: Origin, message: str) -> Diagnostic:
    return Diagnostic(
        path=origin.path or origin.layer,
        line=origin.line,
        col=None,
        severity="warning",
        key=None,
        message=message,
    )


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
    policy: Policy,
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
        if within(value, limit):
            continue
        low = limit.min is not None and value < limit.min
        bound = limit.min if low else limit.max
        assert bound is not None
        new = int(bound) if KEY_BY_NAME[key].kind == "int" else float(bound)
        clamped.append(Clamped(key, value, new, origins[key], limit))
        by = limit.min_origin if low else limit.max_origin  # a channel sets each on its own
        values[key], origins[key] = new, by or limit.origin
    return _Merged(values, origins, locked, ignored, clamped)


def _policy_entry(merged: _Merged, key: str) -> tuple[PolicyTable, str] | None:
    table = TABLE_OF_LAYER.get(merged.origins[key].layer)
    return (table, key) if table else None


def _resolve_conflicts(
    merged: _Merged,
    policy: Policy,
    diags: list[Diagnostic],
    rebuild: Callable[[Policy], _Merged],
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
                f"{verb} {culprit} to {show_value(culprit, clamp.value)}, but it {problem};"
                " entry ignored"
            )
        else:
            message = f"{problem}; entry ignored"
        partner_origin = merged.origins[partner]
        hint = f"set {partner} in the policy as well"
        if partner_origin.layer in TABLE_OF_LAYER:
            hint = (
                f"{partner} = {show_value(partner, merged.values[partner])} is also set by the"
                f" policy ({partner_origin.where()})"
            )
        diags.append(policy.diag(table, culprit, message, hint=hint))
        policy.drop(table, culprit)
        return True
    return False


def _user_conflicts(
    merged: _Merged, user_positions: Positions | None, errors: list[Diagnostic]
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
        if other_origin.layer in TABLE_OF_LAYER:
            hint = (
                f"{partner} = {show_value(partner, merged.values[partner])} comes from your"
                f" organization's policy ({other_origin.where()})"
            )
        message = conflict_message(merged.values, at, partner)
        if origin.layer == "user" and origin.path is not None:
            errors.append(Diagnostic.at(origin.path, user_positions, at, message, hint=hint))
        else:
            errors.append(Diagnostic.plain(origin.path or origin.layer, message, key=at, hint=hint))


@dataclass
class _UserFile:
    """The user's file as read: its values with their origins, where they sit, problems."""

    text: str | None
    positions: Positions | None = None
    values: dict[str, tuple[Any, Origin]] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def _read_user(user_file: Path | None, user_text: str | None) -> _UserFile:
    user = _UserFile(text=user_text)
    if user.text is None and user_file is not None and user_file.exists():
        user.text, user.diagnostics = read_text(user_file, max_bytes=MAX_BYTES)
    if user.text is None:
        return user
    name = str(user_file) if user_file is not None else "config"
    data, problems = parse_toml(user.text, name, max_bytes=MAX_BYTES)
    user.diagnostics += problems
    if data is None:
        return user
    try:
        user.positions = Positions(user.text)
        good, problems = check_table(data, name, user.positions)
    except Exception as exc:  # a bug must not cost the daemon its settings: an error like any
        user.diagnostics.append(Diagnostic.failed(name, exc))
        return user
    user.diagnostics += problems
    for key, value in good.items():
        if KEY_BY_NAME[key].policy_only:
            user.diagnostics.append(
                Diagnostic.at(
                    name,
                    user.positions,
                    key,
                    "only IT policy can set this (ignored)",
                    severity="warning",
                    hint=KEY_BY_NAME[key].user_hint,
                    at_key=True,
                )
            )
            continue
        pos = user.positions.find(key, at_key=True)
        user.values[key] = (value, Origin("user", name, pos[0] if pos else None))
    return user


def _cli_values(cli: Mapping[str, Any], errors: list[Diagnostic]) -> dict[str, Any]:
    """``--set`` values parsed by the schema; problems go to ``errors``."""
    values: dict[str, Any] = {}
    for key, raw in cli.items():
        spec = KEY_BY_NAME.get(key)
        if spec is None:
            near = suggest(key)
            hint = f"did you mean {near}?" if near else None
            errors.append(Diagnostic.plain("command line", "unknown key", key=key, hint=hint))
            continue
        if spec.policy_only:
            errors.append(
                Diagnostic.plain(
                    "command line", "only IT policy can set this", key=key, hint=spec.user_hint
                )
            )
            continue
        try:
            values[key] = spec.parse(raw)
        except ValueProblem as exc:
            errors.append(Diagnostic.plain("command line", str(exc), key=key))
    return values


def load(
    user_file: Path | None = None,
    *,
    policy_files: Sequence[Path] | None = None,
    cli: Mapping[str, Any] | None = None,
    check_owner: bool = True,
    with_content: bool = True,
    user_text: str | None = None,
    policy_texts: Sequence[PolicyText] | None = None,
    policy_sources: Sequence[PolicySource] | None = None,
) -> Effective:
    """Read every layer and return the effective configuration. Never writes.

    ``user_file``: the user's file (may not exist: then only defaults and policy).
    ``policy_files``: explicit policy files (``--policy`` drafts, not checked for
    ownership); ``None`` discovers the admin paths and refuses unsafe files.
    ``cli``: raw values from ``--set``. ``user_text``: use this as the user
    file's content instead of reading it (to validate an edit before writing).
    ``policy_texts``: the policy as read earlier (:attr:`Effective.policy_texts`),
    instead of the policy files. ``policy_sources``: the OS channels, highest
    precedence first; ``None``: this OS's (:func:`os_policy_sources`) when the
    installed policy is read, none with ``policy_files`` or ``policy_texts``.

    Raises:
        ConfigError: the user file or the command line has errors (with every
            diagnostic, policy ones included).
    """
    diags: list[Diagnostic] = []
    if policy_sources is None:
        installed = policy_files is None and policy_texts is None
        policy_sources = os_policy_sources() if installed else ()
    policy = load_policy(
        policy_files, diags, check_owner=check_owner, texts=policy_texts, sources=policy_sources
    )
    user = _read_user(user_file, user_text)
    user_errors = user.diagnostics
    cli_values = _cli_values(cli or {}, user_errors)

    # A policy entry that breaks a rule on its own is dropped (and reported); a
    # rule broken by the user's own value is the user's error.
    content: Content | None = None
    for _ in range(len(KEY_BY_NAME) * 3 + 1):
        merged = _merge(policy, user.values, cli_values)
        if _resolve_conflicts(merged, policy, diags, lambda p: _merge(p, user.values, cli_values)):
            continue
        if not with_content or _has_errors(user_errors) or conflicts(merged.values):
            break
        content, dropped = _select_content(
            merged,
            policy,
            rebuild=lambda p: _merge(p, user.values, cli_values),
            user_file=user_file,
            user_text=user.text,
            user_errors=user_errors,
            diags=diags,
        )
        if not dropped:
            break
    _user_conflicts(merged, user.positions, user_errors)
    if not _has_errors(user_errors):  # valid values that can hardly be meant: warnings
        diags += suspicion_diagnostics(
            merged.values,
            merged.origins,
            {**policy.positions, str(user_file) if user_file else "config": user.positions},
            tables=TABLE_OF_LAYER,
            rotation=[d.id for d in content.drills] if content else None,
            library=[d.id for d in content.library] if content else None,
        )

    all_diags = diags + user_errors
    if _has_errors(user_errors):
        raise ConfigError(all_diags)
    policy_errors = tuple(d for d in diags if d.severity == "error" and policy.owns(d.path))
    return Effective(
        settings=to_settings(merged.values),
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
        policy_texts=tuple(policy.texts),
        policy_errors=policy_errors,
        policy_current=not policy_errors,
        policy_sources=tuple(reversed(policy.sources)),
    )


def os_policy_sources() -> list[PolicySource]:
    """This OS's policy channels, highest precedence first: the registry's HKLM and
    HKCU keys on Windows, the user's and the machine's managed preferences on macOS."""
    if sys.platform == "win32":  # pragma: no cover - Windows only
        return list(registry_sources())
    if sys.platform == "darwin":  # pragma: no cover - macOS only
        return list(managed_prefs_sources())
    return []


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


def _select_content(
    merged: _Merged,
    policy: Policy,
    *,
    rebuild: Callable[[Policy], _Merged],
    user_file: Path | None,
    user_text: str | None,
    user_errors: list[Diagnostic],
    diags: list[Diagnostic],
) -> tuple[Content | None, bool]:
    """The drill rotation; ``(content, dropped)``: ``dropped`` when policy entries
    alone left no drill and were dropped (then merge and select again)."""
    from ergobreak.artwork.figure import names  # noqa: PLC0415 - the figure's poses, once

    library, problems = load_library(known_poses=names())
    policy_only = not any(merged.fixable(key) for key in ROUTINE_KEYS)
    text = None if policy_only else user_text
    try:
        chosen = selection(
            library,
            to_filters(merged.values),
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
                    selection(library, to_filters(rebuild(trial).values))
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


def _relocate(diag: Diagnostic, merged: _Merged, policy: Policy) -> Diagnostic:
    """Point a selection diagnostic about a policy value at the policy entry."""
    if diag.key not in KEY_BY_NAME:
        return diag
    entry = _policy_entry(merged, diag.key)
    if entry is None:
        return diag
    at = policy.diag(entry[0], entry[1], diag.message)
    return replace(diag, path=at.path, line=at.line, col=at.col, source=at.source, key=at.key)
