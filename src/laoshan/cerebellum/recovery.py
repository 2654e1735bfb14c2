"""Push recovery by stepping: one fast capture step, planned from the measured DCM.

While a foot swings, the stance foot holds the centre of pressure at the point of its sole nearest
the divergent component of motion (DCM), and the linear inverted pendulum about that point tells
where the DCM will be at touchdown. The swing foot lands so that this DCM lies midway between the
feet along the stance foot's heading, and under the swing foot sideways (in single support the DCM
runs away from the stance foot sideways): inside the new support polygon, from where standing
balance can stop the robot.
Steps are clipped to what the legs reach; if one step is not enough, the standing controller asks
for another.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from laoshan.cerebellum.estimator import SIDES
from laoshan.cerebellum.wbc import WbcReferences

GRAVITY_M_S2 = 9.81


@dataclass(frozen=True)
class CaptureStepConfig:
    swing_s: float = 0.3                # swing duration
    foot_height_m: float = 0.06         # swing apex above the ground
    land_depth_m: float = 0.005         # the swing ends this far below the ground, so that it lands
    cop_margin_m: float = 0.02          # centre of pressure kept this far inside the stance sole
    max_forward_m: float = 0.40         # reach of the step, in the stance foot's heading frame
    max_backward_m: float = 0.30
    min_spacing_m: float = 0.14         # lateral distance between the feet centres: never closer ...
    max_spacing_m: float = 0.32         # ... nor wider than this

    def __post_init__(self) -> None:
        if not 0.15 <= self.swing_s <= 1.0:
            raise ValueError(f"swing_s={self.swing_s} must be in [0.15, 1.0] s")
        if not self.min_spacing_m < self.max_spacing_m:
            raise ValueError("min_spacing_m must be below max_spacing_m")


def _smooth(s: float) -> tuple[float, float]:
    """Quintic 0→1 profile and its derivative (zero speed and acceleration at both ends)."""
    return s**3 * (10 - 15 * s + 6 * s * s), 30 * s * s * (1 - s) ** 2


class CaptureStep:
    """One recovery step: ``references(t)`` until ``landed``."""

    def __init__(self, config: CaptureStepConfig, t_s: float, feet: dict[str, np.ndarray],
                 sole_points_m: dict[str, np.ndarray], p_com: np.ndarray, p_dcm: np.ndarray,
                 ground_z_m: float, foot_force_N: dict[str, float], swing: str | None = None) -> None:
        """Plan a step from the measured feet (4x4, world), CoM and DCM (world, m); ``swing``
        names the stepping foot (the one that did not step last, in a series of steps), else
        it is chosen from the DCM and the foot loads."""
        self.config = c = config
        self.t0_s = t_s
        self.omega_rad_s = math.sqrt(GRAVITY_M_S2 / max(p_com[2] - ground_z_m, 0.3))
        self.swing = swing or self._choose_swing(feet, p_dcm, foot_force_N)
        self.stance = next(s for s in SIDES if s != self.swing)
        self.T_stance = feet[self.stance]
        self.T_start = feet[self.swing]
        self.cop = self._cop(self.T_stance, sole_points_m[self.stance], p_dcm)
        dcm_touchdown = self.cop + (p_dcm[:2] - self.cop) * math.exp(self.omega_rad_s * c.swing_s)
        self.T_target = self._target(dcm_touchdown)
        self.landed = False

    def _choose_swing(self, feet: dict[str, np.ndarray], p_dcm: np.ndarray, force_N: dict[str, float]) -> str:
        """A DCM beyond a foot sideways is caught by that foot stepping out; otherwise the
        lighter-loaded foot steps."""
        mid = (feet["left"][:3, 3] + feet["right"][:3, 3]) / 2
        lateral = (feet["left"][:2, 3] - feet["right"][:2, 3])
        half = float(np.linalg.norm(lateral)) / 2
        offset = float((p_dcm[:2] - mid[:2]) @ lateral) / (2 * half)   # along right→left, from the middle
        if offset > half:
            return "left"
        if offset < -half:
            return "right"
        return min(SIDES, key=lambda s: force_N[s])

    def _cop(self, T_foot: np.ndarray, sole_points: np.ndarray, p_dcm: np.ndarray) -> np.ndarray:
        """The point of the stance sole (shrunk by the margin) nearest the DCM (world xy)."""
        pts = sole_points[:, :2]
        lo, hi = pts.min(axis=0) + self.config.cop_margin_m, pts.max(axis=0) - self.config.cop_margin_m
        local = T_foot[:2, :2].T @ (p_dcm[:2] - T_foot[:2, 3])
        return T_foot[:2, 3] + T_foot[:2, :2] @ np.clip(local, lo, hi)

    def _target(self, dcm_touchdown: np.ndarray) -> np.ndarray:
        """Swing foot pose that puts the touchdown DCM midway between the feet along the heading and
        under the swing foot sideways, within reach."""
        c, T = self.config, self.T_stance
        side = 1.0 if self.swing == "left" else -1.0            # swing foot lies to +y (left) of stance
        dcm = T[:2, :2].T @ (dcm_touchdown - T[:2, 3])         # in the stance foot's heading frame
        local = np.array([2 * dcm[0], dcm[1]])                 # swing foot, same frame
        local[0] = np.clip(local[0], -c.max_backward_m, c.max_forward_m)
        local[1] = side * np.clip(side * local[1], c.min_spacing_m, c.max_spacing_m)
        target = self.T_start.copy()
        target[:2, 3] = T[:2, 3] + T[:2, :2] @ local
        target[2, 3] = T[2, 3] - c.land_depth_m
        return target

    def phase(self, t_s: float) -> float:
        return float(np.clip((t_s - self.t0_s) / self.config.swing_s, 0.0, 1.0))

    def references(self, t_s: float, p_com: np.ndarray, v_com: np.ndarray, R_trunk: np.ndarray) -> WbcReferences:
        """CoM falling freely about the stance centre of pressure; swing foot on its way."""
        c, s = self.config, self.phase(t_s)
        blend, dblend = _smooth(s)
        start, goal = self.T_start[:3, 3], self.T_target[:3, 3]
        p_foot = start + blend * (goal - start)
        v_foot = dblend * (goal - start) / c.swing_s
        p_foot[2] += 16 * c.foot_height_m * s * s * (1 - s) ** 2
        v_foot[2] += 32 * c.foot_height_m * s * (1 - s) * (1 - 2 * s) / c.swing_s
        T_swing = self.T_start.copy()
        T_swing[:3, 3] = p_foot
        a_com = np.zeros(3)
        a_com[:2] = self.omega_rad_s**2 * (p_com[:2] - self.cop)
        target = p_com.copy()
        target[2] = self.T_stance[2, 3] + GRAVITY_M_S2 / self.omega_rad_s**2
        return WbcReferences(
            p_com=target, v_com=np.array([v_com[0], v_com[1], 0.0]), a_com=a_com, R_trunk=R_trunk,
            T_foot={self.stance: self.T_stance, self.swing: T_swing},
            v_foot={self.stance: np.zeros(3), self.swing: v_foot},
            contact={self.stance: True, self.swing: False},
        )
