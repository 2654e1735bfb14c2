"""Grasp: the functional G1 wraps an upright cylinder (or a ball) on a table with one Dex3 hand, or
pinches a small cube between thumb and fingertips, and lifts it.

The controller is told where the object should be and how big and heavy it is (the task's nominal
pose); the seed jitters where it really is. Ground truth scores the run (how high the object rose,
how long it stayed up, falls) and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from laoshan.limbs.grasp import PinchGrasp, PinchGraspConfig, PowerGrasp, PowerGraspConfig
from laoshan.limbs.reach import ReachController
from laoshan.robot.description import RobotDescription, load_description
from laoshan.scenarios.episode import TaskReport, run_hand_sequence
from laoshan.sim.scoring import HeldUp
from laoshan.sim.body import SimBody
from laoshan.sim.world import Table, Thing, WorldSpec

START_S = 0.5


@dataclass(frozen=True)
class GraspScenario:
    robot: str = "g1-functional"
    side: str = "right"
    shape: str = "cylinder"          # or "sphere", or "cube" (pinched; radius_m is its half edge): then
    radius_m: float = 0.033          # a drinks can                     half_height_m is not used
    half_height_m: float = 0.06
    mass_kg: float = 0.3
    xy_m: tuple[float, float] | None = None     # nominal place of its axis on the table (world); None: a
                                                # shape's own, (0.36, -0.12) or, for the cube, (0.40, -0.15)
    table_height_m: float = 0.70
    jitter_m: float = 0.0            # the real object is off its nominal place by up to this (seeded)
    lift_goal_m: float = 0.08        # success: it rises at least this much ...
    hold_goal_s: float = 2.0         # ... and stays up this long
    seconds: float = 8.0
    seed: int = 0
    video: Path | None = None

    def __post_init__(self) -> None:
        if self.shape not in ("cylinder", "sphere", "cube"):
            raise ValueError(f"shape must be 'cylinder', 'sphere' or 'cube', got {self.shape!r}")

    @property
    def half_z_m(self) -> float:
        return self.half_height_m if self.shape == "cylinder" else self.radius_m

    @property
    def place_xy_m(self) -> tuple[float, float]:
        return self.xy_m or ((0.40, -0.15) if self.shape == "cube" else (0.36, -0.12))

    def world(self) -> WorldSpec:
        x, y = self.place_xy_m
        r = self.radius_m
        size = {"sphere": (r,), "cube": (r, r, r), "cylinder": (r, self.half_height_m)}[self.shape]
        return WorldSpec(
            tables=(Table("table", (0.55, 0.0), (0.4, 0.8), self.table_height_m),),
            things=(Thing("object", "box" if self.shape == "cube" else self.shape, size, self.mass_kg,
                          (x, y, self.table_height_m + self.half_z_m),
                          rgba=(0.2, 0.5, 0.9, 1.0), jitter_m=self.jitter_m),),
            seed=self.seed)


@dataclass(frozen=True)
class GraspReport(TaskReport):
    lift_m: float                    # object height gained at the end
    held_s: float                    # time it has been at least lift_goal_m up, at the end
    touching_N: float                # the robot's contact force on it at the end (ground truth; 0: not held)


def run_grasp(config: GraspScenario, progress: Callable[[int], None] | None = None,
              robot: RobotDescription | None = None,
              grasp: PowerGraspConfig | PinchGraspConfig | None = None) -> GraspReport:
    """Run the grasp (a pinch for the cube, a power grasp otherwise) and lift; ``progress(ticks)``
    is called every 100 control ticks."""
    robot = robot or load_description(config.robot)
    hand = robot.hands.get(config.side)
    if hand is None or not hand.closing:
        raise ValueError(f"{robot.name} has no {config.side} hand with fingers to grasp with")
    body = SimBody(robot, world=config.world(), seed=config.seed)
    controller = ReachController(robot)
    centre = np.array([*config.place_xy_m, config.table_height_m + config.half_z_m])   # the nominal pose
    task: PinchGrasp | PowerGrasp
    if config.shape == "cube":
        if grasp is not None and not isinstance(grasp, PinchGraspConfig):
            raise ValueError("a cube is pinched: give a PinchGraspConfig")
        task = PinchGrasp(controller, centre + [0.0, 0.0, config.half_z_m], config.mass_kg,
                          config=replace(grasp or PinchGraspConfig(), side=config.side))
    else:
        if grasp is not None and not isinstance(grasp, PowerGraspConfig):
            raise ValueError(f"a {config.shape} is power-grasped: give a PowerGraspConfig")
        task = PowerGrasp(controller, centre, config.radius_m, config.mass_kg,
                          config=replace(grasp or PowerGraspConfig(), side=config.side))
    state = body.reset(config.seed)
    watch = HeldUp(body, "object", config.lift_goal_m)
    episode = run_hand_sequence(body, state, controller, task, config.seconds, START_S, watch, config.video,
                                progress)
    held = watch.held_s()
    fell = episode.fell
    return GraspReport.of_run(body, task, episode, config.seconds, not fell and held >= config.hold_goal_s,
                              lift_m=watch.lift_m, held_s=held, touching_N=body.ground_truth_contact_N("object"))
