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

from laoshan.limbs.grasp import PowerGrasp, PowerGraspConfig
from laoshan.limbs.insert import LetGo, PegInsert
from laoshan.limbs.reach import ReachController
from laoshan.robot.description import RobotDescription, load_description
from laoshan.scenarios.episode import CameraLost, Glance, TaskReport, run_hand_sequence
from laoshan.sim.body import SimBody
from laoshan.port.messages import LowState
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


class _InsertAfterGrasp:
    """Once the grasp is done (a ``run_hand_sequence`` ``then`` callback): look at the peg in the
    hand and bring it over the hole; look again from close by and push it in from there; look
    whether it went in, and only then let go."""

    def __init__(self, body: SimBody, controller: ReachController, config: InsertScenario,
                 grasp: PowerGrasp) -> None:
        self.body, self.controller, self.config, self.grasp = body, controller, config, grasp
        self.glance: Glance | None = None
        self.sequence: PegInsert | LetGo | None = None   # over the hole, the push, letting go
        self.problem: str | None = None
        self.seen_error_m: float | None = None      # the last look's error (xy), for scoring
        self.axis: np.ndarray | None = None         # the held peg's axis as last seen (world, unit)

    @property
    def released(self) -> LetGo | None:
        return self.sequence if isinstance(self.sequence, LetGo) else None

    def __call__(self, state: LowState) -> None:
        if self.grasp.failed or self.problem:
            return
        sequence = self.sequence
        if sequence is not None and (sequence.failed or not sequence.done):
            sequence.update(state.time_s)
            return
        if isinstance(sequence, LetGo):
            return
        seen = self._look(state)
        if seen is None:
            return
        c = self.config
        inserted = np.array([*c.hole_xy_m, c.table_height_m + c.peg_half_length_m])
        if sequence is not None and sequence.final_phase == "pushed":
            down_m = c.hole_depth_m - float(seen[2] - inserted[2])     # the tip below the mouth
            if down_m < c.engaged_m:
                self.problem = f"the peg stuck at the mouth ({down_m * 1000:+.0f} mm in, seen): still holding it"
                return
            self.sequence = LetGo(self.controller, grasp=self.grasp.config)
        else:
            self.sequence = PegInsert(self.controller, seen, inserted, c.hole_depth_m, c.peg_mass_kg,
                                      grasp=self.grasp.config, until="over hole" if sequence is None else "pushed",
                                      peg_axis_world=self.axis)
        self.sequence.update(state.time_s)

    def _look(self, state: LowState) -> np.ndarray | None:
        """The held peg's centre (its axis point half way up) as the head camera sees it (world), and
        its axis in ``self.axis``; None until the frame comes."""
        if self.glance is None:
            self.glance = Glance(self.body, self.controller, state.time_s)
        try:
            seen = self.glance.seen(state)
        except CameraLost as exc:              # stop here, still holding the peg
            self.problem = str(exc)
            return None
        if seen is None:
            return None
        self.glance = None
        peg = next((d for d in seen if d.colour == PEG_COLOUR), None)
        if peg is None:
            self.problem = "the peg is out of sight of the head camera"
            return None
        top, self.axis = peg.top_face()               # its top face shows whole from above: centre and tilt
        centre = top - self.axis * self.config.peg_half_length_m
        self.seen_error_m = float(np.linalg.norm(centre[:2] - self.body.data.body("peg").xpos[:2]))   # scoring only
        return centre


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
    stage = _InsertAfterGrasp(body, controller, config, grasp)
    state = body.reset(config.seed)
    episode = run_hand_sequence(body, state, controller, grasp, config.seconds, START_S, None, config.video,
                                progress, then=stage)
    peg = body.data.body("peg").xpos                                # scoring only
    block = config.hole_block()
    depth = block.top_z_m - (float(peg[2]) - config.peg_half_length_m)
    axis_error = float(np.linalg.norm(peg[:2] - np.array(config.hole_xy_m)))
    sequence = stage.sequence or grasp
    success = (not episode.fell and stage.released is not None and stage.released.done
               and depth >= config.depth_goal_fraction * config.hole_depth_m and axis_error <= block.half_width_m)
    report = InsertReport.of_run(body, sequence, episode, config.seconds, success, depth_m=depth,
                                 axis_error_m=axis_error, seen_error_m=stage.seen_error_m)
    return replace(report, failure=report.failure or stage.problem)
