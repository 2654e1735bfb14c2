"""Safety monitors on the sensor loop: fall detection, joint limits, motor temperature, battery.

Each check returns a stop category (after IEC 60204-1):
- category 0: immediate stop, motor power removed (drivers disabled);
- category 1: controlled stop, then power removed: here the protective damping mode, which also
  softens a fall;
- category 2: controlled stop with power kept: stop walking and stand; when the sensing the
  balance controller needs is lost (a lasting sensor fault), the drivers hold a standing posture on
  their own joint PD instead (``SafetyStatus.hold``).
The command-loss watchdog lives in the drivers (``SimBody``/the real robot's motor boards). Every
stop that begins is logged in ``SafetyMonitor.trips`` for the run's report.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from laoshan.cerebellum.control_model import ControlModel
from laoshan.cerebellum.estimator import RobotState
from laoshan.cerebellum.sensing import SensorCheckConfig, SensorFault, SensorGuard
from laoshan.robot.description import RobotDescription
from laoshan.port.messages import JOINT_LIMIT_MARGIN_RAD, MODE_DISABLE, LowCmd, LowState


class StopCategory(IntEnum):
    NONE = -1
    STOP_0 = 0
    STOP_1 = 1
    STOP_2 = 2


@dataclass(frozen=True)
class SafetyConfig:
    fall_tilt_rad: float = 0.6            # base tilted further, now or fall_horizon_s ahead at its tilt rate: falling
    fall_horizon_s: float = 0.12          # (a toppling robot is flagged 150+ ms before it lands; tuned on seeds
    fall_predict_min_tilt_rad: float = 0.15   # >= 1000) ... predicted only once tilted this far (noise, sway)
    fall_predict_hold_s: float = 0.01     # ... and for this long (a foot's impact spikes the rate for a tick or two)
    fall_height_fraction: float = 0.6     # base lower than this fraction of its standing height: falling
    joint_limit_margin_rad: float = JOINT_LIMIT_MARGIN_RAD   # a joint this far past its limit: category 1
                                                             # (the drivers accept targets as far out)
    overspeed_fraction: float = 1.05     # joint speed above this fraction of the motor's no-load speed
    hot_motor_C: float = 95.0             # a winding this hot: stop walking (category 2)
    battery_low_soc: float = 0.10         # stop walking and stand (category 2)
    battery_critical_soc: float = 0.05    # damp down (category 1)
    damping_kd_Nms: float = 4.0           # joint damping of the protective damping mode (category 1)


@dataclass(frozen=True)
class SafetyStatus:
    category: StopCategory
    reason: str = ""
    hold: bool = False      # the estimate cannot be trusted: hold a standing posture on joint PD (category 2)

    @property
    def ok(self) -> bool:
        return self.category == StopCategory.NONE


@dataclass(frozen=True)
class SafetyTrip:
    """A stop as it began: for the run's report."""

    time_s: float
    category: StopCategory
    reason: str

    def __str__(self) -> str:
        return f"{self.time_s:.2f} s: category {int(self.category)} stop: {self.reason}"


MAX_TRIPS = 100   # trips kept per run (the first ones): a report lists them, memory stays bounded


class SafetyMonitor:
    """Checks every tick; a fall, a category 0/1 stop or a sensor hold latches until :meth:`reset`."""

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
        self.reset()

    def reset(self) -> None:
        self.latched: SafetyStatus | None = None
        self.fall_time_s: float | None = None
        self.trips: list[SafetyTrip] = []
        self._last = SafetyStatus(StopCategory.NONE)
        self._predicted_s: float | None = None    # since when a fall has been predicted

    def falling(self, robot: RobotState) -> bool:
        c = self.config
        tilt, t = robot.tilt_rad, robot.time_s
        ahead = tilt + c.fall_horizon_s * max(robot.tilt_rate_rad_s, 0.0)
        if tilt > c.fall_predict_min_tilt_rad and ahead > c.fall_tilt_rad:
            self._predicted_s = t if self._predicted_s is None else self._predicted_s
        else:
            self._predicted_s = None
        predicted = self._predicted_s is not None and t - self._predicted_s >= c.fall_predict_hold_s - 1e-9
        low = robot.p_world_base_m[2] < c.fall_height_fraction * self.standing_height_m
        return bool(tilt > c.fall_tilt_rad or predicted or low)

    def check(self, state: LowState, robot: RobotState, sensor_fault: SensorFault | None = None) -> SafetyStatus:
        """The stop to take now, given the (checked) state, the estimate and a lasting sensor fault."""
        if self.fall_time_s is None and self.falling(robot):   # flagged even after another stop
            self.fall_time_s = state.time_s
            self.latched = SafetyStatus(StopCategory.STOP_1, f"fall detected (tilt {robot.tilt_rad:.2f} rad at "
                                                              f"{robot.tilt_rate_rad_s:.1f} rad/s, base height "
                                                              f"{robot.p_world_base_m[2]:.2f} m)")
        if self.latched is None:
            status = self._check(state, robot)
            if sensor_fault is not None and status.category not in (StopCategory.STOP_0, StopCategory.STOP_1):
                status = SafetyStatus(StopCategory.STOP_2, f"sensor fault: {sensor_fault.channel} {sensor_fault.why} "
                                                           f"since {sensor_fault.since_s:.3f} s", hold=True)
            if status.category in (StopCategory.STOP_0, StopCategory.STOP_1) or status.hold:
                self.latched = status
        else:
            status = self.latched
        self.log(state.time_s, status)
        return status

    def log(self, t_s: float, status: SafetyStatus) -> None:
        """Record ``status`` as a trip if it is a stop other than the one under way."""
        if not status.ok and (status.category, status.hold) != (self._last.category, self._last.hold) \
                and len(self.trips) < MAX_TRIPS:
            self.trips.append(SafetyTrip(t_s, status.category, status.reason))
        self._last = status

    def trip_log(self) -> tuple[str, ...]:
        """The stops taken so far, one line each, for a report."""
        return tuple(str(trip) for trip in self.trips)

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


def stop_command(status: SafetyStatus, n_motors: int, config: SafetyConfig) -> LowCmd | None:
    """The command a category 0 (drivers disabled) or 1 (protective damping) stop sends; None for
    the others, which the controller carries out itself."""
    if status.category == StopCategory.STOP_0:
        cmd = LowCmd.zeros(n_motors)
        cmd.motor_cmd.mode[:] = MODE_DISABLE
        return cmd
    if status.category == StopCategory.STOP_1:
        return LowCmd.damping(n_motors, config.damping_kd_Nms)
    return None


def monitors(model: ControlModel, safety: SafetyConfig | None = None,
             sensors: SensorCheckConfig | None = None) -> tuple[SensorGuard, SafetyMonitor]:
    """The sensor guard and the safety monitor of the robot ``model`` describes (the joint limits
    from its URDF; fingers may be pushed past theirs)."""
    pm = model.robot.model
    q_min, q_max = pm.lowerPositionLimit[model.iq], pm.upperPositionLimit[model.iq]
    return (SensorGuard(model.desc, q_min, q_max, sensors),
            SafetyMonitor(model.desc, q_min, q_max, model.standing_height_m, safety,
                          finger_joints=tuple(model.hand_joints)))
