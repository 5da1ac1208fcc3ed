"""Form checks on the joint positions: every pose shows the form its step's text asks
for, and each check fails on the faults it is there to catch."""

from __future__ import annotations

import dataclasses

import pytest

from ergobreak.artwork import form
from ergobreak.artwork.figure import figure_at, key_pose, library, poses_of
from ergobreak.artwork.form import tilt
from ergobreak.artwork.pose import LIMB, pose_figure
from ergobreak.content.library import builtin_library

# What each shipped drill's steps must show, by rule (ergobreak/artwork/form.py).
DRILL_RULES = {
    "hipflexor_standing": {"split", "tucked", "hand_on_desk", "standing"},
    "figure4_seated": {"seated", "figure4", "seated_lean", "back_supported"},
    "hipflexor_half_kneel": {"half_kneel", "half_kneel_stretch", "tucked_trunk"},
    "hinge_wall": {"hinge", "hinge_top", "wall_distance"},
    "good_morning_bw": {"hinge", "hinge_top"},
    "hinge_dowel": {"hinge", "hinge_top", "stick"},
    "hip_circles_march": {"standing_front", "knee_below_hip"},
    "leg_swings": {"swing", "swing_side", "hand_on_desk"},
    "glute_squeeze_backlift": {"back_raise", "hand_on_desk"},
    "hip_abduction_standing": {"side_raise", "upright_front", "hand_on_desk"},
    "glute_bridge": {"lying_back", "bridge_top"},
    "clamshell": {"side_lying", "feet_together", "clam_open"},
    "lateral_band_walk": {"quarter_squat", "standing_front"},
    "seated_reset": {"seated", "foot_lift", "back_supported"},
}


@pytest.mark.parametrize("name", sorted(library().poses))
def test_every_pose_passes_its_own_form_rules(name: str) -> None:
    pose = library().poses[name]
    assert pose.form, f"{name} names no form rule"
    assert set(pose.form) <= set(form.RULES)
    assert form.check(name) == []


@pytest.mark.parametrize("name", sorted(library().motions))
def test_every_motion_passes_through_checked_poses_only(name: str) -> None:
    poses = poses_of(name)
    assert len(poses) >= 2
    assert all(pose.form for pose in poses)
    assert form.check(name) == []


def test_every_drill_shows_the_form_its_text_describes() -> None:
    drills = {d.id: d for d in builtin_library().drills}
    assert set(drills) == set(DRILL_RULES)
    for drill_id, rules in DRILL_RULES.items():
        shown: set[str] = set()
        for step in drills[drill_id].steps:
            assert step.pose is not None
            for pose in poses_of(step.pose):
                shown |= set(pose.form)
        assert rules <= shown, f"{drill_id}: {sorted(rules - shown)} not shown"


def test_every_hinge_step_is_checked_as_a_hinge() -> None:
    for drill in builtin_library().drills:
        if drill.category != "hinge":
            continue
        moving = [s for s in drill.steps if s.pose and s.pose in library().motions]
        assert moving, drill.id
        for step in moving:
            assert step.pose is not None
            assert "hinge" in key_pose(step.pose).form


def _faults(name: str, **angles: float) -> str:
    pose = library().poses[name]
    changed = dataclasses.replace(pose, angles={**pose.angles, **angles})
    return "\n".join(form.check_pose(changed, pose_figure(changed)))


def test_a_rounded_back_is_not_a_hinge() -> None:
    assert "spine not neutral" in _faults("hinge_deep", spine=25)


def test_a_poking_chin_is_not_a_hinge() -> None:
    assert "head out of line" in _faults("hinge_deep", neck=-30)


def test_hips_down_is_a_squat_not_a_hinge() -> None:
    faults = _faults(
        "hinge_deep", pelvis=15, hip_near=115, hip_far=115, knee_near=110, knee_far=110
    )
    assert "hips down" in faults


def test_locked_or_deep_knees_are_not_soft() -> None:
    assert "not soft" in _faults("hinge_deep", knee_near=0, knee_far=0)
    assert "not soft" in _faults("hinge_set", knee_near=0, knee_far=0)


def test_hips_over_the_toes_are_not_back() -> None:
    assert "not back behind the heels" in _faults(
        "hinge_deep", pelvis=35, hip_near=35, hip_far=35, knee_near=15, knee_far=15
    )


def test_a_stick_off_the_back_shows_rounding() -> None:
    assert "rounding" in _faults("dowel_hinge", spine=25, neck=25)


def test_a_standing_stretch_needs_the_tuck() -> None:
    assert "not tucked" in _faults("split_stretch", pelvis=6, spine=-6)


def test_a_half_kneel_needs_the_front_knee_near_90() -> None:
    assert "front knee" in _faults("half_kneel", knee_far=50)


def test_a_bridge_too_high_arches() -> None:
    assert "off a straight line" in _faults("bridge_top", hip_near=-25)


def test_seated_feet_must_be_on_the_floor() -> None:
    assert "off the floor" in _faults("sit_tall", knee_near=60)


def test_a_big_side_lift_is_too_much() -> None:
    assert "out to the side" in _faults("side_raise_up", hip_near=35)


def test_leaning_while_lifting_the_leg_behind_fails() -> None:
    assert "not upright" in _faults("back_lift", pelvis=20)


@pytest.mark.parametrize("name", sorted(library().motions))
def test_between_keyframes_the_body_stays_on_not_in_the_floor(name: str) -> None:
    # between keyframes only the angles are eased, so a part may dip a little
    # (the bridge's shoulders most: ~2 cm); never more than ~4 cm (0.025 H)
    span = library().motions[name].period
    for i in range(60):
        fig = figure_at(name, span * i / 60)
        lowest = min(y for _, y in fig.joints.values())
        assert lowest - LIMB >= -0.025, (name, i)


def test_a_hinge_keeps_its_back_long_all_the_way_down_and_up() -> None:
    for name in ("good_morning", "wall_hinge_reps", "dowel_hinge_reps"):
        span = library().motions[name].period
        for i in range(60):
            fig = figure_at(name, span * i / 60)
            spine = tilt(fig, "waist", "shoulder") - tilt(fig, "hip", "waist")
            assert abs(spine) <= 10, (name, i)
            assert fig["heel_near"][1] == pytest.approx(LIMB)
