"""Ground seen by the robot's own depth camera, and footsteps placed by it."""

from __future__ import annotations

import numpy as np
import pytest

from laoshan.cerebellum.control_model import ControlModel
from laoshan.cerebellum.locomotion import LocomotionConfig, LocomotionController
from laoshan.cerebellum.terrain import HeightMap
from laoshan.cerebellum.walk import VelocityCommand, WalkPlanner
from laoshan.robot.description import RobotDescription
from laoshan.sim.body import SimBody
from laoshan.sim.world import Terrain, WorldSpec


def test_the_head_camera_maps_a_step_ahead_from_the_estimated_pose(g1_functional: RobotDescription) -> None:
    world = WorldSpec(terrain=Terrain(kind="steps", step_height_m=0.10), seed=5)
    body = SimBody(g1_functional, world=world, seed=5, cameras=True)
    ctl = LocomotionController(g1_functional, LocomotionConfig(see_terrain=True))
    state = body.reset(5)
    for _ in range(500):                     # stand 1 s: the camera sends frames, the map takes them
        state = body.step(ctl(state))
    assert ctl.terrain is not None and ctl.terrain.last_frame_s is not None

    def seen(x0: float, x1: float) -> np.ndarray:
        heights = [ctl.terrain.height(np.array([x, y])) for x in np.arange(x0, x1, 0.05) for y in (-0.2, 0.0, 0.2)]
        assert all(h is not None for h in heights), "the ground ahead was not all seen"
        return np.array(heights)

    floor, platform = seen(0.5, 0.9), seen(1.1, 1.8)       # the riser is at 1.0 m
    assert np.abs(floor).max() < 0.025
    assert np.abs(platform - 0.10).max() < 0.025
    assert ctl.terrain.height(np.array([0.0, 0.0])) is None  # under its own feet: not seen, never guessed


@pytest.fixture()
def planner_before_a_step(g1_basic: RobotDescription) -> tuple[WalkPlanner, HeightMap]:
    model = ControlModel(g1_basic)
    planner = WalkPlanner(model)
    ground = HeightMap()
    x = ground.origin_xy[0] + (np.arange(ground.n) + 0.5) * ground.config.cell_m
    ground.z[:, :] = np.where(x[:, None] >= 0.5, 0.10, 0.0)    # a 10 cm step up at x = 0.5 m
    planner.terrain = ground
    model.set_state(np.array([0.0, 0.0, model.standing_height_m]), np.array([0, 0, 0, 1.0]), model.home_rad,
                    np.zeros(6), np.zeros(len(model.iv)))
    planner.set_velocity(VelocityCommand(0.25))
    planner.start(0.0, model.robot.get_T_world_frame("left_foot"), model.robot.get_T_world_frame("right_foot"),
                  model.robot.com_world())
    return planner, ground


def test_footsteps_are_moved_off_a_seen_edge_onto_the_treads(planner_before_a_step) -> None:
    planner, ground = planner_before_a_step
    stances, t = set(), 0.0
    while t < 6.0 and planner.walking:       # the plan alone, no physics: where it puts each foot
        t += 0.002
        planner.update(t)
        if planner.walking and not planner.trajectory.support_is_both(t):
            side = str(planner.trajectory.support_side(t))
            stances.add(round(float(planner.foot(side, t)[0, 3]), 3))
    half = planner.model.foot.length_m / 2
    for x in stances:                        # every sole wholly on one level, clear of the edge
        assert x + half < 0.5 - 0.03 or x - half > 0.5 + 0.03, f"a sole at x={x:.3f} straddles the edge at 0.5 m"
    up = [x for x in stances if x - half > 0.5]
    assert len(up) >= 3                      # and the walk goes on up the step
    last_below = max(x for x in stances if x + half < 0.5)
    assert min(up) - last_below <= planner.config.max_step_forward_m


def test_a_seen_ramp_is_one_plane_and_a_step_is_an_edge() -> None:
    ground = HeightMap()
    x = ground.origin_xy[0] + (np.arange(ground.n) + 0.5) * ground.config.cell_m
    ground.z[:, :] = np.tan(np.radians(10.0)) * np.clip(x[:, None], 0.0, None)       # a 10° ramp from x = 0
    assert not ground.uneven(np.array([1.0, 0.0]), 0.0, 0.13, 0.04, 0.03)
    ground.z[:, :] = np.where(x[:, None] >= 1.0, 0.10, 0.0)                          # a 10 cm step at x = 1
    assert ground.uneven(np.array([1.0, 0.0]), 0.0, 0.13, 0.04, 0.03)
    assert ground.uneven(np.array([0.89, 0.0]), 0.0, 0.13, 0.04, 0.03)              # the toe just over it
    assert not ground.uneven(np.array([0.85, 0.0]), 0.0, 0.13, 0.04, 0.03)
