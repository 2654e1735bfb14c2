"""Limbs: the robot's collision model and collision-aware arm planning around a shelf (g1-functional)."""

from __future__ import annotations

import numpy as np
import pinocchio as pin
import pytest

from laoshan.cerebellum.control_model import ControlModel
from laoshan.limbs.collision import ArmCollision
from laoshan.limbs.ik import UnreachableTarget
from laoshan.limbs.planning import ArmPlanner
from laoshan.robot.description import RobotDescription
from laoshan.scenarios.shelf import ShelfScenario, run_shelf

BASE = (np.array([0.0, 0.0, 0.783]), np.array([0.0, 0.0, 0.0, 1.0]))   # standing: base position, quaternion xyzw
SHELF = ShelfScenario()


@pytest.fixture(scope="module")
def model(g1_functional: RobotDescription) -> ControlModel:
    return ControlModel(g1_functional)


@pytest.fixture()
def planner(model: ControlModel) -> ArmPlanner:
    p = ArmPlanner(model, "right", SHELF.obstacles())
    p.set_body(*BASE, model.home_rad)
    return p


def _goal(xyz: tuple[float, float, float]) -> np.ndarray:
    T = np.eye(4)
    T[:3, 3] = xyz
    return T


def test_the_collision_model_moves_with_the_arm_as_pinocchio_says(model: ControlModel) -> None:
    collision = ArmCollision(model, "right")
    collision.set_body(*BASE, model.home_rad)
    data = model.robot.model.createData()
    rng = np.random.default_rng(0)
    Q = model.home_rad[collision.arm_index] + rng.normal(0.0, 0.5, (4, 7))
    R, t = collision.chain_poses(Q)
    for k, q_arm in enumerate(Q):
        q = pin.neutral(model.robot.model)
        q[0:3], q[3:7] = BASE
        q[model.iq] = model.home_rad
        q[model.iq[collision.arm_index]] = q_arm
        pin.forwardKinematics(model.robot.model, data, q)
        for i, joint in enumerate(model.arm_joints["right"]):
            X = data.oMi[model.robot.model.getJointId(joint)]
            assert np.allclose(X.translation, t[k, i], atol=1e-9) and np.allclose(X.rotation, R[k, i], atol=1e-9)
    # the arm hanging at home is clear of the body, and the hand pressed into the thigh is not
    assert collision.closest(model.home_rad[collision.arm_index])[0] > 0.02
    inward = model.home_rad[collision.arm_index].copy()
    inward[1] = 0.6          # right shoulder roll toward the body
    assert collision.closest(inward) == (pytest.approx(collision.closest(inward)[0]), "its own body")
    assert collision.closest(inward)[0] < 0.0


def test_a_planned_reach_into_the_shelf_clears_it_where_the_straight_path_does_not(planner: ArmPlanner,
                                                                                  model: ControlModel) -> None:
    start = model.home_rad[planner.arm_index]
    path = planner.plan(_goal(SHELF.goal_m), *BASE, model.home_rad, t0_s=1.0)
    assert np.linalg.norm(path.T_goal[:3, 3] - SHELF.goal_m) < 0.01
    assert np.allclose(path.waypoints[0], start)
    assert path.clearance_m > planner.config.margin_m * 0.9   # between checks, a little less
    assert not planner.edge_free(start, path.waypoints[-1])                 # straight there, it would hit
    assert len(path.waypoints) >= 3
    # timed: stands at the start and at the end, joint speeds and accelerations within the limits
    c = planner.config
    dt = 1e-3
    times = np.arange(path.t0_s, path.t0_s + path.duration_s, dt)
    q = np.array([path.joints_at(t)[0] for t in times])
    qd = np.gradient(q, dt, axis=0)
    assert np.abs(qd).max() <= c.speed_rad_s * 1.01
    assert np.abs(np.gradient(qd, dt, axis=0)[2:-2]).max() <= c.accel_rad_s2 * 1.05
    assert np.allclose(path.joints_at(path.t0_s - 1.0)[1], 0.0) and np.allclose(path.joints_at(1e9)[1], 0.0)
    T, v = path.sample(path.t0_s + path.duration_s)
    assert np.allclose(T, path.T_goal) and np.allclose(v, 0.0)


def test_the_same_seed_plans_the_same_path(model: ControlModel) -> None:
    paths = []
    for _ in range(2):
        p = ArmPlanner(model, "right", SHELF.obstacles())
        paths.append(p.plan(_goal(SHELF.goal_m), *BASE, model.home_rad, t0_s=0.0).waypoints)
    assert np.array_equal(paths[0], paths[1])


def test_goals_out_of_reach_or_inside_a_board_are_clear_errors(planner: ArmPlanner, model: ControlModel) -> None:
    with pytest.raises(UnreachableTarget, match="cannot put the hand at"):
        planner.plan(_goal((0.9, -0.2, 0.8)), *BASE, model.home_rad, t0_s=0.0)
    under_the_roof = SHELF.shelf.board_heights_m[-1] - 0.02      # the hand would be in the top board
    with pytest.raises(UnreachableTarget, match="only by touching shelf_board2"):
        planner.plan(_goal((0.30, -0.2, under_the_roof)), *BASE, model.home_rad, t0_s=0.0)
    with pytest.raises(ValueError, match="4x4"):
        planner.plan(np.eye(3), *BASE, model.home_rad, t0_s=0.0)


def test_reach_into_a_shelf_and_out_without_touching_it() -> None:
    planned = run_shelf(ShelfScenario(seed=1, jitter_m=0.005))
    assert planned.success and planned.phase == "back", planned
    assert planned.touch_s == 0.0 and not planned.fell
    assert planned.hand_error_m < 0.02
    blind = run_shelf(ShelfScenario(seed=1, jitter_m=0.005, planned=False))   # straight lines: the board
    assert blind.touch_s > 0.1 and blind.hand_error_m > 0.05 and not blind.success


def test_a_shelf_goal_is_planned_within_20_ms(planner: ArmPlanner, model: ControlModel) -> None:
    """OMPL's RRT-Connect over the compiled capsule model: a path into the shelf in milliseconds
    (it took 120-350 ms with the numpy model and the Python RRT), every edge of it clear."""
    times = []
    for _ in range(5):
        path = planner.plan(_goal(SHELF.goal_m), *BASE, model.home_rad, t0_s=0.0)
        times.append(path.plan_s)
        assert all(planner.edge_free(a, b) for a, b in zip(path.waypoints[:-1], path.waypoints[1:], strict=True))
    assert float(np.median(times)) < 0.020

