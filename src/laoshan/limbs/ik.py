"""Whole-body inverse kinematics for the hands (PlaCo's kinematics QP on the control model).

The feet stay where they are (hard tasks), the centre of mass stays over the support polygon with
a margin (hard constraint), joints stay inside their limits, and a faint posture task keeps the
solution near the home posture; the hands go as close to their targets as all that allows. A
target the hand cannot reach within the tolerance raises :class:`UnreachableTarget` with how far
off the best reachable pose is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pinocchio as pin
import placo
from scipy.spatial import ConvexHull

from laoshan.cerebellum.control_model import ControlModel, load_placo_robot
from laoshan.cerebellum.estimator import SIDES


class UnreachableTarget(ValueError):
    """No whole-body posture that keeps balance puts the hand at the target."""


@dataclass(frozen=True)
class IkConfig:
    tolerance_m: float = 0.01           # a hand this close to its target position counts as there
    tolerance_rad: float = 0.1          # ... and its orientation this close (when one is asked for)
    max_iterations: int = 300
    step_dt_s: float = 0.01             # iteration step: joints move at most their speed limit x this
    com_margin_m: float = 0.03          # CoM kept this far inside the support polygon
    orientation_weight: float = 0.3     # relative to the hand position task
    posture_weight: float = 1e-4
    trunk_weight: float = 1e-2          # the trunk stays near upright


@dataclass(frozen=True)
class IkSolution:
    q_rad: np.ndarray                   # joint angles, motor order
    p_world_base_m: np.ndarray
    quat_world_base_xyzw: np.ndarray
    position_error_m: dict[str, float]
    orientation_error_rad: dict[str, float]
    iterations: int


class WholeBodyIk:
    """Hand targets in, a balanced whole-body posture out."""

    def __init__(self, model: ControlModel, config: IkConfig | None = None) -> None:
        self.model = model
        self.config = c = config or IkConfig()
        self.hands = sorted(model.desc.hands)
        self.robot = load_placo_robot(model.urdf_path)        # the IK's own copy
        self.solver = s = placo.KinematicsSolver(self.robot)
        s.mask_fbase(False)
        s.enable_joint_limits(True)
        s.enable_velocity_limits(True)    # with dt: each iteration's step is bounded (the QP is linearized)
        s.dt = c.step_dt_s
        self.foot_task = {side: s.add_frame_task(f"{side}_foot", np.eye(4)) for side in SIDES}
        for side, task in self.foot_task.items():
            task.configure(f"{side}_foot", "hard", 1.0, 1.0)
        self.com_constraint = s.add_com_polygon_constraint(np.zeros((3, 2)), c.com_margin_m)
        self.com_constraint.configure("com_support", "hard")
        self.trunk_task = s.add_orientation_task("trunk", np.eye(3))
        self.trunk_task.configure("trunk", "soft", c.trunk_weight)
        self.hand_task = {side: s.add_frame_task(f"{side}_hand", np.eye(4)) for side in self.hands}
        posture = s.add_joints_task()
        posture.set_joints({m.joint: m.home_rad for m in model.desc.motors})
        posture.configure("posture", "soft", c.posture_weight)

    def hand_pose(self, side: str) -> np.ndarray:
        """The IK robot's current hand pose (4x4, world)."""
        return self.robot.get_T_world_frame(f"{side}_hand")

    def hand_jacobian(self, side: str) -> np.ndarray:
        """6 x nv Jacobian of the hand frame (linear then angular, world-aligned axes at the hand)."""
        return self.robot.frame_jacobian(f"{side}_hand", "local_world_aligned")

    def set_configuration(self, p_world_base: np.ndarray, quat_xyzw: np.ndarray, q_rad: np.ndarray) -> None:
        q = np.zeros(self.robot.model.nq)
        pm = self.robot.model    # a joint pushed past its stop (a finger on an object) starts at the stop
        q[0:3], q[3:7] = p_world_base, quat_xyzw
        q[self.model.iq] = np.clip(q_rad, pm.lowerPositionLimit[self.model.iq], pm.upperPositionLimit[self.model.iq])
        self.robot.state.q = q
        self.robot.update_kinematics()

    def solve(self, targets: dict[str, np.ndarray], p_world_base: np.ndarray, quat_xyzw: np.ndarray,
              q_rad: np.ndarray, orientation: bool = True) -> IkSolution:
        """Whole-body posture putting each hand at its target (4x4 world poses), starting from the
        given state; the feet stay where that state has them. Raises UnreachableTarget."""
        c = self.config
        for side, T in targets.items():
            if side not in self.hand_task:
                raise ValueError(f"{self.model.desc.name} has no hand {side!r}; it has {self.hands}")
            if np.shape(T) != (4, 4) or not np.isfinite(T).all():
                raise ValueError(f"the {side} hand target must be a finite 4x4 pose")
        self.set_configuration(p_world_base, quat_xyzw, q_rad)
        feet = {side: self.robot.get_T_world_frame(f"{side}_foot") for side in SIDES}
        for side, task in self.foot_task.items():
            task.T_world_frame = feet[side]
        self.com_constraint.polygon = self._support_polygon(feet)
        self.trunk_task.R_world_frame = pin.utils.rpyToMatrix(0.0, 0.0, self.model.feet_yaw_rad(feet))
        for side, task in self.hand_task.items():
            if side in targets:
                task.T_world_frame = targets[side]
                task.configure(f"{side}_hand", "soft", 1.0, c.orientation_weight if orientation else 0.0)
            else:
                task.T_world_frame = self.hand_pose(side)     # the other hand stays put (softly)
                task.configure(f"{side}_hand", "soft", 1e-4, 1e-5)
        pos_err, ori_err = self._errors(targets)
        iterations = 0
        while iterations < c.max_iterations:
            try:
                self.solver.solve(True)
            except RuntimeError:          # pressed against the balance or joint limits: stop here
                break
            iterations += 1
            self.robot.update_kinematics()
            pos_err, ori_err = self._errors(targets)
            if all(e < c.tolerance_m * 0.2 for e in pos_err.values()) and \
                    (not orientation or all(e < c.tolerance_rad * 0.2 for e in ori_err.values())):
                break
        q = self.robot.state.q
        solution = IkSolution(q_rad=q[self.model.iq].copy(), p_world_base_m=q[0:3].copy(),
                              quat_world_base_xyzw=q[3:7].copy(), position_error_m=pos_err,
                              orientation_error_rad=ori_err, iterations=iterations)
        for side in targets:
            if pos_err[side] > c.tolerance_m or (orientation and ori_err[side] > c.tolerance_rad):
                p = targets[side][:3, 3]
                turned = f" and turned {np.degrees(ori_err[side]):.0f}° off" if orientation else ""
                raise UnreachableTarget(
                    f"the {side} hand cannot reach ({p[0]:.3f}, {p[1]:.3f}, {p[2]:.3f}) m (world) while keeping "
                    f"its balance: the closest posture leaves it {pos_err[side] * 100:.1f} cm away{turned} "
                    f"(tolerance {c.tolerance_m * 100:.1f} cm, {np.degrees(c.tolerance_rad):.0f}°)")
        return solution

    def _errors(self, targets: dict[str, np.ndarray]) -> tuple[dict[str, float], dict[str, float]]:
        pos, ori = {}, {}
        for side, T in targets.items():
            H = self.hand_pose(side)
            pos[side] = float(np.linalg.norm(H[:3, 3] - T[:3, 3]))
            cos = (np.trace(H[:3, :3].T @ T[:3, :3]) - 1) / 2
            ori[side] = float(np.arccos(np.clip(cos, -1.0, 1.0)))
        return pos, ori

    def _support_polygon(self, feet: dict[str, np.ndarray]) -> np.ndarray:
        """Convex hull of the sole contact points (world xy), clockwise (PlaCo's convention)."""
        pts = self.model.support_points_xy(feet)
        return pts[ConvexHull(pts).vertices][::-1]
