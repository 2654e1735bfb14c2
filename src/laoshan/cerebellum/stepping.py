"""Stepping on uneven ground: the height the CoM is carried at and where a swing foot goes.

The walk planner plans on a floor at z = 0. Here the plan is lifted onto the ground: the CoM
follows the height of the stance feet (slowly, and never so high that a leg on the ground would
have to stretch straight: a foot a step below or far behind keeps it down), and a swing foot is
carried from the height it left to the seen height where it lands, early in a step up and late in
a step down, its sole kept above what the height map shows on its way (a foot whose toe is at a
riser lifts a little before it moves over). Where the ground is not seen (no camera, or not yet
looked at), a swing foot lands on the plane of the stance sole: a slope under the stance foot is
assumed to go on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pinocchio as pin

from laoshan.cerebellum.control_model import ControlModel
from laoshan.cerebellum.estimator import SIDES
from laoshan.cerebellum.terrain import HeightMap
from laoshan.cerebellum.walk import WalkPlanner


@dataclass(frozen=True)
class SteppingConfig:
    ground_speed_m_s: float = 0.15      # the CoM follows the ground's height (under the stance feet) this fast, ...
    max_leg_extension: float = 0.985    # ... never higher than a leg on the ground reaches at this fraction of its
                                        # straight length
    swing_clearance_m: float = 0.04     # a swing sole stays this far above the seen ground under it
    land_depth_m: float = 0.01          # a swing over seen ground aims this far below it, so that it lands
    step_phase: float = 0.4             # a step up rises over this first part of the swing, a step down goes
                                        # down over the last part
    step_delay: float = 0.25            # a step up moves over only after this much of its swing (it lifts first)
    swing_z_speed_m_s: float = 0.8      # a swing foot's height target moves at most this fast
    swing_preview_s: float = 0.05       # the swing sole keeps above the ground seen under it now, and this and
                                        # twice this later on its way
    # (tuned on seed 1000 of the steps terrain: with these the G1 gets both feet onto a 10 cm platform;
    # it does not yet stay up there, see the README)


def _smoothstep(x: float) -> float:
    """0 below 0, 1 above 1, a smooth S between."""
    u = min(max(x, 0.0), 1.0)
    return u * u * (3 - 2 * u)


class Stepping:
    """The CoM height and swing feet of a walk over ``terrain`` (None: blind)."""

    def __init__(self, model: ControlModel, planner: WalkPlanner, terrain: HeightMap | None,
                 config: SteppingConfig, dt_s: float) -> None:
        self.model, self.planner, self.terrain, self.config, self.dt_s = model, planner, terrain, config, dt_s
        self._lift_z: dict[str, float] = {}       # each foot's height when it last left the ground (estimate)
        self._swing_z: dict[str, tuple[float, float]] = {}   # side -> (lift-off time, last swing height target)
        self._ground_z: float | None = None       # the ground height the CoM follows now

    def on_ground(self, side: str, T_foot: np.ndarray) -> None:
        """The ``side`` foot is on the ground at ``T_foot`` (4x4, world frame)."""
        self._lift_z[side] = float(T_foot[2, 3])

    def ground(self, p_com: np.ndarray, R_trunk: np.ndarray, stance_z: float, feet: dict[str, np.ndarray],
               contact: dict[str, bool]) -> tuple[float, float]:
        """The height [m] the planned CoM (``p_com``, made at z = 0) is lifted by now and its rate
        [m/s]: the stance feet's ground ``stance_z``, lowered where a leg on the ground would not
        reach, approached at most at ``ground_speed_m_s``."""
        reach = self._reach_height_m(p_com, R_trunk, feet, contact) - p_com[2]
        return self._follow(min(stance_z, reach))

    def _reach_height_m(self, p_com: np.ndarray, R_trunk: np.ndarray, feet: dict[str, np.ndarray],
                        contact: dict[str, bool]) -> float:
        """The highest CoM (world z) over ``p_com``'s xy from which every foot on the ground is
        within ``max_leg_extension`` of its leg's straight length (a foot a step below or behind
        keeps the CoM down: the leg never snaps straight)."""
        height = np.inf
        for side in SIDES:
            if not contact[side]:
                continue
            leg, T = self.model.legs[side], feet[side]
            ankle = T[:3, :3] @ leg.p_foot_ankle_m + T[:3, 3]
            hip = p_com + R_trunk @ leg.p_com_hip_m
            reach_sq = (self.config.max_leg_extension * leg.length_m) ** 2 - float(np.sum((hip[:2] - ankle[:2]) ** 2))
            height = min(height, ankle[2] + np.sqrt(max(reach_sq, 0.0)) - (R_trunk @ leg.p_com_hip_m)[2])
        return float(height)

    def _follow(self, stance_z: float) -> tuple[float, float]:
        """The ground height the CoM is carried above [m] and its rate [m/s]: the stance feet's
        (lowered where a leg would not reach), approached at most at ``ground_speed_m_s``."""
        dt, top = self.dt_s, self.config.ground_speed_m_s
        if self._ground_z is None:
            self._ground_z = stance_z
        step = float(np.clip(stance_z - self._ground_z, -top * dt, top * dt))
        self._ground_z += step
        return self._ground_z, step / dt

    def _ground_under(self, T_foot: np.ndarray) -> float | None:
        """Seen ground height under a sole at ``T_foot`` (its median over the sole); None if unseen."""
        if self.terrain is None:
            return None
        yaw = float(np.arctan2(T_foot[1, 0], T_foot[0, 0]))
        heights = self.terrain.patch(T_foot[:2, 3], yaw, self.model.foot.length_m / 2, self.model.foot.width_m / 2)
        return float(np.median(heights)) if len(heights) >= 4 else None

    def _riser_ahead(self, side: str, t_lift_s: float, z_lift: float) -> bool:
        """Whether the seen ground just ahead of the toe, where the foot lifted off, is a step up."""
        if self.terrain is None:
            return False
        T = self.planner.foot(side, t_lift_s)
        heading = T[:2, 0] / max(float(np.linalg.norm(T[:2, 0])), 1e-9)
        ahead = T[:2, 3] + heading * (self.model.foot.length_m / 2 + self.config.swing_clearance_m)
        heights = self.terrain.patch(ahead, float(np.arctan2(heading[1], heading[0])), self.config.swing_clearance_m,
                                     self.model.foot.width_m / 2)
        return len(heights) > 0 and float(heights.max()) > z_lift + self.planner.config.edge_rise_m

    def swing_target(self, side: str, T_plan: np.ndarray, v_plan: np.ndarray, t_s: float, stance_z: float,
                      feet: dict[str, np.ndarray], contact: dict[str, bool]) -> tuple[np.ndarray, np.ndarray]:
        """Where a swing foot goes now (pose, velocity; world frame): the plan's swing (made on
        the z = 0 floor) carried from the height it left to the seen height where it lands (early
        in a step up, late in a step down), its sole above what is seen under it on its way.
        Over unseen ground: the stance sole's plane (a slope under the stance foot goes on)."""
        c = self.config
        swing = self.planner.swing(t_s) if self.terrain is not None else None
        z_land = self._ground_under(swing[2]) if swing is not None else None
        if swing is None or z_land is None:
            return on_stance_plane(T_plan, stance_z, feet, contact), v_plan
        t0, t1, _ = swing
        duration = max(t1 - t0, 1e-3)
        s = float(np.clip((t_s - t0) / duration, 0.0, 1.0))
        z0 = self._lift_z.get(side, stance_z)
        rise = z_land - c.land_depth_m - z0
        a, b = (0.0, c.step_phase) if rise > 0 else (1.0 - c.step_phase, 1.0)   # the height changes then
        if rise > self.planner.config.edge_rise_m and self._riser_ahead(side, t0, z0):
            # the toe is at the riser: lift a little before moving over (else it catches the edge)
            m = (s - c.step_delay) / (1.0 - c.step_delay)
            T_over = self.planner.foot(side, t0 + _smoothstep(m) * duration)
            T_plan = T_plan.copy()
            T_plan[:3, :3], T_plan[:2, 3] = T_over[:3, :3], T_over[:2, 3]
            v_plan = v_plan.copy()
            v_plan[:2] *= 6 * m * (1 - m) / (1.0 - c.step_delay) if 0.0 < m < 1.0 else 0.0
        u = (s - a) / (b - a)
        # the plan's lift over the higher level: lower for a bigger rise (the leg folds less), at
        # least the clearance
        foot_height = self.planner.config.foot_height_m
        lift = max(c.swing_clearance_m, foot_height - abs(rise) / 2) / foot_height
        T, v = T_plan.copy(), v_plan.copy()
        T[2, 3] = lift * T_plan[2, 3] + z0 + rise * _smoothstep(u)
        v[2] = lift * v_plan[2] + (rise * 6 * u * (1 - u) / ((b - a) * duration) if 0.0 < u < 1.0 else 0.0)
        if self.terrain is not None:     # above whatever is seen under the sole, now and a little later
            half_l, half_w = self.model.foot.length_m / 2, self.model.foot.width_m / 2
            ahead = [self.planner.foot(side, min(t_s + k * c.swing_preview_s, t1)) for k in (0, 1, 2)]
            heights = np.concatenate([self.terrain.patch(A[:2, 3], float(np.arctan2(A[1, 0], A[0, 0])), half_l, half_w)
                                      for A in ahead])
            if len(heights):
                # faded in after lift-off and out before touchdown, so that the target never jumps
                weight = _smoothstep(s / 0.3) * _smoothstep((0.85 - s) / 0.25)
                floor = float(heights.max()) + c.swing_clearance_m
                T[2, 3] = max(T[2, 3], T[2, 3] + weight * (floor - T[2, 3]))
        # no faster up or down than the leg can follow (a target that runs away makes the QP give
        # up the body for the foot)
        dt, top = self.dt_s, c.swing_z_speed_m_s
        last = self._swing_z.get(side)
        if last is not None and last[0] == t0:
            T[2, 3] = float(np.clip(T[2, 3], last[1] - top * dt, last[1] + top * dt))
            v[2] = float(np.clip(v[2], -top, top))
        self._swing_z[side] = (t0, float(T[2, 3]))
        return T, v


def on_stance_plane(T_plan: np.ndarray, ground_z: float, feet: dict[str, np.ndarray],
                     contact: dict[str, bool]) -> np.ndarray:
    """A swing-foot target planned on the z = 0 floor, moved onto the plane of the stance
    sole (blind terrain following: a slope under the stance foot is assumed to go on)."""
    T = T_plan.copy()
    T[2, 3] += ground_z
    stance = [s for s in SIDES if contact[s]]
    if len(stance) != 1:
        return T
    T_stance = feet[stance[0]]
    n = T_stance[:3, 2]                               # stance sole normal, world frame
    d = T[:2, 3] - T_stance[:2, 3]
    T[2, 3] = T_stance[2, 3] - float(n[:2] @ d) / n[2] + T_plan[2, 3]
    R_tilt = pin.Quaternion.FromTwoVectors(np.array([0.0, 0.0, 1.0]), n).toRotationMatrix()
    T[:3, :3] = R_tilt @ T[:3, :3]
    return T
