"""Serve a simulated robot on DDS in real time, as Unitree's simulator serves one (``laoshan sim --dds``).

Every control period (2 ms on the G1) the newest ``LowCmd_`` that came goes to the drivers (their
PD law runs on every physics step; no command for the watchdog's timeout: damping), physics
advances one tick, and the state is published: ``LowState_`` on ``rt/lowstate`` with its CRC, the
hands' states, the extra sensors and, while a client has the stream on, camera frames. Until the
first valid command the robot hangs on the gantry, standing at its home posture; that command
releases it. Ground truth scores the run (fell or not, and when), for the summary only.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from laoshan.port.dds import RobotEndpoint
from laoshan.sim.body import SimBody
from laoshan.sim.scoring import has_fallen, object_xyz


@dataclass(frozen=True)
class ServeReport:
    """How a served run went."""

    seconds: float                 # robot time served [s]
    wall_s: float
    released_s: float | None       # robot time of the first valid command (the gantry let go) [s]
    commands: int                  # LowCmd_ samples taken
    crc_errors: int                # ... dropped for a wrong CRC
    rejected: int                  # ... rejected by the drivers' contract
    late_ticks: int                # ticks that began after their time (the simulator could not keep up)
    tick_p99_ms: float             # time to step and publish one tick, 99th percentile
    fell: bool                     # scoring, from ground truth: fell while a client commanded it
    fall_time_s: float | None      # ... when [s]
    last_command_s: float | None   # robot time of the last command taken [s]
    fell_after_s: float | None     # fell once the commands had stopped (the drivers damping), when [s]
    frames: int                    # camera frames published
    objects_xyz: tuple[tuple[str, tuple[float, float, float]], ...] = ()   # where each object ended (truth)
    body_period_s: float = 0.002   # the control period [s]

    @property
    def state_rate_Hz(self) -> float:
        return self.seconds / self.body_period_s / self.wall_s if self.wall_s > 0 else 0.0


def serve(body: SimBody, endpoint: RobotEndpoint, seconds: float, gantry: bool = True,
          progress: Callable[[int], None] | None = None, stop: Callable[[], bool] | None = None) -> ServeReport:
    """Serve ``body`` on ``endpoint`` for ``seconds`` of robot time in real time (or until ``stop()``);
    ``progress(ticks)`` every 500 ticks."""
    dt = body.control_dt_s
    cameras = {c.name for c in body.robot.cameras}
    if gantry:
        body.hang_on_gantry()
    released = fall_time = last_command = None
    sent_s: dict[str, float] = {}                  # camera -> when its last frame sent was taken
    late = frames = 0
    tick_s: list[float] = []
    start = time.perf_counter()
    ticks = int(round(seconds / dt))
    for k in range(ticks):
        due = start + k * dt
        now = time.perf_counter()
        if now < due:
            time.sleep(due - now)
        elif now > due + dt:
            late += 1
        t0 = time.perf_counter()
        for camera, on in endpoint.stream_requests().items():
            if camera in cameras:
                body.streaming = on
        cmd = endpoint.command()
        rejected_before = body.rejected_commands
        state = body.step(cmd)
        if cmd is not None and body.rejected_commands == rejected_before:
            last_command = body.time_s
            if released is None:
                released = body.time_s
                body.release_gantry()
        endpoint.publish(state)
        for name, frame in state.rgbd.items():
            if body.streaming and frame.time_s != sent_s.get(name):      # a new frame
                endpoint.publish_frame(name, frame)
                sent_s[name] = frame.time_s
                frames += 1
        if released is not None and fall_time is None and has_fallen(body.ground_truth()):   # scoring only
            fall_time = body.time_s
        tick_s.append(time.perf_counter() - t0)
        if progress and (k + 1) % 500 == 0:
            progress(500)
        if stop is not None and stop():
            break
    return ServeReport(seconds=body.time_s, wall_s=time.perf_counter() - start, released_s=released,
                       commands=endpoint.commands, crc_errors=endpoint.crc_errors, rejected=body.rejected_commands,
                       late_ticks=late, tick_p99_ms=float(np.percentile(tick_s, 99) * 1e3) if tick_s else 0.0,
                       **_falls(fall_time, last_command, body.loop.watchdog_timeout_s), frames=frames,
                       objects_xyz=tuple((t.name, tuple(float(v) for v in object_xyz(body, t.name)))
                                         for t in body.world.things),
                       body_period_s=dt)


def _falls(fall_time: float | None, last_command: float | None, watchdog_s: float) -> dict[str, object]:
    """A fall counts against the client while it commanded the robot (up to the watchdog's timeout
    after its last command); one after that is the drivers' damping letting the robot down."""
    commanded = fall_time is not None and last_command is not None and fall_time <= last_command + watchdog_s
    return {"fell": commanded, "fall_time_s": fall_time if commanded else None, "last_command_s": last_command,
            "fell_after_s": None if commanded else fall_time}
