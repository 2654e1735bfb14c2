"""Safety monitors on the sensor loop: fall detection, joint limits, motor temperature, battery.

Each check returns a stop category (after IEC 60204-1):
- category 0: immediate stop, motor power removed (drivers disabled);
- category 1: controlled stop, then power removed: here the protective damping mode, which also
  softens a fall;
- category 2: controlled stop with power kept: stop walking and stand.
The command-loss watchdog lives in the drivers (``SimBody``/the real robot's motor boards).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from laoshan.cerebellum.estimator import RobotState
from laoshan.robot.description import RobotDescription
from laoshan.sim.messages import LowState


class StopCategory(IntEnum):
    NONE = -1
    STOP_0 = 0
    STOP_1 = 1
    STOP_2 = 2


@dataclass(frozen=True)
class SafetyConfig:
    fall_tilt_rad: float = 0.6            # base tilted further: falling
    fall_height_fraction: float = 0.6     # base lower than this fraction of its standing height: falling
    joint_limit_margin_rad: float = 0.05  # a joint this far past its limit: category 1
    overspeed_fraction: float = 1.05     # joint speed above this fraction of the motor's no-load speed
    hot_motor_C: float = 95.0             # a winding this hot: stop walking (category 2)
    battery_low_soc: float = 0.10         # stop walking and stand (category 2)
    battery_critical_soc: float = 0.05    # damp down (category 1)


@dataclass(frozen=True)
class SafetyStatus:
    category: StopCategory
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.category == StopCategory.NONE


class SafetyMonitor:
    """Checks every tick; a fall or a category 0/1 stop latches until :meth:`reset`."""

    def __init__(self, robot: RobotDescription, q_min_rad: np.ndarray, q_max_rad: np.ndarray,
                 standing_height_m: float, config: SafetyConfig | None = None,
                 finger_joints: tuple[str, ...] = ()) -> None:
        """``finger_joints`` may be pushed past their stops or knocked fast by what the hand holds:
        that alone stops nothing."""
        self.config = config or SafetyConfig()
        self.standing_height_m = standing_height_m
        self.no_load_rad_s = np.array([s.no_load_speed_rad_s for s in robot.motor_specs()])
        self.names = robot.joint_names
        self.q_min, self.q_max = q_min_rad, q_max_rad
        self.limb_joint = np.array([name not in finger_joints for name in self.names])
        self.latched: SafetyStatus | None = None
        self.fall_time_s: float | None = None

    def reset(self) -> None:
        self.latched = None
        self.fall_time_s = None

    def falling(self, robot: RobotState) -> bool:
        c = self.config
        return bool(robot.tilt_rad > c.fall_tilt_rad
                    or robot.p_world_base_m[2] < c.fall_height_fraction * self.standing_height_m)

    def check(self, state: LowState, robot: RobotState) -> SafetyStatus:
        if self.fall_time_s is None and self.falling(robot):   # flagged even after another stop
            self.fall_time_s = state.time_s
            self.latched = SafetyStatus(StopCategory.STOP_1, f"fall detected (tilt {robot.tilt_rad:.2f} rad, "
                                                              f"base height {robot.p_world_base_m[2]:.2f} m)")
        if self.latched is not None:
            return self.latched
        status = self._check(state, robot)
        if status.category in (StopCategory.STOP_0, StopCategory.STOP_1):
            self.latched = status
        return status

    def _check(self, state: LowState, robot: RobotState) -> SafetyStatus:
        c, ms = self.config, state.motor_state
        if state.bms.fault:
            return SafetyStatus(StopCategory.STOP_0, f"battery fault: {state.bms.fault}")
        if state.bms.soc < c.battery_critical_soc:
            return SafetyStatus(StopCategory.STOP_1, f"battery critical ({state.bms.soc:.0%})")
        over = self.limb_joint & ((ms.q < self.q_min - c.joint_limit_margin_rad)
                                  | (ms.q > self.q_max + c.joint_limit_margin_rad))
        if over.any():
            i = int(np.argmax(over))
            return SafetyStatus(StopCategory.STOP_1, f"{self.names[i]} beyond its joint limit ({ms.q[i]:.3f} rad)")
        fast = self.limb_joint & (np.abs(ms.dq) > c.overspeed_fraction * self.no_load_rad_s)
        if fast.any():
            i = int(np.argmax(fast))
            return SafetyStatus(StopCategory.STOP_1, f"{self.names[i]} overspeed ({ms.dq[i]:.1f} rad/s)")
        if state.bms.soc < c.battery_low_soc:
            return SafetyStatus(StopCategory.STOP_2, f"battery low ({state.bms.soc:.0%})")
        if ms.temperature.max() > c.hot_motor_C:
            i = int(np.argmax(ms.temperature))
            return SafetyStatus(StopCategory.STOP_2, f"{self.names[i]} motor hot ({ms.temperature[i]:.0f} °C)")
        return SafetyStatus(StopCategory.NONE)
