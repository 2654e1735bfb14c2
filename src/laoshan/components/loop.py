"""The controller loop: fixed-rate scheduling of physics and control, deadline monitor, watchdog."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class LoopSpec:
    """One catalog controller (the real-time loop between the brain/cerebellum and the drivers)."""

    description: str
    physics_rate_Hz: float      # simulation step rate (the drivers' inner loop runs at this rate)
    control_rate_Hz: float      # LowCmd / LowState exchange rate
    watchdog_timeout_s: float   # no fresh LowCmd for this long -> damping
    damping_kd_Nms: float       # joint damping gain of the safe (damp) mode
    idle_power_W: float         # electronics draw, independent of the motors

    def __post_init__(self) -> None:
        if not 500.0 <= self.physics_rate_Hz <= 10000.0:
            raise ValueError(f"physics_rate_Hz={self.physics_rate_Hz} is outside 500..10000 Hz")
        if not 0 < self.control_rate_Hz <= self.physics_rate_Hz:
            raise ValueError("control_rate_Hz must be in (0, physics_rate_Hz]")
        ratio = self.physics_rate_Hz / self.control_rate_Hz
        if abs(ratio - round(ratio)) > 1e-9:
            raise ValueError("physics_rate_Hz must be an integer multiple of control_rate_Hz")
        if not self.watchdog_timeout_s > 0:
            raise ValueError("watchdog_timeout_s must be > 0")
        if self.damping_kd_Nms < 0 or self.idle_power_W < 0:
            raise ValueError("damping_kd_Nms and idle_power_W must be >= 0")

    @property
    def physics_dt_s(self) -> float:
        return 1.0 / self.physics_rate_Hz

    @property
    def control_dt_s(self) -> float:
        return 1.0 / self.control_rate_Hz

    @property
    def substeps(self) -> int:
        """Physics steps per control tick."""
        return round(self.physics_rate_Hz / self.control_rate_Hz)


class Watchdog:
    """Trips when no fresh command has arrived for ``timeout_s`` of (simulated) time."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self.last_feed_s: float | None = None

    def feed(self, t_s: float) -> None:
        self.last_feed_s = t_s

    def tripped(self, t_s: float) -> bool:
        """True once a command was seen and then none for longer than the timeout."""
        return self.last_feed_s is not None and t_s - self.last_feed_s > self.timeout_s + 1e-9


TICK_BINS_S = np.geomspace(1e-7, 10.0, 801)   # DeadlineMonitor's histogram: 2.3% wide bins from 0.1 µs to 10 s


@dataclass
class DeadlineMonitor:
    """Wall-clock compute time of each control tick against its budget (the control period).

    Tick times go into a fixed histogram (percentiles to within a bin, 2.3%), so that a run of any
    length uses the same memory."""

    budget_s: float
    counts: np.ndarray = field(default_factory=lambda: np.zeros(len(TICK_BINS_S) + 1, dtype=np.int64))
    ticks: int = 0
    misses: int = 0
    _start: float = 0.0

    def start(self) -> None:
        self._start = time.perf_counter()

    def stop(self) -> float:
        elapsed = time.perf_counter() - self._start
        self.counts[int(np.searchsorted(TICK_BINS_S, elapsed))] += 1
        self.ticks += 1
        if elapsed > self.budget_s:
            self.misses += 1
        return elapsed

    def percentile_s(self, p: float) -> float:
        """The ``p``-th percentile tick time (the upper edge of its bin); 0 before any tick."""
        if not self.ticks:
            return 0.0
        k = int(np.searchsorted(np.cumsum(self.counts), p / 100.0 * self.ticks))
        return float(TICK_BINS_S[min(k, len(TICK_BINS_S) - 1)])
