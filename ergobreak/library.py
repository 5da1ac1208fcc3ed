"""Load the shipped posture cues and drills into core :class:`~ergobreak.core.content.Content`."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from importlib import resources
from typing import Any, cast, get_args

from ergobreak.core.content import Category, Content, Cue, Drill, Side, Step

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


class ContentError(ValueError):
    """Shipped or custom content that does not validate; the message names file and field."""


def _read(name: str) -> tuple[str, dict[str, Any]]:
    ref = resources.files("ergobreak") / "content" / name
    return f"ergobreak/content/{name}", tomllib.loads(ref.read_text(encoding="utf-8"))


def _cues(origin: str, data: dict[str, Any]) -> list[Cue]:
    cues = []
    for i, raw in enumerate(data.get("cue", [])):
        where = f"{origin}: cue[{i}]"
        if not isinstance(raw.get("id"), str) or not isinstance(raw.get("text"), str):
            raise ContentError(f"{where}: needs string fields id and text")
        cues.append(Cue(id=raw["id"], text=raw["text"], sources=tuple(raw.get("sources", ()))))
    return cues


def _drills(origin: str, data: dict[str, Any]) -> list[Drill]:
    drills = []
    for i, raw in enumerate(data.get("drill", [])):
        where = f"{origin}: drill[{i}] ({raw.get('id', '?')})"
        category = raw.get("category")
        if category not in get_args(Category):
            raise ContentError(f"{where}: category must be one of {get_args(Category)}")
        steps = []
        for j, step in enumerate(raw.get("steps", [])):
            side = step.get("side")
            if side is not None and side not in get_args(Side):
                raise ContentError(f"{where}: steps[{j}].side must be left or right")
            steps.append(
                Step(seconds=float(step["seconds"]), text=str(step["text"]), side=cast(Side, side))
            )
        if not steps:
            raise ContentError(f"{where}: needs at least one step")
        drills.append(
            Drill(
                id=str(raw["id"]),
                title=str(raw["title"]),
                category=cast(Category, category),
                steps=tuple(steps),
                safety=str(raw["safety"]),
                tags=frozenset(raw.get("tags", ())),
                sources=tuple(raw.get("sources", ())),
                summary=str(raw.get("summary", "")),
            )
        )
    return drills


def builtin_cues() -> list[Cue]:
    return _cues(*_read("cues.toml"))


def builtin_drills() -> list[Drill]:
    return _drills(*_read("drills.toml"))


def rotation(drills: Iterable[Drill]) -> tuple[Drill, ...]:
    """Order drills so categories alternate (hip flexor, hinge, mobility, glutes, ...)."""
    by_cat: dict[str, list[Drill]] = {}
    for drill in drills:
        by_cat.setdefault(drill.category, []).append(drill)
    order: list[Drill] = []
    while any(by_cat.values()):
        for cat in list(by_cat):
            if by_cat[cat]:
                order.append(by_cat[cat].pop(0))
    return tuple(order)


def default_content() -> Content:
    drills = builtin_drills()
    return Content(cues=tuple(builtin_cues()), drills=rotation(drills), library=tuple(drills))
