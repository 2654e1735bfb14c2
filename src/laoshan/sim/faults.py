"""Deliberate sensor faults, injected into the ``LowState`` stream between the body and a controller.

For fault-injection tests and benchmarks only, and named so: like :meth:`SimBody.push`, they are
disturbances a run asks for, never part of a task. A fault begins at ``start_s`` (sensor clock):

- ``nan_encoder``: one sample of one joint's encoder reads NaN;
- ``nan_imu``: one IMU sample reads NaN;
- ``stale_encoders``: the whole encoder stream repeats its last sample from then on;
- ``dead_encoder``: one joint's encoder reads 0 rad and 0 rad/s from then on;
- ``camera_lost``: no camera frame arrives from then on.

(Noisier or more biased sensors are parts, not faults: swap the catalog part, e.g. ``consumer-imu``.)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from laoshan.port.messages import LowState

FaultKind = Literal["nan_encoder", "nan_imu", "stale_encoders", "dead_encoder", "camera_lost"]
FAULT_KINDS: tuple[FaultKind, ...] = ("nan_encoder", "nan_imu", "stale_encoders", "dead_encoder", "camera_lost")


@dataclass(frozen=True)
class InjectedFault:
    kind: FaultKind
    start_s: float       # sensor clock
    joint: int = 0       # motor index, for the encoder faults that hit one joint

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"fault kind must be one of {FAULT_KINDS}, got {self.kind!r}")
        if not (np.isfinite(self.start_s) and self.start_s >= 0):
            raise ValueError(f"start_s must be finite and >= 0, got {self.start_s}")


class FaultInjector:
    """Call on each ``LowState`` the body gives; returns it as the faulty sensors would report it."""

    def __init__(self, fault: InjectedFault) -> None:
        self.fault = fault
        self._frozen: tuple[np.ndarray, np.ndarray] | None = None   # the encoder sample a stale stream repeats
        self._hit = False                                           # the one-sample faults have happened

    def __call__(self, state: LowState) -> LowState:
        f = self.fault
        if state.time_s < f.start_s:
            return state
        ms, imu = state.motor_state, state.imu_state
        if f.kind in ("nan_encoder", "nan_imu"):
            if self._hit:
                return state
            self._hit = True
            if f.kind == "nan_imu":
                return replace(state, imu_state=replace(imu, quaternion=np.full(4, np.nan),
                                                        gyroscope=np.full(3, np.nan)))
            return replace(state, motor_state=replace(ms, q=_with(ms.q, f.joint, np.nan),
                                                      dq=_with(ms.dq, f.joint, np.nan)))
        if f.kind == "stale_encoders":
            self._frozen = self._frozen or (ms.q.copy(), ms.dq.copy())
            return replace(state, motor_state=replace(ms, q=self._frozen[0].copy(), dq=self._frozen[1].copy()))
        if f.kind == "dead_encoder":
            return replace(state, motor_state=replace(ms, q=_with(ms.q, f.joint, 0.0), dq=_with(ms.dq, f.joint, 0.0)))
        return replace(state, rgbd={})       # camera_lost


def _with(values: np.ndarray, i: int, value: float) -> np.ndarray:
    out = values.copy()
    out[i] = value
    return out
