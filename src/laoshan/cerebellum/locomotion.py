"""The locomotion controller: ``LowState`` in, ``LowCmd`` out.

Each tick: check the sensors' samples (an implausible one is replaced by the last good one),
estimate the base state, check safety, get references (stand, a capture step, or the walk
planner's with foot placement feedback), solve the whole-body QP. A lasting sensor fault ends in a
hold: the drivers' joint PD bring the legs to a posture standing where the feet are, without the
estimate. A standing robot whose divergent component of motion leaves its support polygon (a push)
steps on its own to catch itself, and holds its CoM firmly until it has settled.
"""

from __future__ import annotations

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
from laoshan.cerebellum.terrain import HeightMap, HeightMapConfig
from laoshan.cerebellum.walk import GaitConfig, VelocityCommand, WalkPlanError, WalkPlanner
from laoshan.cerebellum.wbc import WbcConfig, WbcError, WbcReferences, WholeBodyController
from laoshan.robot.description import RobotDescription
from laoshan.port.messages import LowCmd, LowState


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
    ground_speed_m_s: float = 0.15      # the CoM follows the ground's height (under the stance feet) this fast, ...
    max_leg_extension: float = 0.985    # ... never higher than a leg on the ground reaches at this fraction of its
                                        # straight length
    swing_clearance_m: float = 0.04     # a swing sole stays this far above the seen ground under it
    land_depth_m: float = 0.01          # a swing over seen ground aims this far below it, so that it lands
    step_phase: float = 0.4             # a step up rises over this first part of the swing, a step down goes
                                        # down over the last part
    step_delay: float = 0.25            # a step up moves over only after this much of its swing (it lifts first)
    swing_z_speed_m_s: float = 0.8     # a swing foot's height target moves at most this fast
    swing_preview_s: float = 0.05       # the swing sole keeps above the ground seen under it now, and this and
                                        # twice this later on its way


def _smoothstep(x: float) -> float:
    """0 below 0, 1 above 1, a smooth S between."""
    u = min(max(x, 0.0), 1.0)
    return u * u * (3 - 2 * u)


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
        self._lift_z: dict[str, float] = {}       # each foot's height when it last left the ground (estimate)
        self._swing_z: dict[str, tuple[float, float]] = {}   # side -> (lift-off time, last swing height target)
        self._ground_z: float | None = None       # the ground height the CoM follows now

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
            reach = self._reach_height_m(ref.p_com, ref.R_trunk, feet, ref.contact) - ref.p_com[2]
            ground_z, v_ground = self._follow_ground(min(stance_z, reach))
            ref.p_com = ref.p_com + np.array([0.0, 0.0, ground_z])
            ref.v_com = ref.v_com + np.array([0.0, 0.0, v_ground])
            for side in SIDES:             # a foot on the ground is held where it landed
                if ref.contact[side]:
                    ref.T_foot[side] = feet[side]
                    ref.v_foot[side] = np.zeros(3)
                    self._lift_z[side] = float(feet[side][2, 3])
                else:
                    ref.T_foot[side], ref.v_foot[side] = self._swing_target(
                        side, ref.T_foot[side], ref.v_foot[side], t, stance_z, feet, ref.contact)
            return ref
        assert self._stand is not None
        return self._stand

    def _look(self, low_state: LowState) -> None:
        """Fold a new depth frame of the camera into the height map, with the camera's pose from
        the estimated state."""
        if self._camera is None or self.terrain is None:
            return
        frame = low_state.rgbd.get(self._camera.name)
        if frame is None or frame.time_s == self.terrain.last_frame_s:
            return
        X_world_link = self.model.robot.get_T_world_frame(self._camera.link)
        self.terrain.add(frame, X_world_link, self.model.robot.get_T_world_frame("trunk")[:3, 3],
                         [T[:3, 3] for T in self._feet_now().values()])

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

    def _follow_ground(self, stance_z: float) -> tuple[float, float]:
        """The ground height the CoM is carried above [m] and its rate [m/s]: the stance feet's
        (lowered where a leg would not reach), approached at most at ``ground_speed_m_s``."""
        dt, top = self.wbc.config.dt_s, self.config.ground_speed_m_s
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

    def _swing_target(self, side: str, T_plan: np.ndarray, v_plan: np.ndarray, t_s: float, stance_z: float,
                      feet: dict[str, np.ndarray], contact: dict[str, bool]) -> tuple[np.ndarray, np.ndarray]:
        """Where a swing foot goes now (pose, velocity; world frame): the plan's swing (made on
        the z = 0 floor) carried from the height it left to the seen height where it lands (early
        in a step up, late in a step down), its sole above what is seen under it on its way.
        Over unseen ground: the stance sole's plane (a slope under the stance foot goes on)."""
        c = self.config
        swing = self.planner.swing(t_s)
        z_land = self._ground_under(swing[2]) if swing is not None else None
        if swing is None or z_land is None:
            return self._on_stance_plane(T_plan, stance_z, feet, contact), v_plan
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
        dt, top = self.wbc.config.dt_s, c.swing_z_speed_m_s
        last = self._swing_z.get(side)
        if last is not None and last[0] == t0:
            T[2, 3] = float(np.clip(T[2, 3], last[1] - top * dt, last[1] + top * dt))
            v[2] = float(np.clip(v[2], -top, top))
        self._swing_z[side] = (t0, float(T[2, 3]))
        return T, v

    @staticmethod
    def _on_stance_plane(T_plan: np.ndarray, ground_z: float, feet: dict[str, np.ndarray],
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
