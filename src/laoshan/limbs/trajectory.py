"""Time-parameterized motion: an end effector's minimum-jerk straight line with slerped orientation,
and one joint's minimum-jerk move.

The duration is the shortest that keeps the peak linear and angular speed and acceleration under
the limits (a minimum-jerk profile peaks at 1.875 d/T in speed and 5.77 d/T² in acceleration).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pinocchio as pin

FloatOrArray = float | np.ndarray

PEAK_SPEED = 1.875   # minimum jerk: peak speed = PEAK_SPEED * distance / duration
PEAK_ACCEL = 5.7735  # minimum jerk: peak acceleration = PEAK_ACCEL * distance / duration^2


@dataclass(frozen=True)
class MotionLimits:
    speed_m_s: float = 0.4
    accel_m_s2: float = 1.5
    angular_speed_rad_s: float = 1.5
    angular_accel_rad_s2: float = 6.0
    min_duration_s: float = 0.3

    def __post_init__(self) -> None:
        for name in ("speed_m_s", "accel_m_s2", "angular_speed_rad_s", "angular_accel_rad_s2", "min_duration_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")


def min_jerk(s: FloatOrArray) -> tuple[FloatOrArray, FloatOrArray, FloatOrArray]:
    """Profile 0→1 over s in [0, 1] (clipped to it) and its derivatives d/ds and d²/ds² (for one s
    or an array of them)."""
    s = np.clip(s, 0.0, 1.0) if isinstance(s, np.ndarray) else min(max(s, 0.0), 1.0)
    return s**3 * (10 - 15 * s + 6 * s * s), 30 * s * s * (1 - s) ** 2, 60 * s * (1 - 3 * s + 2 * s * s)


def min_jerk_duration_s(distance: float, speed: float, accel: float, min_s: float) -> float:
    """The shortest minimum-jerk move over ``distance`` under peak ``speed`` and ``accel`` (same
    units, per second and per second²), and no shorter than ``min_s``."""
    return max(min_s, PEAK_SPEED * distance / speed, math.sqrt(PEAK_ACCEL * distance / accel))


class PoseTrajectory:
    """From ``T_start`` to ``T_goal`` (4x4, world frame) starting at ``t0_s``."""

    def __init__(self, T_start: np.ndarray, T_goal: np.ndarray, t0_s: float,
                 limits: MotionLimits | None = None) -> None:
        lim = limits or MotionLimits()
        self.T_start, self.T_goal, self.t0_s = T_start.copy(), T_goal.copy(), t0_s
        self._dp = T_goal[:3, 3] - T_start[:3, 3]
        self._dR = pin.log3(T_start[:3, :3].T @ T_goal[:3, :3])   # rotation vector, start frame
        d, a = float(np.linalg.norm(self._dp)), float(np.linalg.norm(self._dR))
        self.duration_s = max(min_jerk_duration_s(d, lim.speed_m_s, lim.accel_m_s2, lim.min_duration_s),
                              min_jerk_duration_s(a, lim.angular_speed_rad_s, lim.angular_accel_rad_s2,
                                                  lim.min_duration_s))

    def done(self, t_s: float) -> bool:
        return t_s >= self.t0_s + self.duration_s

    def sample(self, t_s: float) -> tuple[np.ndarray, np.ndarray]:
        """Pose (4x4) and linear velocity (3,) at ``t_s``."""
        blend, dblend, _ = min_jerk((t_s - self.t0_s) / self.duration_s)
        T = self.T_start.copy()
        T[:3, 3] = self.T_start[:3, 3] + blend * self._dp
        T[:3, :3] = self.T_start[:3, :3] @ pin.exp3(blend * self._dR)
        return T, dblend / self.duration_s * self._dp


class JointMove:
    """One joint from ``q_start_rad`` to ``q_goal_rad`` starting at ``t0_s``, minimum jerk, as fast
    as ``speed_rad_s`` and ``accel_rad_s2`` allow."""

    def __init__(self, q_start_rad: float, q_goal_rad: float, t0_s: float, speed_rad_s: float,
                 accel_rad_s2: float, min_duration_s: float = 0.3) -> None:
        if not (speed_rad_s > 0 and accel_rad_s2 > 0):
            raise ValueError(f"speed and acceleration must be > 0, got {speed_rad_s}, {accel_rad_s2}")
        self.q_start_rad, self.q_goal_rad, self.t0_s = q_start_rad, q_goal_rad, t0_s
        self.duration_s = min_jerk_duration_s(abs(q_goal_rad - q_start_rad), speed_rad_s, accel_rad_s2,
                                              min_duration_s)

    def sample(self, t_s: float) -> tuple[float, float]:
        """Angle [rad] and speed [rad/s] at ``t_s``."""
        blend, dblend, _ = min_jerk((t_s - self.t0_s) / self.duration_s)
        d = self.q_goal_rad - self.q_start_rad
        return self.q_start_rad + blend * d, dblend / self.duration_s * d
