"""``SimBody``: a robot in a MuJoCo world behind the ``LowCmd`` → ``LowState`` contract.

One :meth:`SimBody.step` is one control tick (500 Hz on the G1): the command is checked, the
motor drivers run their law every physics step, physics advances, the battery supplies the
electrical power, and the sensor models report what the robot's sensors would see.
Ground truth is available only through :meth:`SimBody.ground_truth`, for scoring and debugging.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mujoco
import numpy as np
from numpy.typing import NDArray

from laoshan.components.actuator import ActuatorBank
from laoshan.components.battery import Battery
from laoshan.components.catalog import Catalog
from laoshan.components.loop import LoopSpec, Watchdog
from laoshan.components.sensors import Encoders, ForcePads, Imu, ImuReading, Sampler
from laoshan.robot.description import RobotDescription
from laoshan.robot.mujoco_model import SensorNames, build_robot_spec
from laoshan.port.messages import (
    BmsState, CommandLimits, ImuState, LowCmd, LowState, MotorStates, RgbdFrame, check_low_cmd,
)
from laoshan.sim.render import RgbdCamera
from laoshan.sim.world import Lamps, WorldSpec, build_world

FloatArray = NDArray[np.float64]

BMS_PERIOD_S = 0.02   # the battery model is stepped at the BMS's 50 Hz


@dataclass(frozen=True)
class GroundTruth:
    """Simulator truth: for scoring and debugging only, never an input to a controller."""

    time_s: float
    p_world_base_m: FloatArray       # base (pelvis) position, world frame
    quat_world_base: FloatArray      # (w, x, y, z)
    v_world_base_m_s: FloatArray     # base linear velocity, world frame
    w_base_rad_s: FloatArray         # base angular velocity, base frame
    p_world_com_m: FloatArray        # whole-robot centre of mass
    q_rad: FloatArray                # joint angles, motor order
    dq_rad_s: FloatArray             # joint speeds, motor order

    @property
    def yaw_rad(self) -> float:
        """Heading of the base about the world vertical."""
        w, x, y, z = self.quat_world_base
        return math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))

    @property
    def tilt_rad(self) -> float:
        """Angle between the base z axis and the world vertical."""
        w, x, y, _ = self.quat_world_base
        z_z = 1.0 - 2.0 * (x * x + y * y)
        return math.acos(max(-1.0, min(1.0, z_z)))


def _below_any(model: mujoco.MjModel, body: int, ancestors: set[int]) -> bool:
    """Whether ``body`` is one of ``ancestors`` or hangs below one of them in the kinematic tree."""
    while body > 0:
        if body in ancestors:
            return True
        body = int(model.body_parentid[body])
    return False


PadGroup = tuple[NDArray[np.int_], ForcePads, Sampler[FloatArray]]


def _pad_groups(catalog: Catalog, kind: str, parts: list[str], rng: np.random.Generator) -> list[PadGroup]:
    """One force-pad model and sampler per catalog part in use, with the pads (indices) it covers."""
    groups = []
    for part in dict.fromkeys(parts):
        idx = np.array([k for k, p in enumerate(parts) if p == part])
        pads = ForcePads(catalog.get(kind, part), len(idx), rng)
        groups.append((idx, pads, Sampler(pads.spec.rate_Hz, pads.spec.latency_s)))
    return groups


def _read_pads(groups: list[PadGroup], true_force_N: FloatArray, t_s: float) -> FloatArray:
    """What the pads report at ``t_s`` (0 before their first sample arrives)."""
    out = np.zeros(len(true_force_N))
    for idx, pads, sampler in groups:
        if sampler.due(t_s):
            sampler.push(t_s, pads.measure(true_force_N[idx]))
        reading = sampler.latest(t_s)
        if reading is not None:
            out[idx] = reading
    return out


@dataclass(frozen=True)
class Gantry:
    """A named support, as Unitree's simulator has (its elastic band): a spring-damper holding the
    base at a pose while the drivers hold the home posture (the description's stand gains), for
    serving a robot before a controller takes it over (``laoshan sim --dds``). A scenario never
    hangs a robot on it; the robot's first valid command releases it."""

    p_world_base_m: FloatArray      # where it holds the base, world frame
    quat_world_base: FloatArray     # (w, x, y, z)
    hold_rows: FloatArray           # the drivers' input while hanging (LowCmd.as_rows of the home posture)
    k_N_m: float = 20000.0          # translational stiffness and damping
    c_Ns_m: float = 1500.0
    k_Nm_rad: float = 2000.0        # rotational stiffness and damping
    c_Nms_rad: float = 100.0

    def wrench(self, p_m: FloatArray, quat: FloatArray, v_base: FloatArray) -> FloatArray:
        """(force, torque) on the base, world frame, from its pose and free-joint velocity (linear in
        the world frame, angular in the base frame)."""
        error = np.zeros(3)
        mujoco.mju_subQuat(error, self.quat_world_base, quat)        # rotation from now to held, base frame
        R = np.zeros(9)
        mujoco.mju_quat2Mat(R, quat)
        R = R.reshape(3, 3)
        force = self.k_N_m * (self.p_world_base_m - p_m) - self.c_Ns_m * v_base[:3]
        torque = R @ (self.k_Nm_rad * error - self.c_Nms_rad * v_base[3:])
        return np.concatenate([force, torque])


class SimBody:
    """A simulated robot: takes ``LowCmd``, gives ``LowState`` (the in-process robot port,
    :class:`laoshan.port.base.RobotPort`)."""

    def __init__(self, robot: RobotDescription, world: WorldSpec | None = None, seed: int = 0,
                 battery_soc: float = 1.0, start_xy_yaw: tuple[float, float, float] = (0.0, 0.0, 0.0),
                 cameras: bool = False) -> None:
        """``cameras=True`` renders the robot's RGB-D cameras (CPU cost) into ``LowState.rgbd``."""
        world = world or WorldSpec()
        loop: LoopSpec = robot.catalog.get("controller", robot.controller)
        spec = build_robot_spec(robot, loop.physics_dt_s)
        build_world(spec, world)
        model = spec.compile()
        data = mujoco.MjData(model)
        self._bind(robot, world, model, data, "", Lamps(model, world.buttons), battery_soc, start_xy_yaw, cameras)
        self.reset(seed)

    @classmethod
    def in_shared_world(cls, robot: RobotDescription, world: WorldSpec, model: mujoco.MjModel, data: mujoco.MjData,
                        prefix: str, lamps: Lamps, battery_soc: float = 1.0,
                        start_xy_yaw: tuple[float, float, float] = (0.0, 0.0, 0.0), cameras: bool = False) -> SimBody:
        """One robot (its names prefixed ``prefix``) of a world holding several
        (:class:`laoshan.sim.shared.SharedWorld`): the world steps and resets them together."""
        body = cls.__new__(cls)
        body._bind(robot, world, model, data, prefix, lamps, battery_soc, start_xy_yaw, cameras)
        return body

    def _bind(self, robot: RobotDescription, world: WorldSpec, model: mujoco.MjModel, data: mujoco.MjData,
              prefix: str, lamps: Lamps, battery_soc: float, start_xy_yaw: tuple[float, float, float],
              cameras: bool) -> None:
        self.robot = robot
        self.world = world
        self.prefix = prefix           # of the robot's names in the model ("" when it is the world's only robot)
        self.shared = bool(prefix)
        self.loop: LoopSpec = robot.catalog.get("controller", robot.controller)
        self.model, self.data = m, _ = model, data
        self.n_motors = len(robot.motors)
        self.start_xy_yaw = start_xy_yaw
        self._initial_soc = battery_soc

        name = self._name
        base = m.joint(name("floating_base"))
        self._base_q, self._base_v = int(base.qposadr[0]), int(base.dofadr[0])
        self._base_body = m.body(name(robot.base_link)).id
        jids = [m.joint(name(j)).id for j in robot.joint_names]
        self.qadr = m.jnt_qposadr[jids]
        self.dadr = m.jnt_dofadr[jids]
        self.bank = ActuatorBank(robot.motor_specs(), self.loop.control_dt_s)
        # Actuators were added in motor order, one robot after another; their law coefficients are model parameters.
        a0 = m.actuator(name(robot.motors[0].joint)).id
        self._acts = slice(a0, a0 + self.n_motors)
        self._act_bias = m.actuator_biasprm[self._acts]
        self._act_range = m.actuator_forcerange[self._acts]
        bank = self.bank
        # The limbs' drivers cut any torque that would push a joint further past its limit (a soft stop, as
        # servo drives have). A finger may be pressed past its stop by what the hand holds: its driver does not.
        hand_bodies = {m.body(name(h.link)).id for h in robot.hands.values()}
        self.limb_joints = np.array([not _below_any(m, int(m.jnt_bodyid[j]), hand_bodies) for j in jids])
        self.limits = CommandLimits(q_min_rad=m.jnt_range[jids, 0].copy(), q_max_rad=m.jnt_range[jids, 1].copy(),
                                    tau_max_Nm=bank.tau_peak_Nm.copy(), dq_max_rad_s=bank.no_load_rad_s.copy(),
                                    kp_max=bank.kp_max.copy(), kd_max=bank.kd_max.copy())
        names = SensorNames()
        adr = lambda sensor: int(m.sensor(name(sensor)).adr[0])  # noqa: E731
        self._imu_adr = (adr(names.imu_quat), adr(names.imu_gyro), adr(names.imu_accel))
        self._foot_adr = np.array([adr(SensorNames.foot(side)) for side in robot.feet])
        self._touch_adr = np.array([adr(SensorNames.touch(p.name)) for p in robot.touch], dtype=int)
        self._sole_geoms = np.array([g for g in range(m.ngeom) if m.geom(g).name.startswith(name("sole_"))])
        self._pushes: dict[int, tuple[np.ndarray, float]] = {}   # body -> (force [N, world], until [s])
        self._geoms_of: dict[str, np.ndarray] = {}   # world body -> which geoms are on it (scoring contacts)
        self._robot_geoms = m.body_rootid[m.geom_bodyid] == m.body_rootid[self._base_body]   # ... and the robot's
        self._is_sole = np.zeros(m.ngeom, dtype=bool)
        self._is_sole[self._sole_geoms] = True
        self._cameras_on = cameras
        self.streaming = True    # cameras send frames; False stops them (no new frames, no render cost)
        self.realtime = False    # the robot's clock waits for the controller (see RobotPort.realtime)
        self._cameras: list[tuple[RgbdCamera, Sampler[RgbdFrame]]] = []
        self.lamps = lamps       # the world's one device logic: buttons light their lamps

    def _name(self, name: str) -> str:
        """The model's name of the robot's element ``name``."""
        return self.prefix + name

    # --- lifecycle ------------------------------------------------------------------------------

    def reset(self, seed: int = 0) -> LowState:
        """Robot at its home posture standing on the floor at ``start_xy_yaw``; fresh sensors (a
        robot of a shared world is reset with it: ``SharedWorld.reset``)."""
        if self.shared:
            raise RuntimeError("a robot of a shared world is reset with the world (SharedWorld.reset)")
        mujoco.mj_resetData(self.model, self.data)
        self.lamps.reset()
        return self.reset_robot(seed)

    def reset_robot(self, seed: int) -> LowState:
        """This robot alone at home on the floor with fresh sensors, the world's state as it is
        (for a shared world's reset, after ``mj_resetData``)."""
        d = self.data
        for body in self._pushes:
            d.xfrc_applied[body] = 0.0
        self._pushes = {}
        self.gantry: Gantry | None = None
        self._place_on_ground()
        rng = np.random.default_rng(seed)
        c = self.robot.catalog
        self.encoders = Encoders(c.get("encoder", self.robot.encoder), self.n_motors, rng)
        self.imu = Imu(c.get("imu", self.robot.imu.part), rng)
        self._foot_pads = _pad_groups(c, "force", [f.force_part for f in self.robot.feet.values()], rng)
        self._touch_pads = _pad_groups(c, "touch", [p.part for p in self.robot.touch], rng)
        self._samplers = {
            "encoder": Sampler(self.encoders.spec.rate_Hz, self.encoders.spec.latency_s),
            "imu": Sampler(self.imu.spec.rate_Hz, self.imu.spec.latency_s),
        }
        self.close()
        if self._cameras_on:
            for mount in self.robot.cameras:
                cam = RgbdCamera(self.model, self._name(mount.name), c.get("camera", mount.part), rng)
                self._cameras.append((cam, Sampler(cam.spec.rate_Hz, cam.spec.latency_s)))
        self.bank.reset()
        self.battery = Battery(c.get("battery", self.robot.battery), self._initial_soc)
        self.watchdog = Watchdog(self.loop.watchdog_timeout_s)
        self._dq_true = d.qvel[self.dadr]
        self._bms_energy_J = 0.0
        self._damping = LowCmd.damping(self.n_motors, self.loop.damping_kd_Nms).as_rows()
        self._active = self._damping          # until a first valid command the drivers damp, as the G1's do
        self._mode = np.ones(self.n_motors, np.int8)
        self._bms_every = max(1, round(BMS_PERIOD_S / self.loop.control_dt_s))
        self.tick = 0
        self.rejected_commands = 0
        self.energy_J = 0.0
        self._last_dq = np.zeros(self.n_motors)
        return self._sense(rejected="", damping=True)

    def _place_on_ground(self) -> None:
        m, d = self.model, self.data
        x, y, yaw = self.start_xy_yaw
        b = self._base_q
        d.qpos[b:b + 7] = [x, y, 0.0, math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)]
        d.qpos[self.qadr] = [mot.home_rad for mot in self.robot.motors]
        mujoco.mj_kinematics(m, d)
        lowest = min(d.geom_xpos[g, 2] - m.geom_size[g, 0] for g in self._sole_geoms)
        d.qpos[b + 2] = -lowest + 1e-3
        mujoco.mj_forward(m, d)

    def push(self, impulse_Ns: np.ndarray | list[float], duration_s: float = 0.1, body: str | None = None) -> None:
        """A deliberate disturbance: a shove of ``impulse_Ns`` (world frame) on the base, or on the
        world body named ``body`` (an object pulled out of the hands), spread evenly over
        ``duration_s`` from now. The only external force the simulator applies, for
        push-recovery and lost-grasp tests and benchmarks."""
        impulse = np.asarray(impulse_Ns, dtype=float)
        if impulse.shape != (3,) or not np.isfinite(impulse).all() or not duration_s > 0:
            raise ValueError("push needs a finite (3,) impulse [N·s] and a positive duration [s]")
        target = self._base_body if body is None else self._world_body(body)
        self._pushes[target] = (impulse / duration_s, self.time_s + duration_s)

    def hang_on_gantry(self) -> None:
        """Hold the robot standing where it is now on a :class:`Gantry` until :meth:`release_gantry`."""
        home = LowCmd.zeros(self.n_motors)
        home.motor_cmd.q[:] = [m.home_rad for m in self.robot.motors]
        home.motor_cmd.kp[:] = [m.kp_Nm_rad for m in self.robot.motors]
        home.motor_cmd.kd[:] = [m.kd_Nms_rad for m in self.robot.motors]
        self.gantry = Gantry(self.data.xpos[self._base_body].copy(), self.data.xquat[self._base_body].copy(),
                             home.as_rows())

    def release_gantry(self) -> None:
        self.gantry = None

    @property
    def time_s(self) -> float:
        return self.tick * self.loop.control_dt_s

    @property
    def control_dt_s(self) -> float:
        return self.loop.control_dt_s

    # --- the loop -------------------------------------------------------------------------------

    def step(self, cmd: LowCmd | None) -> LowState:
        """Advance one control tick under ``cmd`` (None: no command arrived this tick). Never raises
        on what ``cmd`` holds: a command the drivers cannot run is rejected, counted and reported in
        ``LowState.cmd_rejected``, and the drivers keep the last valid one. (A robot of a shared
        world steps with the world: ``SharedWorld.step``.)"""
        if self.shared:
            raise RuntimeError("a robot of a shared world steps with the world (SharedWorld.step)")
        rejected, damping = self.drive(cmd)
        mujoco.mj_step(self.model, self.data, nstep=self.loop.substeps)
        self.lamps.update(self.data)
        return self.after_physics(rejected, damping)

    def drive(self, cmd: LowCmd | None) -> tuple[str, bool]:
        """Before a tick's physics: check ``cmd`` and set the drivers' law and pushes; returns
        (why the command was rejected or "", whether the drivers damp)."""
        t = self.time_s
        rejected = ""
        if cmd is not None:
            rejected, rows, mode = check_low_cmd(cmd, self.limits)
            if rejected:
                self.rejected_commands += 1
            else:
                self._active, self._mode = rows, mode
                self.watchdog.feed(t)
        # damping until the first valid command (as the G1's drivers start), after a command loss and on a BMS trip
        damping = self.watchdog.last_feed_s is None or self.watchdog.tripped(t) or bool(self.battery.state.fault)
        command = self._damping if damping else self._active
        if self.gantry is not None and self.watchdog.last_feed_s is None:
            command, damping = self.gantry.hold_rows, False
        d, bank = self.data, self.bank
        # The drivers evaluate their law every physics step (inside mj_step, in affine form).
        u, kp, kd = bank.driver_law(command)
        d.ctrl[self._acts] = u
        self._act_bias[:, 1] = -kp
        self._act_bias[:, 2] = -kd
        if self.battery.state.fault:
            self._act_range[:] = 0.0     # the BMS has cut the motor bus
        else:
            lo, hi = bank.torque_limits(self._dq_true)
            q = d.qpos[self.qadr]
            stop = self.limb_joints
            self._act_range[:, 0] = np.where(stop & (q < self.limits.q_min_rad), np.maximum(lo, 0.0), lo)
            self._act_range[:, 1] = np.where(stop & (q > self.limits.q_max_rad), np.minimum(hi, 0.0), hi)
        d.xfrc_applied[self._base_body] = 0.0
        for body, (force_N, until_s) in self._pushes.items():
            d.xfrc_applied[body, :3] = force_N if t < until_s - 1e-9 else 0.0
            d.xfrc_applied[body, 3:] = 0.0
        if self.gantry is not None:
            d.xfrc_applied[self._base_body] += self.gantry.wrench(d.xpos[self._base_body], d.xquat[self._base_body],
                                                                  d.qvel[self._base_v:self._base_v + 6])
        return rejected, damping

    def after_physics(self, rejected: str, damping: bool) -> LowState:
        """After a tick's physics: the drivers' and the battery's accounts, then the sensors."""
        d, bank = self.data, self.bank
        self._dq_true = d.qvel[self.dadr]
        bank.account(d.actuator_force[self._acts].copy(), self._dq_true)
        total_W = float(bank.power_W.sum()) + self.loop.idle_power_W
        dt = self.loop.control_dt_s
        self.energy_J += total_W * dt
        self._bms_energy_J += total_W * dt
        self.tick += 1
        if self.tick % self._bms_every == 0:   # the BMS integrates the pack at its own rate
            period = self._bms_every * dt
            self.battery.step(self._bms_energy_J / period, period)
            self._bms_energy_J = 0.0
        return self._sense(rejected, damping)

    def _sense(self, rejected: str, damping: bool) -> LowState:
        t, d = self.time_s, self.data
        s = self._samplers
        if s["encoder"].due(t):
            s["encoder"].push(t, self.encoders.measure(d.qpos[self.qadr], self._dq_true))
        # before a sensor's first sample arrives (its latency), it reports NaN: no reading yet
        q, dq = s["encoder"].latest(t) or (np.full(self.n_motors, np.nan), np.full(self.n_motors, np.nan))
        if s["imu"].due(t):
            qa, ga, aa = self._imu_adr
            s["imu"].push(t, self.imu.measure(d.sensordata[qa:qa + 4], d.sensordata[ga:ga + 3],
                                              d.sensordata[aa:aa + 3]))
        imu = s["imu"].latest(t) or ImuReading(*(np.full(k, np.nan) for k in (4, 3, 3, 3)))
        feet = _read_pads(self._foot_pads, d.sensordata[self._foot_adr], t)
        touch = _read_pads(self._touch_pads, d.sensordata[self._touch_adr], t)
        rgbd = {}
        for cam, sampler in self._cameras:
            if self.streaming and sampler.due(t):
                sampler.push(t, cam.capture(d, t))
            frame = sampler.latest(t)
            if frame is not None:
                rgbd[cam.name.removeprefix(self.prefix)] = frame    # by the robot's own name for it
        ddq = (dq - self._last_dq) / self.loop.control_dt_s
        self._last_dq = dq
        b = self.battery.state
        return LowState(
            tick=self.tick, time_s=t,
            motor_state=MotorStates(q=q, dq=dq, ddq=ddq, tau_est=self.bank.tau_Nm.copy(),
                                    temperature=self.bank.temperature_C.copy(),
                                    mode=self._mode),
            imu_state=ImuState(imu.quaternion, imu.gyroscope, imu.accelerometer, imu.rpy),
            foot_force_N=feet, touch_N=touch,
            bms=BmsState(soc=b.soc, voltage_V=b.voltage_V, current_A=b.current_A, fault=b.fault),
            rgbd=rgbd, cmd_rejected=rejected, damping_active=damping,
        )

    def close(self) -> None:
        """Free the camera renderers (GL contexts)."""
        for cam, _ in self._cameras:
            cam.close()
        self._cameras = []

    # --- scoring and debugging only -------------------------------------------------------------

    def ground_truth(self) -> GroundTruth:
        """Simulator truth (scoring/debugging only)."""
        d, bq, bv = self.data, self._base_q, self._base_v
        return GroundTruth(
            time_s=self.time_s, p_world_base_m=d.qpos[bq:bq + 3].copy(),
            quat_world_base=d.qpos[bq + 3:bq + 7].copy(), v_world_base_m_s=d.qvel[bv:bv + 3].copy(),
            w_base_rad_s=d.qvel[bv + 3:bv + 6].copy(), p_world_com_m=d.subtree_com[self._base_body].copy(),
            q_rad=d.qpos[self.qadr].copy(),
            dq_rad_s=d.qvel[self.dadr].copy(),
        )

    def _world_body(self, name: str) -> int:
        try:
            return int(self.model.body(name).id)
        except KeyError:
            raise ValueError(f"the world has no body {name!r}") from None

    def ground_truth_contact_N(self, body: str, other: str | None = None) -> float:
        """Simulator truth (scoring only): the summed normal force [N] of the contacts between the
        robot (or the world body named ``other``) and the world body named ``body`` (each with its
        children) now."""
        m, d = self.model, self.data
        theirs, ours = self._geoms_in(body), self._robot_geoms if other is None else self._geoms_in(other)
        g = d.contact.geom[:d.ncon]
        hits = np.flatnonzero((ours[g[:, 0]] & theirs[g[:, 1]]) | (ours[g[:, 1]] & theirs[g[:, 0]]))
        force, total = np.zeros(6), 0.0
        for i in hits:
            mujoco.mj_contactForce(m, d, int(i), force)
            total += abs(float(force[0]))
        return total

    def _geoms_in(self, body: str) -> np.ndarray:
        """Which geoms (a mask) are on the world body named ``body`` or its children."""
        m = self.model
        if body not in self._geoms_of:
            root = self._world_body(body)
            inside = np.zeros(m.nbody, dtype=bool)
            for b in range(m.nbody):     # bodies come after their parents
                inside[b] = b == root or (b > 0 and inside[m.body_parentid[b]])
            self._geoms_of[body] = inside[m.geom_bodyid]
        return self._geoms_of[body]

    def ground_truth_touches_down(self) -> bool:
        """Simulator truth (scoring only): whether any part of the robot other than its soles
        touches something that is not the robot (a knee, a hand or the pelvis on the floor)."""
        g = self.data.contact.geom[:self.data.ncon]
        ours, soles = self._robot_geoms, self._is_sole
        return bool(np.any((ours[g[:, 0]] & ~soles[g[:, 0]] & ~ours[g[:, 1]])
                           | (ours[g[:, 1]] & ~soles[g[:, 1]] & ~ours[g[:, 0]])))

    def ground_truth_link_pose(self, link: str,
                               offset_m: np.ndarray | tuple[float, ...] = (0.0, 0.0, 0.0)) -> FloatArray:
        """Simulator truth (scoring only): 4x4 world pose of a point fixed in ``link``'s frame."""
        try:
            b = self.data.body(self._name(link))
        except KeyError:
            raise ValueError(f"{self.robot.name} has no link {link!r}") from None
        T = np.eye(4)
        T[:3, :3] = b.xmat.reshape(3, 3)
        T[:3, 3] = b.xpos + T[:3, :3] @ np.asarray(offset_m, dtype=float)
        return T
