"""The phases of a drill cycle and the only legal ways between them.

A cycle opens with a due drill (or a ``start`` command) and closes back in
``WORKING``; :func:`next_phase` is the one way to change phase, so a trigger the
table does not list fails at once instead of leaving the machine half-changed.
``python -m ergobreak.core.diagram`` draws :data:`TRANSITIONS`.
"""

from __future__ import annotations

import enum
from typing import Literal, TypeAlias


class Phase(enum.Enum):
    WORKING = "working"
    PROMPTED = "prompted"
    SNOOZED = "snoozed"
    DRILL = "drill"


#: What moves a cycle on. A closed set, so mypy rejects a misspelt trigger.
Trigger: TypeAlias = Literal[
    "due", "start", "inactive", "snooze", "hold", "ignored", "skip", "cancel", "done"
]

W, P, S, D = Phase.WORKING, Phase.PROMPTED, Phase.SNOOZED, Phase.DRILL

#: Every legal phase change, as (phase, trigger) -> next phase. Anything else is a bug.
TRANSITIONS: dict[tuple[Phase, Trigger], Phase] = {
    (W, "due"): P,
    (W, "start"): D,
    (P, "inactive"): D,
    (P, "start"): D,
    (P, "snooze"): S,
    (P, "hold"): S,  # quiet began or the screen locked: offer it again later
    (P, "ignored"): W,
    (P, "skip"): W,
    (P, "cancel"): W,
    (S, "due"): P,
    (S, "start"): D,
    (S, "skip"): W,
    (S, "cancel"): W,
    (D, "done"): W,
    (D, "skip"): W,
    (D, "cancel"): W,
}


def next_phase(phase: Phase, trigger: Trigger) -> Phase:
    """The phase ``trigger`` leads to from ``phase``; an unlisted pair is a bug."""
    nxt = TRANSITIONS.get((phase, trigger))
    if nxt is None:
        raise AssertionError(f"illegal transition {phase.value} --{trigger}-->")
    return nxt
