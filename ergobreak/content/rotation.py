"""The rotation: the order drills come round in, categories alternating."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence

from ergobreak.core.content import CATEGORIES, Drill


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
