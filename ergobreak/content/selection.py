"""``[routines]``: which drills of the library are in the rotation, and why not.

:class:`Filters` holds the ``[routines]`` settings and their built-in defaults
(the config schema takes its ``routines.*`` defaults from here). :func:`select`
turns them into the core's :class:`~ergobreak.core.content.Content`: the
eligible drills, in a rotation that alternates categories. Documented for users
in ``docs/content.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ergobreak.content.library import Library, builtin_library
from ergobreak.content.rotation import rotation
from ergobreak.core.content import CATEGORIES, EQUIPMENT_TAGS, Content, Drill
from ergobreak.tomlfile import ConfigError, Diagnostic, Hints, PathKey, Positions, Severity


@dataclass(frozen=True, slots=True, kw_only=True)
class Filters:
    """The ``[routines]`` settings (``routines.categories`` is :attr:`categories`)."""

    #: categories in the rotation, in the order they alternate
    categories: tuple[str, ...] = ("hip_flexor", "hinge", "mobility", "glutes")
    #: drill ids to rotate through in this order; when not empty, replaces categories
    only: tuple[str, ...] = ()
    #: equipment the user has; drills needing anything else are left out
    equipment: tuple[str, ...] = ("wall",)
    #: include floor drills
    floor: bool = False
    #: only drills done seated (adds the seated category)
    prefer_seated: bool = False
    #: leave out drills with any of these tags
    exclude_tags: tuple[str, ...] = ()


class SelectionError(ConfigError):
    """The ``[routines]`` settings leave no drill to rotate through.

    The diagnostic names the filters that emptied the set and how to widen it.
    """


@dataclass(frozen=True, slots=True)
class Selection:
    """The rotation chosen from a library by the ``[routines]`` settings."""

    drills: tuple[Drill, ...]
    #: drill id -> why it is not in the rotation
    left_out: Mapping[str, str]
    #: warnings, e.g. unknown ids in ``routines.only``
    diagnostics: tuple[Diagnostic, ...] = ()


def filtered_out(drill: Drill, f: Filters) -> dict[str, str]:
    """Which of the drill-level filters (seated, floor, equipment, tags) leave ``drill``
    out, and why, in words; empty when it may be done. Categories and
    ``routines.only`` choose drills, they are not asked here."""
    why: dict[str, str] = {}
    if f.prefer_seated and "seated" not in drill.tags:
        why["prefer_seated"] = "not done seated (routines.prefer_seated)"
    if not f.floor and "floor" in drill.tags:
        why["floor"] = "floor work (routines.floor = false)"
    missing = sorted(t for t in drill.tags & set(EQUIPMENT_TAGS) if t not in f.equipment)
    if missing:
        why["equipment"] = f"needs {' and '.join(missing)} (routines.equipment)"
    hit = sorted(drill.tags & set(f.exclude_tags))
    if hit:
        why["exclude_tags"] = f"tagged {', '.join(hit)} (routines.exclude_tags)"
    return why


def _toml_list(items: Iterable[str]) -> str:
    return "[" + ", ".join(f'"{item}"' for item in items) + "]"


#: how to loosen each filter that removed drills
_FIXES = {
    "prefer_seated": "set routines.prefer_seated = false",
    "floor": "set routines.floor = true",
    "equipment": "add equipment you have to routines.equipment",
    "exclude_tags": "exclude fewer tags",
}


def selection(
    library: Library,
    filters: Filters | None = None,
    *,
    path: str | None = None,
    text: str | None = None,
) -> Selection:
    """Apply the ``[routines]`` settings to ``library`` (default: :class:`Filters`).

    ``path`` and ``text`` are the config file the settings came from, used only
    to point diagnostics at the right line.

    Raises:
        SelectionError: when no drill is eligible; the message names the filters.
    """
    f = filters if filters is not None else Filters()
    positions = Positions(text) if text is not None else None
    origin = path or "config"

    def diag(
        at: PathKey, key: str, severity: Severity, message: str, hint: str | None = None
    ) -> Diagnostic:
        return Diagnostic.at(origin, positions, at, message, key=key, severity=severity, hint=hint)

    warnings: list[Diagnostic] = []
    left_out: dict[str, str] = {}
    if f.only:
        budget = Hints()
        candidates: list[Drill] = []
        for j, ident in enumerate(f.only):
            drill = library.drill(ident)
            if drill is None:
                near = library.suggest(ident, budget)
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
        picked_by = f"routines.only = {_toml_list(f.only)}"
    else:
        categories = list(f.categories)
        cats = (
            [*categories, "seated"]
            if f.prefer_seated and "seated" not in categories
            else categories
        )
        candidates = [d for d in library.drills if d.category in cats]
        for drill in library.drills:
            if drill.category not in cats:
                left_out[drill.id] = f"category {drill.category} is not in routines.categories"
        picked_by = f"routines.categories = {_toml_list(categories)}" + (
            " (with seated, for routines.prefer_seated)" if cats != categories else ""
        )

    written = {
        "prefer_seated": "routines.prefer_seated = true",
        "floor": "routines.floor = false",
        "equipment": f"routines.equipment = {_toml_list(f.equipment)}",
        "exclude_tags": f"routines.exclude_tags = {_toml_list(f.exclude_tags)}",
    }
    removed: dict[str, list[str]] = {name: [] for name in written}
    eligible: list[Drill] = []
    for drill in candidates:
        why = filtered_out(drill, f)
        for name in why:
            removed[name].append(drill.id)
        if why:
            left_out[drill.id] = "; ".join(why.values())
        else:
            eligible.append(drill)

    if not eligible:
        n = len(candidates)
        parts = [f"{picked_by} selects {n} drill{'s' if n != 1 else ''}"]
        parts += [
            f"{written[name]} removes {', '.join(ids)}" for name, ids in removed.items() if ids
        ]
        hints = [_FIXES[name] for name, ids in removed.items() if ids]
        hints.append("choose more categories" if not f.only else "list more ids in routines.only")
        error = diag(
            ("routines",),
            "routines",
            "error",
            "no drill is eligible: " + "; ".join(parts),
            "to widen the choice: " + ", or ".join(hints),
        )
        raise SelectionError([*warnings, error])

    drills = tuple(eligible) if f.only else rotation(eligible, [*f.categories, *CATEGORIES])
    ordered = {d.id: left_out[d.id] for d in library.drills if d.id in left_out}
    return Selection(drills=drills, left_out=ordered, diagnostics=tuple(warnings))


def select(
    library: Library,
    filters: Filters | None = None,
    *,
    path: str | None = None,
    text: str | None = None,
) -> Content:
    """The core's :class:`Content` for these ``[routines]`` settings (see :func:`selection`).

    Raises:
        SelectionError: when no drill is eligible.
    """
    chosen = selection(library, filters, path=path, text=text)
    return Content(cues=library.cues, drills=chosen.drills, library=library.drills)


def default_content() -> Content:
    """The built-in library with the default ``[routines]`` settings."""
    return select(builtin_library())
