"""The pose model: a planar stick figure posed by joint angles (standard library only).

Lengths are fractions of standing height, from Winter's anthropometric table
(D. A. Winter, *Biomechanics and Motor Control of Human Movement*, 4th ed. 2009,
fig. 4.1): hip (greater trochanter) at 0.530 H, knee 0.285, ankle 0.039, shoulder
0.818, chin 0.870, elbow 0.630, wrist 0.485, foot length 0.152, hip width 0.191,
shoulder width 0.259. The trunk is two segments, pelvis and thorax, so the shape of
the spine is a fact the form checks can read.

World coordinates: height 1, floor at y = 0, y up. A segment's direction is an
angle in degrees from straight up, positive toward +x. In the ``side`` view the
figure faces +x and its near limbs are on its right side; in the ``front`` view it
faces the viewer, so its right (near) limbs are at -x. The other side is the mirror
image (:func:`mirrored`).

Joint angles (degrees):

- ``side``: ``pelvis`` (tilt of hip->waist from vertical, forward +, posterior tilt
  -; -90 lies on the back), ``spine`` (thorax on pelvis, flexion +), ``neck`` (head on
  thorax, flexion +), ``hip_*`` (flexion +, extension -), ``knee_*`` (flexion +),
  ``ankle_*`` (dorsiflexion +; left out: the foot lies level, flat on the floor),
  ``shoulder_*`` (flexion +), ``elbow_*`` (flexion +); ``turn_*`` / ``cross_*`` turn
  thigh and shank out of the picture plane (a crossed leg), foreshortening them.
- ``front``: ``pelvis`` and ``spine`` (lateral lean toward +x), ``neck``, ``hip_*``
  (abduction +), ``knee_*`` (shank toward the midline +), ``fold_*`` / ``bend_*``
  (hip and knee flexion out of the picture plane: they foreshorten thigh and shank),
  ``shoulder_*`` (abduction +), ``elbow_*``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

View: TypeAlias = Literal["side", "front"]
Point: TypeAlias = tuple[float, float]

# Segment lengths (Winter 2009, fractions of height H).
PELVIS = 0.100  # hip joint to waist: 0.530 H -> ~0.63 H
THORAX = 0.188  # waist to shoulder: ~0.63 H -> 0.818 H
NECK = 0.052  # shoulder to chin: 0.818 H -> 0.870 H
HEAD_R = 0.065  # the head, chin to crown 0.130 H, as a disc
UPPER_ARM = 0.186  # shoulder 0.818 H -> elbow 0.630 H
FOREARM = 0.200  # elbow 0.630 H -> wrist 0.485 H, plus half the hand (0.108 H)
THIGH = 0.245  # hip 0.530 H -> knee 0.285 H
SHANK = 0.246  # knee 0.285 H -> ankle 0.039 H
ANKLE_H = 0.039  # ankle above the sole
FOOT = 0.130  # heel to toe, ahead of the ankle (of the 0.152 H foot)
HEEL = 0.022  # heel behind the ankle
HIP_HALF = 0.048  # half the distance between the hip joints (front view)
SHOULDER_HALF = 0.105  # half the shoulder joints' span (front view)

# Half thicknesses of the drawn body, so a contact rests on a surface, not in it.
LIMB = 0.025
TRUNK = 0.045

# Prop surfaces (H ~ 1.75 m): a chair seat ~45 cm, a cushion ~10 cm.
SEAT = 0.26
CUSHION = 0.055

SIDES = ("near", "far")
TRUNK_ANGLES = ("pelvis", "spine", "neck")
SIDE_LIMB = ("hip", "knee", "ankle", "turn", "cross", "shoulder", "elbow")
FRONT_LIMB = ("hip", "knee", "fold", "bend", "shoulder", "elbow")
SIDE_ANGLES = (*TRUNK_ANGLES, *(f"{joint}_{s}" for joint in SIDE_LIMB for s in SIDES))
FRONT_ANGLES = (*TRUNK_ANGLES, *(f"{joint}_{s}" for joint in FRONT_LIMB for s in SIDES))
ANGLES: dict[View, tuple[str, ...]] = {"side": SIDE_ANGLES, "front": FRONT_ANGLES}

# What touches what: body part -> the surfaces it may rest on.
PARTS = (
    "near_foot",
    "far_foot",
    "near_knee",
    "far_knee",
    "buttocks",
    "back",
    "side",
    "near_hand",
    "far_hand",
)
SURFACES = ("floor", "cushion", "chair", "desk", "wall")
PROPS = ("desk", "chair", "wall", "stick", "band", "cushion", "mat")


@dataclass(frozen=True, slots=True)
class Contact:
    part: str
    surface: str


@dataclass(frozen=True, slots=True)
class Pose:
    """A named pose: a view, joint angles, what touches what, and the props shown.

    The first contact places the figure: it rests on its surface (its x is the
    origin); the others are facts the form checks confirm. ``props`` maps a prop to
    its x (world units from the first contact) where no contact places it.
    """

    name: str
    view: View
    angles: dict[str, float]
    contacts: tuple[Contact, ...]
    props: dict[str, float] = field(default_factory=dict)
    form: tuple[str, ...] = ()
    band: Literal["knees", "ankles"] = "knees"

    def angle(self, key: str) -> float:
        return self.angles.get(key, 0.0)


@dataclass(frozen=True, slots=True)
class Keyframe:
    pose: str
    seconds: float  # to reach this pose from the previous keyframe


@dataclass(frozen=True, slots=True)
class Motion:
    """Keyframes looped; ``key`` is the pose shown still (reduced motion) and whose
    props (wall, chair, desk) stay put while the figure moves."""

    name: str
    key: str
    frames: tuple[Keyframe, ...]

    @property
    def period(self) -> float:
        return sum(f.seconds for f in self.frames)


@dataclass(frozen=True, slots=True)
class Figure:
    """Joint positions in world units, placed on the floor and props."""

    view: View
    joints: dict[str, Point]
    feet_flat: dict[str, bool]

    def __getitem__(self, name: str) -> Point:
        return self.joints[name]


def along(origin: Point, deg: float, length: float) -> Point:
    """The point ``length`` from ``origin`` in direction ``deg``."""
    rad = math.radians(deg)
    return (origin[0] + length * math.sin(rad), origin[1] + length * math.cos(rad))


def direction(a: Point, b: Point) -> float:
    """The direction of a -> b in this module's convention (degrees from up, toward +x)."""
    return math.degrees(math.atan2(b[0] - a[0], b[1] - a[1]))


def _trunk(angles: dict[str, float]) -> tuple[dict[str, Point], float, float]:
    """Hip (the root, at the origin), waist, shoulder, chin and head; and the pelvis'
    and thorax' directions, which both views share."""
    hip = (0.0, 0.0)
    pelvis = angles.get("pelvis", 0.0)
    thorax = pelvis + angles.get("spine", 0.0)
    neck = thorax + angles.get("neck", 0.0)
    waist = along(hip, pelvis, PELVIS)
    shoulder = along(waist, thorax, THORAX)
    chin = along(shoulder, neck, NECK)
    head = along(chin, neck, HEAD_R)
    joints = {"hip": hip, "waist": waist, "shoulder": shoulder, "chin": chin, "head": head}
    return joints, pelvis, thorax


def _side_joints(angles: dict[str, float]) -> tuple[dict[str, Point], dict[str, bool]]:
    a = angles.get
    joints, pelvis, thorax = _trunk(angles)
    hip, shoulder = joints["hip"], joints["shoulder"]
    flat: dict[str, bool] = {}
    for s in SIDES:
        thigh = pelvis + 180.0 - a(f"hip_{s}", 0.0)
        shank = thigh + a(f"knee_{s}", 0.0)
        # turn / cross: thigh and shank turned out of the picture (a crossed leg)
        knee = along(hip, thigh, THIGH * math.cos(math.radians(a(f"turn_{s}", 0.0))))
        ankle = along(knee, shank, SHANK * math.cos(math.radians(a(f"cross_{s}", 0.0))))
        heel = along(ankle, shank, ANKLE_H)
        dorsi = angles.get(f"ankle_{s}")
        foot = 90.0 if dorsi is None else shank - 90.0 - dorsi
        flat[s] = dorsi is None
        joints |= {
            f"knee_{s}": knee,
            f"ankle_{s}": ankle,
            f"heel_{s}": along(heel, foot, -HEEL),
            f"toe_{s}": along(heel, foot, FOOT),
        }
        upper = thorax + 180.0 - a(f"shoulder_{s}", 0.0)
        elbow = along(shoulder, upper, UPPER_ARM)
        joints |= {
            f"elbow_{s}": elbow,
            f"hand_{s}": along(elbow, upper - a(f"elbow_{s}", 0.0), FOREARM),
        }
    return joints, flat


def _front_joints(angles: dict[str, float]) -> tuple[dict[str, Point], dict[str, bool]]:
    a = angles.get
    joints, pelvis, thorax = _trunk(angles)
    hip, shoulder = joints["hip"], joints["shoulder"]
    flat: dict[str, bool] = {}
    for s, out in (("near", -1.0), ("far", 1.0)):
        # the near (right) limbs are at -x: "outward" turns toward -x for them
        socket = along(hip, pelvis + 90.0 * out, HIP_HALF)
        fold = a(f"fold_{s}", 0.0)
        thigh = pelvis + 180.0 - out * a(f"hip_{s}", 0.0)
        knee = along(socket, thigh, THIGH * math.cos(math.radians(fold)))
        shank = thigh + out * a(f"knee_{s}", 0.0)
        shank_len = SHANK * abs(math.cos(math.radians(fold - a(f"bend_{s}", 0.0))))
        ankle = along(knee, shank, shank_len)
        sole = along(ankle, shank, ANKLE_H)
        arm_root = along(shoulder, thorax + 90.0 * out, SHOULDER_HALF)
        upper = thorax + 180.0 - out * a(f"shoulder_{s}", 0.0)
        elbow = along(arm_root, upper, UPPER_ARM)
        joints |= {
            f"socket_{s}": socket,
            f"knee_{s}": knee,
            f"ankle_{s}": ankle,
            f"heel_{s}": sole,
            f"toe_{s}": sole,
            f"arm_{s}": arm_root,
            f"elbow_{s}": elbow,
            f"hand_{s}": along(elbow, upper + out * a(f"elbow_{s}", 0.0), FOREARM),
        }
        flat[s] = True
    return joints, flat


def _raw(view: View, angles: dict[str, float]) -> tuple[dict[str, Point], dict[str, bool]]:
    return _side_joints(angles) if view == "side" else _front_joints(angles)


def contact_point(joints: dict[str, Point], part: str) -> tuple[Point, float]:
    """The point of ``part`` that touches, and how far the body's surface is from it."""
    if part.endswith("_foot"):
        s = part.removesuffix("_foot")
        heel, toe = joints[f"heel_{s}"], joints[f"toe_{s}"]
        return (heel if heel[1] <= toe[1] + 1e-9 else toe), LIMB  # a flat foot: its heel
    if part.endswith("_knee"):
        return joints[f"knee_{part.removesuffix('_knee')}"], LIMB
    if part.endswith("_hand"):
        return joints[f"hand_{part.removesuffix('_hand')}"], LIMB
    if part == "buttocks":
        return joints["hip"], LIMB * 2
    if part == "side":  # lying on a side (front view): the lower hip and shoulder
        sides = [joints[k] for k in ("socket_near", "socket_far", "arm_near", "arm_far")]
        return min(sides, key=lambda p: p[1]), LIMB
    # lying on the back: the lowest point of the trunk
    trunk = [joints["hip"], joints["waist"], joints["shoulder"]]
    return min(trunk, key=lambda p: p[1]), TRUNK


def surface_height(surface: str) -> float:
    return {"floor": 0.0, "cushion": CUSHION, "chair": SEAT}.get(surface, 0.0)


def place(view: View, angles: dict[str, float], anchor: Contact, at_x: float = 0.0) -> Figure:
    """Forward kinematics, then the figure moved so ``anchor`` rests on its surface."""
    joints, flat = _raw(view, angles)
    point, gap = contact_point(joints, anchor.part)
    if anchor.surface in ("floor", "cushion"):
        dx, dy = at_x - point[0], surface_height(anchor.surface) + gap - point[1]
    else:  # chair, desk, wall: the prop comes to the body; the feet go to the floor
        feet = min((contact_point(joints, f"{s}_foot")[0][1] for s in SIDES), default=0.0)
        dx, dy = at_x - point[0], LIMB - feet
    moved = {k: (x + dx, y + dy) for k, (x, y) in joints.items()}
    return Figure(view, moved, flat)


def pose_figure(pose: Pose) -> Figure:
    return place(pose.view, pose.angles, pose.contacts[0])


def blend(a: dict[str, float], b: dict[str, float], w: float) -> dict[str, float]:
    """Angles from ``a`` toward ``b`` by ``w`` (0..1); an angle left out is 0, except an
    ankle, which is level (flat) unless either pose sets it."""
    out: dict[str, float] = {}
    for key in sorted(set(a) | set(b)):
        if key.startswith("ankle_") and (key not in a or key not in b):
            continue  # flat in one pose: keep the foot level throughout
        out[key] = a.get(key, 0.0) + (b.get(key, 0.0) - a.get(key, 0.0)) * w
    return out


def smoothstep(x: float) -> float:
    x = min(1.0, max(0.0, x))
    return x * x * (3.0 - 2.0 * x)


def common_anchor(a: Pose, b: Pose) -> Contact:
    """The first contact both poses share (a planted foot stays put), else a's first."""
    for contact in a.contacts:
        if contact in b.contacts:
            return contact
    return a.contacts[0]


def motion_frame(motion: Motion, poses: dict[str, Pose], t: float) -> tuple[Pose, Pose, float]:
    """The two keyframe poses around ``t`` (seconds, looped) and the eased weight."""
    period = motion.period
    t = t % period if period > 0 else 0.0
    frames = motion.frames
    elapsed = 0.0
    for i, frame in enumerate(frames):
        if t < elapsed + frame.seconds or i == len(frames) - 1:
            before = poses[frames[i - 1].pose]
            w = (t - elapsed) / frame.seconds if frame.seconds > 0 else 1.0
            return before, poses[frame.pose], smoothstep(w)
        elapsed += frame.seconds
    raise AssertionError("unreachable: a motion has keyframes")
