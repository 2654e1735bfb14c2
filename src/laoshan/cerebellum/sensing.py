"""Sensor plausibility: every ``LowState`` is checked before the estimator and the controllers see it.

A sample that cannot be true is rejected and the last good one carried on in its place, channel by
channel (one joint's encoder, the IMU, the foot-force pads): a non-finite number, a joint reading
far outside its range, faster than its motor can turn or farther from its last good reading than
it could have turned since, a quaternion off the unit sphere, rates
and accelerations beyond the IMU's full scale, a negative or saturated sole force. A stream whose
readings stop changing is stale: every real reading carries noise (the catalog's encoder and IMU
parts have some), so readings repeated bit for bit for ``stale_after_s`` come from a stuck sensor
or a lost stream, not from a robot at rest. A joint encoder that was rejected is trusted again only
once its readings have passed every check and kept changing for ``recover_s`` (a dead encoder that
reads a constant within reach of the last good value is not). A fault that lasts longer than
``lasting_s`` is reported by :meth:`SensorGuard.lasting` so that the safety monitor can stop the robot.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from laoshan.robot.description import RobotDescription
from laoshan.port.messages import ImuState, LowState, MotorStates

FloatArray = np.ndarray


@dataclass(frozen=True)
class SensorCheckConfig:
    joint_slack_rad: float = 0.3          # an encoder this far outside its joint range reads where it cannot be
    joint_speed_factor: float = 3.0       # ... or a speed beyond this many times its motor's no-load speed
    joint_jump_factor: float = 1.5        # ... or a jump from its last good reading faster than this many times it
    joint_jump_slack_rad: float = 0.01    # plus this (noise, quantization)
    quat_norm_tolerance: float = 0.05     # an attitude quaternion whose norm is off 1 by more is not one
    gyro_max_rad_s: float = 35.0          # the IMU's full scale (2000 deg/s)
    accel_max_m_s2: float = 160.0         # ... and 16 g
    foot_force_max_N: float = 5000.0      # beyond any sole pad's range
    stale_after_s: float = 0.01           # readings repeated bit for bit this long: a stuck sensor or lost stream
    recover_s: float = 0.01               # a rejected encoder is trusted again after this long alive and plausible
    lasting_s: float = 0.02               # a fault longer than this (after it is seen) stops the robot

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"SensorCheckConfig.{name} must be finite and > 0, got {value}")


@dataclass(frozen=True)
class SensorFault:
    """A channel whose samples are being rejected."""

    channel: str       # "encoder <joint>", "imu" or "foot force"
    why: str           # what was wrong with the first rejected sample
    since_s: float     # sensor clock when it began


class SensorGuard:
    """Checks each ``LowState``; :meth:`__call__` returns it with every implausible channel
    replaced by its last good sample (the same object when nothing was replaced)."""

    def __init__(self, robot: RobotDescription, q_min_rad: FloatArray, q_max_rad: FloatArray,
                 config: SensorCheckConfig | None = None) -> None:
        self.config = c = config or SensorCheckConfig()
        self.names = robot.joint_names
        self.q_lo = np.asarray(q_min_rad, dtype=float) - c.joint_slack_rad
        self.q_hi = np.asarray(q_max_rad, dtype=float) + c.joint_slack_rad
        no_load = np.array([s.no_load_speed_rad_s for s in robot.motor_specs()])
        self.dq_max = c.joint_speed_factor * no_load
        self.jump_rad_s = c.joint_jump_factor * no_load
        encoder = robot.catalog.get("encoder", robot.encoder)
        imu = robot.catalog.get("imu", robot.imu.part)
        # a noiseless part repeats its readings at rest: staleness can be told only from noisy ones
        self._watch_encoders = encoder.velocity_noise_rad_s > 0
        self._watch_imu = imu.gyro_noise_rad_s > 0
        self._n, self._n_feet = len(self.names), len(robot.feet)
        self._home_q = np.array([m.home_rad for m in robot.motors])
        self.reset()

    def reset(self) -> None:
        n = self._n
        # until a first good sample: the home posture, upright and still, standing on both feet evenly
        self.good_q, self.good_dq = self._home_q.copy(), np.zeros(n)
        self.good_imu = ImuState(np.array([1.0, 0.0, 0.0, 0.0]), np.zeros(3), np.array([0.0, 0.0, 9.81]), np.zeros(3))
        self.good_feet = np.zeros(self._n_feet)
        self._bad_joint = np.zeros(n, dtype=bool)
        self._good_s = np.full(n, np.nan)            # per joint: when its last good reading came (NaN: none yet)
        self._alive_since = np.full(n, np.inf)       # per joint: since when its readings pass and change
        self._good_before = (self.good_q.copy(), self.good_dq.copy())   # the good readings a tick before the last
        self._before_repeat = (self.good_q.copy(), self.good_dq.copy())  # ... and before a repeat began
        self._prev_q = np.full(n, np.nan)
        self._prev_dq = np.full(n, np.nan)
        self._same_since = np.full(n, np.inf)        # per joint: since when its readings repeat
        self._prev_imu: tuple[bytes, bytes, bytes] | None = None
        self._imu_same_since = np.inf
        self.faults: dict[str, SensorFault] = {}
        self.rejected_samples = 0      # channel samples replaced so far

    # --- the check ------------------------------------------------------------------------------

    def __call__(self, state: LowState) -> LowState:
        t = state.time_s
        ms = self._motors(state.motor_state, t)
        imu = self._imu(state.imu_state, t)
        feet = self._feet(state.foot_force_N, t)
        if ms is state.motor_state and imu is state.imu_state and feet is state.foot_force_N:
            return state
        return replace(state, motor_state=ms, imu_state=imu, foot_force_N=feet)

    def lasting(self, t_s: float) -> SensorFault | None:
        """The oldest fault that has lasted longer than ``lasting_s`` at ``t_s``, if any."""
        old = [f for f in self.faults.values() if t_s - f.since_s > self.config.lasting_s]
        return min(old, key=lambda f: f.since_s) if old else None

    def _flag(self, channel: str, bad: bool, why: str, t_s: float) -> None:
        if bad:
            self.rejected_samples += 1
            if channel not in self.faults:
                self.faults[channel] = SensorFault(channel, why, t_s)
        else:
            self.faults.pop(channel, None)

    def _motors(self, ms: MotorStates, t_s: float) -> MotorStates:
        c = self.config
        q, dq = _floats(ms.q, self._n), _floats(ms.dq, self._n)
        with np.errstate(invalid="ignore"):
            wild_q = ~((q >= self.q_lo) & (q <= self.q_hi))           # NaN is wild too
            wild_dq = ~(np.abs(dq) <= self.dq_max)
            reach = self.jump_rad_s * (t_s - self._good_s) + c.joint_jump_slack_rad   # NaN before a first good one
            jumped = np.abs(q - self.good_q) > reach
        same = (q == self._prev_q) & (dq == self._prev_dq) if self._watch_encoders else np.zeros(self._n, bool)
        self._prev_q, self._prev_dq = q.copy(), dq.copy()
        begins = same & np.isinf(self._same_since)          # the reading last tick, taken then, repeats now
        for kept, before in zip(self._before_repeat, self._good_before, strict=True):
            kept[begins] = before[begins]
        self._good_before = (self.good_q.copy(), self.good_dq.copy())
        self._same_since = np.where(same, np.minimum(self._same_since, t_s), np.inf)
        stuck = t_s - self._same_since >= c.stale_after_s
        if stuck.any():                    # a stuck sensor's first repeated reading was no reading either
            self.good_q = np.where(stuck, self._before_repeat[0], self.good_q)
            self.good_dq = np.where(stuck, self._before_repeat[1], self.good_dq)
        fails = wild_q | wild_dq | jumped | stuck
        alive = np.where(same, self._alive_since, np.minimum(self._alive_since, t_s))   # a repeat proves nothing
        self._alive_since = np.where(fails, np.inf, alive)
        bad = fails | (self._bad_joint & ~(t_s - self._alive_since >= c.recover_s))
        for i in np.flatnonzero(bad | self._bad_joint):       # the joints whose fault begins, goes on or ends
            why = ("reads outside its range" if wild_q[i] else "reads an impossible speed" if wild_dq[i]
                   else "jumps farther than it can turn" if jumped[i]
                   else f"repeats the same reading for {c.stale_after_s * 1e3:.0f} ms" if stuck[i]
                   else "not yet trusted again")
            self._flag(f"encoder {self.names[i]}", bool(bad[i]), why, t_s)
        self._bad_joint = bad
        self._good_s[~bad] = t_s
        if not bad.any():
            self.good_q, self.good_dq = q, dq
            return ms
        self.good_q = np.where(bad, self.good_q, q)
        self.good_dq = np.where(bad, self.good_dq, dq)
        return replace(ms, q=self.good_q.copy(), dq=self.good_dq.copy())

    def _imu(self, imu: ImuState, t_s: float) -> ImuState:
        c = self.config
        quat, gyro, accel = _floats(imu.quaternion, 4), _floats(imu.gyroscope, 3), _floats(imu.accelerometer, 3)
        why = ""
        with np.errstate(invalid="ignore"):
            if not np.isfinite(np.concatenate([quat, gyro, accel])).all():
                why = "not finite"
            elif abs(float(np.linalg.norm(quat)) - 1.0) > c.quat_norm_tolerance:
                why = "quaternion off the unit sphere"
            elif np.abs(gyro).max() > c.gyro_max_rad_s or np.abs(accel).max() > c.accel_max_m_s2:
                why = "beyond its full scale"
        if self._watch_imu and not why:
            key = (quat.tobytes(), gyro.tobytes(), accel.tobytes())
            self._imu_same_since = min(self._imu_same_since, t_s) if key == self._prev_imu else np.inf
            self._prev_imu = key
            if t_s - self._imu_same_since >= c.stale_after_s:
                why = f"repeats the same reading for {c.stale_after_s * 1e3:.0f} ms"
        self._flag("imu", bool(why), why, t_s)
        if why:
            return self.good_imu
        self.good_imu = imu
        return imu

    def _feet(self, force_N: FloatArray, t_s: float) -> FloatArray:
        f = _floats(force_N, self._n_feet)
        with np.errstate(invalid="ignore"):
            bad = not ((f >= 0.0) & (f <= self.config.foot_force_max_N)).all()
        self._flag("foot force", bad, "not finite or out of range", t_s)
        if bad:
            return self.good_feet
        self.good_feet = f
        return force_N


def _floats(values: object, n: int) -> FloatArray:
    """``values`` as n floats; NaN where they are not (wrong size or type): rejected as not finite."""
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        return np.full(n, np.nan)
    return array if array.shape == (n,) else np.full(n, np.nan)
