"""The control loop on a robot port: one command per state, and what the loop's own timing was.

On a real-time port (DDS) the robot's clock paces the loop: a command computed later than the
control period misses the robot's next tick (a deadline miss), and the port counts the robot
ticks whose state the loop never saw. In-process the simulator waits for the loop, so the same
figures say how the loop would fare in real time.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from laoshan.port.base import RobotPort
from laoshan.port.messages import LowCmd, LowState


@dataclass(frozen=True)
class LoopStats:
    """How the loop kept time."""

    ticks: int
    deadline_misses: int          # ticks whose command took longer than the control period to compute
    tick_p50_ms: float            # time to compute one command
    tick_p99_ms: float
    tick_max_ms: float
    wall_s: float
    missed_at_s: tuple[float, ...] = ()   # the robot's clock at each tick that missed (when the ticks' times are known)

    @classmethod
    def of(cls, tick_s: list[float], period_s: float, wall_s: float,
           times_s: list[float] | None = None) -> "LoopStats":
        """From each tick's compute time [s] (and, given, the robot's clock at each tick [s])."""
        t = np.asarray(tick_s) * 1e3 if tick_s else np.zeros(1)
        slow = np.flatnonzero(t > period_s * 1e3) if tick_s else np.zeros(0, dtype=int)
        missed = tuple(float(times_s[i]) for i in slow) if times_s is not None else ()
        return cls(len(tick_s), len(slow), float(np.percentile(t, 50)), float(np.percentile(t, 99)), float(t.max()),
                   wall_s, missed)


def drive(port: RobotPort, state: LowState, ticks: int, act: Callable[[int, LowState], LowCmd],
          stop: Callable[[LowState], bool] | None = None, progress: Callable[[int], None] | None = None,
          observe: Callable[[LowState], None] | None = None) -> tuple[LowState, LoopStats]:
    """Run ``ticks`` ticks (fewer if ``stop(state)`` turns true): ``act(k, state)`` gives each
    command, ``observe(state)`` sees each new state, ``progress(100)`` every 100 ticks."""
    tick_s: list[float] = []
    times_s: list[float] = []
    start = time.perf_counter()
    for k in range(ticks):
        t0 = time.perf_counter()
        cmd = act(k, state)
        tick_s.append(time.perf_counter() - t0)
        times_s.append(state.time_s)
        state = port.step(cmd)
        if observe is not None:
            observe(state)
        if progress and (k + 1) % 100 == 0:
            progress(100)
        if stop is not None and stop(state):
            break
    return state, LoopStats.of(tick_s, port.control_dt_s, time.perf_counter() - start, times_s)
