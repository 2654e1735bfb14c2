"""Sensor models: joint encoders, IMU, force pads (feet, touch) and the RGB-D camera's noise.

Each model turns a true physical quantity into what the device reports: quantized, noisy, biased,
sampled at its own rate and delivered after its latency (see :class:`Sampler`). Models take an
explicit ``numpy.random.Generator`` so that a run is reproducible for a seed.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Generic, TypeVar
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
V = TypeVar("V")


def _check_rate(rate_Hz: float, latency_s: float) -> None:
    if not rate_Hz > 0:
        raise ValueError(f"rate_Hz must be > 0, got {rate_Hz}")
    if latency_s < 0:
        raise ValueError(f"latency_s must be >= 0, got {latency_s}")


@dataclass(frozen=True)
class EncoderSpec:
    """Joint encoder at the reducer output."""

    description: str
    counts_per_rev: int           # resolution
    position_noise_rad: float     # 1-sigma
    velocity_noise_rad_s: float   # 1-sigma
    rate_Hz: float
    latency_s: float

    def __post_init__(self) -> None:
        if self.counts_per_rev < 2:
            raise ValueError(f"counts_per_rev must be >= 2, got {self.counts_per_rev}")
        _check_rate(self.rate_Hz, self.latency_s)


@dataclass(frozen=True)
class ImuSpec:
    """IMU with an onboard attitude filter (reports orientation, angular rate, acceleration)."""

    description: str
    gyro_noise_rad_s: float        # 1-sigma white noise per axis
    gyro_bias_rad_s: float         # 1-sigma of the constant turn-on bias per axis
    accel_noise_m_s2: float
    accel_bias_m_s2: float
    orientation_noise_rad: float   # 1-sigma tilt/heading error of the attitude filter
    rate_Hz: float
    latency_s: float

    def __post_init__(self) -> None:
        _check_rate(self.rate_Hz, self.latency_s)


@dataclass(frozen=True)
class ForceSpec:
    """A normal-force pad: a foot sole or a fingertip/palm touch sensor."""

    description: str
    noise_N: float
    full_scale_N: float   # saturates here
    rate_Hz: float
    latency_s: float

    def __post_init__(self) -> None:
        if not self.full_scale_N > 0:
            raise ValueError(f"full_scale_N must be > 0, got {self.full_scale_N}")
        _check_rate(self.rate_Hz, self.latency_s)


@dataclass(frozen=True)
class CameraSpec:
    """RGB-D camera."""

    description: str
    width_px: int
    height_px: int
    vertical_fov_deg: float
    min_depth_m: float     # closer returns read 0 (invalid), as on a stereo depth camera
    max_depth_m: float     # farther returns read 0
    depth_noise_m: float   # 1-sigma at 1 m; grows with depth squared (stereo)
    rate_Hz: float
    latency_s: float

    def __post_init__(self) -> None:
        if self.width_px < 8 or self.height_px < 8:
            raise ValueError("width_px and height_px must be >= 8")
        if not 1.0 < self.vertical_fov_deg < 170.0:
            raise ValueError(f"vertical_fov_deg={self.vertical_fov_deg} is not a field of view in degrees")
        if not 0 <= self.min_depth_m < self.max_depth_m:
            raise ValueError("need 0 <= min_depth_m < max_depth_m")
        _check_rate(self.rate_Hz, self.latency_s)


class Sampler(Generic[V]):
    """Samples a signal at ``rate_Hz`` and releases each sample ``latency_s`` later."""

    def __init__(self, rate_Hz: float, latency_s: float) -> None:
        self.period_s = 1.0 / rate_Hz
        self.latency_s = latency_s
        self._next_s = 0.0
        self._queue: deque[tuple[float, V]] = deque()
        self._latest: V | None = None

    def due(self, t_s: float) -> bool:
        """Whether a new sample should be taken at time ``t_s``."""
        return t_s + 1e-9 >= self._next_s

    def push(self, t_s: float, value: V) -> None:
        self._queue.append((t_s + self.latency_s, value))
        self._next_s = max(self._next_s + self.period_s, t_s + 0.5 * self.period_s)

    def latest(self, t_s: float) -> V | None:
        """The newest sample released by ``t_s`` (None before the first one)."""
        while self._queue and self._queue[0][0] <= t_s + 1e-9:
            self._latest = self._queue.popleft()[1]
        return self._latest


class Encoders:
    """All joint encoders of a robot: quantized, noisy position and velocity."""

    def __init__(self, spec: EncoderSpec, n: int, rng: np.random.Generator) -> None:
        self.spec = spec
        self.n = n
        self.rng = rng
        self.step_rad = 2.0 * np.pi / spec.counts_per_rev

    def measure(self, q_rad: FloatArray, dq_rad_s: FloatArray) -> tuple[FloatArray, FloatArray]:
        s, n = self.spec, self.n
        noise = self.rng.standard_normal(2 * n)
        q = np.rint((q_rad + s.position_noise_rad * noise[:n]) / self.step_rad) * self.step_rad
        return q, dq_rad_s + s.velocity_noise_rad_s * noise[n:]


def quat_mul(a: Sequence[float], b: Sequence[float]) -> tuple[float, float, float, float]:
    """Hamilton product of quaternions (w, x, y, z)."""
    w1, x1, y1, z1 = a
    w2, x2, y2, z2 = b
    return (w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
            w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
            w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
            w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2)


def quat_from_rotvec(v: Sequence[float]) -> tuple[float, float, float, float]:
    """Quaternion (w, x, y, z) of rotation vector ``v`` [rad]."""
    x, y, z = v
    angle = math.sqrt(x * x + y * y + z * z)
    if angle < 1e-12:
        return (1.0, 0.5 * x, 0.5 * y, 0.5 * z)
    k = math.sin(angle / 2) / angle
    return (math.cos(angle / 2), k * x, k * y, k * z)


def quat_to_rpy(q: Sequence[float]) -> tuple[float, float, float]:
    """Roll, pitch, yaw [rad] (ZYX convention, as the G1 IMU reports) from (w, x, y, z)."""
    w, x, y, z = q
    return (math.atan2(2 * (w * x + y * z), 1 - 2 * (x * x + y * y)),
            math.asin(max(-1.0, min(1.0, 2 * (w * y - z * x)))),
            math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z)))


@dataclass
class ImuReading:
    """What the IMU reports, in its own frame (mirrors unitree_hg IMUState_)."""

    quaternion: FloatArray      # (w, x, y, z), IMU frame in world (gravity-aligned, filter heading)
    gyroscope: FloatArray       # angular rate [rad/s], IMU frame
    accelerometer: FloatArray   # specific force [m/s^2], IMU frame (reads +g upward at rest)
    rpy: FloatArray             # roll, pitch, yaw [rad]


class Imu:
    """IMU: biased, noisy rates and specific force; attitude with a small filter error."""

    def __init__(self, spec: ImuSpec, rng: np.random.Generator) -> None:
        self.spec = spec
        self.rng = rng
        self.gyro_bias = spec.gyro_bias_rad_s * rng.standard_normal(3)
        self.accel_bias = spec.accel_bias_m_s2 * rng.standard_normal(3)

    def measure(self, quat_world_imu: FloatArray, gyro_rad_s: FloatArray, accel_m_s2: FloatArray) -> ImuReading:
        s, rng = self.spec, self.rng
        noise = rng.standard_normal(9)
        w, x, y, z = quat_mul(quat_world_imu.tolist(),
                              quat_from_rotvec((s.orientation_noise_rad * noise[0:3]).tolist()))
        norm = math.sqrt(w * w + x * x + y * y + z * z)
        quat = (w / norm, x / norm, y / norm, z / norm)
        gyro = gyro_rad_s + self.gyro_bias + s.gyro_noise_rad_s * noise[3:6]
        accel = accel_m_s2 + self.accel_bias + s.accel_noise_m_s2 * noise[6:9]
        return ImuReading(np.array(quat), gyro, accel, np.array(quat_to_rpy(quat)))


class ForcePads:
    """A set of normal-force pads (both feet, or all fingertips)."""

    def __init__(self, spec: ForceSpec, n: int, rng: np.random.Generator) -> None:
        self.spec = spec
        self.n = n
        self.rng = rng

    def measure(self, force_N: FloatArray) -> FloatArray:
        noisy = force_N + self.spec.noise_N * self.rng.standard_normal(self.n)
        return noisy.clip(0.0, self.spec.full_scale_N)


def depth_noise(spec: CameraSpec, depth_m: FloatArray, rng: np.random.Generator) -> FloatArray:
    """Apply stereo-like depth noise (sigma ∝ depth²) and the valid range (invalid -> 0)."""
    noisy = depth_m + spec.depth_noise_m * depth_m * depth_m * rng.standard_normal(depth_m.shape)
    valid = (depth_m >= spec.min_depth_m) & (depth_m <= spec.max_depth_m)
    return np.where(valid, noisy, 0.0).astype(np.float32)
