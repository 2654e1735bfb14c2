"""Base state estimation from ``LowState`` only: IMU + joint encoders + foot contact.

Angular rate comes from the IMU's gyro; orientation from the gyro's integration pulled toward the
IMU's own attitude filter (a complementary filter, so that attitude noise is smoothed). Base position and
velocity come from a Kalman filter: the accelerometer predicts, and every foot in contact corrects
(its horizontal velocity in the world is zero, and its position stays where it was anchored). A foot
is anchored where the legs' kinematics put it from the other, anchored foot, once it bears as much
weight as that one; its height is that of its lowest sole point, read against the ground the feet
stood on (:class:`GroundPlane`: a foot set down within ``flat_rise_m`` of the ground's plane stands
on it; further off, on a step). Soles sink into the ground as they load, a few mm flat and up to
1 cm on an edge, and rebound as they unload: read as the base's motion (the legs' vertical velocity,
not used) or as ground height, those mm walked the height estimate off by up to 20 cm in a minute
of turning.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pinocchio as pin

from laoshan.cerebellum.control_model import ControlModel
from laoshan.port.messages import LowState

GRAVITY = np.array([0.0, 0.0, -9.81])
_P, _V = slice(0, 3), slice(3, 6)     # position and velocity blocks of the filter state
_VXY = slice(3, 5)                    # the velocity's horizontal part: what a stance leg measures
_EYE3 = np.eye(3)
SIDES = ("left", "right")


@dataclass(frozen=True)
class EstimatorConfig:
    accel_noise_m_s2: float = 0.5       # process noise of the accelerometer-driven prediction
    velocity_noise_m_s: float = 0.03    # leg-odometry velocity measurement noise
    anchor_noise_m: float = 0.005       # stance-foot anchor position measurement noise
    flat_rise_m: float = 0.015          # a foot set down less than this off the ground's plane stands on it (soles
                                        # sink up to 11 mm turning in place; without it the height drifted 2 cm/min
                                        # walking straight, 20 cm/min turning; tuning seeds 1000-1015)
    grade_steps: int = 4                # the ground's grade is fitted to this many footholds ...
    grade_prior_m2: float = 0.005       # ... with these priors: the grade's (the rises' noise over a 10% grade, ^2)
    sink_prior: float = 1.0             # ... and the soles' sinking's (the noise over 3 mm, ^2): a new foot sunk
                                        # deeper than the other each step (up to 9 mm, turning in place with a can in
                                        # hand) is not a grade; without it, side steps read as a 27% grade
    plane_fit_m: float = 0.002          # ... and they lie on one plane when within this of it (rms)
    flat_grade: float = 0.03            # a grade (rise over run) below this is flat: what the sinking soles alone
                                        # make of flat ground (up to 2.3% turning)
    contact_on_frac: float = 0.20       # a foot is in contact above this fraction of the weight ...
    contact_off_frac: float = 0.08      # ... and leaves contact below this one (hysteresis)
    attitude_blend: float = 0.1         # per tick, how far the attitude moves from the gyro's prediction to the
                                        # IMU's own (1: the IMU's alone): a 20 ms complementary filter, so that an
                                        # IMU 10x noisier than the G1's still walks (tuned on seeds 1000-1009)


@dataclass(frozen=True)
class _Leg:
    """One foot's kinematics in the base frame."""

    p_base_sole_m: np.ndarray        # sole centre (3,)
    J_sole: np.ndarray               # its linear Jacobian w.r.t. the joint speeds (3, nv)
    p_base_contacts_m: np.ndarray    # the sole's contact points (k, 3)


@dataclass(frozen=True)
class RobotState:
    """The estimated state of the robot (world = odometry frame, fixed at start)."""

    time_s: float
    p_world_base_m: np.ndarray     # (3,)
    R_world_base: np.ndarray       # (3, 3)
    v_world_base_m_s: np.ndarray   # (3,)
    w_base_rad_s: np.ndarray       # (3,) angular rate in the base frame
    q_rad: np.ndarray              # joint angles, motor order
    dq_rad_s: np.ndarray           # joint speeds, motor order
    contact: dict[str, bool]       # foot in contact
    foot_force_N: dict[str, float]

    @property
    def quat_xyzw(self) -> np.ndarray:
        return pin.Quaternion(self.R_world_base).coeffs().copy()

    @property
    def v_base_local(self) -> np.ndarray:
        """Base linear velocity in the base frame (Pinocchio's free-flyer convention)."""
        return self.R_world_base.T @ self.v_world_base_m_s

    def load_into(self, model: ControlModel) -> None:
        """Write this state into the control model (and update its kinematics)."""
        model.set_state(self.p_world_base_m, self.quat_xyzw, self.q_rad,
                        np.concatenate([self.v_base_local, self.w_base_rad_s]), self.dq_rad_s)

    @property
    def yaw_rad(self) -> float:
        """Heading of the base about the vertical (estimated)."""
        return float(np.arctan2(self.R_world_base[1, 0], self.R_world_base[0, 0]))

    @property
    def tilt_rad(self) -> float:
        return float(np.arccos(np.clip(self.R_world_base[2, 2], -1.0, 1.0)))

    @property
    def tilt_rate_rad_s(self) -> float:
        """How fast the tilt grows (+: tipping further) from the body's angular rate."""
        z = self.R_world_base[:, 2]                           # the base's z axis, world frame
        dz_dt = np.cross(self.R_world_base @ self.w_base_rad_s, z)
        return float(-dz_dt[2] / max(np.sqrt(max(1.0 - z[2] * z[2], 0.0)), 1e-3))


class StateEstimator:
    """Leg-odometry + IMU Kalman filter over base position and velocity."""

    def __init__(self, model: ControlModel, config: EstimatorConfig | None = None) -> None:
        self.model = model
        self.config = config or EstimatorConfig()
        self._pin = model.robot.model
        self._data = self._pin.createData()
        self._fid = {s: self._pin.getFrameId(f"{s}_foot") for s in SIDES}
        self._sole_fids = {s: [self._pin.getFrameId(f"{s}_sole_{k}") for k in range(len(model.sole_points_m[s]))]
                           for s in SIDES}
        imu = self._pin.getFrameId(model.imu_frame)
        q0 = pin.neutral(self._pin)
        pin.framesForwardKinematics(self._pin, self._data, q0)
        self._R_base_imu = self._data.oMf[imu].rotation.copy()   # fixed mount
        self.weight_N = model.mass_kg * 9.81
        self.reset()

    def reset(self) -> None:
        self.x = np.zeros(6)                  # p (3), v (3), world
        self.P = np.diag([1e-4] * 3 + [1e-2] * 3)
        self._F = np.eye(6)                   # state transition (its dt block set each tick)
        self.contact = {s: True for s in SIDES}
        self.anchor: dict[str, np.ndarray] = {}
        self._foothold: dict[str, np.ndarray] = {}   # where each foot was last anchored (kept when it lifts)
        self._ground = GroundPlane(self.config)
        self._t: float | None = None
        self._R: np.ndarray | None = None     # the last attitude estimate (world from base)

    def _leg_kinematics(self, q: np.ndarray) -> dict[str, _Leg]:
        """Each foot's kinematics in the base frame at joint angles ``q``."""
        qf = pin.neutral(self._pin)
        qf[self.model.iq] = q
        pin.computeJointJacobians(self._pin, self._data, qf)
        pin.updateFramePlacements(self._pin, self._data)
        out = {}
        for s, fid in self._fid.items():
            J = pin.getFrameJacobian(self._pin, self._data, fid, pin.LOCAL_WORLD_ALIGNED)[:3, self.model.iv]
            soles = np.array([self._data.oMf[f].translation for f in self._sole_fids[s]])
            out[s] = _Leg(self._data.oMf[fid].translation.copy(), J, soles)
        return out

    def update(self, state: LowState) -> RobotState:
        ms, imu, c = state.motor_state, state.imu_state, self.config
        w, x, y, z = imu.quaternion
        R_measured = pin.Quaternion(w, x, y, z).toRotationMatrix() @ self._R_base_imu.T
        w_base = self._R_base_imu @ imu.gyroscope
        if self._R is None or c.attitude_blend >= 1.0:      # the first tick (no prediction yet), or no filter
            R_world_base = R_measured
        else:                  # complementary filter: the gyro's prediction, pulled toward the IMU's attitude
            R_pred = self._R @ pin.exp3(w_base * max(state.time_s - self._t, 0.0))
            R_world_base = R_pred @ pin.exp3(c.attitude_blend * pin.log3(R_pred.T @ R_measured))
        self._R = R_world_base
        legs = self._leg_kinematics(ms.q)
        forces = dict(zip(self.model.desc.feet, (float(f) for f in state.foot_force_N), strict=True))
        for s in SIDES:   # contact with hysteresis on the sole force
            on = forces[s] > c.contact_on_frac * self.weight_N
            off = forces[s] < c.contact_off_frac * self.weight_N
            self.contact[s] = on or (self.contact[s] and not off)

        if self._t is None:   # start: feet on the ground at z = 0, base above them
            lowest = min((legs[s].p_base_contacts_m @ R_world_base[2]).min() for s in SIDES)
            self.x[:] = 0.0
            self.x[2] = -lowest
            self._t = state.time_s
        dt = max(state.time_s - self._t, 0.0)
        self._t = state.time_s

        # predict with the accelerometer (specific force in the IMU frame)
        a_world = R_world_base @ (self._R_base_imu @ imu.accelerometer) + GRAVITY
        F = self._F
        F[0:3, 3:6] = dt * _EYE3
        self.x[0:3] += dt * self.x[3:6] + 0.5 * dt * dt * a_world
        self.x[3:6] += dt * a_world
        q_acc = (c.accel_noise_m_s2 * dt) ** 2
        self.P = F @ self.P @ F.T
        self.P[_P, _P] += q_acc * dt * dt * _EYE3
        self.P[_V, _V] += q_acc * _EYE3

        # correct with every stance foot: zero horizontal foot velocity, anchored foot position (x, y of
        # the sole centre, z of the lowest sole point)
        r_anchor = {}                 # base to each foot's anchor point, world-aligned
        for s in SIDES:
            leg = legs[s]
            r_anchor[s] = R_world_base @ leg.p_base_sole_m
            r_anchor[s][2] = (leg.p_base_contacts_m @ R_world_base[2]).min()
            if not self.contact[s]:
                self.anchor.pop(s, None)
        for s in SIDES:
            if not self.contact[s]:
                continue
            leg = legs[s]
            v_meas = -R_world_base @ (leg.J_sole @ ms.dq + _cross(w_base, leg.p_base_sole_m))
            self._correct(_VXY, v_meas[:2], c.velocity_noise_m_s)
            if s not in self.anchor and not self._set_anchor(s, r_anchor, forces):
                continue
            self._correct(_P, self.anchor[s] - r_anchor[s], c.anchor_noise_m)

        return RobotState(
            time_s=state.time_s, p_world_base_m=self.x[0:3].copy(), R_world_base=R_world_base,
            v_world_base_m_s=self.x[3:6].copy(), w_base_rad_s=w_base, q_rad=ms.q.copy(),
            dq_rad_s=ms.dq.copy(), contact=dict(self.contact), foot_force_N=forces,
        )

    def _set_anchor(self, side: str, r_anchor: dict[str, np.ndarray], forces: dict[str, float]) -> bool:
        """Anchor a foot that touched down: where the legs put it from the other, anchored foot once it bears
        as much weight as that one, or from the base's estimate when no other foot is anchored; its height
        from the ground the other foot last stood on (``GroundPlane``). False: not yet."""
        other = SIDES[1 - SIDES.index(side)]
        if other not in self.anchor:
            anchor = self.x[0:3] + r_anchor[side]
        elif forces[side] < forces[other]:
            return False
        else:
            anchor = self.anchor[other] + r_anchor[side] - r_anchor[other]
        last = self._foothold.get(other)
        if last is not None:
            anchor[2] = last[2] + self._ground.rise(anchor[:2] - last[:2], anchor[2] - last[2])
        self.anchor[side] = self._foothold[side] = anchor
        return True

    def _correct(self, block: slice, z: np.ndarray, sigma: float) -> None:
        """Kalman update with a direct measurement ``z`` of the state block (position or velocity)."""
        P = self.P
        K = P[:, block] @ np.linalg.inv(P[block, block] + sigma * sigma * np.eye(len(z)))
        self.x += K @ (z - self.x[block])
        self.P = P - K @ P[block, :]


@dataclass
class _Foothold:
    """A step onto the ground's plane: from the foot anchored before, and how high it was given."""

    d_xy_m: np.ndarray
    measured_rise_m: float
    given_rise_m: float


class GroundPlane:
    """The ground's grade under the last footholds, so that a foot set down on it is read as on it.

    Each step's rise (the legs' kinematics between the soles) is fitted over the last ``grade_steps``
    footholds to a plane and the soles' sinking: ``rise = grade . d_xy + sink`` (the sinking is not
    ground). A grade below ``flat_grade`` is flat ground. While the
    footholds lie on one plane (within ``plane_fit_m``), the heights given to them are re-read from it, so
    that the first steps onto a ramp are counted once it is seen to be one; while they do not (the ground
    changes under them, or a foot set down on its edge sank in), a new foothold is on the last plane. A
    rise more than ``flat_rise_m`` off that plane is a step, taken as measured."""

    def __init__(self, config: EstimatorConfig) -> None:
        self.config = config
        self.grade = np.zeros(2)                      # rise over run along world x and y, the last plane
        self._steps: list[_Foothold] = []             # the last footholds on the plane

    def rise(self, d_xy_m: np.ndarray, measured_rise_m: float) -> float:
        """The height to give a new foothold ``d_xy_m`` from the anchored one, which the legs measure as
        ``measured_rise_m`` higher: its rise on the ground's plane and what re-reading the last footholds
        from that plane changes."""
        c = self.config
        on_plane = float(self.grade @ d_xy_m)
        if abs(measured_rise_m - on_plane) >= c.flat_rise_m:
            return measured_rise_m
        self._steps = [*self._steps[1 - c.grade_steps:], _Foothold(d_xy_m.copy(), measured_rise_m, on_plane)]
        if len(self._steps) < c.grade_steps:
            return on_plane
        d = np.array([[*s.d_xy_m, 1.0] for s in self._steps])
        measured = np.array([s.measured_rise_m for s in self._steps])
        prior = np.diag([c.grade_prior_m2, c.grade_prior_m2, c.sink_prior])
        fit = np.linalg.solve(d.T @ d + prior, d.T @ measured)      # grade x, y and the soles' sinking
        if np.sqrt(np.mean((d @ fit - measured) ** 2)) > c.plane_fit_m:
            return on_plane                           # not one plane: keep the last
        grade = fit[:2]
        self.grade = grade if np.linalg.norm(grade) >= c.flat_grade else np.zeros(2)
        change = 0.0
        for step in self._steps:                      # re-read every foothold of the window from the plane
            given = float(self.grade @ step.d_xy_m)
            change += given - step.given_rise_m
            step.given_rise_m = given
        return on_plane + change


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """3-vector cross product (np.cross is slow for single vectors)."""
    return np.array([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]])
