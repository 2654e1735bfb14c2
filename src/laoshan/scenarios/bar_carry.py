"""Carry together: two functional G1s lift a 1.2 m, 4 kg bar off one rack, carry it sideways to
another and set it down there.

The robots stand at the bar's two ends, facing each other across the first rack; the second rack
stands ``distance_m`` (give or take the seed's shift) to the side. Both know the racks (the map)
and where the bar should lie (the seed moves it up to ``jitter_m``); they coordinate only over the
bus (:mod:`laoshan.fleet.carry`). Ground truth scores the run: the bar must end resting level on
the second rack, never having touched the floor, with neither robot fallen and no robot-robot
contact.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from laoshan.fleet.agent import OdomFrame
from laoshan.fleet.bus import Bus
from laoshan.fleet.carry import Bar, BarCarryConfig, BarEnd
from laoshan.limbs.reach import ReachController
from laoshan.robot.description import RobotDescription, load_description
from laoshan.sim.render import VideoRecorder
from laoshan.sim.scoring import has_fallen
from laoshan.sim.shared import Placement, SharedWorld
from laoshan.sim.world import Table, Thing, WorldSpec

RACK_Z_M = 0.70
RACK_SIZE_M = (1.0, 0.6)          # each rack's top: along the bar, across it


@dataclass(frozen=True)
class BarCarryScenario:
    robot: str = "g1-functional"
    distance_m: float = 3.0           # from the first rack to the second (before the seed's shift)
    shift_m: float = 0.2              # the seed moves the second rack up to this much along the way
    jitter_m: float = 0.01            # the bar lies up to this far off its place on the first rack
    reach_m: float = 0.47             # each robot stands with its grip this far ahead of its base
    bar: Bar = field(default_factory=Bar)
    carry: BarCarryConfig = field(default_factory=BarCarryConfig)
    seed: int = 0
    video: Path | None = None

    def __post_init__(self) -> None:
        if not 1.0 <= self.distance_m <= 10.0 or not 0.0 <= self.shift_m <= 0.5:
            raise ValueError("distance_m must be in [1, 10] m and shift_m in [0, 0.5] m")
        if not 0.0 <= self.jitter_m <= 0.02:
            raise ValueError(f"jitter_m must be in [0, 0.02] m, got {self.jitter_m}")

    @property
    def seconds(self) -> float:
        return 30.0 + (self.distance_m + self.shift_m) / self.carry.speed_m_s * 2.5


@dataclass(frozen=True)
class BarCarryReport:
    success: bool                    # on the second rack, level, never on the floor, no fall, no collision
    on_rack: bool
    off_m: float                     # the bar's centre from the second rack's (xy, ground truth)
    off_xy_m: tuple[float, float]    # ... along the bar and along the way
    carried_m: float                 # how far the bar moved (ground truth)
    dropped: bool                    # it touched the floor on the way
    fell: bool
    collisions: int
    peak_give_cm: tuple[float, ...]  # per robot: the most the bar drew its hands (its own estimate)
    energy_J: tuple[float, ...]      # per robot
    failures: tuple[str, ...]
    carry_s: float | None            # from setting off to both ends set down
    time_s: float
    wall_s: float


def run_bar_carry(config: BarCarryScenario, progress: Callable[[int], None] | None = None,
                  robot: RobotDescription | None = None) -> BarCarryReport:
    robot = robot or load_description(config.robot)
    if any(side not in robot.hands for side in ("left", "right")):
        raise ValueError(f"{robot.name} needs two hands to carry a bar")
    rng = np.random.default_rng(config.seed)
    to_xy = (0.0, config.distance_m + float(rng.uniform(-config.shift_m, config.shift_m)))
    b = config.bar
    world = WorldSpec(
        tables=(Table("rack0", (0.0, 0.0), RACK_SIZE_M, RACK_Z_M), Table("rack1", to_xy, RACK_SIZE_M, RACK_Z_M)),
        things=(Thing("bar", "box", b.half_size_m, b.mass_kg, (0.0, 0.0, RACK_Z_M + b.half_size_m[2]),
                      rgba=(0.75, 0.55, 0.3, 1.0), jitter_m=config.jitter_m),),
        seed=config.seed)
    stand = b.half_size_m[0] - b.grip_from_end_m + config.reach_m      # each robot from the bar's middle
    starts = [(-stand, 0.0, 0.0), (stand, 0.0, math.pi)]
    shared = SharedWorld([Placement(robot, s) for s in starts], world, seed=config.seed)
    bus = Bus(seed=config.seed)
    controllers = [ReachController(robot) for _ in starts]
    frames = [OdomFrame(s) for s in starts]
    ends = [BarEnd(name, c, f, bus, name == "B", b, (0.0, 0.0), to_xy, RACK_Z_M, config.carry)
            for name, c, f in zip("AB", controllers, frames, strict=True)]
    recorder = VideoRecorder(shared.model, config.video, None, view=(4.5, 90.0, -25.0)) if config.video else None
    states = shared.reset(config.seed)
    bar = shared.data.body("bar")
    start_xy = bar.xpos[:2].copy()
    lowest = float(bar.xpos[2])
    collisions, fell = 0, False
    set_off_s: float | None = None
    start = time.perf_counter()
    try:
        for k in range(int(round(config.seconds / shared.control_dt_s))):
            for c, f in zip(controllers, frames, strict=True):
                f.update(c.locomotion.state)
            if shared.time_s >= 0.5:
                for end, state in zip(ends, states, strict=True):
                    end.tick(state)
            if set_off_s is None and all(e.stage == "carry" for e in ends):
                set_off_s = shared.time_s
            states = shared.step([c(s) for c, s in zip(controllers, states, strict=True)])
            if recorder is not None:
                recorder.capture(shared.data, shared.time_s)
            if progress is not None and k % 100 == 99:
                progress(100)
            lowest = min(lowest, float(bar.xpos[2]))        # scoring: ground truth
            collisions += shared.ground_truth_collisions_begun()
            fell |= any(has_fallen(g) for g in shared.ground_truth())
            if all(e.stage in ("done", "failed") for e in ends):
                break
    finally:
        if recorder is not None:
            recorder.close()
        shared.close()
    off = float(np.hypot(*(bar.xpos[:2] - np.array(to_xy))))
    level = bar.xmat.reshape(3, 3)[2, 2] > math.cos(math.radians(5))
    resting = abs(bar.xpos[2] - (RACK_Z_M + b.half_size_m[2])) < 0.01
    on_rack = bool(level and resting and abs(bar.xpos[1] - to_xy[1]) <= RACK_SIZE_M[1] / 2 - b.half_size_m[1] / 2
                   and abs(bar.xpos[0] - to_xy[0]) <= RACK_SIZE_M[0] / 2)
    dropped = lowest < b.half_size_m[1] + 0.05        # near the floor (on its side or flat)
    down = [e.down_s for e in ends if e.down_s is not None]
    return BarCarryReport(
        success=on_rack and not dropped and not fell and collisions == 0 and all(e.stage == "done" for e in ends),
        on_rack=on_rack, off_m=off, off_xy_m=(float(bar.xpos[0] - to_xy[0]), float(bar.xpos[1] - to_xy[1])),
        carried_m=float(np.linalg.norm(bar.xpos[:2] - start_xy)), dropped=dropped,
        fell=fell, collisions=collisions, peak_give_cm=tuple(100 * e.peak_give_m for e in ends),
        energy_J=tuple(r.energy_J for r in shared.robots), failures=tuple(f for e in ends for f in e.failures),
        carry_s=None if set_off_s is None or len(down) < 2 else max(down) - set_off_s,
        time_s=shared.time_s, wall_s=time.perf_counter() - start)
