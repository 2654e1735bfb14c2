"""Stand: the robot holds its home posture on the joint-PD stand controller for a while, with the
safety monitors on.

The controller sees only ``LowState`` and acts only through ``LowCmd``; ground truth is read
here for scoring (fall, pelvis height) and nothing else. Memory stays flat however long it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from laoshan.cerebellum.stand import GuardedStand
from laoshan.components.loop import DeadlineMonitor
from laoshan.robot.description import RobotDescription, load_description
from laoshan.scenarios.episode import run_episode
from laoshan.sim.body import GroundTruth, SimBody
from laoshan.port.messages import LowCmd, LowState
from laoshan.sim.world import WorldSpec


@dataclass(frozen=True)
class StandScenario:
    robot: str = "g1-basic"          # shipped robot name or path of a robot .toml
    seconds: float = 10.0            # simulated time
    seed: int = 0                    # sensor noise and world randomness
    video: Path | None = None        # write an MP4 here
    world: WorldSpec = field(default_factory=WorldSpec)


@dataclass(frozen=True)
class StandReport:
    robot: str
    seconds: float
    fell: bool
    fall_time_s: float | None
    pelvis_height_min_m: float
    pelvis_height_final_m: float
    max_tilt_rad: float
    energy_J: float
    mean_power_W: float
    battery_soc: float
    runtime_estimate_h: float
    rejected_commands: int
    max_motor_temp_C: float
    controller_p99_ms: float         # controller compute time per tick (wall clock)
    deadline_misses: int             # ticks whose controller took longer than the control period
    wall_s: float
    safety_trips: tuple[str, ...] = ()   # every stop the safety monitor took, as it began

    @property
    def real_time_factor(self) -> float:
        return self.seconds / self.wall_s if self.wall_s > 0 else float("inf")


def run_stand(config: StandScenario, progress: Callable[[int], None] | None = None,
              robot: RobotDescription | None = None) -> StandReport:
    """Run the stand scenario; ``progress(ticks_done)`` is called every 100 control ticks."""
    if not config.seconds > 0:
        raise ValueError(f"seconds must be > 0, got {config.seconds}")
    robot = robot or load_description(config.robot)
    body = SimBody(robot, world=config.world, seed=config.seed)
    controller = GuardedStand(robot)
    deadline = DeadlineMonitor(budget_s=body.loop.control_dt_s)
    height_min, tilt_max = np.inf, 0.0

    def act(_: int, state: LowState) -> LowCmd:
        deadline.start()
        cmd = controller(state)
        deadline.stop()
        return cmd

    def observe(truth: GroundTruth) -> None:
        nonlocal height_min, tilt_max
        height_min, tilt_max = min(height_min, float(truth.p_world_base_m[2])), max(tilt_max, truth.tilt_rad)

    ticks = int(round(config.seconds / body.loop.control_dt_s))
    episode = run_episode(body, body.reset(config.seed), ticks, act, observe, config.video, progress)
    state, fall_time, wall = episode.state, episode.fall_time_s, episode.wall_s
    mean_power = body.energy_J / body.time_s
    return StandReport(
        robot=robot.name, seconds=body.time_s, fell=fall_time is not None, fall_time_s=fall_time,
        pelvis_height_min_m=height_min, pelvis_height_final_m=float(body.ground_truth().p_world_base_m[2]),
        max_tilt_rad=tilt_max, energy_J=body.energy_J, mean_power_W=mean_power,
        battery_soc=state.bms.soc, runtime_estimate_h=body.battery.runtime_estimate_s(mean_power) / 3600,
        rejected_commands=body.rejected_commands, max_motor_temp_C=float(state.motor_state.temperature.max()),
        controller_p99_ms=deadline.percentile_s(99) * 1e3, deadline_misses=deadline.misses, wall_s=wall,
        safety_trips=controller.safety.trip_log(),
    )
