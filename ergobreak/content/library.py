"""The library: every cue and drill that can be used, built-in and custom.

Built-in content ships as package data next to this module (``*.toml``). IT or
a physiotherapist can add cues and drills as TOML files in a content folder next
to the policy or next to the user config (:func:`content_dirs`); a file with
errors is skipped as a whole and never hides the built-in library.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypeVar

from ergobreak.content.checker import unknown_variants
from ergobreak.content.files import (
    MAX_BYTES,
    ContentError,
    ContentFile,
    load_content_file,
    parse_content,
)
from ergobreak.core.content import Cue, Drill
from ergobreak.tomlfile import Diagnostic, Hints, near, parse_toml

BUILTIN_ORIGIN = "built-in"
BUILTIN_FILES = ("cues.toml", "drills.toml")


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

    def suggest(self, name: str, hints: Hints | None = None) -> str | None:
        """A close drill id for a misspelt one (with ``hints``: while any are left)."""
        return (hints.near if hints else near)(name, [d.id for d in self.drills], cutoff=0.5)


# ------------------------------------------------------------ package data


@dataclass(frozen=True, slots=True)
class Source:
    id: str
    title: str
    urls: tuple[str, ...] = ()
    note: str = ""


def _package_text(name: str) -> str:
    return (resources.files("ergobreak.content") / name).read_text(encoding="utf-8")


def _package_data(name: str) -> dict[str, Any]:
    data, problems = parse_toml(
        _package_text(name), f"ergobreak/content/{name}", max_bytes=MAX_BYTES
    )
    if data is None:
        raise ContentError(problems)
    return data


@functools.cache
def sources() -> dict[str, Source]:
    """The source list shipped with the built-in content, by id (``S1`` ...)."""
    out: dict[str, Source] = {}
    for raw in _package_data("sources.toml").get("source", []):
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
    data = _package_data("safety.toml")
    out = {k: v for k, v in data.items() if isinstance(v, str)}
    out.update({f"help.{k}": v for k, v in data.get("help", {}).items()})
    return out


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
    problems.extend(
        Diagnostic.plain("ergobreak/content", f'drill "{d.id}": {name} = "{ident}" names no drill')
        for d, name, ident in unknown_variants(drills)
    )
    if problems or not cues or not drills:
        raise ContentError(problems)
    return Library(cues=tuple(cues), drills=tuple(drills))


# ----------------------------------------------------------- custom content


def content_dirs() -> tuple[Path, ...]:
    """Custom content folders, lowest precedence first: next to the user config, then
    next to the policy (so IT's drills win over a user's file with the same id)."""
    from ergobreak.paths import paths  # noqa: PLC0415 - platformdirs only when needed

    found = paths()
    return (found.user_content_dir, found.policy_content_dir)


def load_library(
    dirs: Sequence[Path] | None = None,
    *,
    base: Library | None = None,
    known_poses: Collection[str] | None = None,
) -> tuple[Library, list[Diagnostic]]:
    """The built-in library plus every ``*.toml`` in ``dirs`` (default :func:`content_dirs`).

    Files load in order (folders in the given order, files sorted by name within
    a folder). A file with any error is skipped as a whole; a later file's cue or
    drill replaces an earlier one with the same id, with a warning. A step's pose
    not in ``known_poses`` (the caller's figure library; None: unchecked) is a
    warning, and the step shows text only. Never raises for custom content:
    problems come back as diagnostics.
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
            diags.append(_note(folder, f"cannot read this folder: {exc.strerror or exc}"))
            continue
        for file in files:
            checked = load_content_file(file, known_sources=known, known_poses=known_poses)
            diags.extend(checked.diagnostics)
            if not checked.ok:
                errors = sum(d.severity == "error" for d in checked.diagnostics)
                diags.append(
                    _note(
                        file,
                        f"skipped this file ({errors} error{'s' if errors != 1 else ''});"
                        " the built-in library and other content files still load",
                    )
                )
                continue
            diags += _add("cue", cues, checked.cues, checked, origins)
            diags += _add("drill", drills, checked.drills, checked, origins)
    library = Library(cues=tuple(cues.values()), drills=tuple(drills.values()), origins=origins)
    diags.extend(  # the variant is not offered; the drill itself is fine
        Diagnostic.plain(
            origins.get(f"drill:{d.id}", BUILTIN_ORIGIN),
            f'drill "{d.id}": {name} = "{ident}" names no drill in the library (ignored)',
            severity="warning",
        )
        for d, name, ident in unknown_variants(library.drills)
    )
    return library, diags


_Entry = TypeVar("_Entry", Cue, Drill)


def _add(
    kind: Literal["cue", "drill"],
    table: dict[str, _Entry],
    items: Sequence[_Entry],
    checked: ContentFile,
    origins: dict[str, str],
) -> list[Diagnostic]:
    """Put a custom file's entries into ``table``; a warning for each one replaced."""
    diags: list[Diagnostic] = []
    for item in items:
        ref = f"{kind}:{item.id}"
        if item.id in table:
            was = origins.get(ref, BUILTIN_ORIGIN)
            diags.append(
                checked.at_entry(
                    ref,
                    f"replaces the {kind} with this id from "
                    + ("the built-in library" if was == BUILTIN_ORIGIN else was),
                    key=f"{kind}.{item.id}",
                    severity="warning",
                )
            )
        table[item.id] = item
        origins[ref] = checked.path
    return diags


def _note(path: Path, message: str) -> Diagnostic:
    return Diagnostic.plain(str(path), message, severity="warning")
