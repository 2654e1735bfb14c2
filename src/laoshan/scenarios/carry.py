"""Carry: the functional G1 picks a box from a table with both hands and carries it while walking.

The pick is the two-hand squeeze of ``pick``; then the box comes in close to the body, the hands
are tied to the body and the robot walks backward, away from the table, until its own odometry
says it has gone ``distance_m``, and stops. The box is held by the palms' friction all the way.
Ground truth scores the run (distance really walked, whether the box is still in the hands, falls)
and nothing else.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from laoshan.executive.walking import CarryWalk
from laoshan.limbs.grasp import BoxPickConfig
from laoshan.port.messages import LowState
from laoshan.robot.description import RobotDescription
from laoshan.scenarios.episode import TaskReport, run_hand_sequence
from laoshan.scenarios.pick import START_S, PickScenario, set_up_pick
from laoshan.sim.body import GroundTruth
from laoshan.sim.scoring import object_xyz


@dataclass(frozen=True)
class CarryScenario:
    table: PickScenario = field(default_factory=lambda: PickScenario(box_mass_kg=2.0))   # where the box starts
    grip: BoxPickConfig = field(default_factory=lambda: BoxPickConfig(grip_force_N=30.0, lift_m=0.2))
    distance_m: float = 5.0           # walk this far (by the robot's odometry) with the box
    speed_m_s: float = 0.3            # backward, away from the table
    turn_rad: float = 0.0             # then turn on the spot this much (by odometry; + is to the left)
    turn_rate_rad_s: float = 0.3
    tuck_m: float = 0.10              # before walking, the box comes this much closer to the body (less
                                      # torque on the waist)
    held_above_m: float = 0.05        # the box counts as held while its centre is this far above the table top ...
    held_within_m: float = 0.7        # ... and this close to the base (horizontally)
    min_walked_fraction: float = 0.95  # success: the true distance walked is at least this fraction of
                                       # distance_m (the robot goes by its odometry, which drifts) ...
    turn_tolerance_rad: float = 0.35   # ... and the true turn this close to turn_rad
    other_s: float = 8.0              # time for the pick, bringing the box in, and stopping
    seed: int = 0
    video: Path | None = None

    def __post_init__(self) -> None:
        if not 0.0 < self.distance_m <= 50.0 or not 0.0 < self.speed_m_s <= 0.5:
            raise ValueError("distance_m must be in (0, 50] m and speed_m_s in (0, 0.5] m/s")
        if not abs(self.turn_rad) <= 2 * math.pi or not 0.0 < self.turn_rate_rad_s <= 0.6:
            raise ValueError("turn_rad must be within one turn and turn_rate_rad_s in (0, 0.6] rad/s")


    @property
    def seconds(self) -> float:
        return self.other_s + self.distance_m / self.speed_m_s + abs(self.turn_rad) / self.turn_rate_rad_s


@dataclass(frozen=True)
class CarryReport(TaskReport):
    walked_m: float                   # true base displacement since the walk began
    turned_rad: float                 # true heading change since the walk began
    box_held: bool                    # the box is still in the hands at the end
    walk_s: float | None              # time from the first step to the stop


def run_carry(config: CarryScenario, progress: Callable[[int], None] | None = None,
              robot: RobotDescription | None = None) -> CarryReport:
    """Run the pick and the carry; ``progress(ticks)`` is called every 100 control ticks."""
    table = replace(config.table, seed=config.seed)
    body, controller, state, pick = set_up_pick(table, robot, config.grip)
    walk = CarryWalk(controller, pick.settle_s, config.tuck_m, config.speed_m_s, config.distance_m,
                     config.turn_rad, config.turn_rate_rad_s)
    start_true: list[GroundTruth] = []               # scoring: the truth when the walk began

    def then(state: LowState) -> None:
        if not pick.failed:                              # nothing in hand: stay
            walk.tick(state)

    def score(truth: GroundTruth) -> None:
        if walk.start_xy is not None and not start_true:
            start_true.append(truth)

    episode = run_hand_sequence(body, state, controller, pick, config.seconds, START_S, score, config.video,
                                progress, then)
    truth = body.ground_truth()
    start = start_true[0] if start_true else None
    walked = 0.0 if start is None else float(np.linalg.norm(truth.p_world_base_m[:2] - start.p_world_base_m[:2]))
    turned = 0.0 if start is None else math.remainder(truth.yaw_rad - start.yaw_rad, math.tau)
    box = object_xyz(body, "box")
    held = bool(box[2] - table.table_height_m >= config.held_above_m
                and np.linalg.norm(box[:2] - truth.p_world_base_m[:2]) <= config.held_within_m)
    fell = episode.fell
    far_enough = walked >= config.min_walked_fraction * config.distance_m
    turned_enough = abs(turned - config.turn_rad) <= config.turn_tolerance_rad
    return CarryReport.of_run(body, pick, episode, config.seconds, not fell and held and far_enough and turned_enough,
                              walked_m=walked, turned_rad=turned, box_held=held,
                              walk_s=None if walk.stop_s is None else walk.stop_s - walk.t0_s)
