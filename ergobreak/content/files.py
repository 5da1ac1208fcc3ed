"""Content files: ``[[cue]]`` and ``[[drill]]`` tables in TOML, read and checked.

A file is checked as a whole and reported with the same diagnostics as config
files (``file:line:col: error: field: message``); :class:`ContentFile` says what
it defines and what is wrong with it, and never raises for bad content.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ergobreak.content.checker import Checker
from ergobreak.core.content import Cue, Drill
from ergobreak.tomlfile import (
    Diagnostic,
    PathKey,
    Positions,
    Severity,
    found,
    parse_toml,
    read_text,
)

CONTENT_SCHEMA = 1
#: the largest content file read: about 100 drills, 7 times the shipped library
MAX_BYTES = 128 * 1024
TOP_FIELDS = ("schema", "cue", "drill")


class ContentError(ValueError):
    """The built-in content does not validate (a packaging bug); carries diagnostics."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(d.headline() for d in self.diagnostics))


@dataclass(frozen=True, slots=True)
class ContentFile:
    """One checked content file: what it defines, and what is wrong with it."""

    path: str
    cues: tuple[Cue, ...] = ()
    drills: tuple[Drill, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    #: ``"drill:ID"`` / ``"cue:ID"`` -> the path of the entry's id in the file
    ids: Mapping[str, PathKey] = field(default_factory=dict)
    #: where things sit in the file's text, to point later diagnostics at an entry
    positions: Positions | None = field(default=None, compare=False, repr=False)

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)

    def at_entry(self, ref: str, message: str, *, key: str, severity: Severity) -> Diagnostic:
        """A diagnostic at the id of entry ``ref`` (``"drill:ID"``)."""
        return Diagnostic.at(
            self.path, self.positions, self.ids.get(ref), message, key=key, severity=severity
        )


def parse_content(
    text: str,
    path: str,
    *,
    builtin: bool = False,
    known_sources: Collection[str] = (),
    known_poses: Collection[str] | None = None,
) -> ContentFile:
    """Check the text of one content file (``[[cue]]`` and ``[[drill]]`` tables).

    ``builtin`` applies the stricter rules for shipped data: exactly 120 s per
    drill and sources from ``known_sources``. Never raises on bad content.
    """
    data, diags = parse_toml(text, path, max_bytes=MAX_BYTES)
    if data is None:
        return ContentFile(path=path, diagnostics=tuple(diags))
    try:
        return _checked(
            data, text, path, builtin=builtin, known_sources=known_sources, known_poses=known_poses
        )
    except Exception as exc:  # a bug: the file is skipped like any broken one, never a traceback
        return ContentFile(path=path, diagnostics=(Diagnostic.failed(path, exc),))


def _checked(
    data: dict[str, Any],
    text: str,
    path: str,
    *,
    builtin: bool,
    known_sources: Collection[str],
    known_poses: Collection[str] | None,
) -> ContentFile:
    check = Checker(
        path, text, builtin=builtin, known_sources=known_sources, known_poses=known_poses
    )
    check.unknown(data, TOP_FIELDS, (), "")
    if "schema" in data and data["schema"] != CONTENT_SCHEMA:
        check.report(
            ("schema",),
            "schema",
            f"expected schema = {CONTENT_SCHEMA}, got {found(data['schema'])}",
        )
    cues: list[Cue] = []
    drills: list[Drill] = []
    ids: dict[str, PathKey] = {}
    for kind in ("cue", "drill"):
        entries = data.get(kind, [])
        if not isinstance(entries, list):
            check.report(
                (kind,), kind, f"expected [[{kind}]] tables, got {found(entries)}", at_key=True
            )
            continue
        for index, raw in enumerate(entries):
            item = check.cue(raw, index) if kind == "cue" else check.drill(raw, index)
            if item is None:
                continue
            id_at: PathKey = (kind, index, "id")
            ref = f"{kind}:{item.id}"
            if ref in ids:
                first = check.positions.find(ids[ref])
                check.report(
                    id_at,
                    f"{kind}.{item.id}.id",
                    f'duplicate id "{item.id}"'
                    + (f" (first defined on line {first[0]})" if first else ""),
                )
                continue
            ids[ref] = id_at
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
        ids=ids,
        positions=check.positions,
    )


def load_content_file(
    path: Path, *, known_sources: Collection[str] = (), known_poses: Collection[str] | None = None
) -> ContentFile:
    """Read and check one custom content file (``known_poses``: the figure's pose names;
    another pose is a warning and its step shows text only)."""
    text, diags = read_text(path, max_bytes=MAX_BYTES)
    if text is None:
        return ContentFile(path=str(path), diagnostics=tuple(diags))
    return parse_content(text, str(path), known_sources=known_sources, known_poses=known_poses)
