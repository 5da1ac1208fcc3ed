"""Form checks: what a step's text asks of the body, checked on the joint positions.

Each pose in ``poses.toml`` names the rules it must pass (``form = [...]``); a rule
reads the placed figure (:func:`ergobreak.artwork.figure.figure_at`), never pixels,
and returns what is wrong in words. ``tests/test_pose_form.py`` runs them all.
"""

from __future__ import annotations

from collections.abc import Callable

from ergobreak.artwork.figure import Box, figure_at, poses_of, props_of, stick_line
from ergobreak.artwork.pose import (
    LIMB,
    TRUNK,
    Figure,
    Pose,
    along,
    contact_point,
    direction,
    surface_height,
)

Rule = Callable[[Pose, Figure, dict[str, Box]], list[str]]

FLOOR_TOL = 0.02  # body heights (~3.5 cm): a foot this close rests on the floor


def _wrap(deg: float) -> float:
    return (deg + 180.0) % 360.0 - 180.0


def tilt(fig: Figure, a: str, b: str) -> float:
    """Direction of joint a -> b, degrees from straight up (+ toward +x)."""
    return _wrap(direction(fig[a], fig[b]))


def bend(fig: Figure, a: str, b: str, c: str) -> float:
    """How far the segment b -> c turns from a -> b (0: a straight line)."""
    return abs(_wrap(direction(fig[b], fig[c]) - direction(fig[a], fig[b])))


def from_vertical_down(fig: Figure, a: str, b: str) -> float:
    """Angle of a -> b from straight down, signed (+: b ahead of a, toward +x)."""
    return _wrap(180.0 - direction(fig[a], fig[b]))


def foot_height(fig: Figure, side: str) -> float:
    (_, y), gap = contact_point(fig.joints, f"{side}_foot")
    return y - gap


def _trunk(fig: Figure) -> list[str]:
    out = []
    pelvis, thorax = tilt(fig, "hip", "waist"), tilt(fig, "waist", "shoulder")
    if abs(_wrap(thorax - pelvis)) > 10:
        out.append(f"spine not neutral: thorax {thorax:.0f}° vs pelvis {pelvis:.0f}°")
    head = tilt(fig, "shoulder", "head")
    if abs(_wrap(head - thorax)) > 15:
        out.append(f"head out of line with the back ({head - thorax:.0f}°)")
    return out


def _upright(fig: Figure, limit: float = 10.0) -> list[str]:
    out = _trunk(fig)
    for a, b in (("hip", "waist"), ("waist", "shoulder")):
        if abs(tilt(fig, a, b)) > limit:
            out.append(f"trunk not upright: {a}->{b} {tilt(fig, a, b):.0f}° from vertical")
    return out


def _on_floor(pose: Pose, fig: Figure) -> list[str]:
    out = []
    for c in pose.contacts:
        (_, y), gap = contact_point(fig.joints, c.part)
        if c.surface not in ("floor", "cushion"):
            continue  # the props stand where the body touches them
        surface = surface_height(c.surface)
        if abs(y - gap - surface) > FLOOR_TOL:
            out.append(f"{c.part} is {y - gap - surface:+.3f} off the {c.surface}")
        if c.part.endswith("_foot") and c.surface == "floor":
            s = c.part.removesuffix("_foot")
            if not fig.feet_flat[s] or abs(fig[f"heel_{s}"][1] - fig[f"toe_{s}"][1]) > 0.005:
                out.append(f"{s} foot not flat")
    return out


def _knee(fig: Figure, s: str) -> float:
    return bend(fig, "hip", f"knee_{s}", f"ankle_{s}")


def standing(pose: Pose, fig: Figure, props: dict[str, Box]) -> list[str]:
    out = _upright(fig) + _on_floor(pose, fig)
    for c in pose.contacts:
        if c.part.endswith("_foot"):
            s = c.part.removesuffix("_foot")
            if _knee(fig, s) > 22:
                out.append(f"standing knee ({s}) bent {_knee(fig, s):.0f}°")
    return out


def tucked(pose: Pose, fig: Figure, props: dict[str, Box]) -> list[str]:
    out = _trunk(fig)
    pelvis, thorax = tilt(fig, "hip", "waist"), tilt(fig, "waist", "shoulder")
    if not -15 <= pelvis <= -3:
        out.append(f"pelvis not tucked (posterior tilt): {pelvis:.0f}°")
    if abs(thorax) > 5:
        out.append(f"chest not upright: {thorax:.0f}°")
    return out + _on_floor(pose, fig)


def split(pose: Pose, fig: Figure, props: dict[str, Box]) -> list[str]:
    gap = fig["heel_far"][0] - fig["heel_near"][0]
    return [] if gap >= 0.2 else [f"working foot only {gap:.2f} H behind: not a stride"]


def hand_on_desk(pose: Pose, fig: Figure, props: dict[str, Box]) -> list[str]:
    desk = props.get("desk")
    if desk is None:
        return ["no desk"]
    return [] if 0.38 <= desk.y1 <= 0.55 else [f"desk top at {desk.y1:.2f} H: hand not on a desk"]


def hand_on_chair(pose: Pose, fig: Figure, props: dict[str, Box]) -> list[str]:
    chair = props.get("chair")
    if chair is None:
        return ["no chair"]
    return [] if 0.22 <= chair.y1 <= 0.30 else [f"seat at {chair.y1:.2f} H: not a chair"]


def hinge_top(pose: Pose, fig: Figure, props: dict[str, Box]) -> list[str]:
    out = []
    for s in ("near", "far"):
        if not 5 <= _knee(fig, s) <= 25:
            out.append(f"knees not soft ({s} {_knee(fig, s):.0f}°)")
    if abs(tilt(fig, "waist", "shoulder")) > 15:
        out.append("not standing tall")
    return out


def hinge(pose: Pose, fig: Figure, props: dict[str, Box]) -> list[str]:
    out = _trunk(fig) + _on_floor(pose, fig)
    lean = tilt(fig, "hip", "shoulder")
    if lean < 30:
        out.append(f"trunk lean {lean:.0f}°: not a hinge")
    for s in ("near", "far"):
        if fig["hip"][0] > fig[f"heel_{s}"][0]:
            out.append("hips not back behind the heels")
        if fig["hip"][1] - fig[f"knee_{s}"][1] < 0.15:
            out.append("hips down, not back: hip height near knee height")
        if not 10 <= _knee(fig, s) <= 30:
            out.append(f"knee ({s}) {_knee(fig, s):.0f}°: not soft (10-30°)")
        shin = abs(from_vertical_down(fig, f"knee_{s}", f"ankle_{s}"))
        if shin > 15:
            out.append(f"shin ({s}) {shin:.0f}° from vertical")
    return out


def wall_distance(pose: Pose, fig: Figure, props: dict[str, Box]) -> list[str]:
    wall = props.get("wall")
    if wall is None:
        return ["no wall"]
    gap = fig["heel_near"][0] - wall.x1
    return [] if 0.11 <= gap <= 0.175 else [f"heels {gap * 175:.0f} cm from the wall, not 20-30"]


def stick(pose: Pose, fig: Figure, props: dict[str, Box]) -> list[str]:
    (ax, ay), (bx, by) = stick_line(fig)
    back = direction(fig["hip"], fig["shoulder"]) - 90.0
    ux, uy = along(fig["shoulder"], back, TRUNK)
    length = ((bx - ax) ** 2 + (by - ay) ** 2) ** 0.5
    dist = abs((bx - ax) * (ay - uy) - (ax - ux) * (by - ay)) / length
    return [] if dist <= 0.02 else [f"stick {dist:.3f} H off the upper back: rounding"]


def knee_lift(pose: Pose, fig: Figure, props: dict[str, Box]) -> list[str]:
    lifted = "near" if foot_height(fig, "near") > foot_height(fig, "far") else "far"
    thigh = abs(from_vertical_down(fig, "hip", f"knee_{lifted}"))
    return [] if 30 <= thigh <= 90 else [f"knee raise thigh at {thigh:.0f}°"]


def knee_below_hip(pose: Pose, fig: Figure, props: dict[str, Box]) -> list[str]:
    out = knee_lift(pose, fig, props)
    for s in ("near", "far"):
        if fig[f"knee_{s}"][1] > fig["hip"][1] + 0.005:
            out.append(f"{s} knee above hip height")
    return out


def _seat(fig: Figure) -> float:
    return fig["hip"][1] - 2 * LIMB


def seated(pose: Pose, fig: Figure, props: dict[str, Box]) -> list[str]:
    out = _upright(fig) + _on_floor(pose, fig)
    if not 0.22 <= _seat(fig) <= 0.30:
        out.append(f"seat at {_seat(fig):.2f} H: not on a chair")
    chair = props.get("chair")
    if chair is None or abs(chair.y1 - _seat(fig)) > 0.005:
        out.append("buttocks not on the chair")
    for c in pose.contacts:
        if c.part.endswith("_foot"):
            s = c.part.removesuffix("_foot")
            thigh = abs(abs(from_vertical_down(fig, "hip", f"knee_{s}")) - 90)
            if thigh > 15:
                out.append(f"{s} thigh {thigh:.0f}° off the seat")
    return out


def back_supported(pose: Pose, fig: Figure, props: dict[str, Box]) -> list[str]:
    back = props.get("chair_back")
    if back is None:
        return ["no backrest"]
    gap = (fig["waist"][0] - TRUNK) - back.x1
    return [] if abs(gap) <= 0.012 else [f"lower back {gap:.3f} H from the backrest"]


def foot_lift(pose: Pose, fig: Figure, props: dict[str, Box]) -> list[str]:
    lift = max(foot_height(fig, "near"), foot_height(fig, "far"))
    return [] if 0.01 <= lift <= 0.08 else [f"foot {lift:.3f} H up: not just off the floor"]


def seated_front(pose: Pose, fig: Figure, props: dict[str, Box]) -> list[str]:
    out = _upright(fig, 5) + _on_floor(pose, fig)
    if not 0.22 <= _seat(fig) <= 0.32:
        out.append(f"seat at {_seat(fig):.2f} H")
    return out


def figure4(pose: Pose, fig: Figure, props: dict[str, Box]) -> list[str]:
    ankle, knee, hip = fig["ankle_near"], fig["knee_far"], fig["hip"]
    out = []
    if fig.view == "front":
        if abs(ankle[0] - knee[0]) > 0.06 or not 0.0 <= ankle[1] - hip[1] + 0.05 <= 0.1:
            out.append("ankle not resting on the other thigh")
    else:
        along = (ankle[0] - hip[0]) / (knee[0] - hip[0])
        if not 0.65 <= along <= 1.0 or not 0.02 <= ankle[1] - knee[1] <= 0.08:
            out.append(f"ankle not on the thigh just above the knee ({along:.2f} along)")
    return out


def seated_lean(pose: Pose, fig: Figure, props: dict[str, Box]) -> list[str]:
    out = _trunk(fig) + _on_floor(pose, fig)
    lean = tilt(fig, "hip", "shoulder")
    if not 15 <= lean <= 45:
        out.append(f"lean {lean:.0f}° from the hips, not 15-45°")
    return out + figure4(pose, fig, props)


def _half_kneel(pose: Pose, fig: Figure, front: tuple[float, float]) -> list[str]:
    out = _upright(fig) + _on_floor(pose, fig)
    knee = _knee(fig, "far")
    if not front[0] <= knee <= front[1]:
        out.append(f"front knee {knee:.0f}°, not {front[0]:.0f}-{front[1]:.0f}°")
    shin = abs(from_vertical_down(fig, "knee_far", "ankle_far"))
    if shin > 25:
        out.append(f"front shin {shin:.0f}° from vertical")
    return out


def half_kneel(pose: Pose, fig: Figure, props: dict[str, Box]) -> list[str]:
    out = _half_kneel(pose, fig, (80, 100))
    thigh = from_vertical_down(fig, "hip", "knee_near")
    if abs(thigh) > 10:
        out.append(f"back thigh {thigh:.0f}° from vertical")
    return out


def half_kneel_stretch(pose: Pose, fig: Figure, props: dict[str, Box]) -> list[str]:
    out = _half_kneel(pose, fig, (80, 115))
    thigh = -from_vertical_down(fig, "hip", "knee_near")
    if not 8 <= thigh <= 25:
        out.append(f"back hip extended {thigh:.0f}°, not 8-25° (hips forward)")
    return out


def lying_back(pose: Pose, fig: Figure, props: dict[str, Box]) -> list[str]:
    out = _on_floor(pose, fig)
    for j in ("hip", "shoulder"):
        if abs(fig[j][1] - TRUNK) > 0.01:
            out.append(f"{j} off the floor")
    for s in ("near", "far"):
        if not 70 <= _knee(fig, s) <= 115:
            out.append(f"knee ({s}) {_knee(fig, s):.0f}°: not bent")
    return out


def bridge_top(pose: Pose, fig: Figure, props: dict[str, Box]) -> list[str]:
    out = _on_floor(pose, fig)
    line = bend(fig, "shoulder", "hip", "knee_near")
    if line > 8:
        out.append(f"shoulders-hips-knees {line:.0f}° off a straight line")
    if _wrap(direction(fig["shoulder"], fig["hip"]) - direction(fig["hip"], fig["knee_near"])) < -8:
        out.append("hips above the line (arching)")
    if fig["hip"][1] < 0.12:
        out.append("hips not lifted")
    return out


def side_lying(pose: Pose, fig: Figure, props: dict[str, Box]) -> list[str]:
    out = _on_floor(pose, fig)
    trunk = abs(tilt(fig, "hip", "shoulder"))
    if abs(trunk - 90) > 10:
        out.append(f"trunk {trunk:.0f}° from vertical: not lying on the side")
    top, bottom = fig["socket_near"], fig["socket_far"]
    if abs(top[0] - bottom[0]) > 0.01:
        out.append("hips not stacked")
    return out


def feet_together(pose: Pose, fig: Figure, props: dict[str, Box]) -> list[str]:
    a, b = fig["ankle_near"], fig["ankle_far"]
    dist = ((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5
    return [] if dist <= 2 * LIMB + 0.015 else [f"feet {dist:.3f} H apart"]


def clam_open(pose: Pose, fig: Figure, props: dict[str, Box]) -> list[str]:
    lift = fig["knee_near"][1] - fig["knee_far"][1] - 2 * LIMB
    return [] if 0.06 <= lift <= 0.12 else [f"top knee up {lift * 175:.0f} cm, not ~15"]


def _stance(fig: Figure) -> float:
    return abs(fig["ankle_near"][0] - fig["ankle_far"][0])


def standing_front(pose: Pose, fig: Figure, props: dict[str, Box]) -> list[str]:
    out = _upright(fig, 5) + _on_floor(pose, fig)
    if not 0.1 <= _stance(fig) <= 0.3:
        out.append(f"stance {_stance(fig):.2f} H: not hip- to shoulder-width")
    return out


def upright_front(pose: Pose, fig: Figure, props: dict[str, Box]) -> list[str]:
    return _upright(fig, 5) + _on_floor(pose, fig)


def side_raise(pose: Pose, fig: Figure, props: dict[str, Box]) -> list[str]:
    out = []
    out_by = fig["socket_near"][0] - fig["ankle_near"][0]
    if not 0.085 <= out_by <= 0.175:
        out.append(f"foot {out_by * 175:.0f} cm out to the side, not 15-30")
    return out


def swing(pose: Pose, fig: Figure, props: dict[str, Box]) -> list[str]:
    thigh = from_vertical_down(fig, "hip", "knee_near")
    return [] if -20 <= thigh <= 45 else [f"swing thigh {thigh:.0f}°: a kick, not a swing"]


def swing_side(pose: Pose, fig: Figure, props: dict[str, Box]) -> list[str]:
    return [] if foot_height(fig, "near") > 0.005 else ["swinging foot on the floor"]


def quarter_squat(pose: Pose, fig: Figure, props: dict[str, Box]) -> list[str]:
    out = _upright(fig, 5) + _on_floor(pose, fig)
    if not 0.38 <= fig["hip"][1] <= 0.5:
        out.append(f"hip at {fig['hip'][1]:.2f} H: not a quarter squat")
    for s in ("near", "far"):
        (sx, sy), (kx, ky), (ax, ay) = fig[f"socket_{s}"], fig[f"knee_{s}"], fig[f"ankle_{s}"]
        on_line = sx + (ax - sx) * (sy - ky) / (sy - ay)
        if abs(kx - on_line) > 0.02:
            out.append(f"{s} knee not in line with the foot")
    return out


def back_raise(pose: Pose, fig: Figure, props: dict[str, Box]) -> list[str]:
    out = _upright(fig, 5)
    thigh = -from_vertical_down(fig, "hip", "knee_near")
    if not 5 <= thigh <= 20:
        out.append(f"leg {thigh:.0f}° behind: not a small lift")
    if _knee(fig, "near") > 5:
        out.append("lifted leg not straight")
    return out


RULES: dict[str, Rule] = {
    "standing": standing,
    "tucked": tucked,
    "tucked_trunk": tucked,
    "split": split,
    "hand_on_desk": hand_on_desk,
    "hand_on_chair": hand_on_chair,
    "hinge_top": hinge_top,
    "hinge": hinge,
    "wall_distance": wall_distance,
    "stick": stick,
    "knee_lift": knee_lift,
    "knee_below_hip": knee_below_hip,
    "seated": seated,
    "back_supported": back_supported,
    "foot_lift": foot_lift,
    "seated_front": seated_front,
    "figure4": figure4,
    "seated_lean": seated_lean,
    "half_kneel": half_kneel,
    "half_kneel_stretch": half_kneel_stretch,
    "lying_back": lying_back,
    "bridge_top": bridge_top,
    "side_lying": side_lying,
    "feet_together": feet_together,
    "clam_open": clam_open,
    "standing_front": standing_front,
    "upright_front": upright_front,
    "side_raise": side_raise,
    "swing": swing,
    "swing_side": swing_side,
    "quarter_squat": quarter_squat,
    "back_raise": back_raise,
}


def check_pose(pose: Pose, fig: Figure | None = None) -> list[str]:
    """What is wrong with ``pose`` by its own rules (``fig``: its figure, if altered)."""
    fig = fig if fig is not None else figure_at(pose.name, 0.0, still=True)
    props = dict(props_of(pose, fig))
    problems: list[str] = []
    for rule in pose.form:
        problems += [f"{pose.name} [{rule}]: {p}" for p in RULES[rule](pose, fig, props)]
    return problems


def check(name: str) -> list[str]:
    """The form problems of a pose, or of every pose a motion passes through."""
    return [p for pose in poses_of(name) for p in check_pose(pose)]
