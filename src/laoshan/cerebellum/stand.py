"""Joint-PD stand: hold the robot's home posture from encoder readings only (:class:`StandController`),
alone or with the safety monitors on (:class:`GuardedStand`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from laoshan.cerebellum.control_model import ControlModel
from laoshan.cerebellum.estimator import StateEstimator
from laoshan.cerebellum.safety import SafetyConfig, SafetyStatus, StopCategory, monitors, stop_command
from laoshan.cerebellum.sensing import SensorCheckConfig
from laoshan.robot.description import RobotDescription
from laoshan.port.messages import LowCmd, LowState


@dataclass(frozen=True)
class StandControllerConfig:
    ramp_s: float = 0.5   # time to move from the measured posture to the home posture
    gain_scale: float = 1.0  # multiplies the description's joint gains
    damping_scale: float = 1.0   # multiplies its damping gains once more


class StandController:
    """Reads ``LowState`` joint angles, writes ``LowCmd`` PD targets at the home posture (or another).

    On the first state it sees it ramps linearly from the measured posture to home over
    ``ramp_s``, as one does on a real robot to avoid a jump.
    """

    def __init__(self, robot: RobotDescription, config: StandControllerConfig | None = None,
                 posture_rad: np.ndarray | None = None) -> None:
        """``posture_rad``: the joint angles to stand at (motor order); None: the home posture."""
        self.config = config or StandControllerConfig()
        self.posture_rad = np.array([m.home_rad for m in robot.motors]) if posture_rad is None \
            else np.asarray(posture_rad, dtype=float).copy()
        self.kp = np.array([m.kp_Nm_rad for m in robot.motors]) * self.config.gain_scale
        self.kd = np.array([m.kd_Nms_rad for m in robot.motors]) * self.config.gain_scale * self.config.damping_scale
        self._start_q: np.ndarray | None = None
        self._start_t = 0.0

    def __call__(self, state: LowState) -> LowCmd:
        if self._start_q is None:
            self._start_q = state.motor_state.q.copy()
            self._start_t = state.time_s
        alpha = min(1.0, (state.time_s - self._start_t) / self.config.ramp_s) if self.config.ramp_s > 0 else 1.0
        cmd = LowCmd.zeros(len(self.posture_rad))
        cmd.motor_cmd.q[:] = (1 - alpha) * self._start_q + alpha * self.posture_rad
        cmd.motor_cmd.kp[:] = self.kp
        cmd.motor_cmd.kd[:] = self.kd
        return cmd


class GuardedStand:
    """The joint-PD stand with the safety monitors on: each sample checked (:class:`SensorGuard`),
    the base estimated (for fall detection), and every stop the monitor calls for carried out: a
    category 0 stop disables the drivers, a category 1 stop damps; a category 2 stop (and a sensor
    hold) keeps standing, which is what this controller does anyway."""

    def __init__(self, robot: RobotDescription, config: StandControllerConfig | None = None,
                 safety: SafetyConfig | None = None, sensors: SensorCheckConfig | None = None) -> None:
        self.stand = StandController(robot, config)
        self.model = ControlModel(robot)
        self.sensors, self.safety = monitors(self.model, safety, sensors)
        self.estimator = StateEstimator(self.model)
        self.status = SafetyStatus(StopCategory.NONE)

    def __call__(self, state: LowState) -> LowCmd:
        state = self.sensors(state)
        self.status = self.safety.check(state, self.estimator.update(state), self.sensors.lasting(state.time_s))
        stop = stop_command(self.status, len(self.stand.posture_rad), self.safety.config)
        return stop if stop is not None else self.stand(state)
