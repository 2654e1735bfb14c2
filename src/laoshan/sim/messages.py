"""The body contract: ``LowCmd`` in, ``LowState`` out, as on the G1's low-level DDS interface.

Field names mirror Unitree SDK2's ``unitree_hg`` messages (``LowCmd_``/``MotorCmd_``,
``LowState_``/``MotorState_``/``IMUState_``, ``BmsState_``), vectorized over motors: where the
message has ``motor_cmd[i].kp`` we have ``motor_cmd.kp[i]``. Motor ``i`` is the robot
description's ``motors[i]`` (G1 body order, then the Dex3 hands on the functional robot).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

MODE_DISABLE, MODE_ENABLE = 0, 1   # MotorCmd_.mode


@dataclass(frozen=True)
class RgbdFrame:
    """One RGB-D image pair from a robot camera."""

    time_s: float                  # when the image was taken
    rgb: NDArray[np.uint8]         # (H, W, 3)
    depth_m: NDArray[np.float32]   # (H, W), 0 where the camera has no valid return
    fx_px: float                   # pinhole intrinsics, optical frame (x right, y down, z forward)
    fy_px: float
    cx_px: float
    cy_px: float


@dataclass
class MotorCmds:
    """``MotorCmd_`` for every motor: driver law ``tau = kp (q - q_m) + kd (dq - dq_m) + tau``."""

    mode: NDArray[np.int8]   # 1 = enabled (driver runs the law), 0 = disabled (no torque)
    q: FloatArray            # target joint angle [rad]
    dq: FloatArray           # target joint speed [rad/s]
    tau: FloatArray          # feed-forward torque [N·m]
    kp: FloatArray           # stiffness [N·m/rad]
    kd: FloatArray           # damping [N·m·s/rad]

    @classmethod
    def zeros(cls, n: int) -> MotorCmds:
        return cls(np.ones(n, np.int8), np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n))


@dataclass
class LowCmd:
    """``LowCmd_``: one command for all motors."""

    motor_cmd: MotorCmds
    mode_pr: int = 0        # ankle/waist parallel-mechanism mode: 0 = pitch/roll (PR), 1 = A/B
    mode_machine: int = 0   # robot type id, echoed from LowState

    @classmethod
    def zeros(cls, n: int) -> LowCmd:
        return cls(MotorCmds.zeros(n))

    @classmethod
    def damping(cls, n: int, kd_Nms: float) -> LowCmd:
        """The safe damping command: no stiffness, no feed-forward, joint damping ``kd_Nms``."""
        cmd = cls.zeros(n)
        cmd.motor_cmd.kd[:] = kd_Nms
        return cmd

    def as_rows(self) -> FloatArray:
        """(5, n) array of q, dq, kp, kd, tau, zeroed for disabled motors (the driver's input)."""
        m = self.motor_cmd
        return _zero_disabled(np.array([m.q, m.dq, m.kp, m.kd, m.tau], dtype=float), m.mode)


def _zero_disabled(rows: FloatArray, mode: NDArray[np.int8]) -> FloatArray:
    rows[:, mode == MODE_DISABLE] = 0.0
    return rows


@dataclass
class MotorStates:
    """``MotorState_`` for every motor."""

    q: FloatArray             # joint angle [rad] (encoder)
    dq: FloatArray            # joint speed [rad/s]
    ddq: FloatArray           # joint acceleration [rad/s^2] (differentiated by the driver)
    tau_est: FloatArray       # torque the driver applies [N·m] (from phase current)
    temperature: FloatArray   # winding temperature [°C]
    mode: NDArray[np.int8]    # echo of the commanded mode


@dataclass
class ImuState:
    """``IMUState_``."""

    quaternion: FloatArray      # (w, x, y, z)
    gyroscope: FloatArray       # [rad/s], IMU frame
    accelerometer: FloatArray   # [m/s^2], IMU frame
    rpy: FloatArray             # [rad]


@dataclass
class BmsState:
    """Battery management (``BmsState_`` essentials)."""

    soc: float          # state of charge, 0..1
    voltage_V: float
    current_A: float    # positive = discharge
    fault: str = ""     # "" or the BMS limit that tripped


@dataclass
class LowState:
    """``LowState_`` plus the functional robot's extra channels (foot force, touch pads)."""

    tick: int                   # control ticks since reset (LowState_.tick)
    time_s: float               # tick * control period
    motor_state: MotorStates
    imu_state: ImuState
    foot_force_N: FloatArray    # normal force under each sole, description feet order (left, right)
    touch_N: FloatArray         # normal force on each touch pad, description order (empty if none)
    bms: BmsState
    rgbd: dict[str, RgbdFrame] = field(default_factory=dict)  # camera name -> latest frame
    mode_pr: int = 0
    mode_machine: int = 0
    cmd_rejected: str = ""      # why the last LowCmd was rejected ("" if accepted)
    damping_active: bool = False  # the body is in the safe damping mode (watchdog or fault)


@dataclass(frozen=True)
class CommandLimits:
    """What the motor drivers accept; anything else is rejected before it reaches physics."""

    q_min_rad: FloatArray
    q_max_rad: FloatArray
    tau_max_Nm: FloatArray
    kp_max: float = 1000.0      # N·m/rad
    kd_max: float = 100.0       # N·m·s/rad
    q_margin_rad: float = 0.1   # targets this far beyond a joint limit are still accepted
    n: int = field(init=False)
    rows_min: FloatArray = field(init=False, repr=False)   # per-row bounds of LowCmd.as_rows()
    rows_max: FloatArray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n = len(self.q_min_rad)
        inf = np.full(n, np.inf)
        object.__setattr__(self, "n", n)
        object.__setattr__(self, "rows_min", np.array([
            self.q_min_rad - self.q_margin_rad, -inf, np.zeros(n), np.zeros(n), -self.tau_max_Nm]))
        object.__setattr__(self, "rows_max", np.array([
            self.q_max_rad + self.q_margin_rad, inf, np.full(n, self.kp_max), np.full(n, self.kd_max),
            self.tau_max_Nm]))


_FIELDS = ("q", "dq", "kp", "kd", "tau")
_NO_ROWS = np.zeros((5, 0))


def check_low_cmd(cmd: object, limits: CommandLimits) -> tuple[str, FloatArray]:
    """``(reason, rows)``: why ``cmd`` must be rejected ("" when the drivers can run it), and
    the driver input rows (see :meth:`LowCmd.as_rows`) when it is accepted."""
    if not isinstance(cmd, LowCmd):
        return f"expected a LowCmd, got {type(cmd).__name__}", _NO_ROWS
    m = cmd.motor_cmd
    try:
        rows = np.array([m.q, m.dq, m.kp, m.kd, m.tau], dtype=float)
        ok_mode = np.shape(m.mode) == (limits.n,)
    except (ValueError, TypeError):
        rows, ok_mode = _NO_ROWS, False
    if rows.shape != (5, limits.n) or not ok_mode:
        return f"every motor_cmd field must hold {limits.n} numbers (one per motor)", _NO_ROWS
    mode_ok = ((m.mode == MODE_DISABLE) | (m.mode == MODE_ENABLE)).all()
    if mode_ok and ((rows >= limits.rows_min) & (rows <= limits.rows_max)).all():  # NaN fails too
        return "", _zero_disabled(rows, m.mode)
    return _rejection(rows, m, limits), _NO_ROWS


def _rejection(rows: FloatArray, m: MotorCmds, limits: CommandLimits) -> str:
    """The first reason a command fails :func:`check_low_cmd`, worded for the person who sent it."""
    if not np.isfinite(rows).all():
        r, i = np.argwhere(~np.isfinite(rows))[0]
        return f"motor_cmd.{_FIELDS[r]}[{i}] is not finite"
    q, _, kp, kd, tau = rows
    out_of_range = (
        ("mode", (m.mode != MODE_DISABLE) & (m.mode != MODE_ENABLE), "not 0 (disable) or 1 (enable)"),
        ("kp", (kp < 0) | (kp > limits.kp_max), f"outside [0, {limits.kp_max}] N·m/rad"),
        ("kd", (kd < 0) | (kd > limits.kd_max), f"outside [0, {limits.kd_max}] N·m·s/rad"),
        ("tau", np.abs(tau) > limits.tau_max_Nm, "beyond the motor's peak torque"),
        ("q", (q < limits.rows_min[0]) | (q > limits.rows_max[0]), "beyond the joint limits"),
    )
    name, mask, why = next(item for item in out_of_range if item[1].any())
    i = int(np.argmax(mask))
    return f"motor_cmd.{name}[{i}]={float(getattr(m, name)[i]):.4g} is {why}"
