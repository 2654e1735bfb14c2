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

# A camera's optical frame (x right, y down, z forward) in its mount link's frame (x forward, z up).
R_LINK_OPTICAL = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])


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

    def optical_points(self, mask: NDArray[np.bool_]) -> FloatArray:
        """(n, 3) points of the masked pixels with valid depth, in the optical frame [m]."""
        v, u = np.nonzero(mask & (self.depth_m > 0))
        d = self.depth_m[v, u].astype(np.float64)
        return np.column_stack([(u - self.cx_px) * d / self.fx_px, (v - self.cy_px) * d / self.fy_px, d])


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


JOINT_LIMIT_MARGIN_RAD = 0.05
"""How far past a joint's limit a target may lie, and a joint may be before the safety monitor stops
the robot: one definition for the drivers' command check and the monitor."""


@dataclass(frozen=True)
class CommandLimits:
    """What the motor drivers accept, per motor; anything else is rejected before it reaches physics."""

    q_min_rad: FloatArray
    q_max_rad: FloatArray
    tau_max_Nm: FloatArray       # the part's peak torque (feed-forward limit)
    dq_max_rad_s: FloatArray     # the part's no-load speed (a speed target beyond it cannot be followed)
    kp_max: FloatArray           # the part's largest stiffness gain [N·m/rad]
    kd_max: FloatArray           # the part's largest damping gain [N·m·s/rad]
    q_margin_rad: float = JOINT_LIMIT_MARGIN_RAD   # targets this far beyond a joint limit are still accepted
    n: int = field(init=False)
    rows_min: FloatArray = field(init=False, repr=False)   # per-row bounds of LowCmd.as_rows()
    rows_max: FloatArray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n = len(self.q_min_rad)
        object.__setattr__(self, "n", n)
        object.__setattr__(self, "rows_min", np.array([
            self.q_min_rad - self.q_margin_rad, -self.dq_max_rad_s, np.zeros(n), np.zeros(n), -self.tau_max_Nm]))
        object.__setattr__(self, "rows_max", np.array([
            self.q_max_rad + self.q_margin_rad, self.dq_max_rad_s, self.kp_max, self.kd_max, self.tau_max_Nm]))


_FIELDS = ("q", "dq", "kp", "kd", "tau")
_UNITS = ("rad", "rad/s", "N·m/rad", "N·m·s/rad", "N·m")
_NO_ROWS = np.zeros((5, 0))
_NO_MODE = np.zeros(0, np.int8)
_REAL_KINDS = "iuf"      # numpy dtype kinds of a real number: signed, unsigned, floating (not bool, complex, text)


def _motor_array(value: object, n: int, name: str, kinds: str) -> tuple[str, np.ndarray]:
    """``value`` as an (n,) array of a dtype kind in ``kinds``, or why it is not one."""
    if not isinstance(value, np.ndarray | list | tuple):
        return f"motor_cmd.{name} must be an array of {n} numbers, got {type(value).__name__}", _NO_MODE
    try:      # a list of arbitrary objects may fail to convert in any way: that is a reason to reject, not a crash
        array = np.asarray(value)
    except Exception as exc:  # noqa: BLE001
        return f"motor_cmd.{name} is not an array of numbers ({type(exc).__name__})", _NO_MODE
    if array.shape != (n,):
        return f"every motor_cmd field must hold {n} numbers (one per motor); {name} has shape {array.shape}", _NO_MODE
    if array.dtype.kind not in kinds:
        return f"motor_cmd.{name} must hold real numbers, not {array.dtype}", _NO_MODE
    return "", array


def check_low_cmd(cmd: object, limits: CommandLimits) -> tuple[str, FloatArray, NDArray[np.int8]]:
    """``(reason, rows, mode)``: why ``cmd`` must be rejected ("" when the drivers can run it), and
    when it is accepted the driver input rows (see :meth:`LowCmd.as_rows`) and the motors' modes.

    The whole contract, for any object whatever: a ``LowCmd`` whose ``mode_pr`` is 0 or 1 and whose
    ``mode_machine`` is an integer; every ``motor_cmd`` field an array of one real number per motor;
    ``mode`` 0 or 1; every q, dq, kp, kd, tau finite (disabled motors too); gains within the part's
    limits, feed-forward within its peak torque, speed targets within its no-load speed and
    position targets within the joint limits widened by ``JOINT_LIMIT_MARGIN_RAD``. Never raises."""
    if not isinstance(cmd, LowCmd):
        return f"expected a LowCmd, got {type(cmd).__name__}", _NO_ROWS, _NO_MODE
    for name, value in (("mode_pr", cmd.mode_pr), ("mode_machine", cmd.mode_machine)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            return f"{name} must be an integer, got {type(value).__name__}", _NO_ROWS, _NO_MODE
    if cmd.mode_pr not in (0, 1):
        return f"mode_pr={int(cmd.mode_pr)} is not 0 (pitch/roll) or 1 (A/B)", _NO_ROWS, _NO_MODE
    m = cmd.motor_cmd
    if not isinstance(m, MotorCmds):
        return f"motor_cmd must be a MotorCmds, got {type(m).__name__}", _NO_ROWS, _NO_MODE
    reason, mode = _motor_array(m.mode, limits.n, "mode", "iu")
    if reason:
        return reason, _NO_ROWS, _NO_MODE
    rows = np.empty((5, limits.n))
    for r, name in enumerate(_FIELDS):
        reason, array = _motor_array(getattr(m, name), limits.n, name, _REAL_KINDS)
        if reason:
            return reason, _NO_ROWS, _NO_MODE
        rows[r] = array
    enabled = mode == MODE_ENABLE
    if (enabled | (mode == MODE_DISABLE)).all() and ((rows >= limits.rows_min) & (rows <= limits.rows_max)).all():
        rows[:, ~enabled] = 0.0      # NaN fails the bounds above, so every accepted number is finite
        return "", rows, mode.astype(np.int8)
    return _rejection(rows, mode, limits), _NO_ROWS, _NO_MODE


def _rejection(rows: FloatArray, mode: np.ndarray, limits: CommandLimits) -> str:
    """The first reason a command fails :func:`check_low_cmd`'s bounds, for the person who sent it."""
    bad_mode = (mode != MODE_DISABLE) & (mode != MODE_ENABLE)
    if bad_mode.any():
        i = int(np.argmax(bad_mode))
        return f"motor_cmd.mode[{i}]={int(mode[i])} is not 0 (disable) or 1 (enable)"
    if not np.isfinite(rows).all():
        r, i = np.argwhere(~np.isfinite(rows))[0]
        return f"motor_cmd.{_FIELDS[r]}[{i}] is not finite"
    r, i = np.argwhere((rows < limits.rows_min) | (rows > limits.rows_max))[0]
    value, lo, hi = rows[r, i], limits.rows_min[r, i], limits.rows_max[r, i]
    head = f"motor_cmd.{_FIELDS[r]}[{i}]={value:.4g}"
    if r == 0:
        return f"{head} is beyond the joint limits ([{lo:.4g}, {hi:.4g}] rad with the margin)"
    if r == 4:
        return f"{head} is beyond the motor's peak torque ({hi:.4g} N·m)"
    return f"{head} is outside [{lo:.4g}, {hi:.4g}] {_UNITS[r]}"
