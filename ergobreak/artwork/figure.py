"""The drill figure: named poses and motions (``poses.toml``) drawn as shapes.

The coach window paints :func:`scene` on its Tk canvas; ``routines show --html`` and
the docs turn the same shapes into SVG (:func:`ergobreak.artwork.shapes.to_svg`).
The working limb (the step's side) is the near one, drawn in ``accent``; ``side =
"left"`` is the mirror image of ``"right"``.

Regenerate the SVG snapshots after changing a pose:
``python -m ergobreak.artwork.figure --snapshots tests/snapshots/poses``.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from ergobreak.artwork.pose import (
    ANGLES,
    CUSHION,
    HEAD_R,
    LIMB,
    PARTS,
    PROPS,
    SEAT,
    SURFACES,
    TRUNK,
    Contact,
    Figure,
    Keyframe,
    Motion,
    Point,
    Pose,
    along,
    blend,
    common_anchor,
    contact_point,
    direction,
    motion_frame,
    place,
    pose_figure,
)
from ergobreak.artwork.shapes import RGBA, Disc, Rect, Shape, Stroke, to_svg
from ergobreak.tomlfile.read import tomllib

Side = Literal["left", "right"]

DESK = 0.42  # desk top, ~74 cm for H ~1.75 m, where no hand places it
SCALE = 0.78  # world units (body heights) -> fraction of the box, when it fits
FLOOR_AT = 0.92  # the floor line, as a fraction of the box from the top
MARGIN = 0.05
BUTTOCKS = 0.07  # the buttocks reach ~12 cm behind the hip joint
CHAIR_BACK = 0.26  # the backrest's top above the seat (~45 cm)


@dataclass(frozen=True, slots=True)
class Look:
    """The figure's colours."""

    background: RGBA
    body: RGBA
    far: RGBA
    accent: RGBA
    prop: RGBA

    @classmethod
    def standard(cls) -> Look:
        return cls(
            background=(247, 246, 242, 255),
            body=(52, 64, 84, 255),
            far=(150, 160, 176, 255),
            accent=(224, 112, 32, 255),
            prop=(196, 186, 170, 255),
        )

    @classmethod
    def high_contrast(cls) -> Look:
        return cls(
            background=(255, 255, 255, 255),
            body=(0, 0, 0, 255),
            far=(96, 96, 96, 255),
            accent=(0, 64, 200, 255),
            prop=(150, 120, 60, 255),
        )


# --------------------------------------------------------------------------- library


@dataclass(frozen=True, slots=True)
class Library:
    poses: dict[str, Pose]
    motions: dict[str, Motion]


def _contact(text: str, where: str) -> Contact:
    part, _, surface = text.partition(":")
    if part not in PARTS or surface not in SURFACES:
        raise ValueError(f"{where}: contact {text!r} is not part:surface of {PARTS}/{SURFACES}")
    return Contact(part, surface)


def _pose(name: str, raw: dict[str, Any]) -> Pose:
    view = raw["view"]
    if view not in ANGLES:
        raise ValueError(f"pose {name}: view {view!r}")
    angles = {str(k): float(v) for k, v in raw.get("angles", {}).items()}
    unknown = set(angles) - set(ANGLES[view])
    if unknown:
        raise ValueError(f"pose {name}: angles {sorted(unknown)} are not {view}-view angles")
    props = {str(k): float(v) for k, v in raw.get("props", {}).items()}
    if set(props) - set(PROPS):
        raise ValueError(f"pose {name}: props {sorted(set(props) - set(PROPS))}")
    contacts = tuple(_contact(c, f"pose {name}") for c in raw["contacts"])
    return Pose(
        name=name,
        view=view,
        angles=angles,
        contacts=contacts,
        props=props,
        form=tuple(raw.get("form", ())),
        band=raw.get("band", "knees"),
    )


def parse_library(data: dict[str, Any]) -> Library:
    poses = {name: _pose(name, raw) for name, raw in data.get("pose", {}).items()}
    motions: dict[str, Motion] = {}
    for name, raw in data.get("motion", {}).items():
        frames = tuple(Keyframe(str(f["pose"]), float(f["seconds"])) for f in raw["frames"])
        motion = Motion(name, str(raw["key"]), frames)
        views = {poses[f.pose].view for f in frames} | {poses[motion.key].view}
        if len(views) != 1:
            raise ValueError(f"motion {name}: its poses are drawn in one view")
        motions[name] = motion
    if set(poses) & set(motions):
        raise ValueError("a pose and a motion share a name")
    return Library(poses, motions)


@functools.cache
def library() -> Library:
    text = (resources.files("ergobreak.artwork") / "poses.toml").read_text(encoding="utf-8")
    return parse_library(tomllib.loads(text))


def names() -> tuple[str, ...]:
    """Every pose and motion name, sorted."""
    lib = library()
    return tuple(sorted((*lib.poses, *lib.motions)))


def known(name: str) -> bool:
    """A pose or motion of that name exists."""
    lib = library()
    return name in lib.poses or name in lib.motions


def period(name: str) -> float:
    """Seconds of one loop of a motion; 0.0 for a still pose."""
    motion = library().motions.get(name)
    return motion.period if motion else 0.0


def key_pose(name: str) -> Pose:
    lib = library()
    motion = lib.motions.get(name)
    return lib.poses[motion.key if motion else name]


def poses_of(name: str) -> list[Pose]:
    """The pose, or a motion's key pose and every keyframe's pose (each once)."""
    lib = library()
    motion = lib.motions.get(name)
    wanted = [name] if motion is None else [motion.key, *(f.pose for f in motion.frames)]
    return [lib.poses[n] for n in dict.fromkeys(wanted)]


def figure_at(name: str, t: float, *, still: bool = False) -> Figure:
    """The posed figure of ``name`` at ``t`` seconds, in world units (facing +x)."""
    lib = library()
    motion = lib.motions.get(name)
    if motion is None or still:
        return pose_figure(key_pose(name))
    before, after, w = motion_frame(motion, lib.poses, t)
    return place(before.view, blend(before.angles, after.angles, w), common_anchor(before, after))


# --------------------------------------------------------------------------- props


@dataclass(frozen=True, slots=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float


def props_of(pose: Pose, fig: Figure) -> list[tuple[str, Box]]:
    """Where the static props stand, from the key pose: boxes in world units."""
    out: list[tuple[str, Box]] = []
    by_surface = {c.surface: c for c in pose.contacts}
    if "desk" in by_surface or "desk" in pose.props:
        if "desk" in by_surface:
            (hx, hy), gap = contact_point(fig.joints, by_surface["desk"].part)
            top, x = hy - gap, hx
        else:
            top, x = DESK, pose.props["desk"]
        if pose.view == "front":  # across, behind the figure
            x = fig.joints["hip"][0]
            out.append(("desk", Box(x - 0.3, top - 0.03, x + 0.3, top)))
        else:
            out.append(("desk", Box(x - 0.12, top - 0.03, x + 0.32, top)))
    if "chair" in by_surface or "chair" in pose.props:
        part = by_surface["chair"].part if "chair" in by_surface else ""
        if part.endswith("_hand"):  # holding the top of the backrest
            (hx, hy), gap = contact_point(fig.joints, part)
            seat, x = hy - gap - CHAIR_BACK, hx + 0.12
        elif part:  # sitting on it
            (hx, hy), gap = contact_point(fig.joints, part)
            seat, x = hy - gap, hx + pose.props.get("chair", 0.0)
        else:
            seat, x = SEAT, pose.props["chair"]
        out.append(("chair", Box(x - 0.11, seat - 0.025, x + 0.11, seat)))
        if pose.view == "front":
            out.append(("chair_back", Box(x - 0.13, seat, x + 0.13, seat + CHAIR_BACK)))
        else:
            out.append(("chair_back", Box(x - 0.13, seat, x - 0.11, seat + CHAIR_BACK)))
        out.append(("chair_legs", Box(x - 0.1, 0.0, x + 0.1, seat - 0.025)))
    if "wall" in by_surface or "wall" in pose.props:
        if "wall" in by_surface:
            part = by_surface["wall"].part
            (px, _), gap = contact_point(fig.joints, part)
            x = px + gap if part.endswith("_hand") else px - BUTTOCKS
        else:
            x = pose.props["wall"]
        # x is the wall's face; its thickness lies away from the figure
        face = x - 0.04 if x <= fig.joints["hip"][0] else x
        out.append(("wall", Box(face, 0.0, face + 0.04, 1.15)))
    if "cushion" in by_surface:
        (kx, _), _ = contact_point(fig.joints, by_surface["cushion"].part)
        out.append(("cushion", Box(kx - 0.07, 0.0, kx + 0.07, CUSHION)))
    if "mat" in pose.props:
        xs = [p[0] for p in fig.joints.values()]
        out.append(("mat", Box(min(xs) - 0.08, 0.0, max(xs) + 0.08, 0.012)))
    return out


def stick_line(fig: Figure) -> tuple[Point, Point]:
    """A stick along the back, touching the back of the head and the tailbone."""
    j = fig.joints
    back = direction(j["hip"], j["shoulder"]) - 90.0
    tail = along(j["hip"], back, TRUNK)
    head = along(j["head"], direction(j["chin"], j["head"]) - 90.0, HEAD_R)
    ang = direction(tail, head)
    return along(tail, ang, -0.06), along(head, ang, 0.1)


# --------------------------------------------------------------------------- layout


@dataclass(frozen=True, slots=True)
class Layout:
    scale: float  # pixels per world unit, per pixel of box size
    cx: float  # world x at the box's centre


def _bounds(points: Sequence[Point]) -> Box:
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return Box(min(xs), min(ys), max(xs), max(ys))


def _samples(name: str) -> list[Figure]:
    motion = library().motions.get(name)
    if motion is None:
        return [figure_at(name, 0.0)]
    steps = 24
    return [figure_at(name, motion.period * i / steps) for i in range(steps)] + [
        figure_at(name, 0.0, still=True)
    ]


@functools.cache
def layout(name: str) -> Layout:
    """One scale and centre for all of a motion's frames, so the props stay put."""
    pose = key_pose(name)
    key = figure_at(name, 0.0, still=True)
    points: list[Point] = []
    for fig in _samples(name):
        points += list(fig.joints.values())
        if "stick" in pose.props:
            points += list(stick_line(fig))
    for _, box in props_of(pose, key):
        points += [(box.x0, box.y0), (box.x1, box.y1)]
    b = _bounds(points)
    pad = 0.1  # the head's radius and the strokes' half widths
    width, top = b.x1 - b.x0 + 2 * pad, b.y1 + pad
    room = 1.0 - 2 * MARGIN
    scale = min(SCALE, room / width, (FLOOR_AT - MARGIN) / top)
    return Layout(scale, (b.x0 + b.x1) / 2)


# --------------------------------------------------------------------------- drawing


def scene(
    name: str,
    t: float,
    *,
    side: Side | None,
    size: float,
    look: Look,
    still: bool = False,
) -> list[Shape]:
    """The figure at ``t`` seconds into the step (modulo the period), mirrored for
    ``side``, in a ``size`` x ``size`` box, painted back to front. ``still``: the
    motion's key pose (reduced motion). ``name`` must be :func:`known` (KeyError)."""
    pose = key_pose(name)
    fig = figure_at(name, t, still=still)
    lay = layout(name)
    s = lay.scale * size
    flip = side == "left"

    def px(p: Point) -> Point:
        x = (p[0] - lay.cx) * s + size / 2
        return (size - x if flip else x, size * FLOOR_AT - p[1] * s)

    def rect(box: Box, color: RGBA) -> Rect:
        (xa, ya), (xb, yb) = px((box.x0, box.y1)), px((box.x1, box.y0))
        return Rect(min(xa, xb), ya, max(xa, xb), yb, color)

    def stroke(points: Sequence[Point], width: float, color: RGBA) -> Stroke:
        return Stroke(tuple(px(p) for p in points), width * s, color)

    j = fig.joints
    near = look.accent if side is not None else look.body
    shapes: list[Shape] = [Rect(0, 0, size, size, look.background)]
    for kind, box in props_of(pose, figure_at(name, 0.0, still=True)):
        if kind == "chair_legs":
            for x in (box.x0, box.x1):
                shapes.append(stroke([(x, box.y0), (x, box.y1)], 0.02, look.prop))
        else:
            shapes.append(rect(box, look.prop))
    floor_y = size * FLOOR_AT
    shapes.append(Rect(0, floor_y, size, floor_y + max(1.0, 0.01 * size), look.prop))

    limb, trunk = 2 * LIMB, 2 * TRUNK
    if fig.view == "side":
        legs = {sd: [j["hip"], j[f"knee_{sd}"], j[f"ankle_{sd}"]] for sd in ("near", "far")}
        feet = {sd: [j[f"ankle_{sd}"], j[f"heel_{sd}"], j[f"toe_{sd}"]] for sd in ("near", "far")}
        arms = {sd: [j["shoulder"], j[f"elbow_{sd}"], j[f"hand_{sd}"]] for sd in ("near", "far")}
    else:
        legs = {
            sd: [j[f"socket_{sd}"], j[f"knee_{sd}"], j[f"ankle_{sd}"]] for sd in ("near", "far")
        }
        feet = {sd: [j[f"ankle_{sd}"], j[f"heel_{sd}"]] for sd in ("near", "far")}
        arms = {sd: [j[f"arm_{sd}"], j[f"elbow_{sd}"], j[f"hand_{sd}"]] for sd in ("near", "far")}

    def limbs(sd: str, color: RGBA) -> None:
        shapes.append(stroke(legs[sd], limb, color))
        shapes.append(stroke(feet[sd], limb * 0.7, color))

    limbs("far", look.far)
    shapes.append(stroke(arms["far"], limb * 0.8, look.far))
    if fig.view == "front":
        shapes.append(stroke([j["socket_near"], j["socket_far"]], trunk, look.body))
        shapes.append(stroke([j["arm_near"], j["arm_far"]], limb, look.body))
    shapes.append(stroke([j["hip"], j["waist"], j["shoulder"]], trunk, look.body))
    shapes.append(stroke([j["shoulder"], j["chin"]], limb, look.body))
    hx, hy = px(j["head"])
    shapes.append(Disc(hx, hy, HEAD_R * s, look.body))
    limbs("near", near)
    shapes.append(stroke(arms["near"], limb * 0.8, look.body))
    if "stick" in pose.props:
        shapes.append(stroke(list(stick_line(fig)), 0.022, look.prop))
    if "band" in pose.props:
        at = "knee" if pose.band == "knees" else "ankle"
        a, b = j[f"{at}_near"], j[f"{at}_far"]
        if fig.view == "front":
            loop = [
                (a[0], a[1] + 0.02),
                (b[0], b[1] + 0.02),
                (b[0], b[1] - 0.02),
                (a[0], a[1] - 0.02),
            ]
            shapes.append(Stroke(tuple(px(p) for p in loop), 0.012 * s, near, closed=True))
        else:
            shapes.append(Disc(*px(a), 0.03 * s, near))
    return shapes


def _moved(shape: Shape, dx: float) -> Shape:
    match shape:
        case Disc():
            return Disc(shape.cx + dx, shape.cy, shape.r, shape.color)
        case Rect():
            return Rect(shape.x0 + dx, shape.y0, shape.x1 + dx, shape.y1, shape.color)
        case Stroke():
            pts = tuple((x + dx, y) for x, y in shape.points)
            return Stroke(pts, shape.width, shape.color, shape.closed)
    raise TypeError(f"a figure draws no {type(shape).__name__}")


def sheet(steps: Sequence[tuple[str, Side | None]], size: float, look: Look) -> list[Shape]:
    """Key poses side by side, one ``size`` box each: a drill's steps at a glance."""
    shapes: list[Shape] = []
    for i, (name, side) in enumerate(steps):
        drawn = scene(name, 0.0, side=side, size=size, look=look, still=True)
        shapes += [_moved(shape, i * size) for shape in drawn]
    return shapes


# --------------------------------------------------------------------------- snapshots


def snapshot_frames() -> list[tuple[str, str, float, bool]]:
    """(file stem, name, t, still) for every pose and every motion's keyframes."""
    lib = library()
    out = [(name, name, 0.0, True) for name in sorted(lib.poses)]
    for name in sorted(lib.motions):
        elapsed = 0.0
        for i, frame in enumerate(lib.motions[name].frames):
            elapsed += frame.seconds
            out.append((f"{name}.k{i}", name, elapsed, False))
    return out


SNAPSHOT_SIZE = 160


def snapshot_svg(name: str, t: float, still: bool) -> str:
    shapes = scene(name, t, side="right", size=SNAPSHOT_SIZE, look=Look.standard(), still=still)
    return to_svg(shapes, SNAPSHOT_SIZE, title=name)


def write_snapshots(folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    for stem, name, t, still in snapshot_frames():
        (folder / f"{stem}.svg").write_text(snapshot_svg(name, t, still), encoding="utf-8")
    return len(snapshot_frames())


def main(argv: Sequence[str] | None = None) -> int:
    import argparse  # noqa: PLC0415 - only for this command, not for the coach or the daemon

    parser = argparse.ArgumentParser(prog="python -m ergobreak.artwork.figure")
    parser.add_argument("--snapshots", metavar="DIR", type=Path, required=True)
    args = parser.parse_args(argv)
    count = write_snapshots(args.snapshots)
    sys.stdout.write(f"wrote {count} SVG snapshots to {args.snapshots}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
