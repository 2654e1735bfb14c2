"""Line cell: robot A takes parts standing on its side of a table and hands each to robot B across
it, who sets it down upright on its own spot.

Two functional G1s face each other over a table. A knows where the parts should stand (the cell's
layout; the seed moves each up to ``jitter_m``); B finds each offered part with its own head camera.
They coordinate only over the bus (:mod:`laoshan.fleet.handover`). Ground truth scores the run: a
part counts as handed over when, as the giver lets go, only B's hand touches it and it is up in the
air, and as placed when it ends upright within ``place_tolerance_m`` of its spot.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from laoshan.fleet.agent import OdomFrame
from laoshan.fleet.bus import Bus
from laoshan.fleet.handover import Giver, HandOverConfig, Part, Taker
from laoshan.limbs.reach import ReachController
from laoshan.robot.description import RobotDescription, load_description
from laoshan.sim.render import VideoRecorder
from laoshan.sim.scoring import has_fallen
from laoshan.sim.shared import Placement, SharedWorld
from laoshan.sim.world import FloorMark, Table, Thing, WorldSpec

TABLE_Z_M = 0.70
TAKER_X_M = 1.05                   # B stands this far from A, facing it
# The parts, in the order handed over: where each stands on A's side, the hand that gives and takes it, and
# where B sets it down on its side (the second is the first's mirror image, on the left hands)
PARTS_XY_M = [(0.36, -0.12), (0.36, 0.12)]
HANDS = ["right", "left"]
SPOTS_XY_M = [(0.63, 0.12), (0.63, -0.12)]
PART_COLOURS = [("blue", (0.2, 0.5, 0.9, 1.0)), ("green", (0.2, 0.8, 0.3, 1.0))]   # each its own: the taker's
                                              # camera tells the part held out from those standing behind it


@dataclass(frozen=True)
class LineScenario:
    robot: str = "g1-functional"
    parts: int = 1
    jitter_m: float = 0.01
    place_tolerance_m: float = 0.03
    seed: int = 0
    video: Path | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.parts <= len(PARTS_XY_M):
            raise ValueError(f"parts must be 1 to {len(PARTS_XY_M)}, got {self.parts}")
        if not 0 <= self.jitter_m <= 0.02:
            raise ValueError(f"jitter_m must be in [0, 0.02] m, got {self.jitter_m}")

    @property
    def seconds(self) -> float:
        return 10.0 + 25.0 * self.parts


@dataclass(frozen=True)
class LineReport:
    parts: int
    handed_over: int                 # parts held by B alone, up in the air, as A let go (ground truth)
    placed: int                      # parts standing upright within the tolerance of their spots at the end
    place_errors_m: tuple[float, ...]    # each part's distance from its spot at the end (xy)
    fell: bool
    collisions: int                  # robot-robot contacts begun
    failures: tuple[str, ...]        # what the robots said went wrong
    time_s: float
    wall_s: float

    @property
    def success(self) -> bool:
        return self.handed_over == self.placed == self.parts and not self.fell and self.collisions == 0


def run_line(config: LineScenario, progress: Callable[[int], None] | None = None,
             robot: RobotDescription | None = None) -> LineReport:
    robot = robot or load_description(config.robot)
    if any(side not in robot.hands or not robot.hands[side].closing for side in HANDS) or not robot.cameras:
        raise ValueError(f"{robot.name} needs two hands with fingers and a camera for the line cell")
    looks = PART_COLOURS[:config.parts]
    parts = [Part(colour=colour, hand=hand) for (colour, _), hand in zip(looks, HANDS, strict=False)]
    order = PARTS_XY_M[:config.parts]
    spots = SPOTS_XY_M[:config.parts]
    world = WorldSpec(
        tables=(Table("table", (0.55, 0.0), (0.4, 0.8), TABLE_Z_M),),
        things=tuple(Thing(f"part{k}", "cylinder", (p.radius_m, p.height_m / 2), p.mass_kg,
                           (x, y, TABLE_Z_M + p.height_m / 2), rgba=rgba, jitter_m=config.jitter_m)
                     for k, (p, (_, rgba), (x, y)) in enumerate(zip(parts, looks, order, strict=True))),
        marks=tuple(FloorMark(f"spot{k}", xy, 0.03, (0.95, 0.75, 0.1, 1.0)) for k, xy in enumerate(spots)),
        seed=config.seed)
    starts = [(0.0, 0.0, 0.0), (TAKER_X_M, 0.0, math.pi)]
    shared = SharedWorld([Placement(robot, s) for s in starts], world, seed=config.seed, cameras=True)
    for body in shared.robots:
        body.streaming = False            # a camera renders only while a look waits for its frame
    bus = Bus(seed=config.seed)
    controllers = [ReachController(robot) for _ in starts]
    frames = [OdomFrame(s) for s in starts]
    handover = HandOverConfig()
    giver = Giver("A", controllers[0], frames[0], bus, parts, order, TABLE_Z_M, handover)
    taker = Taker("B", shared.robots[1], controllers[1], frames[1], bus, parts, spots, TABLE_Z_M, handover)
    recorder = VideoRecorder(shared.model, config.video, None, view=(2.6, 90.0, -30.0)) if config.video else None
    states = shared.reset(config.seed)
    handed: set[int] = set()
    judged: set[int] = set()
    collisions, fell = 0, False
    start = time.perf_counter()
    try:
        for k in range(int(round(config.seconds / shared.control_dt_s))):
            for c, f in zip(controllers, frames, strict=True):
                f.update(c.locomotion.state)
            t = shared.time_s
            if t >= 0.5:
                giver.tick(states[0])
                taker.tick(states[1])
            states = shared.step([c(s) for c, s in zip(controllers, states, strict=True)])
            if recorder is not None:
                recorder.capture(shared.data, shared.time_s)
            if progress is not None and k % 100 == 99:
                progress(100)
            for p in set(taker.released_s) - judged:     # scoring: as A has let go, who holds the part
                judged.add(p)
                if _held_by_taker_alone(shared, f"part{p}", parts[p]):
                    handed.add(p)
            collisions += shared.ground_truth_collisions_begun()
            fell |= any(has_fallen(g) for g in shared.ground_truth())
            if giver.done and taker.stage == "wait" and len(taker.placed) + len(taker.failures) >= config.parts:
                break
    finally:
        if recorder is not None:
            recorder.close()
        shared.close()
    errors = []
    placed = 0
    for p, spot in enumerate(spots):
        body = shared.data.body(f"part{p}")
        error = float(np.hypot(*(body.xpos[:2] - np.array(spot))))
        upright = body.xmat.reshape(3, 3)[2, 2] > math.cos(math.radians(10))
        on_table = abs(body.xpos[2] - (TABLE_Z_M + parts[p].height_m / 2)) < 0.01
        errors.append(error)
        placed += int(upright and on_table and error <= config.place_tolerance_m)
    return LineReport(parts=config.parts, handed_over=len(handed), placed=placed, place_errors_m=tuple(errors),
                      fell=fell, collisions=collisions, failures=tuple(giver.failures + taker.failures),
                      time_s=shared.time_s, wall_s=time.perf_counter() - start)


def _held_by_taker_alone(shared: SharedWorld, name: str, part: Part) -> bool:
    """Scoring (ground truth): only robot B touches the part, and it is clear of the table."""
    giver, taker = shared.robots
    z = shared.data.body(name).xpos[2]
    return (giver.ground_truth_contact_N(name) == 0.0 and taker.ground_truth_contact_N(name) > 0.0
            and z > TABLE_Z_M + part.height_m / 2 + 0.02)
