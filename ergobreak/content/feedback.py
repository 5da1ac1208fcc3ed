"""What "How was it?" changes in the rotation: pure rules, no I/O (the answers live in
:mod:`ergobreak.content.feedback_file`).

The latest answer about each drill counts, with the wall time it was given:

- **It hurt** leaves the drill out of the rotation for :data:`REST` from the answer.
  The rotation never empties: when every drill in it is out, the one hurt longest ago
  stays in (and :attr:`Turn.kept` says so).
- **Easy** puts the drill's ``harder`` variant in its place, **Hard** its ``easier``
  one, the next times its slot comes round, if that drill exists, passes the
  drill-level ``[routines]`` filters and is not left out itself. An answer about the
  variant carries on from there (Easy again: its own harder variant; Hard: back), as
  long as it is newer than the answer that led to it.
- **Right** leaves the drill as it is; as the latest answer, it ends an Easy or Hard.

Documented for users in ``docs/content.md``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Literal

from ergobreak.core.content import Answer, Drill

#: "It hurt" leaves a drill out of the rotation this long from the answer (14 days)
REST = 14 * 86400.0
#: which variant an answer puts in the drill's place
VARIANT: Mapping[Answer, Literal["easier", "harder"]] = {"easy": "harder", "hard": "easier"}


@dataclass(frozen=True, slots=True)
class Said:
    """One answer about a drill, at wall time ``at``."""

    answer: Answer
    at: float


@dataclass(frozen=True, slots=True)
class Answers:
    """The latest answer about each drill (by drill id). Treat as immutable."""

    latest: Mapping[str, Said] = field(default_factory=dict)

    def said(self, drill: str, answer: Answer, at: float) -> Answers:
        """These answers with ``answer`` as the latest about ``drill``."""
        latest = {k: v for k, v in self.latest.items() if k != drill}
        if answer != "right":  # "right" changes nothing: it only ends an earlier answer
            latest[drill] = Said(answer, at)
        return Answers(latest)

    def resting_until(self, drill: str, now: float) -> float | None:
        """When ``drill`` comes back into the rotation, if "It hurt" leaves it out at ``now``."""
        said = self.latest.get(drill)
        if said is None or said.answer != "hurt" or now >= said.at + REST:
            return None
        return said.at + REST

    def current(self, now: float) -> Answers:
        """Without the answers that no longer change anything (a rest that is over)."""
        return Answers(
            {
                k: v
                for k, v in self.latest.items()
                if v.answer != "hurt" or self.resting_until(k, now) is not None
            }
        )


@dataclass(frozen=True, slots=True)
class Turn:
    """The rotation with the answers applied."""

    drills: tuple[Drill, ...]
    #: drill id -> wall time it comes back (drills of the rotation left out now)
    resting: Mapping[str, float]
    #: per drill in :attr:`drills`, the ids its slot's answers led through, in order
    #: (``("hinge_wall", "good_morning_bw")``: Easy on the wall hinge)
    paths: tuple[tuple[str, ...], ...]
    #: every drill of the rotation is resting: this one, hurt longest ago, stays in
    kept: str | None = None

    @property
    def next_change(self) -> float | None:
        """The wall time the first resting drill comes back (None: none rests)."""
        return min(self.resting.values(), default=None)

    def leads(self, drill: str, variant: str) -> bool:
        """Whether a slot whose answers went through ``drill`` now shows ``variant``."""
        return any(
            drill in path and shown.id == variant
            for path, shown in zip(self.paths, self.drills, strict=True)
        )


def apply_answers(
    rotation: Sequence[Drill],
    answers: Answers,
    now: float,
    *,
    find: Callable[[str], Drill | None],
    allowed: Callable[[Drill], bool],
) -> Turn:
    """``rotation`` as the answers change it at wall time ``now``. ``find`` looks a
    variant up by id (the whole library); ``allowed`` says whether the user's filters
    let a drill in."""
    resting: dict[str, float] = {}
    paths: list[tuple[str, ...]] = []
    drills: list[Drill] = []
    for slot in rotation:
        until = answers.resting_until(slot.id, now)
        if until is not None:
            resting[slot.id] = until
            continue
        shown, path = _walk(slot, answers, now, find, allowed)
        paths.append(path)
        drills.append(shown)
    kept = None
    if not drills and rotation:
        first = min(rotation, key=lambda d: (resting[d.id], d.id))
        kept = first.id
        del resting[first.id]
        drills.append(first)
        paths.append((first.id,))
    return Turn(drills=tuple(drills), resting=resting, paths=tuple(paths), kept=kept)


def _walk(
    slot: Drill,
    answers: Answers,
    now: float,
    find: Callable[[str], Drill | None],
    allowed: Callable[[Drill], bool],
) -> tuple[Drill, tuple[str, ...]]:
    """The drill a slot shows, and the ids its answers led through to it. Each step
    follows an answer newer than the one before, so the walk ends; a step back to a
    drill already on the way (Hard after Easy) goes back to it."""
    here, visited = slot, [slot.id]
    since = -math.inf
    while True:
        said = answers.latest.get(here.id)
        if said is None or said.answer not in VARIANT or said.at <= since:
            return here, tuple(visited)
        variant = _variant(here, said.answer, find)
        if (
            variant is None
            or not allowed(variant)
            or answers.resting_until(variant.id, now) is not None
        ):
            return here, tuple(visited)
        here, since = variant, said.at
        visited.append(variant.id)


def _variant(drill: Drill, answer: Answer, find: Callable[[str], Drill | None]) -> Drill | None:
    ident = getattr(drill, VARIANT[answer]) if answer in VARIANT else None
    return find(ident) if isinstance(ident, str) else None


def day_text(wall: float, tz: tzinfo) -> str:
    """``Mon 21 Dec``: the local day of ``wall``, as a person reads it."""
    moment = datetime.fromtimestamp(wall, tz)
    return f"{moment:%a} {moment.day} {moment:%b}"


def reply_text(
    drill: Drill,
    answer: Answer,
    turn: Turn,
    *,
    answers: Answers,
    at: float,
    tz: tzinfo,
    find: Callable[[str], Drill | None],
    allowed: Callable[[Drill], bool],
) -> str:
    """What the user reads after answering ``answer`` about ``drill`` at ``at``
    (``answers``, ``turn``: with that answer, and the rotation it makes), in one line.
    After "It hurt" the stop rules follow it (the caller adds them)."""
    if answer == "hurt":
        title = drill.title
        if turn.kept == drill.id:
            said = (
                f"Noted: it hurt. Every drill in your rotation is left out for now, so"
                f" {title} stays in: skip it, or choose other drills in [routines]"
                " (ergobreak config edit)."
            )
        else:
            said = (
                f"Noted: it hurt. {title} is left out of your drills until"
                f" {day_text(at + REST, tz)}."
            )
            kept = find(turn.kept) if turn.kept is not None else None
            if kept is not None:
                said += f" Every other drill is left out too, so {kept.title} stays in."
        return said
    if answer == "right":
        return "Noted: right."
    way = VARIANT[answer]
    variant = _variant(drill, answer, find)
    if variant is not None and turn.leads(drill.id, variant.id):
        return f"Noted: {answer}. Next time: {variant.title} instead."
    if not any(drill.id in path for path in turn.paths):
        why = f" {drill.title} is not in your rotation, so nothing changes there."
    elif variant is None:
        why = f" {drill.title} has no {way} variant, so it stays in your drills."
    elif not allowed(variant):
        why = f" {variant.title} is left out by your [routines] settings, so {drill.title} stays."
    elif answers.resting_until(variant.id, at) is not None:
        why = f" {variant.title} is left out for now (it hurt), so {drill.title} stays."
    else:
        why = ""
    return f"Noted: {answer}.{why}"
