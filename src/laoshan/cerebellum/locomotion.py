"""The locomotion controller: ``LowState`` in, ``LowCmd`` out.

Each tick: check the sensors' samples (an implausible one is replaced by the last good one),
estimate the base state, check safety, get references (stand, a capture step, or the walk
planner's with foot placement feedback), solve the whole-body QP. A lasting sensor fault ends in a
hold: the drivers' joint PD bring the legs to a posture standing where the feet are, without the
estimate. A standing robot whose divergent component of motion leaves its support polygon (a push)
steps on its own to catch itself, and holds its CoM firmly until it has settled.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace

import numpy as np
import pinocchio as pin

from laoshan.cerebellum.control_model import ControlModel
from laoshan.cerebellum.estimator import SIDES, EstimatorConfig, RobotState, StateEstimator
from laoshan.cerebellum.hold import hold_posture
from laoshan.cerebellum.recovery import CaptureStep, CaptureStepConfig, distance_outside_support_m
from laoshan.cerebellum.safety import SafetyConfig, SafetyStatus, StopCategory, monitors, stop_command
from laoshan.cerebellum.sensing import SensorCheckConfig
from laoshan.cerebellum.stand import StandController, StandControllerConfig
from laoshan.cerebellum.stepping import Stepping, SteppingConfig
from laoshan.cerebellum.terrain import HeightMap, HeightMapConfig
from laoshan.cerebellum.walk import GaitConfig, VelocityCommand, WalkPlanError, WalkPlanner
from laoshan.cerebellum.wbc import WbcConfig, WbcError, WbcReferences, WholeBodyController
from laoshan.robot.description import RobotDescription
from laoshan.port.messages import LowCmd, LowState

CAMERA_POSES_S = 0.5   # the head camera's estimated poses are kept this long (frames come up to 0.1 s late)


@dataclass(frozen=True)
class LocomotionConfig:
    wbc: WbcConfig = field(default_factory=WbcConfig)
    gait: GaitConfig | None = None       # None: the robot's own (its description's [gait] table)
    estimator: EstimatorConfig = field(default_factory=EstimatorConfig)
    safety: SafetyConfig = field(default_factory=SafetyConfig)
    sensors: SensorCheckConfig = field(default_factory=SensorCheckConfig)
    # the joint-PD hold of a lasting sensor fault: quick to set a swinging foot down, well damped to stop the
    # body's momentum (tuned on seeds 1000-1019: faults while walking at 0.3 m/s)
    hold: StandControllerConfig = field(default_factory=lambda: StandControllerConfig(ramp_s=0.3, damping_scale=2.0))
    capture: CaptureStepConfig | None = None   # None: the robot's own reach and spacing
    early_touchdown_phase: float = 0.6  # a swing foot sensing the ground after this much of its swing has landed
    see_terrain: bool = False           # map the ground with the first camera and step by it (off: blind, the
                                        # stance sole's plane; indoors the map would take furniture for ground)
    terrain: HeightMapConfig = field(default_factory=HeightMapConfig)
    stepping: SteppingConfig = field(default_factory=SteppingConfig)


class LocomotionController:
    """Stands, walks on velocity commands, catches pushes, and stops safely."""

    def __init__(self, robot: RobotDescription, config: LocomotionConfig | None = None) -> None:
        self.robot = robot
        c = config or LocomotionConfig()
        self.config = c = replace(c, gait=c.gait or GaitConfig.for_robot(robot),
                                  capture=c.capture or CaptureStepConfig.for_robot(robot))
        self.model = ControlModel(robot)
        self.estimator = StateEstimator(self.model, c.estimator)
        self.wbc = WholeBodyController(self.model, c.wbc)
        self.planner = WalkPlanner(self.model, c.gait)
        self.sensors, self.safety = monitors(self.model, c.safety, c.sensors)
        self._hold: StandController | None = None   # the joint-PD hold, once sensing is lost
        self._pin_data = self.model.robot.model.createData()
        self.status = SafetyStatus(StopCategory.NONE)
        self.state: RobotState | None = None
        self._stand: WbcReferences | None = None
        self._capture: CaptureStep | None = None
        # side -> (T, v, f, q_arm): see set_hand_target
        self._hands: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray | None,
                                     tuple[np.ndarray, np.ndarray] | None]] = {}
        self._waist_yaw: tuple[float, float] | None = None   # see set_waist_yaw
        self._last_capture: tuple[float, str] | None = None   # (landing time [s], foot) of the last capture step
        self.recovering = False            # from a push's first capture step until the robot has settled
        self._camera = robot.cameras[0] if robot.cameras and c.see_terrain else None
        self.terrain = self.planner.terrain = HeightMap(c.terrain) if self._camera else None
        self._camera_poses: deque[tuple[float, np.ndarray]] = deque()   # (time [s], X_world_link), estimated
        self.stepping = Stepping(self.model, self.planner, self.terrain, c.stepping, c.wbc.dt_s)

    # --- commands -------------------------------------------------------------------------------

    def set_velocity(self, vx_m_s: float = 0.0, vy_m_s: float = 0.0, yaw_rate_rad_s: float = 0.0) -> str | None:
        """Walk at this velocity (base heading frame); zeros stop after the steps in flight. A
        command beyond what the gait can step is limited to it: returned is what was limited and
        why (None: nothing), which a caller shows (it is never silent)."""
        return self.planner.set_velocity(VelocityCommand(vx_m_s, vy_m_s, yaw_rate_rad_s))

    def set_hand_target(self, side: str, T_world_hand: np.ndarray | None,
                        v_world_m_s: np.ndarray | None = None, f_world_N: np.ndarray | None = None,
                        q_arm: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """Track this hand pose (4x4, world frame; ``v_world_m_s`` its velocity) while balancing,
        with ``f_world_N`` the force the world is expected to put on the hand (a grip's reaction, a
        held load) and ``q_arm`` the arm's joint angles and speeds on a planned path (rad, rad/s;
        ``ControlModel.arm_joints`` order); None lets the arm go back to its posture."""
        if side not in self.wbc.hand_task:
            raise ValueError(f"{self.robot.name} has no hand {side!r}; it has {sorted(self.wbc.hand_task)}")
        if T_world_hand is None:
            self._hands.pop(side, None)
            return
        T = np.asarray(T_world_hand, dtype=float)
        if T.shape != (4, 4) or not np.isfinite(T).all():
            raise ValueError(f"hand target must be a finite 4x4 pose, got shape {T.shape}")
        v = np.zeros(3) if v_world_m_s is None else np.asarray(v_world_m_s, dtype=float)
        f = None if f_world_N is None else np.asarray(f_world_N, dtype=float)
        self._hands[side] = (T, v, f, q_arm)

    def set_waist_yaw(self, yaw: tuple[float, float] | None) -> None:
        """Hold the waist's yaw joint at this (angle [rad], speed [rad/s]) while balancing: the torso
        and the head camera turn, the feet stay; None: back to home."""
        if yaw is not None and not np.isfinite(yaw).all():
            raise ValueError(f"waist yaw must be a finite (angle, speed), got {yaw!r}")
        self._waist_yaw = None if yaw is None else (float(yaw[0]), float(yaw[1]))

    @property
    def walking(self) -> bool:
        return self.planner.walking

    @property
    def fallen(self) -> bool:
        return self.safety.fall_time_s is not None

    # --- the loop -------------------------------------------------------------------------------

    def __call__(self, low_state: LowState) -> LowCmd:
        low_state = self.sensors(low_state)
        rs = self.state = self.estimator.update(low_state)
        m = self.model
        rs.load_into(m)
        self._keep_camera_pose(rs.time_s)
        self._look(low_state)
        if self._stand is None:
            self._stand = self._stand_references()
        self.status = self.safety.check(low_state, rs, self.sensors.lasting(low_state.time_s))
        stop = stop_command(self.status, len(m.iv), self.config.safety)
        if stop is not None:
            return stop
        if self.status.hold:
            if self._hold is None:       # ramps from the last good joint angles to a posture standing where it is
                self._hold = StandController(self.robot, self.config.hold, posture_rad=hold_posture(m))
            return self._hold(low_state)
        if self.status.category == StopCategory.STOP_2 and not self.planner.target.is_zero:
            self.set_velocity()
        ref = self._references(rs)
        if self._hands:
            ref = replace(ref, T_hand={s: T for s, (T, _, _, _) in self._hands.items()},
                          v_hand={s: v for s, (_, v, _, _) in self._hands.items()},
                          f_hand={s: f for s, (_, _, f, _) in self._hands.items() if f is not None},
                          q_arm={s: q for s, (_, _, _, q) in self._hands.items() if q is not None})
        if self._waist_yaw is not None:
            ref = replace(ref, waist_yaw=self._waist_yaw)
        try:
            return self.wbc.command(rs, ref)
        except WbcError as exc:
            self.status = self.safety.latched = SafetyStatus(StopCategory.STOP_1, str(exc))
            self.safety.log(rs.time_s, self.status)
            return LowCmd.damping(len(m.iv), self.config.safety.damping_kd_Nms)

    def _com(self) -> tuple[np.ndarray, np.ndarray]:
        """Estimated CoM position and velocity (world frame)."""
        robot = self.model.robot
        com = pin.centerOfMass(robot.model, self._pin_data, robot.state.q, robot.state.qd)
        return com, self._pin_data.vcom[0].copy()

    def _references(self, rs: RobotState) -> WbcReferences:
        ref = self._balance_references(rs)
        self.wbc.set_com_weight(self.config.capture.com_weight if self.recovering else 1.0)
        return ref

    def _balance_references(self, rs: RobotState) -> WbcReferences:
        t, planner, c = rs.time_s, self.planner, self.config
        com, v_com = self._com()
        dcm = com + v_com / planner.omega_rad_s
        if self._capture is not None:
            ref = self._capture_references(rs, com, v_com, dcm)
            if ref is not None:
                return ref
        if not planner.walking:
            if self._needs_step(t, dcm):
                feet = self._feet_now()
                ground_z = float(np.mean([feet[s][2, 3] for s in SIDES]))
                last = self._last_capture
                swing = next(s for s in SIDES if s != last[1]) if last and t - last[0] < c.capture.series_s else None
                self._capture = CaptureStep(c.capture, t, feet, self.model.sole_points_m, com, dcm, ground_z,
                                            rs.foot_force_N, swing)
                self.recovering = True
                ref = self._capture_references(rs, com, v_com, dcm)
                assert ref is not None
                return ref
            if self.recovering and self._settled(com, v_com, dcm):
                self.recovering = False
            if not planner.target.is_zero:
                self.recovering = False
                self._start_walk(t)
        if planner.walking:
            planner.update(t, dcm)
            if not planner.walking:        # the walk just ended: stand where the feet are
                self._stand = self._stand_references()
                return self._stand
            ref = planner.references(t)
            phase = planner.swing_phase(t)
            for side in SIDES:             # a swing foot that lands early is in contact from then on
                if not ref.contact[side] and phase is not None and phase > c.early_touchdown_phase \
                        and rs.contact[side]:
                    ref.contact[side] = True
            feet = self._feet_now()
            # The plan is made on a floor at z = 0; it is lifted to the height of the stance
            # feet, so that the estimator's slow height drift never presses a foot into the ground
            # (and the CoM goes up and down steps with them, no faster than ground_speed_m_s).
            stance_z = float(np.mean([feet[s][2, 3] for s in SIDES if ref.contact[s]]))
            ground_z, v_ground = self.stepping.ground(ref.p_com, ref.R_trunk, stance_z, feet, ref.contact)
            ref.p_com = ref.p_com + np.array([0.0, 0.0, ground_z])
            ref.v_com = ref.v_com + np.array([0.0, 0.0, v_ground])
            for side in SIDES:             # a foot on the ground is held where it landed
                if ref.contact[side]:
                    ref.T_foot[side] = feet[side]
                    ref.v_foot[side] = np.zeros(3)
                    self.stepping.on_ground(side, feet[side])
                else:
                    ref.T_foot[side], ref.v_foot[side] = self.stepping.swing_target(
                        side, ref.T_foot[side], ref.v_foot[side], t, stance_z, feet, ref.contact)
            return ref
        assert self._stand is not None
        return self._stand

    def _camera_pose_at(self, time_s: float) -> np.ndarray:
        """The head camera mount's pose (``X_world_link``, estimated) at ``time_s`` (sensor clock): that of
        the last tick at or before it, kept for ``CAMERA_POSES_S`` (the oldest kept if before). A frame
        for the height map is placed with the pose at its capture time: it arrives tens of ms late, and a
        head swaying as the robot walks moves the ground seen 1 cm at 1 m in that time."""
        pose = self._camera_poses[0][1]
        for t, X in self._camera_poses:
            if t > time_s:
                break
            pose = X
        return pose

    def _keep_camera_pose(self, time_s: float) -> None:
        if self._camera is None:
            return
        self._camera_poses.append((time_s, self.model.robot.get_T_world_frame(self._camera.link).copy()))
        while self._camera_poses[0][0] < time_s - CAMERA_POSES_S:
            self._camera_poses.popleft()

    def _look(self, low_state: LowState) -> None:
        """Fold a new depth frame of the camera into the height map, with the camera's pose from
        the estimated state when the frame was taken."""
        if self._camera is None or self.terrain is None:
            return
        frame = low_state.rgbd.get(self._camera.name)
        if frame is None or frame.time_s == self.terrain.last_frame_s:
            return
        self.terrain.add(frame, self._camera_pose_at(frame.time_s), self.model.robot.get_T_world_frame("trunk")[:3, 3],
                         [T[:3, 3] for T in self._feet_now().values()])

    def _capture_references(self, rs: RobotState, com: np.ndarray, v_com: np.ndarray,
                            dcm: np.ndarray) -> WbcReferences | None:
        """Follow the capture step; None once its foot has landed (the robot then stands on the
        new support)."""
        step = self._capture
        assert step is not None and self._stand is not None
        phase = step.phase(rs.time_s)
        if phase >= 1.0 or (phase > self.config.early_touchdown_phase and rs.contact[step.swing]):
            self._capture = None
            self._last_capture = (rs.time_s, step.swing)
            self._stand = self._stand_references()
            return None
        return step.references(rs.time_s, self._feet_now(), com, v_com, dcm, self._stand.R_trunk)

    def _feet_now(self) -> dict[str, np.ndarray]:
        return {s: self.model.robot.get_T_world_frame(f"{s}_foot").copy() for s in SIDES}

    def _stand_references(self) -> WbcReferences:
        feet = self._feet_now()
        com = self.model.robot.com_world().copy()
        com[:2] = (feet["left"][:2, 3] + feet["right"][:2, 3]) / 2
        R = pin.utils.rpyToMatrix(0.0, 0.0, self.model.feet_yaw_rad(feet))
        return WbcReferences(p_com=com, R_trunk=R, T_foot=feet)

    def _needs_step(self, t_s: float, dcm: np.ndarray) -> bool:
        """Whether the DCM has left the support polygon: balance on the feet alone cannot stop it
        any more (not again right after a landing, while the new support takes the load)."""
        c = self.config.capture
        if self._last_capture is not None and t_s - self._last_capture[0] < c.refractory_s:
            return False
        outside = distance_outside_support_m(self._feet_now(), self.model.sole_points_m, c.cop_margin_m, dcm[:2])
        return outside > c.trigger_m

    def _settled(self, com: np.ndarray, v_com: np.ndarray, dcm: np.ndarray) -> bool:
        assert self._stand is not None
        c = self.config.capture
        return bool(np.linalg.norm(v_com[:2]) < c.settled_speed_m_s
                    and np.linalg.norm(dcm[:2] - self._stand.p_com[:2]) < c.settled_dcm_m)

    def _start_walk(self, t_s: float) -> None:
        """Start walking; if no plan exists (e.g. the robot is still moving), try again next tick."""
        feet = self._feet_now()
        try:
            self.planner.start(t_s, feet["left"], feet["right"], self.model.robot.com_world().copy())
        except WalkPlanError as exc:
            self.status = SafetyStatus(StopCategory.NONE, str(exc))
