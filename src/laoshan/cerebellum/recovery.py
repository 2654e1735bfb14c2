"""Push recovery by stepping: a fast capture step, aimed and re-aimed from the measured DCM.

A standing robot whose divergent component of motion (DCM) leaves the support polygon cannot stop
on its feet any more: it steps. While a foot swings, the stance foot holds the centre of pressure
at the point of its sole nearest the DCM, and the linear inverted pendulum about that point tells
where the DCM will be at touchdown. Every tick, until late in the swing, the landing spot is
re-aimed from the measured DCM: along the stance foot's heading the touchdown DCM lies midway
between the feet, sideways just inside the swing foot (in single support the DCM runs away from
the stance foot sideways), so that standing balance can stop the robot on the new support.

Before the first foot of a push lifts, a short weight shift moves the centre of pressure under it,
so that the DCM's sideways run in single support stays inside the step. During the swing the CoM
drops a little, which lengthens the legs' reach. If one step is not enough, the next is taken by
the other foot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from laoshan.cerebellum.estimator import SIDES
from laoshan.cerebellum.wbc import WbcReferences
from laoshan.robot.description import RobotDescription

GRAVITY_M_S2 = 9.81


@dataclass(frozen=True)
class CaptureStepConfig:
    """A catching step: the body's reach and spacing (``for_robot``: from its description's [gait]
    table) and the step's own settings."""

    max_forward_m: float                # reach of the step, in the stance foot's heading frame
    max_backward_m: float
    min_spacing_m: float                # lateral distance between the feet centres: never closer ...
    max_spacing_m: float                # ... nor wider than this
    trigger_m: float = 0.005            # step when the DCM is this far outside the support polygon
    cop_margin_m: float = 0.01          # support polygon and centre of pressure kept this far inside the soles
    refractory_s: float = 0.1           # no new step this soon after a landing
    series_s: float = 1.0               # a step this soon after another is taken by the other foot
    side_fraction: float = 0.3          # a DCM this far (of half the feet spacing) to one side: that foot steps
    swing_s: float = 0.3                # swing duration
    foot_height_m: float = 0.04         # swing apex above the ground
    land_depth_m: float = 0.005         # the swing ends this far below the ground, so that it lands
    crouch_m: float = 0.03              # the CoM drops this much over the swing (longer reach)
    aim_until_phase: float = 0.75       # the landing spot follows the measured DCM up to this swing phase
    lateral_overshoot_m: float = 0.03   # the swing foot lands this far beyond the touchdown DCM sideways
    shift_max_s: float = 0.12           # weight shift before the first lift-off: at most this long, ...
    shift_inset_m: float = 0.05         # ... enough for the touchdown DCM to stay this far inside min_spacing_m
    com_weight: float = 10.0            # whole-body CoM task weight from the trigger until settled
    settled_speed_m_s: float = 0.03     # recovered: CoM slower than this ...
    settled_dcm_m: float = 0.01         # ... and DCM this close to the standing reference

    @classmethod
    def for_robot(cls, robot: RobotDescription, **step: Any) -> CaptureStepConfig:
        """The catching step of ``robot``'s description (RobotConfigError if it has no [gait]), with
        the step's settings ``step`` (defaults otherwise)."""
        g = robot.walking()
        return cls(max_forward_m=g.capture_reach_m[0], max_backward_m=g.capture_reach_m[1],
                   min_spacing_m=g.capture_spacing_m[0], max_spacing_m=g.capture_spacing_m[1], **step)

    def __post_init__(self) -> None:
        if not 0.15 <= self.swing_s <= 1.0:
            raise ValueError(f"swing_s={self.swing_s} must be in [0.15, 1.0] s")
        if not self.min_spacing_m < self.max_spacing_m:
            raise ValueError("min_spacing_m must be below max_spacing_m")
        if not 0.0 < self.aim_until_phase <= 1.0:
            raise ValueError(f"aim_until_phase={self.aim_until_phase} must be in (0, 1]")
        if self.shift_inset_m >= self.min_spacing_m:
            raise ValueError("shift_inset_m must be below min_spacing_m")


def _smooth(s: float) -> tuple[float, float]:
    """Quintic 0→1 profile and its derivative (zero speed and acceleration at both ends)."""
    return s**3 * (10 - 15 * s + 6 * s * s), 30 * s * s * (1 - s) ** 2


def _sole_box(sole_points_m: np.ndarray, margin_m: float) -> tuple[np.ndarray, np.ndarray]:
    """The sole's rectangle (foot frame xy, m), shrunk by the margin: (low corner, high corner)."""
    pts = sole_points_m[:, :2]
    return pts.min(axis=0) + margin_m, pts.max(axis=0) - margin_m


def _nearest_in_sole(T_foot: np.ndarray, sole_points_m: np.ndarray, margin_m: float,
                     p_world_xy: np.ndarray) -> np.ndarray:
    """The point of the shrunk sole nearest ``p_world_xy`` (world xy)."""
    lo, hi = _sole_box(sole_points_m, margin_m)
    local = T_foot[:2, :2].T @ (p_world_xy - T_foot[:2, 3])
    return T_foot[:2, 3] + T_foot[:2, :2] @ np.clip(local, lo, hi)


def _convex_hull(points: np.ndarray) -> np.ndarray:
    """The convex hull of a few points (k, 2), counter-clockwise (Andrew's monotone chain: for the
    eight corners of two soles far cheaper than Qhull)."""
    pts = sorted(map(tuple, points.tolist()))

    def half(seq: list[tuple[float, float]]) -> list[tuple[float, float]]:
        out: list[tuple[float, float]] = []
        for p in seq:
            while len(out) >= 2 and ((out[-1][0] - out[-2][0]) * (p[1] - out[-2][1])
                                     - (out[-1][1] - out[-2][1]) * (p[0] - out[-2][0])) <= 0:
                out.pop()
            out.append(p)
        return out[:-1]

    return np.array(half(pts) + half(pts[::-1]))


def distance_outside_support_m(feet: dict[str, np.ndarray], sole_points_m: dict[str, np.ndarray],
                               margin_m: float, p_world_xy: np.ndarray) -> float:
    """How far ``p_world_xy`` lies outside the convex hull of the feet's soles shrunk by the
    margin (0 inside); ``feet`` are the 4x4 world poses of the feet on the ground."""
    corners = []
    for side, T in feet.items():
        lo, hi = _sole_box(sole_points_m[side], margin_m)
        box = np.array([[lo[0], lo[1]], [lo[0], hi[1]], [hi[0], lo[1]], [hi[0], hi[1]]])
        corners.append(box @ T[:2, :2].T + T[:2, 3])
    hull = _convex_hull(np.concatenate(corners))
    edges = np.concatenate([hull[1:], hull[:1]]) - hull
    rel = p_world_xy - hull
    if (edges[:, 0] * rel[:, 1] - edges[:, 1] * rel[:, 0] >= 0).all():   # counter-clockwise hull: inside
        return 0.0
    along = np.clip(np.einsum("ij,ij->i", rel, edges) / np.einsum("ij,ij->i", edges, edges), 0.0, 1.0)
    return float(np.min(np.linalg.norm(rel - along[:, None] * edges, axis=1)))


class CaptureStep:
    """One recovery step: ``references(...)`` each tick until its foot lands."""

    def __init__(self, config: CaptureStepConfig, t_s: float, feet: dict[str, np.ndarray],
                 sole_points_m: dict[str, np.ndarray], p_com: np.ndarray, p_dcm: np.ndarray,
                 ground_z_m: float, foot_force_N: dict[str, float], swing: str | None = None) -> None:
        """Plan a step from the measured feet (4x4, world), CoM and DCM (world, m). ``swing``
        names the stepping foot in a series of steps (the one that did not step last); the
        first step of a push chooses its foot from the DCM and the foot loads, and shifts the
        weight before lifting it."""
        self.config = config
        self.t0_s = t_s
        self.sole_points_m = sole_points_m
        self.ground_z_m = ground_z_m
        self.z0_com_m = float(p_com[2])
        self.swing = swing or self._choose_swing(feet, p_dcm, foot_force_N)
        self.stance = next(s for s in SIDES if s != self.swing)
        self.T_stance = feet[self.stance]
        self.T_start = feet[self.swing]
        self.side = 1.0 if self.swing == "left" else -1.0      # the swing foot lies to +y (left) of stance
        self.shift_s = 0.0 if swing else self._shift_duration_s(p_com, p_dcm)
        self.T_target = self._aim(t_s, p_com, p_dcm)

    def _choose_swing(self, feet: dict[str, np.ndarray], p_dcm: np.ndarray, force_N: dict[str, float]) -> str:
        """A DCM well to one side is caught by that foot stepping out; otherwise the lighter-loaded
        foot steps."""
        mid = (feet["left"][:2, 3] + feet["right"][:2, 3]) / 2
        lateral = feet["left"][:2, 3] - feet["right"][:2, 3]
        half = float(np.linalg.norm(lateral)) / 2
        offset = float((p_dcm[:2] - mid) @ lateral) / (2 * half)   # along right→left, from the middle
        if abs(offset) > self.config.side_fraction * half:
            return "left" if offset > 0 else "right"
        return min(SIDES, key=lambda s: force_N[s])

    def _omega_rad_s(self, p_com: np.ndarray) -> float:
        return math.sqrt(GRAVITY_M_S2 / max(p_com[2] - self.ground_z_m, 0.3))

    def _stance_cop(self, p_dcm: np.ndarray) -> np.ndarray:
        return _nearest_in_sole(self.T_stance, self.sole_points_m[self.stance], self.config.cop_margin_m, p_dcm[:2])

    def _in_stance_frame(self, p_world_xy: np.ndarray) -> np.ndarray:
        return self.T_stance[:2, :2].T @ (p_world_xy - self.T_stance[:2, 3])

    def _shift_duration_s(self, p_com: np.ndarray, p_dcm: np.ndarray) -> float:
        """How long to hold the centre of pressure under the swing foot before lifting it, so that
        the sideways touchdown DCM (running away from the stance foot over the swing) stays
        ``shift_inset_m`` inside the nominal step: 0 when it already does."""
        c, w = self.config, self._omega_rad_s(p_com)
        cop = self._in_stance_frame(self._stance_cop(p_dcm))[1]
        dcm = self._in_stance_frame(p_dcm[:2])[1]
        swing_foot = self._in_stance_frame(self.T_start[:2, 3])[1]
        wanted = self.side * (c.min_spacing_m - c.shift_inset_m)           # touchdown DCM, sideways
        grow = math.exp(w * c.swing_s)
        if self.side * (cop + (dcm - cop) * grow) <= self.side * wanted:
            return 0.0
        at_lift_off = cop + (wanted - cop) / grow                         # the DCM needed at lift-off
        ratio = (at_lift_off - swing_foot) / (dcm - swing_foot)           # DCM converges on the swing foot
        return min(c.shift_max_s, math.log(ratio) / w) if ratio > 1.0 else 0.0

    def shifting(self, t_s: float) -> bool:
        return t_s < self.t0_s + self.shift_s

    def phase(self, t_s: float) -> float:
        """Swing phase in [0, 1] (0 during the weight shift)."""
        return float(np.clip((t_s - self.t0_s - self.shift_s) / self.config.swing_s, 0.0, 1.0))

    def _aim(self, t_s: float, p_com: np.ndarray, p_dcm: np.ndarray) -> np.ndarray:
        """Swing-foot landing pose for the DCM predicted at touchdown, within reach."""
        c, s = self.config, self.phase(t_s)
        cop = self._stance_cop(p_dcm)
        touchdown = cop + (p_dcm[:2] - cop) * math.exp(self._omega_rad_s(p_com) * c.swing_s * (1.0 - s))
        dcm = self._in_stance_frame(touchdown)
        local = np.array([np.clip(2.0 * dcm[0], -c.max_backward_m, c.max_forward_m),
                          self.side * np.clip(self.side * dcm[1] + c.lateral_overshoot_m,
                                              c.min_spacing_m, c.max_spacing_m)])
        target = self.T_start.copy()
        target[:2, 3] = self.T_stance[:2, 3] + self.T_stance[:2, :2] @ local
        target[2, 3] = self.T_stance[2, 3] - c.land_depth_m
        return target

    def references(self, t_s: float, feet: dict[str, np.ndarray], p_com: np.ndarray, v_com: np.ndarray,
                   p_dcm: np.ndarray, R_trunk: np.ndarray) -> WbcReferences:
        """The CoM falls freely about the centre of pressure (under the swing foot during the
        weight shift, then in the stance sole); the swing foot moves to the re-aimed target and
        the CoM drops. ``feet`` are the feet's measured poses (world)."""
        c = self.config
        a_com = np.zeros(3)
        w2 = self._omega_rad_s(p_com) ** 2
        if self.shifting(t_s):
            cop = _nearest_in_sole(self.T_start, self.sole_points_m[self.swing], c.cop_margin_m, p_dcm[:2])
            cop += self.T_start[:2, 1] * float(self.T_start[:2, 1] @ (self.T_start[:2, 3] - cop))  # on its centreline
            a_com[:2] = w2 * (p_com[:2] - cop)
            return WbcReferences(
                p_com=np.array([p_com[0], p_com[1], self.z0_com_m]), v_com=np.array([v_com[0], v_com[1], 0.0]),
                a_com=a_com, R_trunk=R_trunk, T_foot=dict(feet), v_foot={s: np.zeros(3) for s in SIDES},
                contact={s: True for s in SIDES})
        s = self.phase(t_s)
        if s <= c.aim_until_phase:
            self.T_target = self._aim(t_s, p_com, p_dcm)
        blend, dblend = _smooth(s)
        start, goal = self.T_start[:3, 3], self.T_target[:3, 3]
        p_foot = start + blend * (goal - start)
        v_foot = dblend * (goal - start) / c.swing_s
        p_foot[2] += 16 * c.foot_height_m * s * s * (1 - s) ** 2
        v_foot[2] += 32 * c.foot_height_m * s * (1 - s) * (1 - 2 * s) / c.swing_s
        T_swing = self.T_start.copy()
        T_swing[:3, 3] = p_foot
        a_com[:2] = w2 * (p_com[:2] - self._stance_cop(p_dcm))
        return WbcReferences(
            p_com=np.array([p_com[0], p_com[1], self.z0_com_m - blend * c.crouch_m]),
            v_com=np.array([v_com[0], v_com[1], -dblend * c.crouch_m / c.swing_s]), a_com=a_com, R_trunk=R_trunk,
            T_foot={self.stance: feet[self.stance], self.swing: T_swing},
            v_foot={self.stance: np.zeros(3), self.swing: v_foot},
            contact={self.stance: True, self.swing: False},
        )
