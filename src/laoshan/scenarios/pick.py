"""Pick (and place): the functional G1 stands at a table, picks a box with both hands, lifts it
and holds it, or carries it to a place on the table, puts it down and lets go.

The controller is told where the box should be (the task's nominal pose) and how big and heavy
it is; the seed jitters where it really is. With ``perceive`` the robot first looks with its head
camera and picks the box where it sees it. Ground truth scores the run (how high the box rose,
how long it stayed up, falls) and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from laoshan.limbs.grasp import BoxPick, BoxPickConfig
from laoshan.limbs.reach import ReachConfig, ReachController
from laoshan.robot.description import RobotDescription, load_description
from laoshan.executive.look import stand_and_look
from laoshan.scenarios.episode import TaskReport, run_hand_sequence
from laoshan.sim.scoring import HeldUp, object_xyz
from laoshan.sim.body import GroundTruth, SimBody
from laoshan.port.base import RobotPort
from laoshan.port.messages import LowState
from laoshan.sim.world import Table, Thing, WorldSpec

START_S = 0.5   # stand this long before picking


@dataclass(frozen=True)
class PickScenario:
    robot: str = "g1-functional"
    box_half_size_m: tuple[float, float, float] = (0.07, 0.14, 0.09)
    box_mass_kg: float = 0.5
    box_x_m: float = 0.42             # nominal box centre in front of the robot (on the table)
    table_height_m: float = 0.70
    jitter_m: float = 0.0             # the real box is off its nominal place by up to this (seeded)
    lift_goal_m: float = 0.10         # pick success: the box rises at least this much ...
    hold_goal_s: float = 3.0          # ... and stays up this long
    place_xy_m: tuple[float, float] | None = None   # put the box's centre here (world xy) and let go
    place_tolerance_m: float = 0.01   # place success: the box ends this close to its place
    perceive: bool = False            # find the box with the head camera instead of taking the nominal place
    box_colour: str = "red"
    tug_Ns: tuple[float, float, float] | None = None   # a deliberate disturbance (lost-grasp tests and benchmarks):
                                                       # the box pulled with this impulse (world, over 0.2 s)
                                                       # half a second after the hands hold it up
    seconds: float = 9.0
    seed: int = 0
    video: Path | None = None

    def world(self) -> WorldSpec:
        h = self.box_half_size_m
        return WorldSpec(
            tables=(Table("table", (self.box_x_m + 0.13, 0.0), (0.4, 0.8), self.table_height_m),),
            things=(Thing("box", "box", h, self.box_mass_kg, (self.box_x_m, 0.0, self.table_height_m + h[2]),
                          jitter_m=self.jitter_m),),
            seed=self.seed)


@dataclass(frozen=True)
class PickReport(TaskReport):
    lift_m: float                     # box height gained at the end
    held_s: float                     # time the box has been at least lift_goal_m up, at the end
    place_error_m: float | None       # box centre to its place (xy) at the end, when placing
    perception_error_m: float | None  # where the robot saw the box against where it was (when perceiving)
    touching_box_N: float             # the robot's contact force on the box at the end (ground truth; 0: not held)


def pick_task(config: PickScenario, port: RobotPort, controller: ReachController, state: LowState,
              pick_config: BoxPickConfig | None = None) -> tuple[LowState, BoxPick]:
    """The robot's side on any port: the pick (and place) of the box where the task says it is,
    or, when it perceives, where the head camera sees it after standing until ``START_S``."""
    h = config.box_half_size_m
    T_box = np.eye(4)                                    # what the task says: the nominal pose
    T_box[:3, 3] = [config.box_x_m, 0.0, config.table_height_m + h[2]]
    T_place = None
    if config.place_xy_m is not None:
        T_place = T_box.copy()
        T_place[:2, 3] = config.place_xy_m
    if config.perceive:
        state, seen = stand_and_look(port, controller, state, state.time_s + START_S)
        box = min((d for d in seen if d.colour == config.box_colour), default=None,
                  key=lambda d: float(np.linalg.norm(d.p_world_m - T_box[:3, 3])))
        if box is not None:
            T_box[:3, 3] = box.p_world_m                  # the box's orientation stays the nominal one
    return state, BoxPick(controller, T_box, h, config.box_mass_kg, pick_config, T_place)


def pick_controller(robot: RobotDescription, config: PickScenario) -> ReachController:
    """The controller a box pick runs on (checked: two hands, and a camera to look with)."""
    if not robot.hands or len(robot.hands) < 2:
        raise ValueError(f"{robot.name} needs two hands to pick a box")
    if config.perceive and not robot.cameras:
        raise ValueError(f"{robot.name} has no camera to see the box with")
    # No integral settling for the hands: pressed on the box, a hand must not wind up its target.
    return ReachController(robot, config=ReachConfig(settle_gain_1_s=0.0))


def set_up_pick(config: PickScenario, robot: RobotDescription | None = None,
                pick_config: BoxPickConfig | None = None) -> tuple[SimBody, ReachController, LowState, BoxPick]:
    """The world, the robot's controller, its state after reset (and, when it perceives, after
    standing until ``START_S`` and looking) and its pick (and place) of the box."""
    robot = robot or load_description(config.robot)
    controller = pick_controller(robot, config)
    body = SimBody(robot, world=config.world(), seed=config.seed, cameras=config.perceive)
    state, pick = pick_task(config, body, controller, body.reset(config.seed), pick_config)
    return body, controller, state, pick


def run_pick(config: PickScenario, progress: Callable[[int], None] | None = None,
             robot: RobotDescription | None = None, pick_config: BoxPickConfig | None = None) -> PickReport:
    """Run the pick; ``progress(ticks)`` is called every 100 control ticks."""
    body, controller, state, pick = set_up_pick(config, robot, pick_config)
    T_place = pick.T_place
    seen_error = (float(np.linalg.norm(pick.T_box[:3, 3] - object_xyz(body, "box")))  # scoring only
                  if config.perceive else None)
    watch = HeldUp(body, "box", config.lift_goal_m)
    tugged: list[float] = []

    def observe(truth: GroundTruth) -> None:
        watch(truth)
        if config.tug_Ns is not None and pick.phase == "hold" and not tugged \
                and truth.time_s >= pick.timeline[-1][0] + 0.5:
            body.push(config.tug_Ns, duration_s=0.2, body="box")
            tugged.append(truth.time_s)

    episode = run_hand_sequence(body, state, controller, pick, config.seconds, START_S, observe, config.video,
                                progress)
    held = watch.held_s()
    fell = episode.fell
    box = object_xyz(body, "box")
    place_error = None if T_place is None else float(np.linalg.norm(box[:2] - T_place[:2, 3]))
    if place_error is None:
        success = not fell and held >= config.hold_goal_s
    else:
        success = not fell and pick.done and place_error <= config.place_tolerance_m
    return PickReport.of_run(body, pick, episode, config.seconds, success, lift_m=watch.lift_m, held_s=held,
                             place_error_m=place_error, perception_error_m=seen_error,
                             touching_box_N=body.ground_truth_contact_N("box"))
