"""The pose model: forward kinematics in body proportions, placing, easing, motions."""

from __future__ import annotations

import math

import pytest

from ergobreak.artwork import pose as P
from ergobreak.artwork.figure import figure_at, library, period


def test_a_standing_figure_has_winters_proportions() -> None:
    fig = P.place("side", {}, P.Contact("near_foot", "floor"))
    # Winter 2009: hip 0.530 H, knee 0.285 H, shoulder 0.818 H, crown 1.000 H
    # (the foot's sole rests LIMB below its centre line, on the floor)
    lift = P.LIMB
    assert fig["hip"][1] - lift == pytest.approx(0.530, abs=0.01)
    assert fig["knee_near"][1] - lift == pytest.approx(0.285, abs=0.01)
    assert fig["shoulder"][1] - lift == pytest.approx(0.818, abs=0.01)
    assert fig["head"][1] + P.HEAD_R - lift == pytest.approx(1.0, abs=0.01)
    assert fig["heel_near"][0] == pytest.approx(0.0)


def test_joint_angles_bend_the_way_their_names_say() -> None:
    fig = P.place("side", {"hip_near": 90, "knee_near": 90}, P.Contact("far_foot", "floor"))
    hip, knee, ankle = fig["hip"], fig["knee_near"], fig["ankle_near"]
    assert knee[0] - hip[0] == pytest.approx(P.THIGH)  # the thigh forward, level
    assert knee[1] == pytest.approx(hip[1])
    assert ankle[0] == pytest.approx(knee[0])  # the shank straight down
    lean = P.place("side", {"pelvis": 40}, P.Contact("near_foot", "floor"))
    assert lean["shoulder"][0] > lean["hip"][0] + 0.1  # forward is +x
    tucked = P.place("side", {"pelvis": -10, "spine": 10}, P.Contact("near_foot", "floor"))
    assert P.direction(tucked["waist"], tucked["shoulder"]) == pytest.approx(0.0)


def test_the_front_view_puts_the_near_limbs_at_minus_x_and_abducts_them_outward() -> None:
    fig = P.place("front", {"hip_near": 20}, P.Contact("far_foot", "floor"))
    assert fig["socket_near"][0] < fig["hip"][0] < fig["socket_far"][0]
    assert fig["ankle_near"][0] < fig["socket_near"][0] - 0.1
    assert fig["ankle_near"][1] > fig["ankle_far"][1]  # lifted out to the side


def test_folding_a_leg_out_of_the_picture_foreshortens_it() -> None:
    straight = P.place("front", {}, P.Contact("near_foot", "floor"))
    folded = P.place("front", {"fold_far": 60, "bend_far": 60}, P.Contact("near_foot", "floor"))
    length = math.dist(folded["socket_far"], folded["knee_far"])
    assert length == pytest.approx(P.THIGH / 2)
    assert math.dist(straight["socket_far"], straight["knee_far"]) == pytest.approx(P.THIGH)


def test_the_first_contact_rests_on_its_surface() -> None:
    kneel = P.place("side", {"knee_near": 90}, P.Contact("near_knee", "cushion"))
    assert kneel["knee_near"][1] == pytest.approx(P.CUSHION + P.LIMB)
    lying = P.place("side", {"pelvis": -90}, P.Contact("back", "floor"))
    assert lying["hip"][1] == pytest.approx(P.TRUNK)
    assert lying["shoulder"][1] == pytest.approx(P.TRUNK)


def test_smoothstep_eases_in_and_out() -> None:
    assert P.smoothstep(0) == 0
    assert P.smoothstep(1) == 1
    assert P.smoothstep(0.5) == 0.5
    assert P.smoothstep(-3) == 0
    assert P.smoothstep(7) == 1
    assert P.smoothstep(0.1) < 0.1
    assert P.smoothstep(0.9) > 0.9


def test_blend_goes_from_one_pose_to_the_other() -> None:
    a, b = {"hip_near": 0.0}, {"hip_near": 80.0, "knee_near": 40.0}
    assert P.blend(a, b, 0.0) == {"hip_near": 0.0, "knee_near": 0.0}
    assert P.blend(a, b, 0.25) == {"hip_near": 20.0, "knee_near": 10.0}
    assert P.blend(a, b, 1.0) == b


def test_a_motion_reaches_each_keyframe_at_its_time_and_loops() -> None:
    lib = library()
    march = lib.motions["march"]
    assert period("march") == pytest.approx(march.period) == pytest.approx(2.4)
    assert period("stand") == 0.0
    up = figure_at("march", 0.6)
    assert up["knee_near"][1] > up["knee_far"][1] + 0.05  # near knee up at 0.6 s
    again = figure_at("march", 0.6 + march.period)
    assert again.joints == up.joints
    halfway = figure_at("march", 0.3)
    assert up["knee_near"][1] > halfway["knee_near"][1] > figure_at("march", 0.0)["knee_near"][1]


def test_a_planted_foot_stays_put_through_a_motion() -> None:
    heels = {round(figure_at("good_morning", t / 10)["heel_near"][0], 9) for t in range(60)}
    assert heels == {0.0}
    # the march's first half lifts the near knee: the far foot stays on the floor
    soles = {round(figure_at("march", t / 10)["heel_far"][1], 9) for t in range(12)}
    assert soles == {P.LIMB}
    assert figure_at("march", 1.8)["heel_far"][1] > P.LIMB + 0.05  # then it lifts
