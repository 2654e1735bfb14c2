"""Open a drawer: the functional G1 stands before a cabinet, hooks the drawer's handle bar with one
hand and pulls it open.

The controller is told where the handle should be (the task's nominal pose); the seed moves the
whole cabinet off it by up to ``jitter_m``. Ground truth scores the run (how far the drawer
opened, falls) and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from laoshan.limbs.articulated import DrawerOpen, DrawerOpenConfig
from laoshan.limbs.reach import ReachController
from laoshan.robot.description import RobotDescription, load_description
from laoshan.scenarios.episode import TaskReport, run_hand_sequence
from laoshan.sim.body import SimBody
from laoshan.sim.world import Drawer, WorldSpec

START_S = 0.5   # stand this long before reaching


@dataclass(frozen=True)
class DrawerScenario:
    robot: str = "g1-functional"
    drawer: Drawer = Drawer("drawer", front_x_m=0.45, center_y_m=-0.18, handle_height_m=0.70)   # nominal
    side: str = "right"               # the hand that opens it
    jitter_m: float = 0.0             # the real cabinet is off its nominal place by up to this in x and y (seeded)
    open_goal_m: float = 0.10         # success: the drawer opens at least this far
    seconds: float = 7.0
    seed: int = 0
    video: Path | None = None

    def actual_drawer(self) -> Drawer:
        """Where the cabinet really is: the nominal place moved by the seeded jitter."""
        dx, dy = np.random.default_rng(self.seed).uniform(-self.jitter_m, self.jitter_m, 2)
        d = self.drawer
        return replace(d, front_x_m=d.front_x_m + float(dx), center_y_m=d.center_y_m + float(dy))


@dataclass(frozen=True)
class DrawerReport(TaskReport):
    opened_m: float                   # how far the drawer is out at the end


def run_drawer(config: DrawerScenario, progress: Callable[[int], None] | None = None,
               robot: RobotDescription | None = None, open_config: DrawerOpenConfig | None = None) -> DrawerReport:
    """Run the drawer opening; ``progress(ticks)`` is called every 100 control ticks."""
    robot = robot or load_description(config.robot)
    if config.side not in robot.hands:
        raise ValueError(f"{robot.name} has no {config.side} hand to open a drawer with")
    drawer = config.actual_drawer()
    body = SimBody(robot, world=WorldSpec(drawers=(drawer,), seed=config.seed), seed=config.seed)
    controller = ReachController(robot)
    nominal = config.drawer
    open_config = replace(open_config or DrawerOpenConfig(), side=config.side)
    task = DrawerOpen(controller, nominal.handle_xyz_m, np.array([-1.0, 0.0, 0.0]), nominal.handle_gap_m,
                      nominal.handle_radius_m, open_config)
    state = body.reset(config.seed)
    episode = run_hand_sequence(body, state, controller, task, config.seconds, START_S, None, config.video, progress)
    opened = max(0.0, -float(body.data.joint(f"{drawer.name}_slide").qpos[0]))   # scoring only; 0 at the closed stop
    fell = episode.fall_time_s is not None
    return DrawerReport(
        robot=robot.name, success=not fell and opened >= config.open_goal_m, fell=fell, failure=task.failed,
        phase=task.phase, timeline=tuple(task.timeline), energy_J=body.energy_J, wall_s=episode.wall_s,
        seconds=config.seconds, opened_m=opened,
    )
