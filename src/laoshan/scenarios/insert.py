"""Peg in hole: the functional G1 grasps an upright peg on a table with one Dex3 hand, looks at it in
its hand with the head camera, and inserts it into a chamfered hole in a block on the table.

The controller is told where the peg stands and where the hole is (the task's nominal poses: a
fixture on a line is calibrated); the seed jitters where the peg really stands. With
``see_hole`` the hole's block stands up to ``hole_jitter_m`` off where the robot is told, and the
robot finds the hole with its head camera (the edges of the hole in the block's top) before the
grasp. The fingers drag
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

from laoshan.executive.insert import HoleJob, InsertAfterGrasp, look_for_hole
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
    hole_xy_m: tuple[float, float] = (0.42, 0.03)    # the hole's axis (world), where the robot is told it is
    hole_jitter_m: float = 0.0        # the real hole block stands off that by up to this in x and y (seeded)
    see_hole: bool = False            # the robot finds the hole with its head camera (else: it takes the told place)
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
        if not 0.0 <= self.hole_jitter_m <= 0.03:
            raise ValueError(f"hole_jitter_m={self.hole_jitter_m} must be in [0, 0.03] m (the hole is looked for "
                             "within 3 cm of where the robot is told)")
        table = self.table()
        if not table.covers(self.peg_xy_m, self.jitter_m):
            raise ValueError(f"a peg at {self.peg_xy_m} m, up to {self.jitter_m} m off, may stand with its axis "
                             f"off the table (top {table.top_size_m} m centred at {table.center_xy_m} m): "
                             "it would topple")

    def table(self) -> Table:
        return Table("table", (0.55, 0.0), (0.4, 0.8), self.table_height_m)

    def real_hole_xy_m(self) -> tuple[float, float]:
        """Where the hole really is: its told place, moved by up to ``hole_jitter_m`` (seeded)."""
        offset = np.random.default_rng([self.seed, 17]).uniform(-self.hole_jitter_m, self.hole_jitter_m, 2)
        return self.hole_xy_m[0] + float(offset[0]), self.hole_xy_m[1] + float(offset[1])

    def hole_block(self) -> HoleBlock:
        radius = self.peg_radius_m if self.hole_peg_radius_m is None else self.hole_peg_radius_m
        return HoleBlock("fixture", (*self.real_hole_xy_m(), self.table_height_m), peg_radius_m=radius,
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
    hole_seen_error_m: float | None # where the camera saw the hole against where it is (xy), when it looked for it
    peak_force_N: float             # the largest contact force between the peg and the hole's block


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
    block = config.hole_block()
    state = body.reset(config.seed)
    hole: np.ndarray | None = np.array(config.hole_xy_m)          # what the robot is told
    if config.see_hole:                                            # ... or what it sees there
        state, hole = look_for_hole(body, controller, state, START_S, config.hole_xy_m, block.top_z_m,
                                    block.half_width_m)
    job = HoleJob(tuple(config.hole_xy_m if hole is None else hole), config.table_height_m, config.hole_depth_m,
                  config.peg_half_length_m, config.peg_mass_kg, PEG_COLOUR, config.engaged_m)
    stage = InsertAfterGrasp(body, controller, job, grasp)
    seen_error: list[float] = []
    looks: list[float] = []

    peak_N = [0.0]

    def score(truth: GroundTruth) -> None:
        """Where the camera saw the held peg against where it was, at each look; the peg's
        hardest push on the block."""
        peak_N[0] = max(peak_N[0], body.ground_truth_contact_N(block.name, "peg"))
        if stage.seen_s is not None and (not looks or looks[-1] != stage.seen_s):
            looks.append(stage.seen_s)
            seen_error.append(float(np.linalg.norm(stage.seen_centre_m[:2] - object_xyz(body, "peg")[:2])))

    if hole is None:                                               # nothing to insert into: it does not start
        x, y = config.hole_xy_m
        stage.gave_up = f"no hole seen near ({x:.3f}, {y:.3f}) m, where the map has it"
    episode = run_hand_sequence(body, state, controller, grasp, config.seconds, max(START_S, state.time_s), score,
                                config.video, progress, then=stage.tick, stop=lambda: hole is None)
    peg = object_xyz(body, "peg")
    real_hole = np.array(config.real_hole_xy_m())
    depth = block.top_z_m - (float(peg[2]) - config.peg_half_length_m)
    axis_error = float(np.linalg.norm(peg[:2] - real_hole))
    sequence = stage.sequence or grasp
    success = (not episode.fell and stage.released is not None and stage.released.done
               and depth >= config.depth_goal_fraction * config.hole_depth_m and axis_error <= block.half_width_m)
    report = InsertReport.of_run(body, sequence, episode, config.seconds, success, depth_m=depth,
                                 axis_error_m=axis_error, seen_error_m=seen_error[-1] if seen_error else None,
                                 hole_seen_error_m=float(np.linalg.norm(hole - real_hole))
                                 if config.see_hole and hole is not None else None, peak_force_N=peak_N[0])
    return replace(report, failure=report.failure or stage.problem)
