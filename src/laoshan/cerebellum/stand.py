"""Joint-PD stand: hold the robot's home posture from encoder readings only."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from laoshan.robot.description import RobotDescription
from laoshan.sim.messages import LowCmd, LowState


@dataclass(frozen=True)
class StandControllerConfig:
    ramp_s: float = 0.5   # time to move from the measured posture to the home posture
    gain_scale: float = 1.0  # multiplies the description's joint gains


class StandController:
    """Reads ``LowState`` joint angles, writes ``LowCmd`` PD targets at the home posture.

    On the first state it sees it ramps linearly from the measured posture to home over
    ``ramp_s``, as one does on a real robot to avoid a jump.
    """

    def __init__(self, robot: RobotDescription, config: StandControllerConfig | None = None) -> None:
        self.config = config or StandControllerConfig()
        self.home_rad = np.array([m.home_rad for m in robot.motors])
        self.kp = np.array([m.kp_Nm_rad for m in robot.motors]) * self.config.gain_scale
        self.kd = np.array([m.kd_Nms_rad for m in robot.motors]) * self.config.gain_scale
        self._start_q: np.ndarray | None = None
        self._start_t = 0.0

    def __call__(self, state: LowState) -> LowCmd:
        if self._start_q is None:
            self._start_q = state.motor_state.q.copy()
            self._start_t = state.time_s
        alpha = min(1.0, (state.time_s - self._start_t) / self.config.ramp_s) if self.config.ramp_s > 0 else 1.0
        cmd = LowCmd.zeros(len(self.home_rad))
        cmd.motor_cmd.q[:] = (1 - alpha) * self._start_q + alpha * self.home_rad
        cmd.motor_cmd.kp[:] = self.kp
        cmd.motor_cmd.kd[:] = self.kd
        return cmd
