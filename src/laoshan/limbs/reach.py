"""Reaching while balancing: ``LowState`` in, ``LowCmd`` out.

The locomotion controller keeps the robot standing (or walking); each hand given a goal follows a
minimum-jerk trajectory from where it is (estimated) to the goal, tracked by the whole-body QP. A
goal is checked with whole-body IK first, so an unreachable one is refused before anything moves.
A hand that carries something can be tied to the body instead: it then rides along as the robot
walks and turns.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Future
from dataclasses import dataclass, field

import numpy as np

from laoshan.cerebellum.estimator import RobotState
from laoshan.cerebellum.locomotion import LocomotionController
from laoshan.cerebellum.safety import StopCategory
from laoshan.cerebellum.wbc import WAIST_YAW
from laoshan.limbs.collision import ObstacleBox
from laoshan.limbs.ik import IkConfig, IkSolution, UnreachableTarget, WholeBodyIk
from laoshan.limbs.plan_worker import PlanWorker, path_of
from laoshan.limbs.planning import ArmPath, ArmPlanner, PlannerConfig
from laoshan.limbs.touch import HandTouch, TouchConfig
from laoshan.limbs.trajectory import JointMove, MotionLimits, PoseTrajectory
from laoshan.robot.description import RobotDescription
from laoshan.port.messages import LowCmd, LowState


@dataclass(frozen=True)
class ReachConfig:
    limits: MotionLimits = field(default_factory=MotionLimits)
    ik: IkConfig = field(default_factory=IkConfig)
    planner: PlannerConfig = field(default_factory=PlannerConfig)
    finger_kd_Nms: float = 0.02         # damping of fingers closing under torque control
    settle_gain_1_s: float = 3.0        # at the goal, the target creeps against the remaining error ...
    max_settle_offset_m: float = 0.05   # ... by at most this much (the arm sags under the balance tasks)
    servo_gain_1_s: float = 3.0         # the same on the axes a reach servoes throughout (reach(servo=...))
    torso_speed_rad_s: float = 0.8      # turning the torso (waist yaw) to look: peak speed ...
    torso_accel_rad_s2: float = 2.0     # ... and acceleration
    touch: TouchConfig = field(default_factory=TouchConfig)


class HandCompliance:
    """Hands that give way along some axes of the heading frame, together: each tick their targets
    move by the hands' mean estimated offset from them (on those axes, up to ``window_m``), so along
    those axes the arms only damp what pushes them and do not push back; a grip's squeeze between
    the hands (their difference) stays. ``give_m`` is that offset (heading frame): how far what
    they hold has drawn them, read from the arm joints' own encoders. Beyond the window the arms
    spring back."""

    def __init__(self, sides: tuple[str, ...], axes: str, window_m: float) -> None:
        if not sides or not axes or set(axes) - set("xyz") or not 0.0 < window_m <= 0.3:
            raise ValueError("compliance needs hands, heading-frame axes among 'xyz' and a window in (0, 0.3] m")
        self.sides = sides
        self.axes = np.array([axis in axes for axis in "xyz"], dtype=float)
        self.window_m = window_m
        self.give_m = np.zeros(3)
        self.offset_m = np.zeros(3)     # the hands' mean offset from their targets on every axis (heading frame)

    def give_way(self, targets: dict[str, tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None]],
                 hand_pose: Callable[[str], np.ndarray], R_world_heading: np.ndarray) -> None:
        """Shift the targets (world) of the complying hands that have one, in place."""
        sides = [side for side in self.sides if side in targets]
        if not sides:
            self.give_m, self.offset_m = np.zeros(3), np.zeros(3)
            return
        off_world = np.mean([hand_pose(side)[:3, 3] - targets[side][0][:3, 3] for side in sides], axis=0)
        self.offset_m = R_world_heading.T @ off_world
        self.give_m = self.offset_m * self.axes
        shift = R_world_heading @ np.clip(self.give_m, -self.window_m, self.window_m)
        for side in sides:
            T, v, q_arm = targets[side]
            T = T.copy()
            T[:3, 3] += shift
            targets[side] = (T, v, q_arm)


class ReachController:
    """The locomotion controller with hands that go where they are sent."""

    def __init__(self, robot: RobotDescription, locomotion: LocomotionController | None = None,
                 config: ReachConfig | None = None) -> None:
        self.config = c = config or ReachConfig()
        self.locomotion = locomotion or LocomotionController(robot)
        self.ik = WholeBodyIk(self.locomotion.model, c.ik)
        self.motions: dict[str, PoseTrajectory | ArmPath] = {}
        self.obstacles: tuple[ObstacleBox, ...] = ()   # what planned reaches keep clear of (world)
        self._planners: dict[str, ArmPlanner] = {}
        self.plans: list[ArmPath] = []                  # every path planned, in order
        self._worker: PlanWorker | None = None          # plans arm paths beside a real-time loop (plan_beside)
        self._pending: dict[str, tuple[Future, float]] = {}   # side -> its path being planned beside the loop,
                                                               # and when it was asked for [s]
        self.plan_windows: list[tuple[float, float]] = []     # (from, to) on the robot's clock [s] of each plan:
                                                               # its tick (in the loop), or asked to come (beside)
        self.plan_errors: dict[str, Exception] = {}     # side -> why its path planned beside the loop failed
        self.loads: dict[str, np.ndarray] = {}    # side -> force the world puts on the hand [N, world]
        self._offset: dict[str, np.ndarray] = {}  # side -> integral correction of the target [m, world]
        self._servo: dict[str, np.ndarray] = {}   # side -> 0/1 per world axis servoed throughout (reach(servo=))
        self.carried: dict[str, np.ndarray] = {}  # side -> X_heading_hand (4x4): the hand rides with the body
        self.carried_loads: dict[str, np.ndarray] = {}   # side -> its load in the heading frame [N]: it turns too
        self.grips: dict[str, float] = {}         # side -> finger closing torque [N·m]
        self.compliance: HandCompliance | None = None    # hands that give along some axes (comply())
        self.touch = HandTouch(robot, c.touch)     # what each hand's touch pads feel
        names = robot.joint_names
        self._closing = {side: [(names.index(j), sign) for j, sign in hand.closing.items()]
                         for side, hand in robot.hands.items()}
        model = self.locomotion.model
        self._q_range = (model.robot.model.lowerPositionLimit[model.iq], model.robot.model.upperPositionLimit[model.iq])
        self._t_s: float | None = None
        self.torso: JointMove | None = None       # the waist's yaw move (turn_torso), held at its goal after
        self._waist_index = names.index(WAIST_YAW) if WAIST_YAW in names else None

    def turn_torso(self, yaw_rad: float) -> JointMove:
        """Turn the torso (the waist's yaw joint, and the head camera with it) to ``yaw_rad`` from
        where its encoder reads now (+: to the left); the feet stay. Raises ValueError past the
        joint's limits."""
        if self._waist_index is None or self._t_s is None:
            raise ValueError("the torso turns on a robot with a waist yaw joint, once the loop has run")
        lo, hi = (float(r[self._waist_index]) for r in self._q_range)
        if not lo < yaw_rad < hi:
            raise ValueError(f"waist yaw {yaw_rad:.2f} rad is outside its limits [{lo:.2f}, {hi:.2f}]")
        q_now = float(self._state().q_rad[self._waist_index])
        c = self.config
        self.torso = JointMove(q_now, yaw_rad, self._t_s, c.torso_speed_rad_s, c.torso_accel_rad_s2)
        return self.torso

    def hand_pose(self, side: str) -> np.ndarray:
        """Estimated hand pose (4x4, world frame) from the last tick."""
        return self.locomotion.model.robot.get_T_world_frame(f"{side}_hand").copy()

    def reach(self, side: str, T_goal: np.ndarray, orientation: bool = True, servo: str | None = None) -> IkSolution:
        """Send a hand to ``T_goal`` (4x4, world; ``orientation=False`` keeps the hand's current
        orientation). Raises UnreachableTarget (nothing moves) if no balanced posture gets there.

        ``servo`` names world axes ("xyz", "xy", ...) on which integral action holds the hand's
        estimated position on its trajectory from the start, even under a load, starting from the
        correction the last reach ended with (on every axis); by default a hand without a load
        settles on all axes once its motion ends, from no correction."""
        rs = self._state()
        if servo is not None and (not servo or set(servo) - set("xyz")):
            raise ValueError(f"servo names world axes among 'xyz', got {servo!r}")
        start = self.hand_pose(side)
        goal = np.array(T_goal, dtype=float)
        if not orientation and goal.shape == (4, 4):
            goal[:3, :3] = start[:3, :3]
        solution = self.ik.solve({side: goal}, rs.p_world_base_m, rs.quat_xyzw, rs.q_rad, orientation=True)
        self._follow(side, PoseTrajectory(start, goal, rs.time_s, self.config.limits), servo)
        return solution

    def _state(self) -> RobotState:
        rs = self.locomotion.state
        if rs is None:
            raise RuntimeError("the robot's state is not known yet: run the controller for one tick first")
        return rs

    def _follow(self, side: str, motion: PoseTrajectory | ArmPath, servo: str | None) -> None:
        """The hand follows ``motion`` from now on, untied from the body, servoed as ``reach`` says."""
        self.motions[side] = motion
        if servo is None:
            self._servo.pop(side, None)
            self._offset[side] = np.zeros(3)
        else:
            self._servo[side] = np.array([axis in servo for axis in "xyz"], dtype=float)
            self._offset.setdefault(side, np.zeros(3))
        self.carried.pop(side, None)
        self.carried_loads.pop(side, None)

    def set_obstacles(self, obstacles: tuple[ObstacleBox, ...]) -> None:
        """The boxes (world frame: furniture from the map or the world model) that planned
        reaches keep clear of."""
        self.obstacles = tuple(obstacles)
        for planner in self._planners.values():
            planner.set_obstacles(self.obstacles)

    def plan_reach(self, side: str, T_goal: np.ndarray, orientation: bool = True) -> ArmPath | None:
        """Send a hand to ``T_goal`` (4x4, world) along a collision-free path of its arm around
        the obstacles and the robot's own body, the rest of the body holding its posture; the arm's
        joints follow the path and the hand the pose it gives. Raises UnreachableTarget (or its
        NoPathFound) before anything moves. With ``plan_beside`` the path is planned in a worker
        process (None is returned; the arm holds still until the path comes, starting when it
        comes; a failure lands in ``plan_errors``)."""
        rs = self._state()
        if side not in self._planners:
            self._planners[side] = ArmPlanner(self.locomotion.model, side, self.obstacles, self.config.planner)
        if self._worker is not None:
            self.plan_errors.pop(side, None)
            job = self._worker.submit(side, self.obstacles, np.array(T_goal, dtype=float), rs.p_world_base_m.copy(),
                                      rs.quat_xyzw.copy(), rs.q_rad.copy(), orientation)
            self._pending[side] = (job, rs.time_s)
            return None
        self.plan_windows.append((rs.time_s, rs.time_s + self.locomotion.config.wbc.dt_s))   # this tick
        path = self._planners[side].plan(T_goal, rs.p_world_base_m, rs.quat_xyzw, rs.q_rad, rs.time_s, orientation)
        self._follow(side, path, None)
        self.plans.append(path)
        return path

    @property
    def plan_beside(self) -> bool:
        """Whether arm paths are planned beside the loop (a worker process: for a real-time port)."""
        return self._worker is not None

    @plan_beside.setter
    def plan_beside(self, on: bool) -> None:
        if on and self._worker is None:
            self._worker = PlanWorker(self.locomotion.robot, self.config.planner)
            for side in self.locomotion.model.arm_joints:      # the loop's planners, built now, not in a tick
                self._planners.setdefault(side, ArmPlanner(self.locomotion.model, side, self.obstacles,
                                                           self.config.planner))
        elif not on and self._worker is not None:
            self._worker.close()
            self._worker = None

    def _take_plans(self, t_s: float) -> None:
        """Paths planned beside the loop that have come: followed from now on."""
        for side, (job, asked_s) in list(self._pending.items()):
            if not job.done():
                continue
            del self._pending[side]
            self.plan_windows.append((asked_s, t_s))
            try:
                path = path_of(self._planners[side], job.result(), t_s)
            except (UnreachableTarget, ValueError, BrokenExecutor) as exc:    # (the worker died: no path)
                self.plan_errors[side] = exc
                continue
            self._follow(side, path, None)
            self.plans.append(path)

    def heading_frame(self) -> np.ndarray:
        """X_world_heading (4x4): at the estimated base, turned by its yaw only."""
        rs = self._state()
        yaw = rs.yaw_rad
        T = np.eye(4)
        T[:2, :2] = [[np.cos(yaw), -np.sin(yaw)], [np.sin(yaw), np.cos(yaw)]]
        T[:3, 3] = rs.p_world_base_m
        return T

    def carry(self, sides: tuple[str, ...]) -> None:
        """Tie these hands to the body where their goals are now (in the base's heading frame), so
        they ride along as the robot walks and turns; reach() or release() unties a hand."""
        X_heading_world = np.linalg.inv(self.heading_frame())
        for side in sides:
            if side not in self.motions:
                raise ValueError(f"the {side} hand has no goal to carry; reach() first")
            self.carried[side] = X_heading_world @ self.motions.pop(side).T_goal
            if side in self.loads:
                self.carried_loads[side] = X_heading_world[:3, :3] @ self.loads[side]

    def set_load(self, side: str, f_world_N: np.ndarray | None) -> None:
        """The force the world is expected to put on a hand (a grip's reaction, a carried load):
        balance accounts for it and the arm pushes back. None: no load."""
        if f_world_N is None:
            self.loads.pop(side, None)
            self.carried_loads.pop(side, None)
        else:
            f = np.asarray(f_world_N, dtype=float)
            if f.shape != (3,) or not np.isfinite(f).all():
                raise ValueError(f"hand load must be a finite 3-vector in newtons, got {f_world_N!r}")
            self.loads[side] = f
            if side in self.carried:
                self.carried_loads[side] = self.heading_frame()[:3, :3].T @ f

    def close_hand(self, side: str, torque_Nm: float | None) -> None:
        """Close the hand's fingers with this torque on each closing joint (force control: they stop
        on what they wrap); None opens them again (back to their posture)."""
        if side not in self._closing or not self._closing[side]:
            raise ValueError(f"the {side} hand has no fingers that close (hands.{side}.closing)")
        if torque_Nm is None:
            self.grips.pop(side, None)
        elif not 0.0 < torque_Nm <= 5.0:
            raise ValueError(f"finger torque must be in (0, 5] N·m, got {torque_Nm}")
        else:
            self.grips[side] = torque_Nm

    def release(self, side: str) -> None:
        """Stop steering the hand: the arm returns to its posture."""
        self.motions.pop(side, None)
        self._servo.pop(side, None)
        self.carried.pop(side, None)
        self.carried_loads.pop(side, None)
        self.loads.pop(side, None)
        self.locomotion.set_hand_target(side, None)

    def comply(self, compliance: HandCompliance | None) -> None:
        """Let these hands give way (see :class:`HandCompliance`); None: they hold their targets again."""
        if compliance is not None and set(compliance.sides) - set(self.locomotion.wbc.hand_task):
            raise ValueError(f"no such hands: {sorted(set(compliance.sides) - set(self.locomotion.wbc.hand_task))}")
        self.compliance = compliance

    def arrived(self, side: str, t_s: float) -> bool:
        """Whether the hand's trajectory has run its course (the hand keeps holding the goal)."""
        return side not in self._pending and side in self.motions and self.motions[side].done(t_s)

    def __call__(self, low_state: LowState) -> LowCmd:
        t, c = low_state.time_s, self.config
        self.touch.update(low_state.touch_N, t)
        if self._pending:
            self._take_plans(t)
        dt = 0.0 if self._t_s is None else t - self._t_s
        self._t_s = t
        targets: dict[str, tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None]] = {}
        for side, motion in self.motions.items():
            T, v = motion.sample(t)
            axes = self._servo.get(side)
            if axes is not None or (motion.done(t) and side not in self.loads):   # integral action: no steady sag
                error = (T[:3, 3] - self.hand_pose(side)[:3, 3]) * (1.0 if axes is None else axes)
                gain = c.settle_gain_1_s if axes is None else c.servo_gain_1_s
                offset = self._offset[side] + gain * dt * error
                norm = float(np.linalg.norm(offset))
                self._offset[side] = offset * min(1.0, c.max_settle_offset_m / norm) if norm > 0 else offset
                T = T.copy()
                T[:3, 3] += self._offset[side]
            targets[side] = (T, v, motion.joints_at(t) if isinstance(motion, ArmPath) else None)
        if self.carried:
            rs = self._state()
            X_world_heading = self.heading_frame()
            for side, f_heading in self.carried_loads.items():     # a squeeze turns with the body
                self.loads[side] = X_world_heading[:3, :3] @ f_heading
            for side, X_heading_hand in self.carried.items():
                T = X_world_heading @ X_heading_hand
                r = T[:3, 3] - X_world_heading[:3, 3]
                v = rs.v_world_base_m_s + np.cross(rs.R_world_base @ rs.w_base_rad_s * [0, 0, 1], r)
                targets[side] = (T, v, None)
        if self.compliance is not None:
            self.compliance.give_way(targets, self.hand_pose, self.heading_frame()[:3, :3])
        for side, (T, v, q_arm) in targets.items():
            self.locomotion.set_hand_target(side, T, v, self.loads.get(side), q_arm)
        if self.torso is not None:
            self.locomotion.set_waist_yaw(self.torso.sample(t))
        cmd = self.locomotion(low_state)
        if self.locomotion.status.ok or self.locomotion.status.category == StopCategory.STOP_2:
            for side, torque in self.grips.items():
                for i, sign in self._closing[side]:
                    m = cmd.motor_cmd
                    q = float(np.clip(low_state.motor_state.q[i], self._q_range[0][i], self._q_range[1][i]))
                    m.kp[i], m.q[i], m.dq[i] = 0.0, q, 0.0     # torque only: the position is for the record
                    m.kd[i], m.tau[i] = c.finger_kd_Nms, sign * torque
        return cmd
