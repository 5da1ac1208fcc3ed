"""IT policy: the files, who may write them, and what they recommend, enforce and bound.

``policy.toml`` and ``policy.d/*.toml`` (:func:`discover_policy_files`) are
read only when root owns them and their folders (:func:`unsafe_reason`). Each
has ``[defaults]`` (recommended values), ``[enforced]`` (locked values) and
``[limits]`` (ranges that clamp the final value); later files win per key and
per bound. A bad entry is an error diagnostic that disables only that entry.

The OS channels (the Windows registry, macOS managed preferences:
:mod:`~ergobreak.config.sources`) carry the same three tables and merge over the
files the same way, key by key and per bound: a channel wins over every policy
file, and within a channel the higher source (HKLM over HKCU, the user's managed
preferences over the machine's) wins. Their values are decoded by
:mod:`~ergobreak.config.channels` and parsed by the schema like a file's.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from ergobreak.config import channels
from ergobreak.config.kinds import ValueProblem
from ergobreak.config.loader import (
    MAX_BYTES,
    check_table,
    schema_problem,
    suggest,
    suggest_table,
)
from ergobreak.config.origin import Layer, Origin
from ergobreak.config.schema import KEY_BY_NAME, TABLES, Key
from ergobreak.config.sources import (
    ChannelEntry,
    ChannelRead,
    PolicySource,
    SourceStatus,
    from_kept,
    kept_channel,
    kept_name,
    kept_text,
)
from ergobreak.config.values import show_value
from ergobreak.paths import paths
from ergobreak.tomlfile import Diagnostic, Hints, Positions, found, parse_toml, read_text

PolicyTable = Literal["defaults", "enforced", "limits"]
POLICY_TABLES: tuple[PolicyTable, ...] = ("defaults", "enforced", "limits")
POLICY_TOP = frozenset({"schema", "meta", *POLICY_TABLES})
META_FIELDS = ("organization", "contact")
LIMIT_KINDS = frozenset({"duration", "int"})
#: the policy table each policy layer's values come from
TABLE_OF_LAYER: dict[Layer, PolicyTable] = {
    "policy default": "defaults",
    "enforced": "enforced",
    "limit": "limits",
}


@dataclass(frozen=True, slots=True)
class Limit:
    """A policy range; ``origin`` is the last policy entry that set a bound."""

    min: float | None
    max: float | None
    origin: Origin
    #: where each bound was set, when files merged them (else ``origin``)
    min_origin: Origin | None = None
    max_origin: Origin | None = None


def discover_policy_files(
    policy_file: Path | None = None, policy_d: Path | None = None
) -> list[Path]:
    """``policy.toml`` then ``policy.d/*.toml`` in lexical order (later files win).

    Hidden files (``.name.toml``, e.g. an editor's swap or a half-copied file)
    are skipped. Paths are fixed per OS (:func:`ergobreak.paths.policy_dir`); no
    environment variable moves them.

    Anything at those names counts, not only regular files: a folder, a pipe or a
    dangling symlink where a policy file should be is a policy that cannot be read
    (an error, so a running daemon keeps its last good policy), never "no policy".
    """
    p = paths()
    main = policy_file or p.policy_file
    folder = policy_d or p.policy_d
    found_files = [main] if os.path.lexists(main) else []
    with contextlib.suppress(OSError):
        found_files += sorted(f for f in folder.glob("*.toml") if not f.name.startswith("."))
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


@dataclass
class Policy:
    """Every policy file merged (later files win per key and per bound)."""

    defaults: dict[str, tuple[Any, Origin]] = field(default_factory=dict)
    enforced: dict[str, tuple[Any, Origin]] = field(default_factory=dict)
    limits: dict[str, Limit] = field(default_factory=dict)
    organization: str | None = None
    contact: str | None = None
    applied: list[Path] = field(default_factory=list)
    positions: dict[str, Positions] = field(default_factory=dict)
    #: every policy file looked at, applied or not (their names, as diagnostics give them)
    files: list[str] = field(default_factory=list)
    #: each applied file's text, in order (:data:`PolicyText`); an OS channel's as
    #: :func:`~ergobreak.config.sources.kept_text` keeps it
    texts: list[tuple[str, str]] = field(default_factory=list)
    #: every source found (files and OS channels), applied or not
    sources: list[SourceStatus] = field(default_factory=list)
    #: where OS channel entries sit (``HKLM\...\drill.every``): their diagnostics' paths
    entry_paths: set[str] = field(default_factory=set)

    def owns(self, path: str) -> bool:
        """A diagnostic at ``path`` is about this policy (a file or a channel entry)."""
        return path in self.files or path in self.entry_paths

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
        if path in self.entry_paths:  # a channel entry's path already names it
            return Diagnostic.plain(path, message, hint=hint)
        return Diagnostic.at(
            path,
            self.positions.get(path),
            f"{table}.{key}",
            message,
            hint=hint,
            at_key=table == "limits",
        )

    def copy(self) -> Policy:
        return replace(
            self,
            defaults=dict(self.defaults),
            enforced=dict(self.enforced),
            limits=dict(self.limits),
            applied=list(self.applied),
            positions=dict(self.positions),
            files=list(self.files),
            texts=list(self.texts),
            sources=list(self.sources),
            entry_paths=set(self.entry_paths),
        )

    def drop(self, table: PolicyTable, key: str) -> None:
        if table == "limits":
            self.limits.pop(key, None)
        else:
            (self.defaults if table == "defaults" else self.enforced).pop(key, None)


#: a policy file as read: its path and its text (what the daemon keeps as the last good policy)
PolicyText = tuple[str, str]


def load_policy(
    files: Sequence[Path] | None,
    diags: list[Diagnostic],
    *,
    check_owner: bool = True,
    texts: Sequence[PolicyText] | None = None,
    sources: Sequence[PolicySource] = (),
) -> Policy:
    """Every policy file merged, then the OS channels' ``sources`` (highest
    precedence first) over them; problems go to ``diags``.

    ``files``: explicit files (``--policy`` drafts, never checked for ownership);
    ``None`` discovers the admin paths and, with ``check_owner``, refuses unsafe
    files. ``texts``: use these files and channels as read earlier instead (the
    last good policy a running daemon kept); nothing is read.
    """
    if texts is not None:
        policy = Policy()
        for name, text in texts:
            policy.files.append(name)
            if kept_channel(name) is not None:
                policy = _apply_channel(policy, from_kept(name, text), diags)
            else:
                policy = _apply_text(policy, Path(name), text, diags)
        return _drop_outside_limits(policy, diags)
    if files is not None:
        policy = _read_policy(files, diags, check_owner=False, root=None)
    else:
        found = paths()
        policy = _read_policy(
            discover_policy_files(found.policy_file, found.policy_d),
            diags,
            check_owner=check_owner,
            root=found.policy_file.parent,
        )
    for source in reversed(sources):  # the lowest first: later ones win, as files do
        policy = _apply_channel(policy, _read_source(source), diags)
    return _drop_outside_limits(policy, diags)


def _read_policy(
    files: Sequence[Path], diags: list[Diagnostic], *, check_owner: bool, root: Path | None
) -> Policy:
    """These policy files merged in order (later files win per key and per bound)."""
    policy = Policy()
    for path in files:
        name = str(path)
        policy.files.append(name)
        if check_owner:
            reason = unsafe_reason(path, root=root)
            if reason is not None:
                diags.append(
                    Diagnostic.plain(
                        name,
                        f"policy file refused: {reason}",
                        hint="install policy files as root:root, mode 0644,"
                        " in directories only root can write",
                    )
                )
                policy.sources.append(SourceStatus(name, "policy file", f"refused: {reason}"))
                continue
        text, problems = read_text(path, max_bytes=MAX_BYTES)
        diags.extend(problems)
        if text is None:
            why = problems[0].message if problems else "cannot be read"
            policy.sources.append(SourceStatus(name, "policy file", why))
            continue
        policy = _apply_text(policy, path, text, diags)
    return policy


def _apply_text(policy: Policy, path: Path, text: str, diags: list[Diagnostic]) -> Policy:
    """``policy`` with one more file's text merged in (or as it was, if the file is
    not TOML or checking it met a bug)."""
    name = str(path)
    data, problems = parse_toml(text, name, max_bytes=MAX_BYTES)
    if data is None:
        diags.extend(problems)
        diags.append(
            Diagnostic.plain(
                name,
                "policy file skipped: it is not valid TOML; other policy files still apply",
            )
        )
        policy.sources.append(SourceStatus(name, "policy file", "not valid TOML"))
        return policy
    file_diags: list[Diagnostic] = []
    trial = policy.copy()  # the file applies whole, or (a bug met) not at all
    try:
        positions = Positions(text)
        _read_file(data, name, positions, trial, file_diags)
    except Exception as exc:  # never a traceback that stops every user's daemon
        diags.append(Diagnostic.failed(name, exc))
        diags.append(Diagnostic.plain(name, "policy file skipped; other policy files apply"))
        policy.sources.append(SourceStatus(name, "policy file", "ergobreak failed to check it"))
        return policy
    trial.positions[name] = positions
    trial.applied.append(path)
    trial.texts.append((name, text))
    trial.sources.append(SourceStatus(name, "policy file"))
    file_diags.sort(key=lambda d: (d.line or 0, d.col or 0))
    diags.extend(file_diags)
    return trial


def _read_source(source: PolicySource) -> ChannelRead | None:
    try:
        return source.read()
    except Exception as exc:  # a bug in a reader: that source is broken, the rest applies
        diag = Diagnostic.failed(source.name, exc)
        return ChannelRead(source.name, source.channel, error=diag.message)


def _apply_channel(policy: Policy, read: ChannelRead | None, diags: list[Diagnostic]) -> Policy:
    """``policy`` with one OS channel's source merged over it (as it was when the
    source is absent, cannot be read, or checking it met a bug)."""
    if read is None:
        return policy
    if read.name not in policy.files:
        policy.files.append(read.name)
    if read.error is not None:
        diags.append(
            Diagnostic.plain(
                read.name,
                f"policy {read.error}; other policies still apply",
                hint="a running ergobreak keeps its last good policy meanwhile",
            )
        )
        policy.sources.append(SourceStatus(read.name, read.channel, read.error))
        return policy
    found: list[Diagnostic] = list(read.notes)
    trial = policy.copy()  # the source applies whole, or (a bug met) not at all
    try:
        _read_entries(read.entries, trial, found)
    except Exception as exc:  # never a traceback that stops every user's daemon
        diags.append(Diagnostic.failed(read.name, exc))
        policy.sources.append(SourceStatus(read.name, read.channel, "ergobreak failed to check it"))
        return policy
    trial.entry_paths.update(e.where for e in read.entries)
    trial.entry_paths.update(d.path for d in found)
    trial.texts.append((kept_name(read), kept_text(read)))
    trial.sources.append(SourceStatus(read.name, read.channel))
    diags.extend(found)
    return trial


def _read_entries(entries: Sequence[ChannelEntry], policy: Policy, diags: list[Diagnostic]) -> None:
    """Validate a channel's entries as :func:`_read_file` does a file's tables."""
    hints = Hints()
    bounds: dict[str, dict[str, tuple[Any, str]]] = {}
    for entry in entries:
        spec = channels.value_type(entry.name, entry.table)
        if spec is None:
            diags.append(_unknown_entry(entry, hints))
            continue
        try:
            raw = entry.decode()
            if spec.key is None:  # meta.organization / meta.contact: strings
                setattr(policy, entry.name.removeprefix("meta."), raw)
                continue
            if spec.bound is not None:
                bounds.setdefault(spec.key.name, {})[spec.bound] = (raw, entry.where)
                continue
            value = spec.key.parse(raw)
        except ValueProblem as exc:
            diags.append(Diagnostic.plain(entry.where, f"{exc}; entry ignored"))
            continue
        layer: Layer = "enforced" if entry.table == "enforced" else "policy default"
        target = policy.enforced if entry.table == "enforced" else policy.defaults
        target[spec.key.name] = (value, Origin(layer, entry.where))
    for key, given in bounds.items():
        spec_key = KEY_BY_NAME[key]
        parsed: dict[str, tuple[float, Origin]] = {}
        for bound, (raw, where) in given.items():
            try:
                parsed[bound] = (_limit_bound(spec_key, bound, raw), Origin("limit", where))
            except ValueProblem as exc:
                diags.append(Diagnostic.plain(where, f"{exc}; entry ignored"))
        if len(parsed) < len(given):
            continue  # as in a file: a limit with a bad bound is ignored whole
        problem = _set_limit(policy, spec_key, parsed.get("min"), parsed.get("max"))
        if problem is not None:
            at = (parsed.get("min") or parsed["max"])[1].path
            diags.append(Diagnostic.plain(at or key, problem))


def _unknown_entry(entry: ChannelEntry, hints: Hints) -> Diagnostic:
    """A value name the channel does not define: a warning, with a did-you-mean."""
    base, _, bound = entry.name.rpartition(".")
    spec = KEY_BY_NAME.get(base)
    if entry.table == "limits" and spec is not None and bound in ("min", "max"):
        return Diagnostic.plain(
            entry.where,
            f"limits apply to durations and numbers; {base} is {spec.expected}; entry ignored",
            hint="to fix its value, set it in the policy key itself (enforced) instead",
        )
    if entry.name in channels.META_NAMES:
        return Diagnostic.plain(
            entry.where,
            "unknown value (ignored)",
            severity="warning",
            hint=f"{entry.name} belongs in the policy key itself, not in a subkey",
        )
    close = hints.near(entry.name, list(channels.value_names(entry.table)), cutoff=0.75)
    return Diagnostic.plain(
        entry.where,
        "unknown value (ignored)",
        severity="warning",
        hint=f"did you mean {close}?" if close else None,
    )


def _drop_outside_limits(policy: Policy, diags: list[Diagnostic]) -> Policy:
    """An enforced value outside the policy's own limits is IT's mistake: say so, drop it."""
    for key, (value, _origin) in list(policy.enforced.items()):
        limit = policy.limits.get(key)
        if limit is not None and not within(value, limit):
            diags.append(
                policy.diag(
                    "enforced",
                    key,
                    f"enforced value {show_value(key, value)} is outside the policy's own limits"
                    f" ({describe_limit(key, limit)}, {limit.origin.where()}); entry ignored",
                )
            )
            policy.drop("enforced", key)
    return policy


def _read_file(
    data: dict[str, Any],
    name: str,
    positions: Positions,
    policy: Policy,
    diags: list[Diagnostic],
) -> None:
    hints = Hints()
    for top, raw in data.items():
        if top in POLICY_TOP:
            continue
        hint = "a policy has schema, [meta], [defaults], [enforced] and [limits]"
        close = hints.near(top, sorted(POLICY_TOP))
        if top in TABLES:
            hint = f"settings go in [defaults.{top}], [enforced.{top}] or [limits.{top}]"
        elif close:
            hint = f"did you mean {close if close == 'schema' else f'[{close}]'}?"
        diags.append(
            Diagnostic.at(
                name,
                positions,
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
            diags.append(Diagnostic.at(name, positions, "schema", problem[0], hint=problem[1]))
    meta = data.get("meta", {})
    if not isinstance(meta, dict):
        diags.append(
            Diagnostic.at(name, positions, "meta", f"expected a table [meta], got {found(meta)}")
        )
        meta = {}
    for key, raw in meta.items():
        if key not in META_FIELDS:
            diags.append(
                Diagnostic.at(
                    name,
                    positions,
                    f"meta.{key}",
                    "unknown key (ignored)",
                    severity="warning",
                    at_key=True,
                    hint="[meta] has organization and contact",
                )
            )
        elif not isinstance(raw, str):
            diags.append(
                Diagnostic.at(
                    name, positions, f"meta.{key}", f"expected a string, got {found(raw)}"
                )
            )
        elif key == "organization":
            policy.organization = raw
        else:
            policy.contact = raw
    for table in ("defaults", "enforced"):
        section = data.get(table, {})
        if not isinstance(section, dict):
            diags.append(
                Diagnostic.at(
                    name, positions, table, f"expected a table [{table}], got {found(section)}"
                )
            )
            continue
        good, problems = check_table(
            section, name, positions, allow_meta=False, prefix=f"{table}.", hints=hints
        )
        diags.extend(problems)
        target = policy.defaults if table == "defaults" else policy.enforced
        layer: Layer = "enforced" if table == "enforced" else "policy default"
        for key, value in good.items():
            pos = positions.find(f"{table}.{key}", at_key=True)
            target[key] = (value, Origin(layer, name, pos[0] if pos else None))
    section = data.get("limits", {})
    if not isinstance(section, dict):
        diags.append(
            Diagnostic.at(
                name, positions, "limits", f"expected a table [limits], got {found(section)}"
            )
        )
        return
    for top, raw in section.items():
        if top not in TABLES:
            near_top = suggest_table(top, hints) if isinstance(raw, dict) else suggest(top, hints)
            diags.append(
                Diagnostic.at(
                    name,
                    positions,
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
                Diagnostic.at(
                    name,
                    positions,
                    f"limits.{top}",
                    f"expected a table [limits.{top}], got {found(raw)}",
                )
            )
        else:
            for leaf, bounds in raw.items():
                _read_limit(
                    f"{top}.{leaf}",
                    bounds,
                    name=name,
                    positions=positions,
                    policy=policy,
                    diags=diags,
                    hints=hints,
                )


def _read_limit(
    key: str,
    raw: object,
    *,
    name: str,
    positions: Positions,
    policy: Policy,
    diags: list[Diagnostic],
    hints: Hints,
) -> None:
    dotted = f"limits.{key}"
    spec = KEY_BY_NAME.get(key)

    def error(message: str, *, at: str = dotted, hint: str | None = None) -> None:
        diags.append(Diagnostic.at(name, positions, at, message, hint=hint))

    if spec is None:
        near = suggest(key, hints)
        diags.append(
            Diagnostic.at(
                name,
                positions,
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
    pos = positions.find(dotted, at_key=True)
    here = Origin("limit", name, pos[0] if pos else None)
    bounds: dict[str, tuple[float, Origin]] = {}
    for bound in ("min", "max"):
        if bound not in raw:
            continue
        try:
            bounds[bound] = (_limit_bound(spec, bound, raw[bound]), here)
        except ValueProblem as exc:
            error(f"{exc}; entry ignored", at=f"{dotted}.{bound}")
            ok = False
    if not ok:
        return
    problem = _set_limit(policy, spec, bounds.get("min"), bounds.get("max"))
    if problem is not None:
        error(problem)


def _limit_bound(spec: Key, bound: str, raw: object) -> float:
    """One bound of a limit, within the key's own range.

    Raises:
        ValueProblem: not a value of the key's kind, or beyond its range.
    """
    value = spec.parse(raw, bounded=False)
    # Compare with the key's own range before any float conversion (TOML
    # integers are unbounded); a bound beyond it is no bound at all.
    if bound == "min" and spec.max is not None and value > spec.max:
        raise ValueProblem(
            f"min {spec.show(value)} is above the largest value {spec.name} allows"
            f" ({spec.show(spec.max)})"
        )
    if bound == "max" and spec.min is not None and value < spec.min:
        raise ValueProblem(
            f"max {spec.show(value)} is below the smallest value {spec.name} allows"
            f" ({spec.show(spec.min)})"
        )
    if spec.min is not None:
        value = max(value, spec.min)
    if spec.max is not None:
        value = min(value, spec.max)
    return float(value)


def _set_limit(
    policy: Policy,
    spec: Key,
    low_given: tuple[float, Origin] | None,
    high_given: tuple[float, Origin] | None,
) -> str | None:
    """Merge bounds over the policy's earlier limit on ``spec`` (a bound not given
    keeps the earlier one); the problem when min ends up above max (nothing set)."""
    here = (low_given or high_given or (0.0, Origin("limit")))[1]
    earlier = policy.limits.get(spec.name)
    low, low_from = low_given or (None, here)
    high, high_from = high_given or (None, here)
    if earlier is not None and low_given is None:
        low, low_from = earlier.min, earlier.min_origin or earlier.origin
    if earlier is not None and high_given is None:
        high, high_from = earlier.max, earlier.max_origin or earlier.origin
    if low is not None and high is not None and low > high:
        other = high_from if low_from == here else low_from
        also = f" (with the bound from {other.where()})" if other != here else ""
        return f"min {spec.show(low)} is above max {spec.show(high)}{also}; entry ignored"
    policy.limits[spec.name] = Limit(
        low,
        high,
        here,
        min_origin=low_from if low is not None else None,
        max_origin=high_from if high is not None else None,
    )
    return None


def within(value: Any, limit: Limit) -> bool:
    if limit.min is not None and value < limit.min:
        return False
    return not (limit.max is not None and value > limit.max)


def describe_limit(key: str, limit: Limit) -> str:
    """``"at most 1h"``, ``"10m to 40m"``."""
    if limit.min is not None and limit.max is not None:
        return f"{show_value(key, limit.min)} to {show_value(key, limit.max)}"
    if limit.min is not None:
        return f"at least {show_value(key, limit.min)}"
    return f"at most {show_value(key, limit.max)}"
