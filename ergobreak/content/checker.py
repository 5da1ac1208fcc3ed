"""The rules for one content file's cues and drills, with a diagnostic at each break.

Custom files follow the same rules as the built-in ones, except that a built-in
drill lasts exactly :data:`BUILTIN_SECONDS` and cites sources from
``sources.toml``. Field by field the rules are documented in ``docs/content.md``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import cast

from ergobreak.core.content import (
    CATEGORIES,
    ID_PATTERN,
    NOTICE_MAX,
    SPACE_TAGS,
    TAGS,
    TEXT_TARGET,
    Category,
    Cue,
    Drill,
    Side,
    Step,
)
from ergobreak.core.playback import reading_seconds
from ergobreak.tomlfile import Diagnostic, Hints, PathKey, Positions, Severity, found

#: a built-in drill lasts exactly this long
BUILTIN_SECONDS = 120
#: a custom drill may last from ... to ... seconds
CUSTOM_SECONDS = (60, 300)
#: longest single step, and most steps in a drill
STEP_SECONDS_MAX = 300
STEPS_MAX = 40
TITLE_MAX = 60

ID_RE = re.compile(ID_PATTERN)
DRILL_FIELDS = (
    "id",
    "title",
    "category",
    "summary",
    "tags",
    "sources",
    "safety",
    "steps",
    "easier",
    "harder",
)
STEP_FIELDS = ("seconds", "text", "side", "pose")
CUE_FIELDS = ("id", "text", "sources")


def _label(kind: str, raw: object, index: int) -> str:
    ident = raw.get("id") if isinstance(raw, dict) else None
    if isinstance(ident, str) and ID_RE.fullmatch(ident):
        return f"{kind}.{ident}"
    return f"{kind}[{index + 1}]"


class Checker:
    """Validate one content file's data, collecting diagnostics with positions."""

    def __init__(
        self,
        path: str,
        text: str,
        *,
        builtin: bool,
        known_sources: Collection[str],
        known_poses: Collection[str] | None = None,
    ) -> None:
        self.path = path
        self.positions = Positions(text)
        self.builtin = builtin
        self.known_sources = known_sources
        # the figure's pose names, from the caller (content may not import artwork);
        # None: not checked here
        self.known_poses = known_poses
        self.diagnostics: list[Diagnostic] = []
        self.errors = 0
        self.hints = Hints()

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
        self.errors += severity == "error"
        self.diagnostics.append(
            Diagnostic.at(
                self.path,
                self.positions,
                where,
                message,
                key=key,
                severity=severity,
                hint=hint,
                at_key=at_key,
            )
        )

    # -- fields

    def unknown(
        self, raw: dict[str, object], allowed: Sequence[str], where: PathKey, label: str
    ) -> None:
        for name in raw:
            if name not in allowed:
                close = self.hints.near(name, allowed)
                self.report(
                    (*where, name),
                    f"{label}.{name}" if label else name,
                    "unknown field (ignored)",
                    severity="warning",
                    at_key=True,
                    hint=f"did you mean {close}?" if close else None,
                )

    def ident(self, raw: dict[str, object], where: PathKey, label: str) -> str | None:
        value = raw.get("id")
        if value is None:
            self.report(where, f"{label}.id", "missing required field")
            return None
        if not isinstance(value, str) or not ID_RE.fullmatch(value):
            self.report(
                (*where, "id"),
                f"{label}.id",
                "expected an id of lowercase letters, digits and underscores, starting"
                f" with a letter (2-40 characters), got {found(value)}",
            )
            return None
        return value

    def text(
        self,
        raw: dict[str, object],
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
            self.report((*where, name), key, f"expected text in quotes, got {found(value)}")
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
        raw: dict[str, object],
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
            close = self.hints.near(value, choices) if isinstance(value, str) else None
            hint = f' (did you mean "{close}"?)' if close else ""
            self.report(
                (*where, name),
                key,
                f"expected one of {', '.join(choices)}, got {found(value)}{hint}",
            )
            return None
        return value

    def strings(
        self, raw: dict[str, object], name: str, where: PathKey, label: str, example: str
    ) -> list[tuple[int, str]] | None:
        """A TOML array of distinct, non-empty strings, as (index, value) pairs."""
        value = raw.get(name)
        key = f"{label}.{name}"
        if not isinstance(value, list):
            self.report(
                (*where, name), key, f"expected an array like {example}, got {found(value)}"
            )
            return None
        out: list[tuple[int, str]] = []
        seen: set[str] = set()
        for j, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self.report((*where, name, j), key, f"expected text in quotes, got {found(item)}")
                return None
            if item in seen:
                self.report((*where, name, j), key, f'"{item}" is listed twice')
                return None
            seen.add(item)
            out.append((j, item))
        return out

    def tags(self, raw: dict[str, object], where: PathKey, label: str) -> frozenset[str] | None:
        key = f"{label}.tags"
        if "tags" not in raw:
            self.report(where, key, "missing required field")
            return None
        items = self.strings(raw, "tags", where, label, '["desk", "standing"]')
        if items is None:
            return None
        for j, tag in items:
            if tag not in TAGS:
                close = self.hints.near(tag, TAGS)
                hint = f' (did you mean "{close}"?)' if close else ""
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

    def sources(self, raw: dict[str, object], where: PathKey, label: str) -> tuple[str, ...] | None:
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

    def steps(self, raw: dict[str, object], where: PathKey, label: str) -> tuple[Step, ...] | None:
        key = f"{label}.steps"
        value = raw.get("steps")
        if value is None:
            self.report(where, key, "missing required field")
            return None
        example = '[{ seconds = 30, text = "..." }]'
        if not isinstance(value, list):
            self.report(
                (*where, "steps"), key, f"expected an array like {example}, got {found(value)}"
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
                f'expected a table like {{ seconds = 30, text = "..." }}, got {found(raw)}',
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
                f"expected a whole number of seconds, got {found(seconds)}",
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
                (*where, "side"), f"{label}.side", f'expected "left" or "right", got {found(side)}'
            )
        text = self.text(raw, "text", where, label, limit=TEXT_TARGET, required=True)
        if self.errors > errors or text is None or not isinstance(seconds, int):
            return None
        if seconds < (read := reading_seconds(text)):
            self.report(
                (*where, "seconds"),
                f"{label}.seconds",
                f"is {seconds} s, too short to read its {len(text.split())} words before the"
                f" next step replaces them; give it at least {read:g} s or shorten the text",
            )
            return None
        pose = raw.get("pose")
        if pose is not None and (not isinstance(pose, str) or not ID_RE.fullmatch(pose)):
            self.report(
                (*where, "pose"),
                f"{label}.pose",
                "expected a pose name of lowercase letters, digits and underscores, starting"
                f" with a letter (2-40 characters), got {found(pose)}",
            )
            return None
        if pose is not None and self.known_poses is not None and pose not in self.known_poses:
            self.report(
                (*where, "pose"),
                f"{label}.pose",
                f"unknown pose `{pose}`; the step shows text only",
                severity="warning",
            )
            pose = None
        return Step(
            seconds=float(seconds),
            text=text,
            side=cast(Side | None, side),
            pose=pose,
        )

    # -- entries

    def drill(self, raw: object, index: int) -> Drill | None:
        where: PathKey = ("drill", index)
        label = _label("drill", raw, index)
        if not isinstance(raw, dict):
            self.report(where, label, f"expected a table of drill fields, got {found(raw)}")
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
        variants = {name: self.variant(raw, name, where, label) for name in ("easier", "harder")}
        for name, variant in variants.items():
            if variant is not None and variant == ident:
                self.report((*where, name), f"{label}.{name}", "names the drill itself")
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
            easier=variants["easier"],
            harder=variants["harder"],
        )

    def variant(self, raw: dict[str, object], name: str, where: PathKey, label: str) -> str | None:
        """An optional drill id (``easier``, ``harder``); whether it exists is the
        library's to say, as it may come from another file."""
        value = raw.get(name)
        if value is not None and (not isinstance(value, str) or not ID_RE.fullmatch(value)):
            self.report(
                (*where, name),
                f"{label}.{name}",
                f"expected the id of another drill, got {found(value)}",
            )
            return None
        return value

    def cue(self, raw: object, index: int) -> Cue | None:
        where: PathKey = ("cue", index)
        label = _label("cue", raw, index)
        if not isinstance(raw, dict):
            self.report(where, label, f"expected a table of cue fields, got {found(raw)}")
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


def unknown_variants(drills: Sequence[Drill]) -> list[tuple[Drill, str, str]]:
    """``(drill, "easier" | "harder", id)`` for each variant that names no drill in
    ``drills`` (the whole library: a variant may come from another file)."""
    known = {drill.id for drill in drills}
    return [
        (drill, name, ident)
        for drill in drills
        for name, ident in (("easier", drill.easier), ("harder", drill.harder))
        if ident is not None and ident not in known
    ]
