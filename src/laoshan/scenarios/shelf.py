"""Reach into a shelf: the functional G1 stands before an open shelf, puts one hand into a
compartment, between its boards, and takes it out again, along paths planned around the shelf and
its own body (:mod:`laoshan.limbs.planning`).

The planner knows the shelf where the map says it is (the nominal shelf); the seed moves the real
one off that by up to ``jitter_m``. Ground truth scores the run (how close the hand came to the
goal, whether anything of the robot touched the shelf, falls) and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from laoshan.executive.hands import ShelfReach
from laoshan.limbs.collision import ObstacleBox
from laoshan.limbs.reach import ReachController
from laoshan.robot.description import RobotDescription, load_description
from laoshan.scenarios.episode import TaskReport, run_hand_sequence
from laoshan.sim.body import SimBody
from laoshan.sim.scoring import HandAndContact
from laoshan.sim.world import Shelf, WorldSpec, jittered

START_S = 0.5


@dataclass(frozen=True)
class ShelfScenario:
    robot: str = "g1-functional"
    shelf: Shelf = Shelf("shelf", front_x_m=0.22, center_y_m=-0.15)    # nominal: where the map has it
    side: str = "right"
    goal_m: tuple[float, float, float] = (0.32, -0.20, 0.82)   # the hand's goal in a compartment (world)
    jitter_m: float = 0.0             # the real shelf is off its nominal place by up to this in x and y (seeded)
    error_goal_m: float = 0.02        # success: the hand gets this close to the goal, touching nothing
    dwell_s: float = 0.5              # the hand stays at the goal this long
    planned: bool = True              # False: straight hand paths, blind to the shelf (for comparison)
    plan_beside: bool = False         # plan in a worker process beside the control loop, as on a real-time port
                                      # (the arm then starts when its path comes: when depends on the machine)
    seconds: float = 12.0
    seed: int = 0
    video: Path | None = None

    def obstacles(self) -> tuple[ObstacleBox, ...]:
        """What the robot knows of the shelf (the map's)."""
        return tuple(ObstacleBox(name, center, half) for name, center, half in self.shelf.boxes())



@dataclass(frozen=True)
class ShelfReport(TaskReport):
    hand_error_m: float               # true hand position off the goal as it ended the reach in (inf: never there)
    touch_s: float                    # how long any part of the robot touched the shelf
    peak_touch_N: float               # the largest robot-shelf contact force
    plan_s: tuple[float, ...]         # wall time of each plan [s]
    clearance_m: float                # smallest clearance along the planned paths (planner's model)
    deadline_misses: int              # control ticks computed slower than the control period, ...
    planning_deadline_misses: int     # ... and those of them while a path was being planned


def run_shelf(config: ShelfScenario, progress: Callable[[int], None] | None = None,
              robot: RobotDescription | None = None) -> ShelfReport:
    """Reach into the shelf and out again; ``progress(ticks)`` is called every 100 control ticks."""
    robot = robot or load_description(config.robot)
    if config.side not in robot.hands:
        raise ValueError(f"{robot.name} has no {config.side} hand")
    world = WorldSpec(shelves=(jittered(config.shelf, config.jitter_m, config.seed),), seed=config.seed)
    body = SimBody(robot, world=world, seed=config.seed)
    controller = ReachController(robot)
    controller.set_obstacles(config.obstacles())
    controller.plan_beside = config.plan_beside
    task = ShelfReach(controller, config.side, np.array(config.goal_m), config.dwell_s, config.planned)
    hand = robot.hands[config.side]
    score = HandAndContact(body, config.shelf.name, hand.link, hand.offset_m, np.array(config.goal_m),
                           lambda: task.phase == "in")
    state = body.reset(config.seed)
    try:
        episode = run_hand_sequence(body, state, controller, task, config.seconds, START_S, score, config.video,
                                    progress, stop=lambda: task.done or task.failed is not None)
    finally:
        controller.plan_beside = False           # the worker process goes
    planning = [t for t in episode.loop.missed_at_s        # the slow ticks while a path was being planned
                if any(a - 1e-6 <= t <= b + 1e-6 for a, b in controller.plan_windows)]
    paths = controller.plans
    success = (task.done and not episode.fell and score.touch_s == 0.0
               and score.hand_error_m <= config.error_goal_m)
    return ShelfReport.of_run(body, task, episode, body.time_s, success, hand_error_m=score.hand_error_m,
                              touch_s=score.touch_s, peak_touch_N=score.peak_N,
                              plan_s=tuple(p.plan_s for p in paths),
                              clearance_m=min((p.clearance_m for p in paths), default=float("inf")),
                              deadline_misses=episode.loop.deadline_misses, planning_deadline_misses=len(planning))
