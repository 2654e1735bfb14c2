"""Joint actuators: motor + reducer + driver, vectorized over all motors of a robot.

The driver runs the G1 motor-driver law ``tau = kp (q* - q) + kd (dq* - dq) + tau_ff`` on every
physics step. :class:`ActuatorBank` gives the law's coefficients in the affine form a physics
engine evaluates per step (``tau = u - kp q - kd dq`` with ``u = kp q* + kd dq* + tau_ff``) and the
torque window the motor can deliver at its present speed and temperature (torque–speed envelope
times thermal derating). From the torque actually applied it tracks copper loss, winding
temperature and electrical power. Reducer friction and rotor inertia are joint properties handed
to the physics engine (dry friction as a friction-loss constraint, so a joint sticks honestly).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

AMBIENT_C = 25.0


@dataclass(frozen=True)
class MotorSpec:
    """One catalog motor (motor + reducer + driver), all values at the joint (output) side."""

    description: str
    peak_torque_Nm: float          # driver torque limit at low speed
    rated_torque_Nm: float         # continuous torque (documentation; copper loss uses Kt and R)
    knee_speed_rad_s: float        # full peak torque available up to this speed
    no_load_speed_rad_s: float     # driving torque falls linearly to zero at this speed
    armature_kgm2: float           # reflected rotor inertia
    coulomb_friction_Nm: float     # reducer dry friction
    viscous_damping_Nms: float     # reducer viscous friction
    winding_resistance_ohm: float  # copper loss: (tau / Kt)^2 R
    torque_constant_Nm_A: float    # output torque per phase-current ampere
    thermal_capacity_J_K: float    # winding heat capacity
    thermal_resistance_K_W: float  # winding-to-ambient thermal resistance
    derate_start_C: float          # torque limit starts falling here ...
    max_temperature_C: float       # ... and reaches zero here
    delay_s: float = 0.0           # command transport + driver delay
    kp_max_Nm_rad: float = 1000.0  # the driver's largest accepted stiffness gain
    kd_max_Nms_rad: float = 100.0  # ... and damping gain (a command beyond either is rejected)

    def __post_init__(self) -> None:
        positive = [
            "peak_torque_Nm", "rated_torque_Nm", "no_load_speed_rad_s", "winding_resistance_ohm",
            "torque_constant_Nm_A", "thermal_capacity_J_K", "thermal_resistance_K_W",
        ]
        for name in positive:
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        for name in ["armature_kgm2", "coulomb_friction_Nm", "viscous_damping_Nms", "delay_s",
                     "knee_speed_rad_s", "kp_max_Nm_rad", "kd_max_Nms_rad"]:
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not self.knee_speed_rad_s < self.no_load_speed_rad_s:
            raise ValueError("knee_speed_rad_s must be below no_load_speed_rad_s")
        if not self.derate_start_C < self.max_temperature_C:
            raise ValueError("derate_start_C must be below max_temperature_C")
        if self.peak_torque_Nm > 2000:
            raise ValueError(f"peak_torque_Nm={self.peak_torque_Nm} is implausible (is it N·mm?)")


def torque_window(
    tau_peak_Nm: FloatArray, knee_rad_s: FloatArray, no_load_rad_s: FloatArray, dq_rad_s: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Torque range ``(lo, hi)`` [N·m] the motor can deliver at joint speed ``dq``.

    Driving (torque and speed of the same sign): peak torque up to the knee speed, then a linear
    fall to zero at the no-load speed. Braking (opposite signs): peak torque at any speed.
    """
    fraction = np.clip((no_load_rad_s - np.abs(dq_rad_s)) / (no_load_rad_s - knee_rad_s), 0.0, 1.0)
    driving_limit = tau_peak_Nm * fraction
    hi = np.where(dq_rad_s > 0.0, driving_limit, tau_peak_Nm)
    lo = -np.where(dq_rad_s < 0.0, driving_limit, tau_peak_Nm)
    return lo, hi


def thermal_derating(temp_C: FloatArray, start_C: FloatArray, max_C: FloatArray) -> FloatArray:
    """Torque-limit factor in [0, 1]: 1 below ``start_C``, linear to 0 at ``max_C``."""
    return np.clip((max_C - temp_C) / (max_C - start_C), 0.0, 1.0)


class ActuatorBank:
    """All motors of one robot, in motor (low-level command) order.

    Per control tick: :meth:`driver_law` turns the received command rows into the law's
    coefficients (after each motor's transport delay), :meth:`torque_limits` gives the deliverable
    torque window, and :meth:`account` books the torque that was applied over the tick.
    """

    def __init__(self, specs: list[MotorSpec], control_dt_s: float) -> None:
        self.specs = specs
        self.dt_s = control_dt_s
        arr = lambda name: np.array([getattr(s, name) for s in specs], dtype=float)  # noqa: E731
        self.tau_peak_Nm = arr("peak_torque_Nm")
        self.knee_rad_s = arr("knee_speed_rad_s")
        self.no_load_rad_s = arr("no_load_speed_rad_s")
        self.kp_max = arr("kp_max_Nm_rad")
        self.kd_max = arr("kd_max_Nms_rad")
        self.resistance_ohm = arr("winding_resistance_ohm")
        self.kt_Nm_A = arr("torque_constant_Nm_A")
        self.c_th_J_K = arr("thermal_capacity_J_K")
        self.r_th_K_W = arr("thermal_resistance_K_W")
        self.derate_start_C = arr("derate_start_C")
        self.max_temp_C = arr("max_temperature_C")
        self.delay_ticks = np.round(arr("delay_s") / control_dt_s).astype(int)
        self._slowest_knee_rad_s = float(self.knee_rad_s.min())
        self._copper_W_per_Nm2 = self.resistance_ohm / self.kt_Nm_A**2
        self._heat_K_per_J = control_dt_s / self.c_th_J_K
        self._cool_per_tick = control_dt_s / (self.r_th_K_W * self.c_th_J_K)
        self._coolest_derate_C = float(self.derate_start_C.min())
        n = len(specs)
        # Command history ring buffer (rows q*, dq*, kp, kd, tau_ff) for per-motor transport delay.
        self._hist = np.zeros((int(self.delay_ticks.max()) + 1, 5, n))
        self._head = 0
        self._cols = np.arange(n)
        self.temperature_C = np.full(n, AMBIENT_C)
        self.derated_peak_Nm = self.tau_peak_Nm.copy()   # peak torque at the present temperature
        self.tau_Nm = np.zeros(n)
        self.copper_loss_W = np.zeros(n)
        self.power_W = np.zeros(n)

    def reset(self) -> None:
        self._hist[:] = 0.0
        self.temperature_C[:] = AMBIENT_C
        self.derated_peak_Nm = self.tau_peak_Nm
        self.tau_Nm[:] = 0.0
        self.copper_loss_W[:] = 0.0
        self.power_W[:] = 0.0

    def driver_law(self, command: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """``(u, kp, kd)`` of the law ``tau = u - kp q - kd dq`` for the (5, n) command rows.

        ``u = kp q* + kd dq* + tau_ff``; rows are q*, dq*, kp, kd, tau_ff as received this tick,
        each motor seeing the command of ``delay_ticks`` ticks ago.
        """
        if self._hist.shape[0] > 1:
            self._head = (self._head + 1) % self._hist.shape[0]
            self._hist[self._head] = command
            command = self._hist[(self._head - self.delay_ticks) % self._hist.shape[0], :, self._cols].T
        q, dq, kp, kd, tau_ff = command
        return kp * q + kd * dq + tau_ff, kp, kd

    def torque_limits(self, dq_rad_s: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Deliverable torque window ``(lo, hi)`` [N·m]: torque–speed envelope × thermal derating."""
        if float(np.abs(dq_rad_s).max()) <= self._slowest_knee_rad_s:   # all below their knee speed
            return -self.derated_peak_Nm, self.derated_peak_Nm
        return torque_window(self.derated_peak_Nm, self.knee_rad_s, self.no_load_rad_s, dq_rad_s)

    def account(self, tau_Nm: FloatArray, dq_rad_s: FloatArray) -> None:
        """Book one tick of applied torque: copper loss, winding temperature, electrical power."""
        # copper loss (tau / Kt)^2 R; winding: C dT/dt = P_cu - (T - T_amb) / R_th
        self.copper_loss_W = tau_Nm * tau_Nm * self._copper_W_per_Nm2
        self.temperature_C += self._heat_K_per_J * self.copper_loss_W \
            - self._cool_per_tick * (self.temperature_C - AMBIENT_C)
        if float(self.temperature_C.max()) > self._coolest_derate_C:
            self.derated_peak_Nm = self.tau_peak_Nm * thermal_derating(
                self.temperature_C, self.derate_start_C, self.max_temp_C)
        else:                                      # no motor is warm enough to be derated
            self.derated_peak_Nm = self.tau_peak_Nm
        self.power_W = tau_Nm * dq_rad_s + self.copper_loss_W
        self.tau_Nm = tau_Nm
