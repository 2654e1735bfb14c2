"""Walk: the locomotion controller follows a velocity command on some terrain, maybe pushed.

The controller sees only ``LowState``; ground truth is read here to score the run (distance,
speed tracking, falls, estimator drift) and nothing else.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from laoshan.cerebellum.locomotion import LocomotionConfig, LocomotionController
from laoshan.robot.description import RobotDescription, load_description
from laoshan.scenarios.episode import run_episode
from laoshan.sim.body import GroundTruth, SimBody
from laoshan.sim.scoring import has_fallen
from laoshan.port.messages import LowCmd, LowState
from laoshan.sim.world import Terrain, WorldSpec

SETTLE_S = 0.5   # stand this long before the command is given


@dataclass(frozen=True)
class WalkScenario:
    robot: str = "g1-basic"
    vx_m_s: float = 0.3
    vy_m_s: float = 0.0
    yaw_rate_rad_s: float = 0.0
    seconds: float = 10.0            # time with the command on (after a short settle)
    terrain: str = "flat"            # flat, slope, cross-slope, steps (one up, one down), stairs (a flight up
                                     # and down), rough
    step_height_m: float = 0.10      # steps, stairs: the rise
    push_Ns: float = 0.0             # a forward shove on the base at mid-walk (0: none)
    seed: int = 0
    video: Path | None = None


@dataclass(frozen=True)
class WalkReport:
    robot: str
    command: tuple[float, float, float]
    seconds: float
    fell: bool
    fall_time_s: float | None
    distance_m: float                # base path in the ground plane (sum of 1 s chords: step sway left out)
    displacement_m: float            # base start to end, in the ground plane
    mean_speed_m_s: float            # path over the commanded time
    speed_rmse_m_s: float            # 1 s window mean velocity vs command, after the ramp-up
    yaw_change_rad: float            # heading turned (unwrapped: two turns are 4 pi)
    energy_J: float
    cost_of_transport: float         # energy / (weight x distance)
    estimator_drift_m: float         # |estimated - true| base position (xy) at the end
    estimator_height_drift_m: float  # estimated - true base height at the end
    wall_s: float
    safety_trips: tuple[str, ...] = ()   # every stop the safety monitor took, as it began
    applied: tuple[float, float, float] | None = None   # the command walked at, if the gait limited it ...
    limited: str | None = None                          # ... and what was limited and why

    @property
    def estimator_drift_fraction(self) -> float:
        return self.estimator_drift_m / self.distance_m if self.distance_m > 0 else 0.0

    @property
    def real_time_factor(self) -> float:
        return (self.seconds + SETTLE_S) / self.wall_s if self.wall_s > 0 else math.inf


def run_walk(config: WalkScenario, progress: Callable[[int], None] | None = None,
             robot: RobotDescription | None = None) -> WalkReport:
    """Run the walk; ``progress(ticks)`` is called every 100 control ticks."""
    if not config.seconds > 0:
        raise ValueError(f"seconds must be > 0, got {config.seconds}")
    robot = robot or load_description(config.robot)
    terrain = Terrain(kind=config.terrain, step_height_m=config.step_height_m)  # type: ignore[arg-type]
    body = SimBody(robot, world=WorldSpec(terrain=terrain, seed=config.seed), seed=config.seed,
                   cameras=config.terrain != "flat" and bool(robot.cameras))
    # off the flat floor the robot looks where it steps (a robot without a camera walks blind)
    seeing = config.terrain != "flat" and bool(robot.cameras)
    controller = LocomotionController(robot, LocomotionConfig(see_terrain=seeing))
    dt = body.loop.control_dt_s
    ticks = int(round((SETTLE_S + config.seconds) / dt))
    command = (config.vx_m_s, config.vy_m_s, config.yaw_rate_rad_s)
    go_tick, push_tick = int(round(SETTLE_S / dt)), int(round((SETTLE_S + config.seconds / 2) / dt))
    state = body.reset(config.seed)
    positions: list[np.ndarray] = []
    yaws: list[float] = []

    fallen_at: list[float] = []

    def observe(truth: GroundTruth) -> None:
        positions.append(truth.p_world_base_m[:2].copy())
        yaws.append(truth.yaw_rad)
        if not fallen_at and has_fallen(truth):
            fallen_at.append(truth.time_s)

    limited: list[str | None] = [None]
    applied = [command]

    def act(k: int, state: LowState) -> LowCmd:
        if k == go_tick:
            limited[0] = controller.set_velocity(*command)
            target = controller.planner.target
            applied[0] = (target.vx_m_s, target.vy_m_s, target.yaw_rate_rad_s)
        if config.push_Ns and k == push_tick:
            heading = body.ground_truth().yaw_rad   # a shove from behind
            body.push([config.push_Ns * math.cos(heading), config.push_Ns * math.sin(heading), 0.0])
        return controller(state)

    observe(body.ground_truth())
    # a fallen robot lies still: the run ends a second after the fall
    episode = run_episode(body, state, ticks, act, observe, config.video, progress,
                          stop=lambda: bool(fallen_at) and body.ground_truth().time_s > fallen_at[0] + 1.0)
    fall_time, wall = episode.fall_time_s, episode.wall_s
    end_truth = body.ground_truth()
    xy = np.array(positions)
    chords = xy[:: int(round(1.0 / dt))]
    distance = float(np.linalg.norm(np.diff(np.vstack([chords, xy[-1:]]), axis=0), axis=1).sum())
    speed, rmse = _speed_figures(xy, dt, applied[0], SETTLE_S, controller.planner.config.max_accel_m_s2)
    energy = body.energy_J
    weight_N = controller.model.mass_kg * 9.81
    return WalkReport(
        robot=robot.name, command=command, seconds=config.seconds, fell=fall_time is not None,
        fall_time_s=fall_time, distance_m=distance, displacement_m=float(np.linalg.norm(xy[-1] - xy[0])),
        mean_speed_m_s=speed, speed_rmse_m_s=rmse,
        yaw_change_rad=float(np.sum(np.angle(np.exp(1j * np.diff(yaws))))),
        energy_J=energy, cost_of_transport=energy / (weight_N * distance) if distance > 0.05 else math.inf,
        estimator_drift_m=float(np.linalg.norm(controller.state.p_world_base_m[:2] - end_truth.p_world_base_m[:2])),
        estimator_height_drift_m=float(controller.state.p_world_base_m[2] - end_truth.p_world_base_m[2]),
        wall_s=wall, safety_trips=controller.safety.trip_log(),
        applied=applied[0] if limited[0] else None, limited=limited[0],
    )


def _speed_figures(xy: np.ndarray, dt: float, command: tuple[float, float, float], settle_s: float,
                   accel: float) -> tuple[float, float]:
    """Mean planar speed (1 s chords) while commanded, and the RMSE of 1 s window speeds after the ramp-up."""
    start = int(settle_s / dt)
    moving = xy[start:]
    if len(moving) < 2:
        return 0.0, 0.0
    window = int(1.0 / dt)
    chords = np.vstack([moving[::window], moving[-1:]])
    mean = float(np.linalg.norm(np.diff(chords, axis=0), axis=1).sum() / ((len(moving) - 1) * dt))
    target = math.hypot(command[0], command[1])
    ramp = int((target / accel + 1.0) / dt) if accel > 0 else 0
    errors = [np.linalg.norm(moving[i + window] - moving[i]) / (window * dt) - target
              for i in range(ramp, len(moving) - window, window)]
    return mean, float(np.sqrt(np.mean(np.square(errors)))) if errors else 0.0
