"""A stand-in for ``ergobreak.artwork.figure`` (branch i18-figure) behind the same
signature, so the window draws something until the pose library lands. Deleted then."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from ergobreak.artwork.shapes import RGBA, Disc, Shape, Stroke

_MOTIONS = {"march": 2.0}


@dataclass(frozen=True, slots=True)
class Look:
    background: RGBA
    body: RGBA
    far: RGBA
    accent: RGBA
    prop: RGBA

    @classmethod
    def standard(cls) -> Look:
        return cls(
            (250, 250, 247, 255),
            (40, 60, 90, 255),
            (140, 155, 175, 255),
            (230, 120, 40, 255),
            (120, 100, 80, 255),
        )

    @classmethod
    def high_contrast(cls) -> Look:
        return cls(
            (0, 0, 0, 255),
            (255, 255, 255, 255),
            (170, 170, 170, 255),
            (255, 220, 0, 255),
            (0, 200, 255, 255),
        )


def known(name: str) -> bool:
    return name in _MOTIONS or name == "stand"


def period(name: str) -> float:
    return _MOTIONS.get(name, 0.0)


def scene(
    name: str,
    t: float,
    *,
    side: Literal["left", "right"] | None,
    size: float,
    look: Look,
    still: bool = False,
) -> list[Shape]:
    """A stick figure standing; ``march`` lifts a knee and back."""
    u = size / 10
    lift = 0.0 if still or not period(name) else (1 - math.cos(2 * math.pi * t / period(name))) / 2
    sign = -1 if side == "left" else 1
    hip = (5 * u, 6 * u)
    knee = (hip[0] + sign * lift * 1.5 * u, hip[1] + (2 - lift * 1.2) * u)
    return [
        Stroke((hip, (5 * u - sign * 0.4 * u, 9.5 * u)), 0.5 * u, look.far),
        Stroke((hip, knee, (knee[0], knee[1] + 1.8 * u)), 0.6 * u, look.accent),
        Stroke(((5 * u, 2.6 * u), hip), 0.7 * u, look.body),
        Disc(5 * u, 1.8 * u, 0.8 * u, look.body),
    ]
