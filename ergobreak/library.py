"""The content library: posture cues and drills, built-in and custom, and the rotation.

Built-in content ships as package data (``ergobreak/content/*.toml``). IT or a
physiotherapist can add cues and drills as TOML files in a content folder next to
the policy or next to the user config (:func:`content_dirs`). Custom files are
checked with the same rules as the built-in ones and reported with the same
diagnostics as config files (``file:line:col: error: field: message``); a file
with errors is skipped as a whole and never hides the built-in library.

:func:`select` turns the ``[routines]`` config values into the core's
:class:`~ergobreak.core.content.Content`: the eligible drills, in a rotation that
alternates categories. Everything here is documented for users in ``docs/content.md``.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import itertools
import re
from bisect import bisect_right
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal, cast

from ergobreak.config.diagnostics import ConfigError, Diagnostic, Severity
from ergobreak.config.loader import parse_toml, read_text
from ergobreak.config.schema import KEY_BY_NAME
from ergobreak.config.schema import found as _found
from ergobreak.core.content import (
    CATEGORIES,
    EQUIPMENT_TAGS,
    ID_PATTERN,
    NOTICE_MAX,
    SPACE_TAGS,
    TAGS,
    TEXT_TARGET,
    Category,
    Content,
    Cue,
    Drill,
    Side,
    Step,
)
from ergobreak.toml import tomllib

#: a built-in drill lasts exactly this long
BUILTIN_SECONDS = 120
#: a custom drill may last from ... to ... seconds
CUSTOM_SECONDS = (60, 300)
#: longest single step, and most steps in a drill
STEP_SECONDS_MAX = 300
STEPS_MAX = 40
TITLE_MAX = 60
BUILTIN_ORIGIN = "built-in"
CONTENT_SCHEMA = 1

ID_RE = re.compile(ID_PATTERN)
DRILL_FIELDS = ("id", "title", "category", "summary", "tags", "sources", "safety", "steps")
STEP_FIELDS = ("seconds", "text", "side")
CUE_FIELDS = ("id", "text", "sources")
TOP_FIELDS = ("schema", "cue", "drill")
ROUTINE_KEYS = (
    "routines.categories",
    "routines.only",
    "routines.equipment",
    "routines.floor",
    "routines.prefer_seated",
    "routines.exclude_tags",
)


class ContentError(ValueError):
    """The built-in content does not validate (a packaging bug); carries diagnostics."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(d.headline() for d in self.diagnostics))


class SelectionError(ConfigError):
    """The ``[routines]`` settings leave no drill to rotate through.

    The diagnostic names the filters that emptied the set and how to widen it.
    """


# --------------------------------------------------------------- positions

PathKey = tuple[str | int, ...]
_BARE = re.compile(r"[A-Za-z0-9_-]+")
_SCALAR_END = re.compile(r"[,\]}\r\n#]")


class _Positions:
    """1-based ``(line, col)`` of every key and array element in a TOML text.

    Paths follow the parsed data: ``("drill", 2, "steps", 0, "text")`` is the
    ``text`` of the first step of the third ``[[drill]]``, whether the steps are
    written as inline tables or as ``[[drill.steps]]`` sections. Only run on text
    that ``tomllib`` accepted; on anything else it keeps what it found so far.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.splitlines()
        self.keys: dict[PathKey, tuple[int, int, int]] = {}
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self._arrays: dict[PathKey, int] = {}
        with contextlib.suppress(IndexError, ValueError):
            self._scan()

    def find(self, path: PathKey, *, at_key: bool = False) -> tuple[int, int] | None:
        """Where ``path`` is written, or its nearest written ancestor."""
        for n in range(len(path), 0, -1):
            hit = self.keys.get(path[:n])
            if hit:
                line, key_col, value_col = hit
                return line, (key_col if at_key or n < len(path) else value_col)
        return None

    def source(self, line: int | None) -> str | None:
        if line is None or not 1 <= line <= len(self.lines):
            return None
        return self.lines[line - 1]

    # -- scanner

    def _lc(self, i: int) -> tuple[int, int]:
        line = bisect_right(self._starts, i)
        return line, i - self._starts[line - 1] + 1

    def _skip(self, i: int, *, newlines: bool) -> int:
        t = self.text
        while i < len(t):
            ch = t[i]
            if ch in " \t" or (newlines and ch in "\r\n"):
                i += 1
            elif ch == "#":
                while i < len(t) and t[i] != "\n":
                    i += 1
            else:
                break
        return i

    def _scan(self) -> None:
        t = self.text
        table: PathKey = ()
        i = 0
        while True:
            i = self._skip(i, newlines=True)
            if i >= len(t):
                return
            if t[i] != "[":
                i = self._keyval(i, table)
                continue
            start = i
            many = t.startswith("[[", i)
            parts, i = self._key(i + (2 if many else 1))
            i = self._skip(i, newlines=False) + (2 if many else 1)
            full = (*self._resolve(parts[:-1]), parts[-1])
            if many:
                index = self._arrays.get(full, 0)
                self._arrays[full] = index + 1
                table = (*full, index)
            else:
                table = full
            line, col = self._lc(start)
            self.keys.setdefault(table, (line, col, col))

    def _resolve(self, parts: Sequence[str]) -> PathKey:
        out: PathKey = ()
        for part in parts:
            out = (*out, part)
            if out in self._arrays:
                out = (*out, self._arrays[out] - 1)
        return out

    def _key(self, i: int) -> tuple[tuple[str, ...], int]:
        t = self.text
        parts: list[str] = []
        while True:
            i = self._skip(i, newlines=False)
            if t[i] in "\"'":
                end = self._string_end(i)
                parts.append(t[i + 1 : end - 1])
                i = end
            else:
                match = _BARE.match(t, i)
                if not match:
                    raise ValueError(f"no key at offset {i}")
                parts.append(match.group())
                i = match.end()
            j = self._skip(i, newlines=False)
            if j < len(t) and t[j] == ".":
                i = j + 1
                continue
            return tuple(parts), i

    def _keyval(self, i: int, table: PathKey) -> int:
        start = i
        parts, i = self._key(i)
        i = self._skip(i, newlines=False)
        if self.text[i] != "=":
            raise ValueError(f"no '=' at offset {i}")
        i = self._skip(i + 1, newlines=False)
        line, key_col = self._lc(start)
        self.keys.setdefault((*table, *parts), (line, key_col, self._lc(i)[1]))
        return self._value(i, (*table, *parts))

    def _value(self, i: int, path: PathKey) -> int:
        t = self.text
        if t[i] == "[":
            i, index = i + 1, 0
            while True:
                i = self._skip(i, newlines=True)
                if t[i] == "]":
                    return i + 1
                line, col = self._lc(i)
                self.keys.setdefault((*path, index), (line, col, col))
                i = self._progress(i, self._value(i, (*path, index)))
                index += 1
                i = self._skip(i, newlines=True)
                if t[i] == ",":
                    i += 1
        if t[i] == "{":
            i += 1
            while True:
                i = self._skip(i, newlines=True)
                if t[i] == "}":
                    return i + 1
                i = self._progress(i, self._keyval(i, path))
                i = self._skip(i, newlines=True)
                if t[i] == ",":
                    i += 1
        if t[i] in "\"'":
            return self._string_end(i)
        match = _SCALAR_END.search(t, i)
        return match.start() if match else len(t)

    @staticmethod
    def _progress(before: int, after: int) -> int:
        if after <= before:
            raise ValueError(f"stuck at offset {before}")
        return after

    def _string_end(self, i: int) -> int:
        t = self.text
        quote = t[i]
        if t.startswith(quote * 3, i):
            j = i + 3
            while True:
                if quote == '"' and t[j] == "\\":
                    j += 2
                elif t.startswith(quote * 3, j):
                    j += 3
                    for _ in range(2):  # up to two quotes may end the content
                        if j < len(t) and t[j] == quote:
                            j += 1
                    return j
                else:
                    j += 1
        j = i + 1
        while t[j] != quote:
            j += 2 if quote == '"' and t[j] == "\\" else 1
        return j + 1


# -------------------------------------------------------------- validation


def _near(name: str, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=cutoff)
    return close[0] if close else None


def _label(kind: str, raw: object, index: int) -> str:
    ident = raw.get("id") if isinstance(raw, dict) else None
    if isinstance(ident, str) and ID_RE.fullmatch(ident):
        return f"{kind}.{ident}"
    return f"{kind}[{index + 1}]"


class _Checker:
    """Validate one content file's data, collecting diagnostics with positions."""

    def __init__(
        self, path: str, text: str, *, builtin: bool, known_sources: Collection[str]
    ) -> None:
        self.path = path
        self.pos = _Positions(text)
        self.builtin = builtin
        self.known_sources = known_sources
        self.diagnostics: list[Diagnostic] = []

    def report(
        self,
        where: PathKey,
        key: str | None,
        message: str,
        *,
        severity: Severity = "error",
        at_key: bool = False,
        hint: str | None = None,
    ) -> None:
        found = self.pos.find(where, at_key=at_key)
        line, col = found if found else (None, None)
        self.diagnostics.append(
            Diagnostic(
                path=self.path,
                line=line,
                col=col,
                severity=severity,
                key=key,
                message=message,
                source=self.pos.source(line),
                hint=hint,
            )
        )

    @property
    def errors(self) -> int:
        return sum(d.severity == "error" for d in self.diagnostics)

    # -- fields

    def unknown(
        self, raw: dict[str, Any], allowed: Sequence[str], where: PathKey, label: str
    ) -> None:
        for name in raw:
            if name not in allowed:
                near = _near(name, allowed)
                self.report(
                    (*where, name),
                    f"{label}.{name}" if label else name,
                    "unknown field (ignored)",
                    severity="warning",
                    at_key=True,
                    hint=f"did you mean {near}?" if near else None,
                )

    def ident(self, raw: dict[str, Any], where: PathKey, label: str) -> str | None:
        value = raw.get("id")
        if value is None:
            self.report(where, f"{label}.id", "missing required field")
            return None
        if not isinstance(value, str) or not ID_RE.fullmatch(value):
            self.report(
                (*where, "id"),
                f"{label}.id",
                "expected an id of lowercase letters, digits and underscores, starting"
                f" with a letter (2-40 characters), got {_found(value)}",
            )
            return None
        return value

    def text(
        self,
        raw: dict[str, Any],
        name: str,
        where: PathKey,
        label: str,
        *,
        limit: int,
        required: bool,
    ) -> str | None:
        value = raw.get(name)
        key = f"{label}.{name}"
        if value is None:
            if required:
                self.report(where, key, "missing required field")
            return None
        if not isinstance(value, str):
            self.report((*where, name), key, f"expected text in quotes, got {_found(value)}")
            return None
        value = value.strip()
        if not value:
            self.report((*where, name), key, "expected some text, got an empty string")
            return None
        if len(value) > limit:
            self.report(
                (*where, name), key, f"is {len(value)} characters long; keep it within {limit}"
            )
            return None
        return value

    def choice(
        self,
        raw: dict[str, Any],
        name: str,
        choices: Sequence[str],
        where: PathKey,
        label: str,
    ) -> str | None:
        value = raw.get(name)
        key = f"{label}.{name}"
        if value is None:
            self.report(where, key, "missing required field")
            return None
        if not isinstance(value, str) or value not in choices:
            near = _near(value, choices) if isinstance(value, str) else None
            hint = f' (did you mean "{near}"?)' if near else ""
            self.report(
                (*where, name),
                key,
                f"expected one of {', '.join(choices)}, got {_found(value)}{hint}",
            )
            return None
        return value

    def strings(
        self, raw: dict[str, Any], name: str, where: PathKey, label: str, example: str
    ) -> list[tuple[int, str]] | None:
        """A TOML array of distinct, non-empty strings, as (index, value) pairs."""
        value = raw.get(name)
        key = f"{label}.{name}"
        if not isinstance(value, list):
            self.report(
                (*where, name), key, f"expected an array like {example}, got {_found(value)}"
            )
            return None
        out: list[tuple[int, str]] = []
        seen: set[str] = set()
        for j, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self.report((*where, name, j), key, f"expected text in quotes, got {_found(item)}")
                return None
            if item in seen:
                self.report((*where, name, j), key, f'"{item}" is listed twice')
                return None
            seen.add(item)
            out.append((j, item))
        return out

    def tags(self, raw: dict[str, Any], where: PathKey, label: str) -> frozenset[str] | None:
        key = f"{label}.tags"
        if "tags" not in raw:
            self.report(where, key, "missing required field")
            return None
        items = self.strings(raw, "tags", where, label, '["desk", "standing"]')
        if items is None:
            return None
        for j, tag in items:
            if tag not in TAGS:
                near = _near(tag, TAGS)
                hint = f' (did you mean "{near}"?)' if near else ""
                self.report(
                    (*where, "tags", j),
                    key,
                    f'unknown tag "{tag}"{hint}; known tags: {", ".join(TAGS)}',
                )
                return None
        tags = frozenset(tag for _, tag in items)
        if not tags & set(SPACE_TAGS):
            self.report(
                (*where, "tags"),
                key,
                f"needs a tag saying where the drill is done: {', '.join(SPACE_TAGS)}",
            )
            return None
        return tags

    def sources(self, raw: dict[str, Any], where: PathKey, label: str) -> tuple[str, ...] | None:
        key = f"{label}.sources"
        if "sources" not in raw:
            if self.builtin:
                self.report(where, key, "missing required field")
                return None
            return ()
        items = self.strings(raw, "sources", where, label, '["S30", "https://..."]')
        if items is None:
            return None
        if self.builtin:
            if not items:
                self.report((*where, "sources"), key, "expected at least one source")
                return None
            for j, source in items:
                if source not in self.known_sources:
                    self.report(
                        (*where, "sources", j), key, f'unknown source "{source}" (see sources.toml)'
                    )
                    return None
        return tuple(source for _, source in items)

    def steps(self, raw: dict[str, Any], where: PathKey, label: str) -> tuple[Step, ...] | None:
        key = f"{label}.steps"
        value = raw.get("steps")
        if value is None:
            self.report(where, key, "missing required field")
            return None
        example = '[{ seconds = 30, text = "..." }]'
        if not isinstance(value, list):
            self.report(
                (*where, "steps"), key, f"expected an array like {example}, got {_found(value)}"
            )
            return None
        if not value or len(value) > STEPS_MAX:
            self.report(
                (*where, "steps"), key, f"expected 1 to {STEPS_MAX} steps, got {len(value)}"
            )
            return None
        errors = self.errors
        steps: list[Step] = []
        for j, item in enumerate(value):
            step = self.step(item, (*where, "steps", j), f"{key}[{j + 1}]")
            if step is not None:
                steps.append(step)
        if self.errors > errors:
            return None
        total = sum(int(step.seconds) for step in steps)
        if self.builtin and total != BUILTIN_SECONDS:
            self.report(
                (*where, "steps"),
                key,
                f"steps add up to {total} s; a built-in drill lasts exactly {BUILTIN_SECONDS} s",
            )
            return None
        low, high = CUSTOM_SECONDS
        if not low <= total <= high:
            self.report(
                (*where, "steps"),
                key,
                f"steps add up to {total} s; a drill lasts {low} to {high} s"
                f" ({BUILTIN_SECONDS} s is usual)",
            )
            return None
        return tuple(steps)

    def step(self, raw: object, where: PathKey, label: str) -> Step | None:
        if not isinstance(raw, dict):
            self.report(
                where,
                label,
                f'expected a table like {{ seconds = 30, text = "..." }}, got {_found(raw)}',
            )
            return None
        self.unknown(raw, STEP_FIELDS, where, label)
        errors = self.errors
        seconds = raw.get("seconds")
        if seconds is None:
            self.report(where, f"{label}.seconds", "missing required field")
        elif isinstance(seconds, bool) or not isinstance(seconds, int):
            self.report(
                (*where, "seconds"),
                f"{label}.seconds",
                f"expected a whole number of seconds, got {_found(seconds)}",
            )
        elif not 1 <= seconds <= STEP_SECONDS_MAX:
            self.report(
                (*where, "seconds"),
                f"{label}.seconds",
                f"must be 1 to {STEP_SECONDS_MAX} seconds, got {seconds}",
            )
        side = raw.get("side")
        if side is not None and side not in ("left", "right"):
            self.report(
                (*where, "side"), f"{label}.side", f'expected "left" or "right", got {_found(side)}'
            )
        text = self.text(raw, "text", where, label, limit=TEXT_TARGET, required=True)
        if self.errors > errors or text is None or not isinstance(seconds, int):
            return None
        return Step(seconds=float(seconds), text=text, side=cast(Side | None, side))

    # -- entries

    def drill(self, raw: object, index: int) -> Drill | None:
        where: PathKey = ("drill", index)
        label = _label("drill", raw, index)
        if not isinstance(raw, dict):
            self.report(where, label, f"expected a table of drill fields, got {_found(raw)}")
            return None
        errors = self.errors
        self.unknown(raw, DRILL_FIELDS, where, label)
        ident = self.ident(raw, where, label)
        title = self.text(raw, "title", where, label, limit=TITLE_MAX, required=True)
        category = self.choice(raw, "category", CATEGORIES, where, label)
        summary = self.text(raw, "summary", where, label, limit=TEXT_TARGET, required=False)
        safety = self.text(raw, "safety", where, label, limit=NOTICE_MAX, required=True)
        tags = self.tags(raw, where, label)
        sources = self.sources(raw, where, label)
        steps = self.steps(raw, where, label)
        if (
            self.errors > errors
            or ident is None
            or title is None
            or category is None
            or safety is None
            or tags is None
            or sources is None
            or steps is None
        ):
            return None
        return Drill(
            id=ident,
            title=title,
            category=cast(Category, category),
            steps=steps,
            safety=safety,
            tags=tags,
            sources=sources,
            summary=summary or "",
        )

    def cue(self, raw: object, index: int) -> Cue | None:
        where: PathKey = ("cue", index)
        label = _label("cue", raw, index)
        if not isinstance(raw, dict):
            self.report(where, label, f"expected a table of cue fields, got {_found(raw)}")
            return None
        errors = self.errors
        self.unknown(raw, CUE_FIELDS, where, label)
        ident = self.ident(raw, where, label)
        text = self.text(raw, "text", where, label, limit=TEXT_TARGET, required=True)
        sources = self.sources(raw, where, label)
        if self.errors > errors or ident is None or text is None or sources is None:
            return None
        return Cue(id=ident, text=text, sources=sources)


# -------------------------------------------------------------------- files


@dataclass(frozen=True, slots=True)
class ContentFile:
    """One checked content file: what it defines, and what is wrong with it."""

    path: str
    cues: tuple[Cue, ...] = ()
    drills: tuple[Drill, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    #: ``"drill:ID"`` / ``"cue:ID"`` -> (line, col, source line) of the entry's id
    where: Mapping[str, tuple[int | None, int | None, str | None]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)


def parse_content(
    text: str,
    path: str,
    *,
    builtin: bool = False,
    known_sources: Collection[str] = (),
) -> ContentFile:
    """Check the text of one content file (``[[cue]]`` and ``[[drill]]`` tables).

    ``builtin`` applies the stricter rules for shipped data: exactly 120 s per
    drill and sources from ``known_sources``. Never raises on bad content.
    """
    data, diags = parse_toml(text, path)
    if data is None:
        return ContentFile(path=path, diagnostics=tuple(diags))
    check = _Checker(path, text, builtin=builtin, known_sources=known_sources)
    check.unknown(data, TOP_FIELDS, (), "")
    if "schema" in data and data["schema"] != CONTENT_SCHEMA:
        check.report(
            ("schema",),
            "schema",
            f"expected schema = {CONTENT_SCHEMA}, got {_found(data['schema'])}",
        )
    cues: list[Cue] = []
    drills: list[Drill] = []
    where: dict[str, tuple[int | None, int | None, str | None]] = {}
    for kind in ("cue", "drill"):
        entries = data.get(kind, [])
        if not isinstance(entries, list):
            check.report(
                (kind,), kind, f"expected [[{kind}]] tables, got {_found(entries)}", at_key=True
            )
            continue
        for index, raw in enumerate(entries):
            item = check.cue(raw, index) if kind == "cue" else check.drill(raw, index)
            if item is None:
                continue
            id_at = (kind, index, "id")
            ref = f"{kind}:{item.id}"
            if ref in where:
                line = where[ref][0]
                check.report(
                    id_at,
                    f"{kind}.{item.id}.id",
                    f'duplicate id "{item.id}"'
                    + (f" (first defined on line {line})" if line else ""),
                )
                continue
            found = check.pos.find(id_at)
            line, col = found if found else (None, None)
            where[ref] = (line, col, check.pos.source(line))
            if isinstance(item, Cue):
                cues.append(item)
            else:
                drills.append(item)
    if not data.get("cue") and not data.get("drill") and check.errors == 0:
        check.report((), None, "no [[cue]] or [[drill]] tables in this file", severity="warning")
    return ContentFile(
        path=path,
        cues=tuple(cues),
        drills=tuple(drills),
        diagnostics=tuple(check.diagnostics),
        where=where,
    )


def load_content_file(path: Path, *, known_sources: Collection[str] = ()) -> ContentFile:
    """Read and check one custom content file."""
    text, diags = read_text(path)
    if text is None:
        return ContentFile(path=str(path), diagnostics=tuple(diags))
    return parse_content(text, str(path), known_sources=known_sources)


# ----------------------------------------------------------------- sources


@dataclass(frozen=True, slots=True)
class Source:
    id: str
    title: str
    urls: tuple[str, ...] = ()
    note: str = ""


def _package_text(name: str) -> str:
    return (resources.files("ergobreak") / "content" / name).read_text(encoding="utf-8")


@functools.cache
def sources() -> dict[str, Source]:
    """The source list shipped with the built-in content, by id (``S1`` ...)."""
    data = tomllib.loads(_package_text("sources.toml"))
    out: dict[str, Source] = {}
    for raw in data.get("source", []):
        out[raw["id"]] = Source(
            id=raw["id"],
            title=raw["title"],
            urls=tuple(raw.get("urls", ())),
            note=raw.get("note", ""),
        )
    return out


@functools.cache
def safety_text() -> dict[str, str]:
    """The user-facing safety text (onboarding, drill footer, stop rules, red flags)
    and the help page (``help.hip_replacement`` ...), by key."""
    data = tomllib.loads(_package_text("safety.toml"))
    out = {k: v for k, v in data.items() if isinstance(v, str)}
    out.update({f"help.{k}": v for k, v in data.get("help", {}).items()})
    return out


# ----------------------------------------------------------------- library


@dataclass(frozen=True, slots=True, kw_only=True)
class Library:
    """Every cue and drill that can be used, built-in and custom, in order."""

    cues: tuple[Cue, ...]
    drills: tuple[Drill, ...]
    #: ``"drill:ID"`` / ``"cue:ID"`` -> ``"built-in"`` or the custom file's path
    origins: Mapping[str, str] = field(default_factory=dict)

    def drill(self, drill_id: str) -> Drill | None:
        for drill in self.drills:
            if drill.id == drill_id:
                return drill
        return None

    def origin(self, drill_id: str, kind: Literal["drill", "cue"] = "drill") -> str:
        return self.origins.get(f"{kind}:{drill_id}", BUILTIN_ORIGIN)

    def suggest(self, name: str) -> str | None:
        """A close drill id for a misspelt one."""
        return _near(name, [drill.id for drill in self.drills], cutoff=0.5)


BUILTIN_FILES = ("cues.toml", "drills.toml")


@functools.cache
def builtin_library() -> Library:
    """The shipped cues and drills.

    Raises:
        ContentError: if the package data does not validate (a packaging bug).
    """
    cues: list[Cue] = []
    drills: list[Drill] = []
    problems: list[Diagnostic] = []
    known = set(sources())
    for name in BUILTIN_FILES:
        checked = parse_content(
            _package_text(name), f"ergobreak/content/{name}", builtin=True, known_sources=known
        )
        problems.extend(checked.diagnostics)  # for built-in data, warnings count too
        cues.extend(checked.cues)
        drills.extend(checked.drills)
    ids = [drill.id for drill in drills]
    problems.extend(
        Diagnostic.plain("ergobreak/content", f'duplicate drill id "{ident}"')
        for ident in sorted({i for i in ids if ids.count(i) > 1})
    )
    if problems or not cues or not drills:
        raise ContentError(problems)
    return Library(cues=tuple(cues), drills=tuple(drills))


def content_dirs() -> tuple[Path, ...]:
    """Custom content folders, lowest precedence first: next to the user config, then
    next to the policy (so IT's drills win over a user's file with the same id)."""
    from ergobreak.paths import paths  # noqa: PLC0415 - platformdirs only when needed

    found = paths()
    return (found.user_content_dir, found.policy_content_dir)


def load_library(
    dirs: Sequence[Path] | None = None, *, base: Library | None = None
) -> tuple[Library, list[Diagnostic]]:
    """The built-in library plus every ``*.toml`` in ``dirs`` (default :func:`content_dirs`).

    Files load in order (folders in the given order, files sorted by name within
    a folder). A file with any error is skipped as a whole; a later file's cue or
    drill replaces an earlier one with the same id, with a warning. Never raises
    for custom content: problems come back as diagnostics.
    """
    base = base if base is not None else builtin_library()
    folders = content_dirs() if dirs is None else tuple(dirs)
    cues: dict[str, Cue] = {cue.id: cue for cue in base.cues}
    drills: dict[str, Drill] = {drill.id: drill for drill in base.drills}
    origins: dict[str, str] = dict(base.origins)
    diags: list[Diagnostic] = []
    known = set(sources())
    for folder in folders:
        try:
            files = sorted(folder.glob("*.toml")) if folder.is_dir() else []
        except OSError as exc:
            diags.append(_plain(folder, f"cannot read this folder: {exc.strerror or exc}"))
            continue
        for file in files:
            checked = load_content_file(file, known_sources=known)
            diags.extend(checked.diagnostics)
            if not checked.ok:
                errors = sum(d.severity == "error" for d in checked.diagnostics)
                diags.append(
                    _plain(
                        file,
                        f"skipped this file ({errors} error{'s' if errors != 1 else ''});"
                        " the built-in library and other content files still load",
                    )
                )
                continue
            for kind, items in (("cue", checked.cues), ("drill", checked.drills)):
                table: dict[str, Any] = cues if kind == "cue" else drills
                for item in items:
                    ref = f"{kind}:{item.id}"
                    if item.id in table:
                        line, col, source = checked.where.get(ref, (None, None, None))
                        was = origins.get(ref, BUILTIN_ORIGIN)
                        diags.append(
                            Diagnostic(
                                path=str(file),
                                line=line,
                                col=col,
                                severity="warning",
                                key=f"{kind}.{item.id}",
                                message=f"replaces the {kind} with this id from "
                                + ("the built-in library" if was == BUILTIN_ORIGIN else was),
                                source=source,
                            )
                        )
                    table[item.id] = item
                    origins[ref] = str(file)
    library = Library(cues=tuple(cues.values()), drills=tuple(drills.values()), origins=origins)
    return library, diags


def _plain(path: Path, message: str) -> Diagnostic:
    return Diagnostic.plain(str(path), message, severity="warning")


# ---------------------------------------------------------------- rotation


def _arrangement_cost(counts: Mapping[str, int], left: str, right: str) -> int:
    """Fewest same-category neighbours when the remaining drills (``counts``) go in a
    row between a drill of category ``left`` and one of category ``right``."""
    total = sum(counts.values())
    if total == 0:
        return int(left == right)
    worst = 0
    for cat in {*counts, left, right}:
        k = counts.get(cat, 0)
        ends = (left == cat) + (right == cat)
        worst = max(worst, 2 * k + ends - 1 - total)
    return worst


def rotation(drills: Iterable[Drill], order: Sequence[str] = CATEGORIES) -> tuple[Drill, ...]:
    """Order drills so categories alternate, following ``order`` (hip flexor, hinge, ...).

    The rotation is cycled, so it is planned as a ring with the fewest back-to-back
    drills of one category possible: none unless one category holds more than half
    of the drills. The ring then starts where the fewest such pairs fall inside one
    pass (the rest sit at the wrap-around), preferring to start with the earliest
    category in ``order``. Categories come round in ``order`` wherever that does not
    cost an extra pair, and drills keep their given order within a category.
    """
    queues: dict[str, list[Drill]] = {cat: [] for cat in order}
    for drill in drills:
        queues.setdefault(drill.category, []).append(drill)
    cats = [cat for cat, queue in queues.items() if queue]
    counts = {cat: len(queues[cat]) for cat in cats}
    ring: list[str] = []
    while any(counts.values()):
        prev = ring[-1] if ring else None
        first = ring[0] if ring else None
        start = cats.index(prev) + 1 if prev is not None else 0
        best: tuple[int, str] | None = None
        for cat in cats[start:] + cats[:start]:
            if not counts[cat]:
                continue
            counts[cat] -= 1
            cost = int(prev == cat) + _arrangement_cost(
                counts, cat, first if first is not None else cat
            )
            counts[cat] += 1
            if best is None or cost < best[0]:
                best = (cost, cat)
        assert best is not None
        counts[best[1]] -= 1
        ring.append(best[1])

    def pairs(seq: Sequence[str]) -> int:
        return sum(a == b for a, b in itertools.pairwise(seq))

    offset = min(
        range(len(ring)),
        key=lambda k: (pairs(ring[k:] + ring[:k]), cats.index(ring[k]), k),
        default=0,
    )
    return tuple(queues[cat].pop(0) for cat in ring[offset:] + ring[:offset])


# --------------------------------------------------------------- selection


def routine_values(values: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ``routines.*`` settings from parsed config ``values``, defaults filled in."""
    out = {name: KEY_BY_NAME[name].parse(KEY_BY_NAME[name].default) for name in ROUTINE_KEYS}
    for name in ROUTINE_KEYS:
        if values is not None and name in values:
            out[name] = values[name]
    return out


@dataclass(frozen=True, slots=True)
class Selection:
    """The rotation chosen from a library by the ``[routines]`` settings."""

    drills: tuple[Drill, ...]
    #: drill id -> why it is not in the rotation
    left_out: Mapping[str, str]
    #: warnings, e.g. unknown ids in ``routines.only``
    diagnostics: tuple[Diagnostic, ...] = ()


def _toml_list(items: Iterable[str]) -> str:
    return "[" + ", ".join(f'"{item}"' for item in items) + "]"


def selection(
    library: Library,
    values: Mapping[str, Any] | None = None,
    *,
    path: str | None = None,
    text: str | None = None,
) -> Selection:
    """Apply the ``[routines]`` settings to ``library``.

    ``values`` are parsed config values (``ergobreak.config.load_file(...).values``;
    missing keys take their defaults). ``path`` and ``text`` are the config file
    they came from, used only to point diagnostics at the right line.

    Raises:
        SelectionError: when no drill is eligible; the message names the filters.
    """
    v = routine_values(values)
    categories = [str(c) for c in v["routines.categories"]]
    only = [str(i) for i in v["routines.only"]]
    equipment = set(v["routines.equipment"])
    floor = bool(v["routines.floor"])
    seated = bool(v["routines.prefer_seated"])
    exclude = set(v["routines.exclude_tags"])

    where = _Positions(text) if text is not None else None
    origin = path or "config"

    def diag(
        at: PathKey, key: str, severity: Severity, message: str, hint: str | None = None
    ) -> Diagnostic:
        found = where.find(at) if where else None
        line, col = found if found else (None, None)
        return Diagnostic(
            path=origin,
            line=line,
            col=col,
            severity=severity,
            key=key,
            message=message,
            source=where.source(line) if where else None,
            hint=hint,
        )

    warnings: list[Diagnostic] = []
    left_out: dict[str, str] = {}
    if only:
        candidates: list[Drill] = []
        for j, ident in enumerate(only):
            drill = library.drill(ident)
            if drill is None:
                near = library.suggest(ident)
                warnings.append(
                    diag(
                        ("routines", "only", j),
                        "routines.only",
                        "warning",
                        f'unknown routine "{ident}" (ignored)',
                        f"did you mean {near}?" if near else "see: ergobreak routines list",
                    )
                )
            else:
                candidates.append(drill)
        chosen = {d.id for d in candidates}
        for drill in library.drills:
            if drill.id not in chosen:
                left_out[drill.id] = "not in routines.only"
        picked_by = f"routines.only = {_toml_list(only)}"
    else:
        cats = [*categories, "seated"] if seated and "seated" not in categories else categories
        candidates = [d for d in library.drills if d.category in cats]
        for drill in library.drills:
            if drill.category not in cats:
                left_out[drill.id] = f"category {drill.category} is not in routines.categories"
        picked_by = f"routines.categories = {_toml_list(categories)}" + (
            " (with seated, for routines.prefer_seated)" if cats != categories else ""
        )

    filters = {
        "prefer_seated": "routines.prefer_seated = true",
        "floor": "routines.floor = false",
        "equipment": f"routines.equipment = {_toml_list(v['routines.equipment'])}",
        "exclude_tags": f"routines.exclude_tags = {_toml_list(v['routines.exclude_tags'])}",
    }
    removed: dict[str, list[str]] = {name: [] for name in filters}
    eligible: list[Drill] = []
    for drill in candidates:
        why: list[str] = []
        if seated and "seated" not in drill.tags:
            removed["prefer_seated"].append(drill.id)
            why.append("not done seated (routines.prefer_seated)")
        if not floor and "floor" in drill.tags:
            removed["floor"].append(drill.id)
            why.append("floor work (routines.floor = false)")
        missing = sorted(tag for tag in drill.tags & set(EQUIPMENT_TAGS) if tag not in equipment)
        if missing:
            removed["equipment"].append(drill.id)
            why.append(f"needs {' and '.join(missing)} (routines.equipment)")
        hit = sorted(drill.tags & exclude)
        if hit:
            removed["exclude_tags"].append(drill.id)
            why.append(f"tagged {', '.join(hit)} (routines.exclude_tags)")
        if why:
            left_out[drill.id] = "; ".join(why)
        else:
            eligible.append(drill)

    if not eligible:
        n = len(candidates)
        parts = [f"{picked_by} selects {n} drill{'s' if n != 1 else ''}"]
        parts += [
            f"{filters[name]} removes {', '.join(ids)}" for name, ids in removed.items() if ids
        ]
        fixes = {
            "prefer_seated": "set routines.prefer_seated = false",
            "floor": "set routines.floor = true",
            "equipment": "add equipment you have to routines.equipment",
            "exclude_tags": "exclude fewer tags",
        }
        hints = [fixes[name] for name, ids in removed.items() if ids]
        hints.append("choose more categories" if not only else "list more ids in routines.only")
        error = diag(
            ("routines",),
            "routines",
            "error",
            "no drill is eligible: " + "; ".join(parts),
            "to widen the choice: " + ", or ".join(hints),
        )
        raise SelectionError([*warnings, error])

    drills = tuple(eligible) if only else rotation(eligible, [*categories, *CATEGORIES])
    ordered = {d.id: left_out[d.id] for d in library.drills if d.id in left_out}
    return Selection(drills=drills, left_out=ordered, diagnostics=tuple(warnings))


def select(
    library: Library,
    values: Mapping[str, Any] | None = None,
    *,
    path: str | None = None,
    text: str | None = None,
) -> Content:
    """The core's :class:`Content` for these ``[routines]`` settings (see :func:`selection`).

    Raises:
        SelectionError: when no drill is eligible.
    """
    chosen = selection(library, values, path=path, text=text)
    return Content(cues=library.cues, drills=chosen.drills, library=library.drills)


def default_content() -> Content:
    """The built-in library with the default ``[routines]`` settings."""
    return select(builtin_library())
