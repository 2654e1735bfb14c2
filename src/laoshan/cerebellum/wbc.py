"""Whole-body control: a task-space inverse-dynamics QP (PlaCo's ``DynamicsSolver``).

Each tick the QP gets the *estimated* state and the references (CoM, trunk orientation, feet,
which feet are in contact) and returns joint accelerations, contact wrenches and joint torques
that satisfy the rigid-body dynamics, keep every stance foot's centre of pressure inside its sole
and its force inside the friction cone, and respect the motors' torque limits. The torques go to
the drivers as feed-forward, with light damping toward the QP's joint velocity.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import placo

from laoshan.cerebellum.control_model import ControlModel
from laoshan.cerebellum.estimator import SIDES, RobotState
from laoshan.port.messages import LowCmd


WAIST_YAW = "waist_yaw_joint"   # turns the torso (and the head camera on it) about the vertical


class WbcError(RuntimeError):
    """The whole-body QP has no solution for the current state and references."""


@dataclass(frozen=True)
class WbcConfig:
    dt_s: float = 0.002              # control period
    com_kp: float = 400.0            # CoM task stiffness [1/s^2]
    com_kd: float = 40.0             # CoM task damping [1/s]
    trunk_kp: float = 400.0
    trunk_kd: float = 40.0
    foot_kp: float = 900.0           # swing-foot tracking
    foot_kd: float = 60.0
    foot_weight: float = 100.0       # feet are soft tasks, far above the rest: the QP stays solvable
    posture_weight: float = 1e-3     # legs: a faint pull toward the home posture ...
    posture_kp: float = 10.0         # ... with low gains, so that it never fights the CoM task
    posture_kd: float = 6.0
    upper_body_weight: float = 0.1   # waist, arms, hands: held near home
    upper_body_kp: float = 100.0
    upper_body_kd: float = 20.0
    friction: float = 0.7            # friction coefficient assumed at the soles
    torque_margin: float = 0.9       # use at most this fraction of each motor's peak torque
    joint_kd_Nms: float = 1.0        # driver damping toward the QP's joint velocity
    hand_weight: float = 1.0         # a hand with a reference tracks it, as firmly as the CoM ...
    hand_orientation_weight: float = 0.3
    reaching_arm_posture_weight: float = 1e-3   # ... while its arm's posture task fades
    planned_arm_weight: float = 0.1             # an arm on a planned path: its joints track the path too
    hand_kp: float = 400.0           # ... with these gains
    hand_kd: float = 40.0
    limit_margin_rad: float = 0.03   # joints closer than this to a limit are pulled back ...
    limit_weight: float = 10.0       # ... by a firm soft task (a hard constraint makes torques chatter)


@dataclass
class WbcReferences:
    """What the whole body should do now (world frame)."""

    p_com: np.ndarray
    v_com: np.ndarray = field(default_factory=lambda: np.zeros(3))
    a_com: np.ndarray = field(default_factory=lambda: np.zeros(3))
    R_trunk: np.ndarray = field(default_factory=lambda: np.eye(3))
    T_foot: dict[str, np.ndarray] = field(default_factory=dict)     # 4x4 per side
    v_foot: dict[str, np.ndarray] = field(default_factory=dict)     # (3,) per side
    contact: dict[str, bool] = field(default_factory=lambda: {s: True for s in SIDES})
    T_hand: dict[str, np.ndarray] = field(default_factory=dict)     # 4x4 per side that reaches
    v_hand: dict[str, np.ndarray] = field(default_factory=dict)     # (3,) per side that reaches
    f_hand: dict[str, np.ndarray] = field(default_factory=dict)     # (3,) force the world puts on a hand [N]
    q_arm: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)   # side -> planned arm joint
                                                    # angles [rad] and speeds [rad/s] (ControlModel.arm_joints order)
    waist_yaw: tuple[float, float] | None = None    # the waist's yaw joint angle [rad] and speed [rad/s]
                                                    # (the torso turned to look); None: home


class WholeBodyController:
    """Task-space inverse dynamics on the control model."""

    def __init__(self, model: ControlModel, config: WbcConfig | None = None) -> None:
        self.model = model
        self.config = c = config or WbcConfig()
        robot = model.robot
        self.solver = s = placo.DynamicsSolver(robot)
        s.dt = c.dt_s
        s.mask_fbase(False)
        self.com_task = s.add_com_task(np.zeros(3))
        self.com_task.configure("com", "soft", 1.0)
        self._com_weight = 1.0
        self.com_task.kp, self.com_task.kd = c.com_kp, c.com_kd
        self.trunk_task = s.add_orientation_task("trunk", np.eye(3))
        self.trunk_task.configure("trunk", "soft", 1.0)
        self.trunk_task.kp, self.trunk_task.kd = c.trunk_kp, c.trunk_kd
        self.foot_task = {}
        self.contact: dict[str, list[placo.PointContact]] = {}
        self.sole_task: dict[str, list[placo.DynamicsPositionTask]] = {}
        for side in SIDES:
            task = s.add_frame_task(f"{side}_foot", np.eye(4))
            task.configure(f"{side}_foot", "soft", c.foot_weight, c.foot_weight)
            for sub in (task.position(), task.orientation()):
                sub.kp, sub.kd = c.foot_kp, c.foot_kd
            self.foot_task[side] = task
            # The sole touches the ground at its contact points, each a unilateral friction cone:
            # the centre of pressure, the tangential force and the yaw moment are all limited
            # as they are physically. The points' motion is set by the foot task; their own
            # tasks (negligible weight) only carry the contact Jacobians.
            self.sole_task[side], self.contact[side] = [], []
            for k in range(len(model.sole_points_m[side])):
                point = s.add_position_task(f"{side}_sole_{k}", np.zeros(3))
                point.configure(f"{side}_sole_{k}", "soft", 1e-6)
                contact = s.add_unilateral_point_contact(point)
                contact.mu = c.friction
                self.sole_task[side].append(point)
                self.contact[side].append(contact)
        self.hand_task = {}
        for side in model.desc.hands:
            task = s.add_frame_task(f"{side}_hand", np.eye(4))
            task.configure(f"{side}_hand", "soft", 0.0, 0.0)
            for sub in (task.position(), task.orientation()):
                sub.kp, sub.kd = c.hand_kp, c.hand_kd
            self.hand_task[side] = task
        self._reaching: dict[str, bool] = {side: False for side in model.desc.hands}
        self._arm_weight: dict[str, float] = {side: c.upper_body_weight for side in model.desc.hands}
        # A hand pressing on something feels its reaction: the QP balances with it and the arm
        # torques push back (force control through the dynamics).
        self.hand_load = {side: s.add_external_wrench_contact(f"{side}_hand", "local")
                          for side in model.desc.hands}
        for load in self.hand_load.values():
            load.active = False
        legs = set(model.leg_joints)
        arms = {j for joints in model.arm_joints.values() for j in joints}
        self.posture_task = {}
        for name, weight, kp, kd, joints in (
            ("legs_posture", c.posture_weight, c.posture_kp, c.posture_kd,
             [m for m in model.desc.motors if m.joint in legs]),
            ("upper_body_posture", c.upper_body_weight, c.upper_body_kp, c.upper_body_kd,
             [m for m in model.desc.motors if m.joint not in legs | arms]),
            *((f"{side}_arm_posture", c.upper_body_weight, c.upper_body_kp, c.upper_body_kd,
               [m for m in model.desc.motors if m.joint in set(joints)]) for side, joints in model.arm_joints.items()),
        ):
            task = s.add_joints_task()
            task.set_joints({m.joint: m.home_rad for m in joints})
            task.configure(name, "soft", weight)
            task.kp, task.kd = kp, kd
            self.posture_task[name] = task
        self._home = {m.joint: m.home_rad for m in model.desc.motors}
        self._waist_yaw: tuple[float, float] | None = None
        pm = model.robot.model
        self._q_lower, self._q_upper = pm.lowerPositionLimit[model.iq], pm.upperPositionLimit[model.iq]
        self._q_min = self._q_lower + c.limit_margin_rad
        self._q_max = self._q_upper - c.limit_margin_rad
        self.limit_task = s.add_joints_task()
        self.limit_task.configure("joint_limit_guard", "soft", c.limit_weight)
        self.limit_task.kp, self.limit_task.kd = 400.0, 40.0
        s.enable_torque_limits(True)
        for motor, limit in zip(model.desc.motors, model.tau_limit_Nm, strict=True):
            s.set_torque_limit(motor.joint, c.torque_margin * limit)
        self.last_result: placo.DynamicsSolverResult | None = None

    def set_com_weight(self, weight: float) -> None:
        """Weight of the CoM task relative to the trunk's (1 by default; higher holds the CoM
        trajectory at the expense of the trunk orientation, as when catching a push)."""
        if weight != self._com_weight:
            self._com_weight = weight
            self.com_task.configure("com", "soft", weight)

    def _arm_posture(self, side: str, planned: tuple[np.ndarray, np.ndarray] | None, reaching: bool) -> None:
        """An arm's posture task: home at rest, faint while its hand reaches, the planned path's
        joints (firmer) while it follows one."""
        c, posture = self.config, self.posture_task[f"{side}_arm_posture"]
        joints = self.model.arm_joints[side]
        if planned is not None:
            q, dq = planned
            posture.set_joints(dict(zip(joints, map(float, q), strict=True)))
            posture.set_joints_velocities(dict(zip(joints, map(float, dq), strict=True)))
        weight = c.planned_arm_weight if planned is not None else \
            c.reaching_arm_posture_weight if reaching else c.upper_body_weight
        if weight != self._arm_weight[side]:
            if self._arm_weight[side] == c.planned_arm_weight:     # off the path: back to home, at rest
                posture.set_joints({j: self._home[j] for j in joints})
                posture.set_joints_velocities({j: 0.0 for j in joints})
            self._arm_weight[side] = weight
            posture.configure(f"{side}_arm_posture", "soft", weight)

    def _waist(self, yaw: tuple[float, float] | None) -> None:
        """The upper body's posture task holds the waist's yaw joint at ``yaw`` (angle, speed), or home."""
        if yaw != self._waist_yaw:
            self._waist_yaw = yaw
            q, dq = yaw if yaw is not None else (self._home[WAIST_YAW], 0.0)
            task = self.posture_task["upper_body_posture"]
            task.set_joints({WAIST_YAW: float(q)})
            task.set_joints_velocities({WAIST_YAW: float(dq)})

    def command(self, state: RobotState, ref: WbcReferences) -> LowCmd:
        """The LowCmd realizing ``ref`` from ``state``; raises WbcError if the QP fails.

        The control model must already hold ``state`` (``state.load_into(model)``, done once per tick).
        """
        m = self.model
        self.com_task.target_world = ref.p_com
        self.com_task.dtarget_world = ref.v_com
        self.com_task.ddtarget_world = ref.a_com
        self.trunk_task.R_world_frame = ref.R_trunk
        for side in SIDES:
            task = self.foot_task[side]
            task.T_world_frame = ref.T_foot[side]
            task.position().dtarget_world = ref.v_foot.get(side, np.zeros(3))
            R, p = ref.T_foot[side][:3, :3], ref.T_foot[side][:3, 3]
            for point, contact, local in zip(self.sole_task[side], self.contact[side],
                                             m.sole_points_m[side], strict=True):
                point.target_world = p + R @ local
                contact.active = bool(ref.contact[side])
        for side, task in self.hand_task.items():
            reaching, c = side in ref.T_hand, self.config
            if reaching != self._reaching[side]:    # a reaching arm leaves its posture to the hand ...
                self._reaching[side] = reaching
                task.configure(f"{side}_hand", "soft", *((c.hand_weight, c.hand_orientation_weight) if reaching
                                                         else (0.0, 0.0)))
            self._arm_posture(side, ref.q_arm.get(side), reaching)
            if reaching:
                task.T_world_frame = ref.T_hand[side]
                task.position().dtarget_world = ref.v_hand.get(side, np.zeros(3))
            load = self.hand_load[side]
            load.active = side in ref.f_hand
            if load.active:
                R = m.robot.get_T_world_frame(f"{side}_hand")[:3, :3]   # the wrench is in the hand frame
                load.w_ext = np.concatenate([R.T @ ref.f_hand[side], np.zeros(3)])
        self._waist(ref.waist_yaw)
        near = (state.q_rad < self._q_min) | (state.q_rad > self._q_max)
        back = np.clip(state.q_rad, self._q_min, self._q_max)   # the nearest point inside the margin
        self.limit_task.set_joints({m.desc.joint_names[i]: float(back[i]) for i in np.flatnonzero(near)})
        result = self.solver.solve(False)
        if not result.success:
            raise WbcError("whole-body QP infeasible")
        self.last_result = result
        v_next = m.robot.state.qd + result.qdd * self.config.dt_s
        cmd = LowCmd.zeros(len(m.iv))
        cmd.motor_cmd.tau[:] = np.clip(result.tau[m.iv], -m.tau_limit_Nm, m.tau_limit_Nm)
        # kp is 0: no position servo, only for the record; within the limits (a joint pushed past one,
        # e.g. a finger pressed on, reads beyond it, and the drivers reject a command outside them)
        cmd.motor_cmd.q[:] = np.clip(state.q_rad, self._q_lower, self._q_upper)
        cmd.motor_cmd.dq[:] = np.clip(v_next[m.iv], -m.dq_limit_rad_s, m.dq_limit_rad_s)   # what drivers take
        cmd.motor_cmd.kd[:] = self.config.joint_kd_Nms
        return cmd
