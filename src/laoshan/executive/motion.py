"""Standing and walking on any robot port, judged by what the robot itself senses.

What the robot knows of its run (its estimated path, its own fall flag, the safety monitor's
stops, the loop's timing) is all these report: on DDS there is no ground truth to read, and the
simulator serving the topics scores falls from its own.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from laoshan.cerebellum.locomotion import LocomotionController
from laoshan.cerebellum.stand import GuardedStand
from laoshan.executive.loop import LoopStats, drive
from laoshan.port.base import RobotPort
from laoshan.port.messages import LowCmd, LowState

SETTLE_S = 0.5        # standing this long before walking
STOP_S = 1.0          # ... and after, the steps in flight landing


@dataclass(frozen=True)
class MotionReport:
    """A stand or a walk on a port, as the robot sensed it."""

    robot: str
    seconds: float                   # robot time [s]
    fell: bool                       # the robot's own fall flag (the safety monitor's)
    estimated_distance_m: float      # base start to end, estimated, ground plane
    safety_trips: tuple[str, ...]
    loop: LoopStats
    limited: str | None = None       # what of the commanded velocity the gait limited, and why


def stand_on(port: RobotPort, state: LowState, seconds: float,
             progress: Callable[[int], None] | None = None) -> MotionReport:
    """Stand (joint PD at the home posture, monitors on) for ``seconds`` of robot time."""
    controller = GuardedStand(port.robot)
    ticks = int(round(seconds / port.control_dt_s))
    state, loop = drive(port, state, ticks, lambda k, s: controller(s), progress=progress)
    fell = controller.safety.fall_time_s is not None
    return MotionReport(port.robot.name, ticks * port.control_dt_s, fell, 0.0, controller.safety.trip_log(), loop)


def walk_on(port: RobotPort, state: LowState, velocity: tuple[float, float, float], distance_m: float,
            timeout_s: float, progress: Callable[[int], None] | None = None) -> MotionReport:
    """Stand ``SETTLE_S``, walk at ``velocity`` (vx, vy [m/s], yaw rate [rad/s]) until the robot
    estimates it has covered ``distance_m`` (or ``timeout_s`` has passed), then stop and stand."""
    controller = LocomotionController(port.robot)
    dt = port.control_dt_s
    start: list[np.ndarray] = []
    phase = {"walking": False, "stopped_s": None}
    limited: list[str | None] = [None]

    def covered() -> float:
        rs = controller.state
        return float(np.linalg.norm(rs.p_world_base_m[:2] - start[0])) if rs is not None and start else 0.0

    def act(k: int, s: LowState) -> LowCmd:
        cmd = controller(s)
        if not start:
            start.append(controller.state.p_world_base_m[:2].copy())
        if k * dt >= SETTLE_S and not phase["walking"] and phase["stopped_s"] is None:
            limited[0] = controller.set_velocity(*velocity)
            phase["walking"] = True
        if phase["walking"] and covered() >= distance_m:
            controller.set_velocity(0.0, 0.0, 0.0)
            phase["walking"], phase["stopped_s"] = False, s.time_s
        return cmd

    def done(s: LowState) -> bool:
        return controller.fallen or (phase["stopped_s"] is not None and s.time_s - phase["stopped_s"] >= STOP_S)

    ticks = int(round((SETTLE_S + timeout_s + STOP_S) / dt))
    state, loop = drive(port, state, ticks, act, stop=done, progress=progress)
    return MotionReport(port.robot.name, loop.ticks * dt, controller.fallen, covered(), controller.safety.trip_log(),
                        loop, limited[0])
