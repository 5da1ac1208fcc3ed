"""IT policy: the files, who may write them, and what they recommend, enforce and bound.

``policy.toml`` and ``policy.d/*.toml`` (:func:`discover_policy_files`) are
read only when root owns them and their folders (:func:`unsafe_reason`). Each
has ``[defaults]`` (recommended values), ``[enforced]`` (locked values) and
``[limits]`` (ranges that clamp the final value); later files win per key and
per bound. A bad entry is an error diagnostic that disables only that entry.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from ergobreak.config.kinds import ValueProblem
from ergobreak.config.loader import (
    MAX_BYTES,
    check_table,
    schema_problem,
    suggest,
    suggest_table,
)
from ergobreak.config.origin import Layer, Origin
from ergobreak.config.schema import KEY_BY_NAME, TABLES
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
    #: each applied file's text, in order (:data:`PolicyText`)
    texts: list[tuple[str, str]] = field(default_factory=list)

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
) -> Policy:
    """Every policy file merged; problems go to ``diags``.

    ``files``: explicit files (``--policy`` drafts, never checked for ownership);
    ``None`` discovers the admin paths and, with ``check_owner``, refuses unsafe
    files. ``texts``: use these files as read earlier instead (the last good
    policy a running daemon kept); nothing is read from disk.
    """
    if texts is not None:
        policy = Policy()
        for name, text in texts:
            policy.files.append(name)
            policy = _apply_text(policy, Path(name), text, diags)
        return _drop_outside_limits(policy, diags)
    if files is not None:
        return _read_policy(files, diags, check_owner=False, root=None)
    found = paths()
    return _read_policy(
        discover_policy_files(found.policy_file, found.policy_d),
        diags,
        check_owner=check_owner,
        root=found.policy_file.parent,
    )


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
                continue
        text, problems = read_text(path, max_bytes=MAX_BYTES)
        diags.extend(problems)
        if text is None:
            continue
        policy = _apply_text(policy, path, text, diags)
    return _drop_outside_limits(policy, diags)


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
        return policy
    file_diags: list[Diagnostic] = []
    trial = policy.copy()  # the file applies whole, or (a bug met) not at all
    try:
        positions = Positions(text)
        _read_file(data, name, positions, trial, file_diags)
    except Exception as exc:  # never a traceback that stops every user's daemon
        diags.append(Diagnostic.failed(name, exc))
        diags.append(Diagnostic.plain(name, "policy file skipped; other policy files apply"))
        return policy
    trial.positions[name] = positions
    trial.applied.append(path)
    trial.texts.append((name, text))
    file_diags.sort(key=lambda d: (d.line or 0, d.col or 0))
    diags.extend(file_diags)
    return trial


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
    pos = positions.find(dotted, at_key=True)
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
