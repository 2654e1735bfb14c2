"""Collision-aware arm motion: a posture at the goal, a free path to it, and its timing.

For one arm, with the rest of the body holding its estimated posture:

1. **Goal posture**: damped least-squares IK of the arm alone for the hand's goal pose, first
   from the arm's posture now, then from seeded random postures, until one keeps clear.
2. **Path**: bidirectional RRT (RRT-Connect, OMPL's: :mod:`rrt`) in the arm's joint space, every
   edge checked at a fixed joint-space resolution against the robot's own collision model
   (:mod:`collision`, compiled), then shortened by random shortcuts.
3. **Timing**: each straight joint-space segment follows a minimum-jerk profile that keeps every
   joint under its speed and acceleration limits; the durations then stretch until the joint
   torques of the whole motion (inverse dynamics with gravity) stay within the motors' limits.

The result, an :class:`ArmPath`, gives the joint references and the hand pose they put the hand
at, for the whole-body controller to track.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import pinocchio as pin

from laoshan.cerebellum.control_model import ControlModel
from laoshan.limbs.arm_chain import hand_ik
from laoshan.limbs.collision import ArmCollision, ObstacleBox
from laoshan.limbs.ik import UnreachableTarget
from laoshan.limbs.rrt import rrt_connect
from laoshan.limbs.trajectory import min_jerk, min_jerk_duration_s


class NoPathFound(UnreachableTarget):
    """The goal posture exists, but no collision-free path to it was found."""


@dataclass(frozen=True)
class PlannerConfig:
    margin_m: float = 0.02             # clearance kept from obstacles and the body
    check_rad: float = 0.04            # edges are checked every this much (largest joint step)
    step_rad: float = 1.0              # RRT extension (joint-space distance; tuned on shelf goals of seed 1031:
                                       # 0.3 rad planned in 12 ms median, 1.0 in 5 ms)
    max_edges: int = 8000              # edge checks the RRT may make before it gives up
    goal_restarts: int = 30            # random IK starts for a clear goal posture
    ik_iterations: int = 150
    ik_damping: float = 1e-3
    ik_tolerance_m: float = 0.005
    ik_tolerance_rad: float = 0.05
    orientation_weight: float = 0.3    # metres per radian in the IK error
    shortcut_rounds: int = 60
    speed_rad_s: float = 1.2           # joint speed limit of planned motions
    accel_rad_s2: float = 4.0          # joint acceleration limit
    min_segment_s: float = 0.3
    torque_margin: float = 0.8         # planned torques stay under this fraction of each motor's peak
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("margin_m", "check_rad", "step_rad", "ik_damping", "ik_tolerance_m", "ik_tolerance_rad",
                     "speed_rad_s", "accel_rad_s2", "min_segment_s", "torque_margin"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if self.check_rad > self.step_rad:
            raise ValueError("check_rad must not exceed step_rad")


class ArmPath:
    """A timed joint-space path of one arm: straight segments through ``waypoints`` (k, 7) [rad],
    each a minimum-jerk move lasting ``durations_s[i]``, starting at ``t0_s`` (sensor clock).
    ``sample`` gives the hand pose (4x4, world) the arm puts the hand at, the body holding the
    posture ``q_body`` (pinocchio configuration) it was planned for; ``clearance_m`` is the
    smallest clearance along it (planner's model, 200 evenly timed samples)."""

    def __init__(self, planner: ArmPlanner, q_body: np.ndarray, waypoints: np.ndarray, durations_s: np.ndarray,
                 t0_s: float, plan_s: float, clearance_m: float | None = None) -> None:
        """``clearance_m``: known already (a path planned elsewhere); None: measured here."""
        self.side, self.joints = planner.side, planner.joints
        self.waypoints, self.durations_s, self.t0_s, self.plan_s = waypoints, durations_s, t0_s, plan_s
        self._planner, self._q_body = planner, q_body.copy()
        self._ends = t0_s + np.concatenate([[0.0], np.cumsum(durations_s)])
        self.T_goal = planner.hand_pose(waypoints[-1], q_body)
        if clearance_m is None:
            samples = self._postures(np.linspace(t0_s, self._ends[-1], 200))
            clearance_m = float(planner.collision.clearance_m(samples).min())
        self.clearance_m = clearance_m

    @property
    def q_body(self) -> np.ndarray:
        """The body's posture (pinocchio configuration) the path was planned for."""
        return self._q_body

    @property
    def duration_s(self) -> float:
        return float(self._ends[-1] - self.t0_s)

    def done(self, t_s: float) -> bool:
        return t_s >= self._ends[-1]

    def joints_at(self, t_s: float) -> tuple[np.ndarray, np.ndarray]:
        """Arm joint angles [rad] and speeds [rad/s] at ``t_s``."""
        if t_s >= self._ends[-1]:
            return self.waypoints[-1].copy(), np.zeros(len(self.joints))
        i = int(np.clip(np.searchsorted(self._ends, t_s, side="right") - 1, 0, len(self.durations_s) - 1))
        blend, dblend, _ = min_jerk((t_s - self._ends[i]) / self.durations_s[i])
        dq = self.waypoints[i + 1] - self.waypoints[i]
        return self.waypoints[i] + blend * dq, dblend / self.durations_s[i] * dq

    def _postures(self, times_s: np.ndarray) -> np.ndarray:
        """Arm joint angles [rad] (k, 7) at the times ``times_s`` (k,) within the path."""
        i = np.clip(np.searchsorted(self._ends, times_s, side="right") - 1, 0, len(self.durations_s) - 1)
        blend = min_jerk((times_s - self._ends[i]) / self.durations_s[i])[0]
        return self.waypoints[i] + blend[:, None] * (self.waypoints[i + 1] - self.waypoints[i])

    def sample(self, t_s: float) -> tuple[np.ndarray, np.ndarray]:
        """Hand pose (4x4, world) and linear velocity [m/s, world] at ``t_s``."""
        q, qd = self.joints_at(t_s)
        return self._planner.hand_pose(q, self._q_body), self._planner.hand_jacobian(q, self._q_body)[:3] @ qd


class ArmPlanner:
    """Plans the ``side`` arm's motions around ``obstacles`` (world-frame boxes)."""

    def __init__(self, model: ControlModel, side: str, obstacles: tuple[ObstacleBox, ...] = (),
                 config: PlannerConfig | None = None) -> None:
        self.config = config or PlannerConfig()
        self.model, self.side = model, side
        self.collision = ArmCollision(model, side, obstacles)
        self.joints = model.arm_joints[side]
        self.arm_index = self.collision.arm_index
        pm = model.robot.model
        self._pm, self._data = pm, pm.createData()
        self._hand = pm.getFrameId(f"{side}_hand")
        hand = pm.frames[self._hand]
        if hand.parentJoint != pm.getJointId(self.joints[-1]):
            raise ValueError(f"the {side}_hand frame is not on the {side} arm's last joint {self.joints[-1]}")
        self._X_wrist_hand = (hand.placement.rotation.copy(), hand.placement.translation.copy())
        self._iq = model.iq[self.arm_index]
        self._iv = model.iv[self.arm_index]
        self.q_min = pm.lowerPositionLimit[self._iq].copy()
        self.q_max = pm.upperPositionLimit[self._iq].copy()
        self.tau_limit_Nm = model.tau_limit_Nm[self.arm_index]
        self._q = pin.neutral(pm)
        self._tight: tuple[np.ndarray, float] | None = None   # a start within the margin, its clearance [m]
        self._warm_up()

    def _warm_up(self) -> None:
        """Load the compiled checks and IK now (from numba's cache: a tenth of a second or so, once per
        process), not in the first plan."""
        home = self.model.home_rad
        self.set_body(np.array([0.0, 0.0, 1.0]), np.array([0.0, 0.0, 0.0, 1.0]), home)
        q = home[self.arm_index]
        self.solve_ik(self.hand_pose(q), q)
        self.edge_free(q, q)
        self._state_free(q)
        self.collision.closest(q)
        self.collision.clearance_m(q)

    def set_obstacles(self, obstacles: tuple[ObstacleBox, ...]) -> None:
        self.collision.set_obstacles(obstacles)

    # --- kinematics of the arm, the body still ---------------------------------------------------

    def set_body(self, p_world_base_m: np.ndarray, quat_xyzw: np.ndarray, q_rad: np.ndarray) -> None:
        """The estimated posture the body holds while the arm moves (all joints, motor order)."""
        q = pin.neutral(self._pm)
        q[0:3], q[3:7] = p_world_base_m, quat_xyzw
        q[self.model.iq] = q_rad
        self._q = q
        self.collision.set_body(p_world_base_m, quat_xyzw, q_rad)

    def _full(self, q_arm: np.ndarray, q_body: np.ndarray | None = None) -> np.ndarray:
        q = (self._q if q_body is None else q_body).copy()
        q[self._iq] = q_arm
        return q

    def hand_pose(self, q_arm: np.ndarray, q_body: np.ndarray | None = None) -> np.ndarray:
        """X_world_hand (4x4) at the arm posture ``q_arm`` [rad], the body as set (or ``q_body``)."""
        pin.framesForwardKinematics(self._pm, self._data, self._full(q_arm, q_body))
        return self._data.oMf[self._hand].homogeneous.copy()

    def hand_jacobian(self, q_arm: np.ndarray, q_body: np.ndarray | None = None) -> np.ndarray:
        """6 x 7 Jacobian of the hand (linear then angular, world-aligned axes) in the arm's joints."""
        J = pin.computeFrameJacobian(self._pm, self._data, self._full(q_arm, q_body), self._hand,
                                     pin.ReferenceFrame.LOCAL_WORLD_ALIGNED)
        return J[:, self._iv]

    def solve_ik(self, T_goal: np.ndarray, q_start: np.ndarray, orientation: bool = True) -> tuple[np.ndarray, float]:
        """Arm posture putting the hand at ``T_goal`` (4x4, world) from ``q_start``, within the
        joint limits, by damped least squares (compiled: :func:`arm_chain.hand_ik`); and its
        remaining error (m, with radians weighted)."""
        c = self.config
        T_goal = np.ascontiguousarray(T_goal, dtype=float)
        q, error = hand_ik(np.ascontiguousarray(q_start, dtype=float), self.q_min, self.q_max, T_goal[:3, :3].copy(),
                           T_goal[:3, 3].copy(), *self.collision.chain(), self.collision.axes, *self._X_wrist_hand,
                           c.ik_iterations, c.ik_damping, c.ik_tolerance_m, c.ik_tolerance_rad,
                           c.orientation_weight, orientation, 0.3)
        return q, float(error)

    # --- planning --------------------------------------------------------------------------------

    def edge_free(self, q_a: np.ndarray, q_b: np.ndarray) -> bool:
        """Whether the straight joint-space edge keeps at least the margin all along (checked every
        ``check_rad``). An edge from a start already within the margin (a hand where it has just
        been put, among things) need only come no closer than it starts."""
        if self._tight is not None and np.array_equal(q_b, self._tight[0]):
            q_a, q_b = q_b, q_a
        n = max(1, math.ceil(float(np.abs(q_b - q_a).max()) / self.config.check_rad))
        margin = self.config.margin_m
        if self._tight is not None and np.array_equal(q_a, self._tight[0]):
            margin = min(self._tight[1], margin)
        return self.collision.edge_clear(q_a, q_b, n, margin)

    def _state_free(self, q: np.ndarray) -> bool:
        """Whether a posture may be on a path: at least the margin clear, or the start that is not."""
        if self._tight is not None and np.array_equal(q, self._tight[0]):
            return True
        return self.collision.posture_clear(q, self.config.margin_m)

    def plan(self, T_goal: np.ndarray, p_world_base_m: np.ndarray, quat_xyzw: np.ndarray, q_rad: np.ndarray,
             t0_s: float, orientation: bool = True) -> ArmPath:
        """A timed, collision-free path of the arm from its posture in ``q_rad`` (all joints, motor
        order; the body holds the rest) to the hand pose ``T_goal`` (4x4, world), starting at
        ``t0_s``. Raises UnreachableTarget (no clear goal posture) or NoPathFound."""
        if np.shape(T_goal) != (4, 4) or not np.isfinite(T_goal).all():
            raise ValueError(f"the {self.side} hand's goal must be a finite 4x4 pose")
        started = time.perf_counter()
        c = self.config
        rng = np.random.default_rng(c.seed)
        self.set_body(p_world_base_m, quat_xyzw, q_rad)
        q_start = np.clip(np.asarray(q_rad, dtype=float)[self.arm_index], self.q_min, self.q_max)
        clearance, what = self.collision.closest(q_start)
        if clearance <= 0.0:
            raise NoPathFound(f"the {self.side} arm starts in contact with {what} ({clearance * 100:.1f} cm)")
        q_goal = self._goal_posture(T_goal, q_start, orientation, rng)
        self._tight = (q_start, clearance) if clearance <= c.margin_m else None
        waypoints = self._connect(q_start, q_goal)
        waypoints = self._shortcut(waypoints, rng)
        durations = self._timing(waypoints)
        return ArmPath(self, self._q, waypoints, durations, t0_s, time.perf_counter() - started)

    def _goal_posture(self, T_goal: np.ndarray, q_start: np.ndarray, orientation: bool,
                      rng: np.random.Generator) -> np.ndarray:
        c = self.config
        best_error, blocked = math.inf, None
        for attempt in range(c.goal_restarts + 1):
            q0 = q_start if attempt == 0 else rng.uniform(self.q_min, self.q_max)
            q, error = self.solve_ik(T_goal, q0, orientation)
            T = self.hand_pose(q)
            reached = np.linalg.norm(T[:3, 3] - T_goal[:3, 3]) < 2 * c.ik_tolerance_m and (
                not orientation or np.linalg.norm(pin.log3(T[:3, :3].T @ T_goal[:3, :3])) < 2 * c.ik_tolerance_rad)
            if reached:
                clearance, what = self.collision.closest(q)
                if clearance > c.margin_m:
                    return q
                blocked = what
            best_error = min(best_error, error)
        p = T_goal[:3, 3]
        where = f"({p[0]:.3f}, {p[1]:.3f}, {p[2]:.3f}) m (world)"
        if blocked is not None:
            raise UnreachableTarget(f"the {self.side} hand reaches {where} only by touching {blocked}")
        raise UnreachableTarget(f"the {self.side} arm cannot put the hand at {where} with the body as it stands "
                                f"(best posture {best_error * 100:.1f} cm off)")

    def _connect(self, q_start: np.ndarray, q_goal: np.ndarray) -> np.ndarray:
        """Waypoints (k, 7) from start to goal: straight if that edge is free, else RRT-Connect."""
        c = self.config
        if self.edge_free(q_start, q_goal):
            return np.array([q_start, q_goal])
        path = rrt_connect(q_start, q_goal, self.q_min, self.q_max, self.edge_free, self._state_free, c.step_rad,
                           c.max_edges, c.seed)
        if path is None:
            raise NoPathFound(f"no collision-free path for the {self.side} arm within {c.max_edges} edge checks")
        return path

    def _shortcut(self, path: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Random shortcuts: two points on the path joined straight where that edge is free."""
        points = list(path)
        for _ in range(self.config.shortcut_rounds):
            if len(points) <= 2:
                break
            i, j = sorted(rng.choice(len(points), 2, replace=False))
            if j - i < 2:
                continue
            if self.edge_free(points[i], points[j]):
                points = points[:i + 1] + points[j:]
        return np.array(points)

    def _timing(self, waypoints: np.ndarray) -> np.ndarray:
        """Segment durations [s]: joint speed and acceleration limits, then the motors' torques."""
        c = self.config
        durations = np.array([min_jerk_duration_s(float(d), c.speed_rad_s, c.accel_rad_s2, c.min_segment_s)
                              for d in np.abs(np.diff(waypoints, axis=0)).max(axis=1)])
        for _ in range(10):
            ratio = self._torque_ratio(waypoints, durations)
            if ratio <= 1.0:
                return durations
            durations = durations * 1.25
        raise UnreachableTarget(f"the {self.side} arm's motors cannot carry this motion within "
                                f"{c.torque_margin:.0%} of their peak torque")

    def _torque_ratio(self, waypoints: np.ndarray, durations: np.ndarray, per_segment: int = 8) -> float:
        """Largest |tau| / (margin x peak torque) over the motion (inverse dynamics, gravity)."""
        worst = 0.0
        v, a = np.zeros(self._pm.nv), np.zeros(self._pm.nv)
        limit = self.config.torque_margin * self.tau_limit_Nm
        for k in range(len(durations)):
            dq, T = waypoints[k + 1] - waypoints[k], durations[k]
            for s in np.linspace(0.0, 1.0, per_segment):
                blend, dblend, ddblend = min_jerk(float(s))
                v[self._iv] = dblend / T * dq
                a[self._iv] = ddblend / T**2 * dq
                tau = pin.rnea(self._pm, self._data, self._full(waypoints[k] + blend * dq), v, a)[self._iv]
                worst = max(worst, float(np.max(np.abs(tau) / limit)))
        return worst
