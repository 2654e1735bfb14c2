"""Walking references from a velocity command: footsteps, CoM (LIPM with ZMP preview), swing feet.

PlaCo's walk pattern generator does the planning: a repetitive footstep planner turns the command
into steps (clipped to the step limits), the CoM trajectory keeps the ZMP inside the supports, and
swing feet follow smooth lift/land curves. The plan is remade every few planning steps, so a new
command takes effect within a step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import placo

from laoshan.cerebellum.control_model import ControlModel, load_placo_robot
from laoshan.cerebellum.estimator import SIDES
from laoshan.cerebellum.terrain import HeightMap
from laoshan.cerebellum.wbc import WbcReferences
from laoshan.robot.description import RobotDescription

class WalkPlanError(RuntimeError):
    """No CoM trajectory keeps the ZMP inside the planned supports (e.g. after a hard push)."""


_SIDE = {"left": placo.HumanoidRobot_Side.left, "right": placo.HumanoidRobot_Side.right}


@dataclass(frozen=True)
class GaitConfig:
    """The walk's numbers: the body's (``for_robot``: from its description's [gait] table) and the
    planner's own."""

    com_height_m: float                  # CoM height while walking
    foot_height_m: float                 # swing apex
    single_support_s: float              # one step's swing time
    max_step_forward_m: float
    max_step_backward_m: float
    max_step_lateral_m: float
    max_step_yaw_rad: float
    double_support_ratio: float = 0.25   # double support time / single support time
    start_end_ratio: float = 0.75        # start/stop double support / single support time
    trunk_pitch_rad: float = 0.0
    zmp_margin_m: float = 0.02           # ZMP kept this far inside the sole
    planned_steps: int = 6               # horizon of the CoM plan, in steps
    replan_every_steps: float = 0.5      # replan this often (in steps)
    timesteps_per_step: int = 10         # planning resolution
    max_accel_m_s2: float = 0.4          # the applied command approaches the target this fast ...
    max_yaw_accel_rad_s2: float = 1.0    # ... (start, stop and changes stay feasible for the LIPM)
    step_feedback_gain: float = 1.0      # future footsteps move by gain x (measured - planned DCM)
    max_step_correction_m: float = 0.15  # ... at most this far per replan
    edge_rise_m: float = 0.03            # a sole over seen ground this far off one plane straddles an edge ...
    edge_margin_m: float = 0.045         # ... (the sole with this margin at heel and toe) ...
    max_tread_shift_m: float = 0.20      # ... and its footstep moves along its heading at most this far

    @classmethod
    def for_robot(cls, robot: RobotDescription, **planner: Any) -> GaitConfig:
        """The gait of ``robot``'s description (RobotConfigError if it has none), with the
        planner's settings ``planner`` (defaults otherwise)."""
        g = robot.walking()
        return cls(com_height_m=g.com_height_m, foot_height_m=g.foot_height_m, single_support_s=g.single_support_s,
                   max_step_forward_m=g.max_step_forward_m, max_step_backward_m=g.max_step_backward_m,
                   max_step_lateral_m=g.max_step_lateral_m, max_step_yaw_rad=g.max_step_yaw_rad, **planner)

    def __post_init__(self) -> None:
        if not 0.2 <= self.single_support_s <= 1.5:
            raise ValueError(f"single_support_s={self.single_support_s} must be in [0.2, 1.5] s")
        if not 0.3 <= self.com_height_m <= 1.5:
            raise ValueError(f"com_height_m={self.com_height_m} must be in [0.3, 1.5] m")

    @property
    def step_period_s(self) -> float:
        return self.single_support_s * (1.0 + self.double_support_ratio)

    def limited(self, command: VelocityCommand) -> tuple[VelocityCommand, str | None]:
        """``command`` within what the gait can step (its step limits over its step period), and
        what was limited and why (None: nothing)."""
        T = self.step_period_s
        bounds = {"vx_m_s": (-self.max_step_backward_m / T, self.max_step_forward_m / T, "m/s"),
                  "vy_m_s": (-self.max_step_lateral_m / T, self.max_step_lateral_m / T, "m/s"),
                  "yaw_rate_rad_s": (-self.max_step_yaw_rad / T, self.max_step_yaw_rad / T, "rad/s")}
        applied, notes = {}, []
        for name, (lo, hi, unit) in bounds.items():
            asked = getattr(command, name)
            applied[name] = min(max(asked, lo), hi)
            if applied[name] != asked:
                notes.append(f"{name.split('_')[0]} {asked:g} {unit} limited to {applied[name]:.2f} "
                             f"(the gait steps at most {(hi if asked > 0 else -lo) * T:.2f} {unit.split('/')[0]} "
                             f"every {T:.2f} s)")
        return VelocityCommand(**applied), "; ".join(notes) or None


@dataclass(frozen=True)
class VelocityCommand:
    vx_m_s: float = 0.0       # forward, base heading frame
    vy_m_s: float = 0.0       # left
    yaw_rate_rad_s: float = 0.0

    def __post_init__(self) -> None:
        for name in ("vx_m_s", "vy_m_s", "yaw_rate_rad_s"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"{name} must be finite, got {getattr(self, name)}")

    @property
    def is_zero(self) -> bool:
        return self.vx_m_s == 0.0 and self.vy_m_s == 0.0 and self.yaw_rate_rad_s == 0.0


class WalkPlanner:
    """Velocity command in, whole-body references out, in the estimator's world frame."""

    def __init__(self, model: ControlModel, config: GaitConfig | None = None) -> None:
        self.config = c = config or GaitConfig.for_robot(model.desc)
        self.model = model
        self.robot = load_placo_robot(model.urdf_path)   # the planner's own kinematic copy
        p = self.params = placo.HumanoidParameters()
        p.single_support_duration = c.single_support_s
        p.single_support_timesteps = c.timesteps_per_step
        p.double_support_ratio = c.double_support_ratio
        p.startend_double_support_ratio = c.start_end_ratio
        p.planned_timesteps = c.planned_steps * c.timesteps_per_step
        p.replan_timesteps = max(1, int(c.replan_every_steps * c.timesteps_per_step))
        p.walk_com_height = c.com_height_m
        p.walk_foot_height = c.foot_height_m
        p.walk_trunk_pitch = c.trunk_pitch_rad
        p.walk_foot_rise_ratio = 0.2
        p.foot_length, p.foot_width = model.foot.length_m, model.foot.width_m
        p.feet_spacing = model.feet_spacing_m
        p.zmp_margin = c.zmp_margin_m
        p.foot_zmp_target_x = p.foot_zmp_target_y = 0.0
        p.walk_max_dx_forward = c.max_step_forward_m
        p.walk_max_dx_backward = c.max_step_backward_m
        p.walk_max_dy = c.max_step_lateral_m
        p.walk_max_dtheta = c.max_step_yaw_rad
        self.pattern = placo.WalkPatternGenerator(self.robot, p)
        # When no CoM trajectory keeps the ZMP strictly inside the supports (a fast walk whose
        # horizon ends in a stop, footsteps moved after a push), the same plan is made with the
        # ZMP and stop constraints as heavy costs instead: the nearest plan, not the old one
        # run out (PlaCo keeps the old trajectory on a failed replan, silently).
        self.soft_pattern = placo.WalkPatternGenerator(self.robot, p)
        self.soft_pattern.soft = True
        self.soft_replans = 0      # replans that needed the soft constraints
        self.terrain: HeightMap | None = None   # the ground as seen: footholds are kept off its edges
        self.footsteps = placo.FootstepsPlannerRepetitive(p)
        self.target = VelocityCommand()    # what was asked for
        self.command = VelocityCommand()   # what the steps are planned for now (slewed to target)
        self.trajectory: placo.WPGTrajectory | None = None
        self._last_replan_s = 0.0
        self._stop_at_s: float | None = None   # stop at the first double support after this time
        self._t_now = 0.0

    @property
    def walking(self) -> bool:
        return self.trajectory is not None

    @property
    def _horizon_steps(self) -> int:
        """Steps planned ahead while walking; each replan plans them again from the support foot."""
        return self.config.planned_steps + 2

    def _configure_steps(self, command: VelocityCommand, steps: int) -> None:
        T = self.config.step_period_s
        self.footsteps.configure(command.vx_m_s * T, command.vy_m_s * T, command.yaw_rate_rad_s * T, steps)

    def set_velocity(self, command: VelocityCommand) -> str | None:
        """New target velocity, limited to what the gait can step (returned: what was limited and
        why; None: nothing). The planned velocity moves toward it within the acceleration
        limits at each replan; once it is zero the robot steps in place for two steps (with foot
        placement feedback) and stops at the next double support; sending the same command again
        changes nothing."""
        command, note = self.config.limited(command)
        if command != self.target:       # the same command again keeps a stop under way
            self.target = command
            self._stop_at_s = None
        return note

    def _slew(self, dt_s: float) -> None:
        c, cur, tgt = self.config, self.command, self.target
        def toward(value: float, goal: float, rate: float) -> float:
            return value + float(np.clip(goal - value, -rate * dt_s, rate * dt_s))
        self.command = VelocityCommand(toward(cur.vx_m_s, tgt.vx_m_s, c.max_accel_m_s2),
                                       toward(cur.vy_m_s, tgt.vy_m_s, c.max_accel_m_s2),
                                       toward(cur.yaw_rate_rad_s, tgt.yaw_rate_rad_s, c.max_yaw_accel_rad_s2))
        self._configure_steps(self.command, self._horizon_steps)
        if self.command.is_zero and self.target.is_zero and self._stop_at_s is None:
            self._stop_at_s = self._t_now + 2 * c.step_period_s

    def start(self, t_s: float, T_left: np.ndarray, T_right: np.ndarray, p_com: np.ndarray) -> None:
        """Plan a walk from the feet and CoM where they are now (world frame); it goes on until
        the command is zero."""
        self.command = VelocityCommand()
        self._configure_steps(self.command, self._horizon_steps)
        self._stop_at_s = None
        first = "left" if self.target.vy_m_s > 0 or self.target.yaw_rate_rad_s > 0 else "right"
        footsteps = self.footsteps.plan(_SIDE[first], placo.flatten_on_floor(T_left),
                                        placo.flatten_on_floor(T_right))
        supports = placo.FootstepsPlanner.make_supports(
            footsteps, t_s, True, self.params.has_double_support(), True)
        try:
            self.trajectory = self.pattern.plan(supports, p_com, t_s)
        except RuntimeError as exc:
            raise WalkPlanError(f"cannot start walking: {exc}") from None
        self._last_replan_s = t_s

    @property
    def omega_rad_s(self) -> float:
        """Natural frequency of the linear inverted pendulum at the walking CoM height."""
        return math.sqrt(9.81 / self.config.com_height_m)

    def dcm_error(self, t_s: float, p_dcm: np.ndarray) -> np.ndarray:
        """Measured minus planned divergent component of motion (x, y) [m]."""
        assert self.trajectory is not None
        return p_dcm[:2] - self.trajectory.get_p_world_DCM(t_s, self.omega_rad_s)[:2]

    def update(self, t_s: float, p_dcm: np.ndarray | None = None) -> None:
        """Replan when due; stop walking once a stop has been carried out.

        ``p_dcm`` is the measured divergent component of motion (CoM + CoM velocity / omega,
        world frame): its error to the plan moves the footsteps not yet taken (foot placement
        feedback, as a capture point step), so pushes and tracking errors are caught by stepping.
        """
        traj = self.trajectory
        self._t_now = t_s
        if traj is None:
            return
        if t_s >= traj.t_end or (self._stop_at_s is not None and t_s >= self._stop_at_s
                                 and traj.support_is_both(t_s)):
            self.trajectory = None       # walk over: the caller stands where the feet are
            return
        period = self.params.replan_timesteps * self.params.dt()
        if t_s - self._last_replan_s >= period and self.pattern.can_replan_supports(traj, t_s):
            self._slew(t_s - self._last_replan_s)
            supports = self.pattern.replan_supports(self.footsteps, traj, t_s, self._last_replan_s)
            if p_dcm is not None:
                self._move_future_steps(supports, self.dcm_error(t_s, p_dcm))
            if self.terrain is not None:
                self._onto_treads(supports)
            try:
                replanned = self.pattern.replan(supports, traj, t_s)
                if not replanned.replan_success:
                    replanned = self.soft_pattern.replan(supports, traj, t_s)
                    self.soft_replans += 1
                self.trajectory = replanned
            except RuntimeError:
                pass                     # keep following the previous plan; retry at the next replan
            self._last_replan_s = t_s

    def _move_future_steps(self, supports: list, error_xy: np.ndarray) -> None:
        """Shift every footstep not in the current support by the clipped DCM feedback."""
        c = self.config
        shift = c.step_feedback_gain * error_xy
        norm = float(np.linalg.norm(shift))
        if norm > c.max_step_correction_m:
            shift *= c.max_step_correction_m / norm
        landed = [np.asarray(f.frame)[:2, 3].copy() for f in supports[0].footsteps]
        for i in range(1, len(supports)):     # index, not slice: a slice of the vector is a copy
            support = supports[i]
            steps = support.footsteps          # the binding hands out copies: edit, then store
            for step in steps:
                xy = np.asarray(step.frame)[:2, 3]
                if not any(np.allclose(xy, p, atol=1e-6) for p in landed):
                    step.set_frame_xy(float(xy[0] + shift[0]), float(xy[1] + shift[1]))
            support.footsteps = steps

    def _onto_treads(self, supports: list) -> None:
        """Move each footstep not yet taken that would straddle an edge of the seen ground (the
        ground under its sole not one plane to within ``edge_rise_m``: a ramp is fine) along its
        heading until the whole sole is on one level: forward onto the next tread if neither the
        step (from the other foot) nor the swing (from this foot's last footstep) exceeds the
        forward step limit, else back (the next step then goes up from alongside); at most
        ``max_tread_shift_m``. Unknown ground is left as planned."""
        c, terrain = self.config, self.terrain
        assert terrain is not None
        half_l, half_w = self.model.foot.length_m / 2 + c.edge_margin_m, self.model.foot.width_m / 2

        def straddles(xy: np.ndarray, yaw: float) -> bool:
            return terrain.uneven(xy, yaw, half_l, half_w, c.edge_rise_m)

        shifts = np.arange(0.02, c.max_tread_shift_m + 1e-9, 0.02)
        previous = {np.asarray(f.frame)[:2, 3].tobytes(): True for f in supports[0].footsteps}
        last = {str(f.side): np.asarray(f.frame)[:2, 3].copy() for f in supports[0].footsteps}
        for i in range(1, len(supports)):
            support = supports[i]
            steps = support.footsteps          # the binding hands out copies: edit, then store
            for step in steps:
                frame = np.asarray(step.frame)
                xy, yaw, side = frame[:2, 3].copy(), math.atan2(frame[1, 0], frame[0, 0]), str(step.side)
                if xy.tobytes() not in previous and straddles(xy, yaw):
                    heading = np.array([math.cos(yaw), math.sin(yaw)])
                    other = next((p for s_, p in last.items() if s_ != side), xy)
                    before = last.get(side, other)      # this foot's previous footstep
                    ahead = [xy + d * heading for d in shifts
                             if max(float((xy + d * heading - p) @ heading) for p in (other, before))
                             <= c.max_step_forward_m]
                    for new in ahead + [xy - d * heading for d in shifts]:
                        if not straddles(new, yaw):
                            step.set_frame_xy(float(new[0]), float(new[1]))
                            xy = new
                            break
                previous[np.asarray(step.frame)[:2, 3].tobytes()] = True
                last[side] = xy
            support.footsteps = steps

    def _swing_times(self, t_s: float) -> tuple[float, float, str] | None:
        """Lift-off and planned touchdown times [s] of the current swing and its foot; None in
        double support or when not walking. (The support keeps its start across replans; a
        replanned part starts at the replan.)"""
        traj = self.trajectory
        if traj is None or traj.support_is_both(t_s):
            return None
        return (traj.get_support(t_s).t_start, traj.get_part_t_end(t_s),
                next(s for s in SIDES if s != str(traj.support_side(t_s))))

    def swing(self, t_s: float) -> tuple[float, float, np.ndarray] | None:
        """The current swing: lift-off and planned touchdown times [s] and the touchdown pose of
        the swing foot (4x4, plan frame: the floor at z = 0); None in double support or when not
        walking."""
        times = self._swing_times(t_s)
        if times is None:
            return None
        t0, t1, side = times
        return t0, t1, self.foot(side, t1)

    def foot(self, side: str, t_s: float) -> np.ndarray:
        """The plan's pose (4x4) of the ``side`` foot at ``t_s`` (world frame, the floor at z = 0)."""
        traj = self.trajectory
        assert traj is not None
        return traj.get_T_world_left(t_s) if side == "left" else traj.get_T_world_right(t_s)

    def swing_phase(self, t_s: float) -> float | None:
        """Fraction of the current swing elapsed (0 at lift-off, 1 at planned touchdown); None in
        double support or when not walking."""
        times = self._swing_times(t_s)
        if times is None:
            return None
        t0, t1, _ = times
        return float(np.clip((t_s - t0) / (t1 - t0), 0.0, 1.0)) if t1 > t0 else None

    def references(self, t_s: float) -> WbcReferences:
        traj = self.trajectory
        if traj is None:
            raise RuntimeError("WalkPlanner.references() while not walking")
        t = min(t_s, traj.t_end)
        v_foot = {s: np.zeros(3) for s in SIDES}
        if traj.support_is_both(t):
            contact = {s: True for s in SIDES}
        else:
            support = str(traj.support_side(t))
            contact = {s: s == support for s in SIDES}
            swing = next(s for s in SIDES if s != support)
            v_foot[swing] = traj.get_v_world_foot(_SIDE[swing], t)
        return WbcReferences(
            p_com=traj.get_p_world_CoM(t), v_com=traj.get_v_world_CoM(t), a_com=traj.get_a_world_CoM(t),
            R_trunk=traj.get_R_world_trunk(t),
            T_foot={"left": traj.get_T_world_left(t), "right": traj.get_T_world_right(t)},
            v_foot=v_foot, contact=contact,
        )
