"""Limbs: hand Jacobians, whole-body IK, trajectories, reaching while balancing (g1-functional)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pinocchio as pin
import pytest

from laoshan.cerebellum.control_model import ControlModel
from laoshan.limbs.ik import UnreachableTarget, WholeBodyIk
from laoshan.limbs.reach import ReachController
from laoshan.limbs.trajectory import MotionLimits, PoseTrajectory
from laoshan.robot.description import RobotDescription
from laoshan.sim.scoring import has_fallen
from laoshan.sim.body import SimBody

STANDING = (np.array([0.0, 0.0, 0.78]), np.array([0.0, 0.0, 0.0, 1.0]))   # base position, quaternion xyzw


@pytest.fixture(scope="module")
def ik(g1_functional: RobotDescription) -> WholeBodyIk:
    return WholeBodyIk(ControlModel(g1_functional))


def test_hand_jacobians_match_finite_differences(ik: WholeBodyIk) -> None:
    rng = np.random.default_rng(0)
    model = ik.robot.model
    for _ in range(3):
        q = pin.randomConfiguration(model)
        q[0:3] = rng.uniform(-0.5, 0.5, 3)
        for side in ("left", "right"):
            ik.robot.state.q = q
            ik.robot.update_kinematics()
            J = ik.hand_jacobian(side)
            T0 = ik.hand_pose(side)
            eps = 1e-6
            J_fd = np.zeros_like(J)
            for i in range(model.nv):
                dv = np.zeros(model.nv)
                dv[i] = eps
                ik.robot.state.q = pin.integrate(model, q, dv)
                ik.robot.update_kinematics()
                T1 = ik.hand_pose(side)
                J_fd[:3, i] = (T1[:3, 3] - T0[:3, 3]) / eps
                J_fd[3:, i] = pin.log3(T1[:3, :3] @ T0[:3, :3].T) / eps     # world-aligned rotation
            assert np.abs(J - J_fd).max() < 1e-4


def test_ik_reaches_with_the_feet_still_and_the_com_over_them(ik: WholeBodyIk, g1_functional) -> None:
    m = ik.model
    ik.set_configuration(*STANDING, m.home_rad)
    feet = {s: ik.robot.get_T_world_frame(f"{s}_foot").copy() for s in ("left", "right")}
    goal = ik.hand_pose("right").copy()
    goal[:3, 3] = [0.35, -0.2, 0.9]
    sol = ik.solve({"right": goal}, *STANDING, m.home_rad)
    assert sol.position_error_m["right"] < 0.01
    assert np.linalg.norm(ik.hand_pose("right")[:3, 3] - goal[:3, 3]) < 0.01
    for s in ("left", "right"):
        assert np.allclose(ik.robot.get_T_world_frame(f"{s}_foot"), feet[s], atol=3e-3)   # 3 mm, 0.2°
    com = ik.robot.com_world()
    polygon = ik._support_polygon(feet)
    assert polygon[:, 0].min() + 0.02 < com[0] < polygon[:, 0].max() - 0.02
    pm = ik.robot.model
    assert np.all(sol.q_rad >= pm.lowerPositionLimit[m.iq] - 1e-6)
    assert np.all(sol.q_rad <= pm.upperPositionLimit[m.iq] + 1e-6)


def test_an_unreachable_target_raises_a_clear_error(ik: WholeBodyIk) -> None:
    goal = np.eye(4)
    goal[:3, 3] = [1.5, -0.2, 0.9]                 # 1.5 m in front of a robot that keeps its feet
    with pytest.raises(UnreachableTarget, match=r"right hand cannot reach \(1\.500, -0\.200, 0\.900\).*cm away"):
        ik.solve({"right": goal}, *STANDING, ik.model.home_rad, orientation=False)
    with pytest.raises(ValueError, match="no hand 'middle'"):
        ik.solve({"middle": goal}, *STANDING, ik.model.home_rad)


def test_trajectory_respects_its_limits() -> None:
    limits = MotionLimits(speed_m_s=0.3, accel_m_s2=1.0)
    start, goal = np.eye(4), np.eye(4)
    goal[:3, 3] = [0.4, -0.1, 0.3]
    goal[:3, :3] = pin.utils.rpyToMatrix(0.3, 0.0, 0.5)
    traj = PoseTrajectory(start, goal, 1.0, limits)
    t = np.linspace(1.0, 1.0 + traj.duration_s, 400)
    p = np.array([traj.sample(s)[0][:3, 3] for s in t])
    v = np.array([traj.sample(s)[1] for s in t])
    speed = np.linalg.norm(v, axis=1)
    assert speed.max() <= 0.3 + 1e-6
    accel = np.linalg.norm(np.diff(v, axis=0), axis=1) / (t[1] - t[0])
    assert accel.max() <= 1.0 * 1.02
    assert np.allclose(p[-1], goal[:3, 3]) and np.allclose(traj.sample(t[-1])[0][:3, :3], goal[:3, :3])
    assert np.allclose(np.gradient(p[:, 0], t), v[:, 0], atol=5e-3)    # the velocity is the position's


def test_the_robot_reaches_a_point_while_balancing(g1_functional: RobotDescription) -> None:
    body, ctl = SimBody(g1_functional), ReachController(g1_functional)
    hand = g1_functional.hands["right"]
    state = body.reset(0)
    dt = body.loop.control_dt_s
    goal = None
    for k in range(int(4.0 / dt)):
        if k == int(0.5 / dt):
            goal = ctl.hand_pose("right")
            goal[:3, 3] = [0.35, -0.2, 0.9]
            ctl.reach("right", goal, orientation=False)
        state = body.step(ctl(state))
        assert not has_fallen(body.ground_truth())
    assert goal is not None and ctl.arrived("right", body.time_s)
    true_hand = body.ground_truth_link_pose(hand.link, hand.offset_m)     # scoring only
    assert np.linalg.norm(true_hand[:3, 3] - goal[:3, 3]) < 0.01


def test_the_torso_turns_on_the_waist_to_look_while_the_feet_stay(g1_functional: RobotDescription) -> None:
    """Looking around: the waist's yaw turns the torso (and the head camera on it) 34° each way; the
    robot keeps its balance and its feet."""
    body, ctl = SimBody(g1_functional), ReachController(g1_functional)
    state = body.reset(0)
    for _ in range(250):
        state = body.step(ctl(state))
    with pytest.raises(ValueError, match="outside its limits"):
        ctl.turn_torso(4.0)
    feet = {s: body.ground_truth_link_pose(f"{s}_ankle_roll_link")[:3, 3].copy() for s in ("left", "right")}
    camera = g1_functional.cameras[0].link
    for yaw in (0.6, -0.6):
        move = ctl.turn_torso(yaw)
        while body.time_s < move.t0_s + move.duration_s + 0.3:
            state = body.step(ctl(state))
            assert not has_fallen(body.ground_truth())
        X = body.ground_truth_link_pose(camera)                             # scoring only
        assert np.degrees(np.arctan2(X[1, 0], X[0, 0])) == pytest.approx(np.degrees(yaw), abs=4.0)
    for side, p in feet.items():
        assert np.linalg.norm(body.ground_truth_link_pose(f"{side}_ankle_roll_link")[:3, 3] - p) < 0.005


def test_an_unreachable_reach_moves_nothing(g1_functional: RobotDescription) -> None:
    body, ctl = SimBody(g1_functional), ReachController(g1_functional)
    with pytest.raises(RuntimeError, match="one tick first"):
        ctl.reach("right", np.eye(4))
    state = body.reset(0)
    state = body.step(ctl(state))
    goal = np.eye(4)
    goal[:3, 3] = [0.0, -0.2, 2.5]
    with pytest.raises(UnreachableTarget):
        ctl.reach("right", goal)
    assert not ctl.motions


def test_a_can_is_let_go_away_from_it_and_a_ball_in_place(g1_functional: RobotDescription) -> None:
    """Opening in place, the Dex3 fingers curled round a can push it over: they ease off, the hand
    moves out, and only then do they open; a ball (it rolls when dragged) is let go in place."""
    from laoshan.limbs.grasp import PowerGraspConfig, PowerPlace

    body, ctl = SimBody(g1_functional), ReachController(g1_functional)
    body.step(ctl(body.reset(0)))
    held, place = np.array([0.35, -0.1, 0.9]), np.array([0.40, -0.2, 0.92])
    c = PowerGraspConfig()
    set_down = {}
    for rolls, let_go in ((False, ["loosen", "out", "open"]), (True, ["open", "out"])):
        steps = PowerPlace(ctl, held, place, 0.3, rolls=rolls).steps
        assert [s.phase for s in steps] == ["over", "put", "align", "set down", *let_go, "up"]
        at = {s.phase: s.targets[c.side][:3, 3] for s in steps}
        assert np.linalg.norm(at["open"][:2] - at["set down"][:2]) == pytest.approx(0.0 if rolls else c.clearance_m)
        assert at["up"][2] > at["out"][2]
        grips = {s.phase: s.grips for s in steps}
        assert grips["open"] == {c.side: None}
        assert rolls or grips["loosen"] == {c.side: c.loosen_torque_Nm}
        set_down[rolls] = at["set down"][:2]
    assert set_down[False] - set_down[True] == pytest.approx(c.lead_m)   # ahead (+x) and to the palm side (+y)


def test_pick_a_box_lift_it_10_cm_and_hold_it_3_s_by_friction() -> None:
    from laoshan.scenarios.pick import PickScenario, run_pick

    report = run_pick(PickScenario(seed=0))
    assert report.success and not report.fell and report.failure is None
    assert report.lift_m >= 0.10 and report.held_s >= 3.0


def test_a_weak_grip_drops_the_box() -> None:
    """The box is held by friction only: squeeze too lightly and it stays on the table."""
    from laoshan.limbs.grasp import BoxPickConfig
    from laoshan.scenarios.pick import PickScenario, run_pick

    report = run_pick(PickScenario(seed=0), pick_config=BoxPickConfig(grip_force_N=10.0, press_m=-0.045))
    assert not report.success and report.lift_m < 0.05


def test_place_the_box_within_1_cm_of_its_target() -> None:
    from laoshan.scenarios.pick import PickScenario, run_pick

    report = run_pick(PickScenario(seed=0, seconds=12.0, place_xy_m=(0.42, 0.05)))
    assert report.phase == "placed" and not report.fell
    assert report.place_error_m is not None and report.place_error_m <= 0.01
    assert abs(report.lift_m) < 0.005                        # resting on the table again, let go
    assert report.success


def test_open_a_drawer_at_least_10_cm_by_hooking_its_handle() -> None:
    from laoshan.scenarios.articulated import DrawerScenario, run_open

    report = run_open(DrawerScenario(seed=3, jitter_m=0.01))     # the cabinet is a little off its place
    assert report.phase == "opened" and report.failure is None and not report.fell
    assert report.opened >= 0.10 and report.success


def test_open_a_door_at_least_30_degrees_by_hooking_its_handle() -> None:
    from laoshan.scenarios.articulated import DoorScenario, run_open

    report = run_open(DoorScenario(seed=2, jitter_m=0.01))
    assert report.phase == "opened" and report.failure is None and not report.fell
    assert report.opened >= np.radians(30) and report.success


def test_open_a_drawer_by_grasping_its_handle_and_a_weak_grasp_opens_nothing() -> None:
    from laoshan.limbs.articulated import HandleGraspConfig
    from laoshan.scenarios.articulated import DrawerScenario, run_open

    drawer = DrawerScenario(grip="grasp", seed=1, jitter_m=0.01)
    report = run_open(drawer)
    assert report.success and report.phase == "opened" and not report.fell and report.opened >= 0.10
    weak = run_open(drawer, handle=HandleGraspConfig(finger_torque_Nm=0.02))   # fingers stay level over the bar
    assert not weak.success and weak.opened < 0.01


def test_a_hand_that_misses_the_handle_opens_nothing() -> None:
    """Only contact moves the drawer: fingers lowered in front of the bar pull on air."""
    from laoshan.limbs.articulated import HookConfig
    from laoshan.scenarios.articulated import DrawerScenario, run_open

    scenario = DrawerScenario(seed=0)
    in_front = scenario.drawer.handle_gap_m + 2 * scenario.drawer.handle_radius_m + 0.03
    report = run_open(scenario, hook=HookConfig(tip_inset_m=in_front))
    assert report.phase == "opened" and not report.fell
    assert report.opened < 0.01 and not report.success


def test_carry_a_2_kg_box_5_m_while_walking() -> None:
    from laoshan.scenarios.carry import CarryScenario, run_carry

    scenario = CarryScenario(seed=0)
    assert scenario.table.box_mass_kg == 2.0
    report = run_carry(scenario)
    assert report.phase == "hold" and not report.fell and report.box_held    # still in the hands, by friction
    assert report.walked_m >= 4.75 and report.success


def test_a_carried_box_stays_in_the_hands_through_a_90_degree_turn() -> None:
    from laoshan.scenarios.carry import CarryScenario, run_carry

    report = run_carry(CarryScenario(distance_m=1.0, turn_rad=np.pi / 2, seed=0))
    assert report.success and report.box_held and not report.fell
    assert abs(report.turned_rad - np.pi / 2) < 0.35                         # ground truth


def test_a_dex3_hand_wraps_a_can_and_lifts_it_by_friction() -> None:
    from laoshan.scenarios.grasp import GraspScenario, run_grasp

    report = run_grasp(GraspScenario(seed=1, jitter_m=0.01))
    assert report.phase == "hold" and report.failure is None and not report.fell
    assert report.lift_m >= 0.08 and report.held_s >= 2.0 and report.success


def test_a_dex3_hand_wraps_a_ball_and_lifts_it_by_friction() -> None:
    from laoshan.scenarios.grasp import GraspScenario, run_grasp

    report = run_grasp(GraspScenario(shape="sphere", radius_m=0.04, mass_kg=0.2, seed=2, jitter_m=0.01))
    assert report.lift_m >= 0.08 and report.success and not report.fell


def test_fingers_that_barely_close_leave_the_can_on_the_table() -> None:
    from laoshan.limbs.grasp import PowerGraspConfig
    from laoshan.scenarios.grasp import GraspScenario, run_grasp

    report = run_grasp(GraspScenario(seed=1), grasp=PowerGraspConfig(finger_torque_Nm=0.03))
    assert not report.success and report.lift_m < 0.02


def test_a_dex3_hand_pinches_a_small_cube_and_lifts_it_by_friction() -> None:
    from laoshan.limbs.grasp import PinchGraspConfig
    from laoshan.scenarios.grasp import GraspScenario, run_grasp

    cube = GraspScenario(shape="cube", radius_m=0.0175, mass_kg=0.1, lift_goal_m=0.06, seed=3, jitter_m=0.01)
    report = run_grasp(cube)
    assert report.phase == "hold" and report.failure is None and not report.fell
    assert report.lift_m >= 0.06 and report.held_s >= 2.0 and report.success
    weak = run_grasp(cube, grasp=PinchGraspConfig(finger_torque_Nm=0.02))    # fingertips that barely press
    assert not weak.success and weak.lift_m < 0.02


def test_fold_a_towel_in_half_held_by_friction() -> None:
    """Both hands pinch the towel's overhanging edge and lay it on the far edge (cloth, friction only)."""
    from laoshan.scenarios.towel import TowelScenario, run_towel_fold

    report = run_towel_fold(TowelScenario(seed=3))
    assert report.phase == "folded" and report.failure is None and not report.fell and report.on_table
    assert report.paired >= 0.5 and report.pair_gap_median_m < 0.04        # ground truth: edge on edge
    assert report.depth_ratio <= 0.7 and report.success                      # half as deep, give or take the crease
    with pytest.raises(ValueError, match="overhang_m"):
        TowelScenario(overhang_m=0.0)                                        # nothing for the thumbs to go under


def test_pick_a_box_found_with_the_head_camera() -> None:
    """The box lies 2 cm off its nominal place: picked where the head camera sees it, it comes up."""
    from laoshan.scenarios.pick import PickScenario, run_pick

    report = run_pick(PickScenario(seed=4, jitter_m=0.02, perceive=True))   # blind, seed 4 drops it
    assert report.perception_error_m is not None and report.perception_error_m < 0.01
    assert report.success and not report.fell


def test_insert_a_peg_into_a_hole_with_1_mm_clearance() -> None:
    from laoshan.scenarios.insert import InsertScenario, run_insert

    report = run_insert(InsertScenario(seed=0, clearance_m=0.001, jitter_m=0.01))
    assert report.failure is None and report.phase == "inserted" and not report.fell
    assert report.depth_m >= 0.045 and report.axis_error_m <= 0.0015     # ground truth: all the way in
    assert report.success


def test_a_peg_set_over_the_tables_edge_is_refused() -> None:
    from laoshan.scenarios.insert import InsertScenario

    InsertScenario(peg_xy_m=(0.36, -0.12), jitter_m=0.01)                 # its axis at worst on the edge
    with pytest.raises(ValueError, match="off the table"):
        InsertScenario(peg_xy_m=(0.345, -0.12), jitter_m=0.0)             # it would topple off


def test_a_peg_wider_than_its_hole_sticks_and_stays_in_the_hand() -> None:
    from laoshan.scenarios.insert import InsertScenario, run_insert

    # The hole is made for a peg 16 mm thinner: the peg stands on its rim, the fingers slip along
    # it (the encoders say the hand went down), and the look after the push tells.
    report = run_insert(InsertScenario(seed=0, peg_radius_m=0.033, hole_peg_radius_m=0.025, seconds=8.5))
    assert not report.success and not report.fell
    assert report.failure is not None and "stuck" in report.failure
    assert report.depth_m < 0.01                                          # ground truth: not in


def test_insert_a_peg_into_a_hole_found_by_the_head_camera() -> None:
    """The hole's block stands up to 2 cm off where the map has it: the robot finds the hole with
    its head camera (the edges of the hole in its top face) and inserts the peg with 0.5 mm
    clearance; told the map's place instead, it misses."""
    from laoshan.scenarios.insert import InsertScenario, run_insert

    config = InsertScenario(seed=0, clearance_m=0.0005, jitter_m=0.01, hole_jitter_m=0.02, see_hole=True)
    offset = np.subtract(config.real_hole_xy_m(), config.hole_xy_m)
    assert np.abs(offset).max() > 0.01                       # this seed's block really stands off the map
    report = run_insert(config)
    assert report.hole_seen_error_m is not None and report.hole_seen_error_m < 0.004
    assert report.success and report.depth_m >= 0.045 and report.axis_error_m <= 0.001
    assert report.peak_force_N > 0.0
    told = run_insert(replace(config, see_hole=False))
    assert not told.success
