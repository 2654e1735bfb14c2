"""Peg in hole: the functional G1 grasps an upright peg on a table with one Dex3 hand, looks at it in
its hand with the head camera, and inserts it into a chamfered hole in a block on the table.

The controller is told where the peg stands and where the hole is (the task's nominal poses: a
fixture on a line is calibrated); the seed jitters where the peg really stands. The fingers drag
and tilt the peg as they close (by 2-5°: enough to jam it in a 1 mm clearance), so where it is
in the hand and how it leans is found with the head camera, from its top face: once after the
lift, and again from close by over the hole. The hand turns about the peg to stand it upright.
After the push a third look tells whether the peg went in (the fingers may slip along a stuck
peg, which fools the encoders); only then does the hand let go.
Ground truth scores the run (how deep the peg went, how far off the hole's axis) and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from laoshan.executive.insert import HoleJob, InsertAfterGrasp
from laoshan.limbs.grasp import PowerGrasp, PowerGraspConfig
from laoshan.limbs.reach import ReachController
from laoshan.robot.description import RobotDescription, load_description
from laoshan.scenarios.episode import TaskReport, run_hand_sequence
from laoshan.sim.body import GroundTruth, SimBody
from laoshan.sim.scoring import object_xyz
from laoshan.sim.world import HoleBlock, Table, Thing, WorldSpec

START_S = 0.5
PEG_COLOUR = "yellow"


@dataclass(frozen=True)
class InsertScenario:
    robot: str = "g1-functional"
    peg_radius_m: float = 0.033
    peg_half_length_m: float = 0.06
    peg_mass_kg: float = 0.3
    peg_xy_m: tuple[float, float] = (0.36, -0.12)    # nominal place of the peg's axis on the table (world)
    hole_xy_m: tuple[float, float] = (0.42, 0.03)    # the hole's axis (world)
    clearance_m: float = 0.001                        # hole width less peg diameter ...
    hole_peg_radius_m: float | None = None            # ... of a peg this thick (None: this peg)
    chamfer_m: float = 0.004
    hole_depth_m: float = 0.05
    table_height_m: float = 0.70
    jitter_m: float = 0.01            # the real peg stands off its nominal place by up to this (seeded)
    engaged_m: float = 0.01           # the hand lets go once the peg's tip is seen this far down the hole
    depth_goal_fraction: float = 0.9  # success: the peg's tip this far down the hole, the hand gone
    seconds: float = 11.0
    seed: int = 0
    video: Path | None = None

    def __post_init__(self) -> None:
        if not 0.0 < self.clearance_m <= 0.02:
            raise ValueError(f"clearance_m={self.clearance_m} must be in (0, 0.02] m")
        if not 0.0 < self.depth_goal_fraction <= 1.0:
            raise ValueError("depth_goal_fraction must be in (0, 1]")
        table = self.table()
        if not table.covers(self.peg_xy_m, self.jitter_m):
            raise ValueError(f"a peg at {self.peg_xy_m} m, up to {self.jitter_m} m off, may stand with its axis "
                             f"off the table (top {table.top_size_m} m centred at {table.center_xy_m} m): "
                             "it would topple")

    def table(self) -> Table:
        return Table("table", (0.55, 0.0), (0.4, 0.8), self.table_height_m)

    def hole_block(self) -> HoleBlock:
        radius = self.peg_radius_m if self.hole_peg_radius_m is None else self.hole_peg_radius_m
        return HoleBlock("fixture", (*self.hole_xy_m, self.table_height_m), peg_radius_m=radius,
                         clearance_m=self.clearance_m, depth_m=self.hole_depth_m, chamfer_m=self.chamfer_m)

    def world(self) -> WorldSpec:
        return WorldSpec(
            tables=(self.table(),),
            hole_blocks=(self.hole_block(),),
            things=(Thing("peg", "cylinder", (self.peg_radius_m, self.peg_half_length_m), self.peg_mass_kg,
                          (*self.peg_xy_m, self.table_height_m + self.peg_half_length_m),
                          rgba=(0.95, 0.85, 0.1, 1.0), jitter_m=self.jitter_m),),
            seed=self.seed)


@dataclass(frozen=True)
class InsertReport(TaskReport):
    depth_m: float                  # how far the peg's tip is below the hole's mouth at the end
    axis_error_m: float             # the peg's axis off the hole's (xy) at the end
    seen_error_m: float | None      # where the camera saw the held peg against where it was (xy)


def run_insert(config: InsertScenario, progress: Callable[[int], None] | None = None,
               robot: RobotDescription | None = None) -> InsertReport:
    """Run the grasp and the insertion; ``progress(ticks)`` is called every 100 control ticks."""
    robot = robot or load_description(config.robot)
    side = PowerGraspConfig().side
    hand = robot.hands.get(side)
    if hand is None or not hand.closing or not robot.cameras:
        raise ValueError(f"{robot.name} needs a {side} hand with fingers and a head camera to insert a peg")
    body = SimBody(robot, world=config.world(), seed=config.seed, cameras=True)
    controller = ReachController(robot)
    grasp = PowerGrasp(controller, np.array([*config.peg_xy_m, config.table_height_m + config.peg_half_length_m]),
                       config.peg_radius_m, config.peg_mass_kg)
    job = HoleJob(config.hole_xy_m, config.table_height_m, config.hole_depth_m, config.peg_half_length_m,
                  config.peg_mass_kg, PEG_COLOUR, config.engaged_m)
    stage = InsertAfterGrasp(body, controller, job, grasp)
    state = body.reset(config.seed)
    seen_error: list[float] = []
    looks: list[float] = []

    def score(truth: GroundTruth) -> None:
        """Where the camera saw the held peg against where it was, at each look."""
        if stage.seen_s is not None and (not looks or looks[-1] != stage.seen_s):
            looks.append(stage.seen_s)
            seen_error.append(float(np.linalg.norm(stage.seen_centre_m[:2] - object_xyz(body, "peg")[:2])))

    episode = run_hand_sequence(body, state, controller, grasp, config.seconds, START_S, score, config.video,
                                progress, then=stage.tick)
    peg = object_xyz(body, "peg")
    block = config.hole_block()
    depth = block.top_z_m - (float(peg[2]) - config.peg_half_length_m)
    axis_error = float(np.linalg.norm(peg[:2] - np.array(config.hole_xy_m)))
    sequence = stage.sequence or grasp
    success = (not episode.fell and stage.released is not None and stage.released.done
               and depth >= config.depth_goal_fraction * config.hole_depth_m and axis_error <= block.half_width_m)
    report = InsertReport.of_run(body, sequence, episode, config.seconds, success, depth_m=depth,
                                 axis_error_m=axis_error, seen_error_m=seen_error[-1] if seen_error else None)
    return replace(report, failure=report.failure or stage.problem)
