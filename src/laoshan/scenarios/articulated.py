"""Open a drawer or a door: the functional G1 stands before a cabinet, hooks the handle bar with one
hand (or, a drawer's, grasps it: ``grip="grasp"``) and pulls it open (a drawer along its rail, a
door about its hinge).

The controller is told where the handle should be (the task's nominal pose); the seed moves the
whole cabinet off it by up to ``jitter_m``. Ground truth scores the run (how far the drawer or door
opened, falls) and nothing else.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from laoshan.limbs.articulated import (GraspAndPull, HandleGraspConfig, HookAndPull, HookConfig, arc_pull,
                                       straight_pull)
from laoshan.limbs.reach import ReachController
from laoshan.robot.description import RobotDescription, load_description
from laoshan.scenarios.episode import TaskReport, run_hand_sequence
from laoshan.sim.body import SimBody
from laoshan.sim.scoring import fixture_opening
from laoshan.sim.world import Door, Drawer, WorldSpec, jittered

START_S = 0.5                        # stand this long before reaching
TOWARD_ROBOT = np.array([-1.0, 0.0, 0.0])   # the cabinets face the robot


@dataclass(frozen=True)
class DrawerScenario:
    robot: str = "g1-functional"
    drawer: Drawer = Drawer("drawer", front_x_m=0.45, center_y_m=-0.18, handle_height_m=0.70)   # nominal
    side: str = "right"               # the hand that opens it
    grip: str = "hook"                # "hook" (fingers behind the bar) or "grasp" (thumb and fingers around it)
    jitter_m: float = 0.0             # the real cabinet is off its nominal place by up to this in x and y (seeded)
    pull_m: float = 0.15              # how far the hand pulls the handle
    open_goal: float = 0.10           # success: the drawer opens at least this far [m]
    seconds: float = 7.0
    seed: int = 0
    video: Path | None = None

    @property
    def furniture(self) -> Drawer:
        return self.drawer

    def path(self) -> list[np.ndarray]:
        return straight_pull(TOWARD_ROBOT, self.pull_m)

    def opened(self, body: SimBody) -> float:
        """Scoring only: how far the drawer is out [m] (0 at the closed stop)."""
        return fixture_opening(body, self.drawer.name)


@dataclass(frozen=True)
class DoorScenario:
    robot: str = "g1-functional"
    door: Door = Door("door", front_x_m=0.50, center_y_m=0.02, handle_height_m=0.72)   # nominal
    side: str = "right"
    jitter_m: float = 0.0
    swing_rad: float = math.radians(45.0)    # how far the hand swings the handle about the hinge
    pull_steps: int = 3                      # waypoints along that arc
    open_goal: float = math.radians(30.0)    # success: the door opens at least this far [rad]
    seconds: float = 8.0
    seed: int = 0
    video: Path | None = None

    @property
    def furniture(self) -> Door:
        return self.door

    def path(self) -> list[np.ndarray]:
        return arc_pull(self.door.hinge_xyz_m, -self.swing_rad, self.pull_steps)   # clockwise seen from above

    def opened(self, body: SimBody) -> float:
        """Scoring only: the door's opening angle [rad]."""
        return fixture_opening(body, self.door.name)


@dataclass(frozen=True)
class OpenReport(TaskReport):
    opened: float                     # drawer: metres out; door: radians open (at the end)


def run_open(config: DrawerScenario | DoorScenario, progress: Callable[[int], None] | None = None,
             robot: RobotDescription | None = None, hook: HookConfig | None = None,
             handle: HandleGraspConfig | None = None) -> OpenReport:
    """Open the scenario's drawer or door; ``progress(ticks)`` is called every 100 control ticks."""
    robot = robot or load_description(config.robot)
    if config.side not in robot.hands:
        raise ValueError(f"{robot.name} has no {config.side} hand to open it with")
    grip = config.grip if isinstance(config, DrawerScenario) else "hook"   # doors: hooked only, for now
    if grip not in ("hook", "grasp"):
        raise ValueError(f"grip must be 'hook' or 'grasp', got {grip!r}")
    if grip == "grasp" and not robot.hands[config.side].closing:
        raise ValueError(f"{robot.name}'s {config.side} hand has no fingers to grasp a handle with")
    nominal = config.furniture
    actual = jittered(nominal, config.jitter_m, config.seed)
    world = WorldSpec(drawers=(actual,), seed=config.seed) if isinstance(actual, Drawer) else \
        WorldSpec(doors=(actual,), seed=config.seed)
    body = SimBody(robot, world=world, seed=config.seed)
    controller = ReachController(robot)
    task: HookAndPull | GraspAndPull
    if grip == "grasp":
        task = GraspAndPull(controller, nominal.handle_xyz_m, TOWARD_ROBOT, config.path(),
                            replace(handle or HandleGraspConfig(), side=config.side))
    else:
        task = HookAndPull(controller, nominal.handle_xyz_m, TOWARD_ROBOT, nominal.handle_gap_m,
                           nominal.handle_radius_m, config.path(), replace(hook or HookConfig(), side=config.side))
    state = body.reset(config.seed)
    episode = run_hand_sequence(body, state, controller, task, config.seconds, START_S, None, config.video, progress)
    opened = config.opened(body)
    fell = episode.fell
    return OpenReport.of_run(body, task, episode, config.seconds, not fell and opened >= config.open_goal,
                             opened=opened)
