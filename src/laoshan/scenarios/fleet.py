"""Fleet: several robots share one floor, tasks given out by the fleet manager, traffic kept apart.

``cross``: robots start on a circle and each goes to the point opposite (their straight paths all
cross in the middle). ``inspect``: a room with tables; inspection spots marked on the floor, each
visited by one robot that stands there a moment. Every robot runs its own controller on its own
``LowState``; the manager and the robots talk only on the bus. Ground truth scores the run:
robot-robot contacts (collisions), the closest two robots came, falls, energy per robot.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from laoshan.fleet.agent import RobotAgent
from laoshan.fleet.bus import Bus
from laoshan.fleet.manager import FleetManager, Task
from laoshan.fleet.traffic import FloorMap
from laoshan.robot.description import RobotDescription, load_description
from laoshan.sim.render import VideoRecorder
from laoshan.sim.scoring import has_fallen
from laoshan.sim.shared import Placement, SharedWorld
from laoshan.sim.world import FloorMark, Table, WorldSpec

ROOM_M = (-3.5, 3.5)             # the inspection room's floor, x and y [m]
NEAR_MISS_M = 0.6                # two robots' bases closer than this (ground truth): a near miss
STUCK_S = 30.0                   # no robot reaching a waypoint for this long while work is left: the run ends (a
                                 # deadlock if some robot the manager counts on is left)


@dataclass(frozen=True)
class FleetScenario:
    kind: str = "cross"              # cross | inspect
    robots: int = 2
    tasks: int = 6                   # inspect: spots to visit (cross: one per robot, its opposite point)
    robot: str = "g1-basic"
    seed: int = 0
    seconds: float = 240.0           # give up after this long
    video: Path | None = None
    fail: tuple[int, float] | None = None   # (robot, time [s]): its controller dies then (no more commands or
                                            # messages: its drivers damp and it collapses), a deliberate fault


    def __post_init__(self) -> None:
        if self.kind not in ("cross", "inspect"):
            raise ValueError(f"kind must be 'cross' or 'inspect', got {self.kind!r}")
        if not 1 <= self.robots <= 6:
            raise ValueError(f"robots must be 1 to 6, got {self.robots}")
        if self.tasks < 1:
            raise ValueError(f"tasks must be >= 1, got {self.tasks}")
        if self.fail is not None and not (0 <= self.fail[0] < self.robots and self.fail[1] >= 0):
            raise ValueError(f"fail names a robot 0..{self.robots - 1} and a time >= 0 s, got {self.fail}")


@dataclass(frozen=True)
class RobotFigures:
    name: str
    tasks_done: int
    fell: bool
    energy_J: float
    walked_m: float                  # base path in the ground plane (ground truth; 1 s chords: step sway left out)
    out: str                         # why the manager stopped giving it tasks ("" if it did not)


@dataclass(frozen=True)
class FleetReport:
    kind: str
    robots: tuple[RobotFigures, ...]
    tasks: int
    tasks_done: int
    success: bool                    # every task done, no collision, nobody fell (but a robot made to fail)
    time_s: float                    # sim time to the last task done (or to the end)
    collisions: int                  # robot pairs that touched (ground truth), counted once per contact episode
    near_misses: int                 # ... whose bases came closer than NEAR_MISS_M without touching
    closest_m: float                 # the smallest distance between two robots' bases
    deadlock: bool
    plans: int
    planning_failures: int
    events: tuple[str, ...]
    wall_s: float

    @property
    def real_time_factor(self) -> float:
        return self.time_s / self.wall_s if self.wall_s > 0 else math.inf


@dataclass
class _Setup:
    world: WorldSpec
    starts: list[tuple[float, float, float]]
    tasks: list[Task]
    floor: FloorMap = field(default_factory=lambda: FloorMap.room((ROOM_M[0],) * 2, (ROOM_M[1],) * 2))


def _cross(config: FleetScenario, rng: np.random.Generator) -> _Setup:
    n, radius = config.robots, rng.uniform(1.8, 2.4)
    phase = rng.uniform(0, 2 * math.pi)
    angles = [phase + math.pi * i / n for i in range(n)]          # half a circle: the opposites are free
    starts = [(radius * math.cos(a), radius * math.sin(a), a + math.pi) for a in angles]
    tasks = [Task(f"cross{i}", (-x, -y), dwell_s=0.5, robot=f"robot{i}") for i, (x, y, _) in enumerate(starts)]
    marks = tuple(FloorMark(t.name, t.xy_m) for t in tasks)
    return _Setup(WorldSpec(marks=marks, seed=config.seed), starts, tasks)


def _inspect(config: FleetScenario, rng: np.random.Generator) -> _Setup:
    """Two tables somewhere in the room; robots start along the left wall; spots anywhere else,
    at least 1.6 m apart and clear of tables and starts."""
    lo, hi = ROOM_M
    tables = []
    for k in range(2):
        cx, cy = rng.uniform(-1.5, 2.0), (-1.6 if k == 0 else 1.6) + rng.uniform(-0.4, 0.4)
        tables.append(Table(f"table{k}", (float(cx), float(cy)), (float(rng.uniform(0.8, 1.2)), 0.6), 0.75))
    ys = np.linspace(-2.0, 2.0, config.robots) if config.robots > 1 else np.array([0.0])
    starts = [(lo + 0.75, float(y + rng.uniform(-0.1, 0.1)), 0.0) for y in ys]
    obstacles = [((t.center_xy_m[0] - t.top_size_m[0] / 2, t.center_xy_m[1] - t.top_size_m[1] / 2),
                  (t.center_xy_m[0] + t.top_size_m[0] / 2, t.center_xy_m[1] + t.top_size_m[1] / 2)) for t in tables]
    floor = FloorMap.room((lo, lo), (hi, hi), obstacles=obstacles)
    spots: list[tuple[float, float]] = []
    while len(spots) < config.tasks:
        xy = (float(rng.uniform(lo + 1.5, hi - 0.5)), float(rng.uniform(lo + 0.5, hi - 0.5)))
        if (floor.free(floor.cell(xy)) and all(math.dist(xy, s) >= 1.6 for s in spots)
                and all(math.dist(xy, s[:2]) >= 1.6 for s in starts)):
            spots.append(floor.center(floor.cell(xy)))
    tasks = [Task(f"spot{i}", xy, dwell_s=2.0) for i, xy in enumerate(spots)]
    world = WorldSpec(tables=tuple(tables), marks=tuple(FloorMark(t.name, t.xy_m) for t in tasks), seed=config.seed)
    return _Setup(world, starts, tasks, floor)


def run_fleet(config: FleetScenario, progress: Callable[[int], None] | None = None,
              robot: RobotDescription | None = None) -> FleetReport:
    """Run the fleet until every task is done, a deadlock, or ``config.seconds``; ``progress(ticks)``
    is called every 100 control ticks; every robot is ``robot`` (default: ``config.robot``'s)."""
    rng = np.random.default_rng(config.seed)
    setup = (_cross if config.kind == "cross" else _inspect)(config, rng)
    robot = robot or load_description(config.robot)
    shared = SharedWorld([Placement(robot, s) for s in setup.starts], setup.world, seed=config.seed)
    bus = Bus(seed=config.seed)
    names = [f"robot{i}" for i in range(len(setup.starts))]
    agents = [RobotAgent(n, robot, s, bus) for n, s in zip(names, setup.starts, strict=True)]
    manager = FleetManager(setup.floor, names, bus)
    manager.add(*setup.tasks)
    recorder = VideoRecorder(shared.model, config.video, None, view=(9.0, 90.0, -55.0)) if config.video else None
    states = shared.reset(config.seed)
    dt = shared.control_dt_s
    chord = int(round(1.0 / dt))
    truth = shared.ground_truth()
    xy_prev = [g.p_world_base_m[:2].copy() for g in truth]
    walked = np.zeros(len(names))
    fell = [False] * len(names)
    near: set[tuple[int, int]] = set()
    collisions = near_misses = 0
    closest = math.inf
    last_progress_s, progress_key = 0.0, None
    deadlock = False
    finished_s: float | None = None
    start = time.perf_counter()
    try:
        for k in range(int(round(config.seconds / dt))):
            dead = config.fail is not None and shared.time_s >= config.fail[1]
            cmds = [None if dead and i == config.fail[0] else a(s)   # type: ignore[index]
                    for i, (a, s) in enumerate(zip(agents, states, strict=True))]
            manager.tick(shared.time_s)
            states = shared.step(cmds)
            if recorder is not None:
                recorder.capture(shared.data, shared.time_s)
            if progress is not None and k % 100 == 99:
                progress(100)
            truth = shared.ground_truth()
            now = shared.time_s
            collisions += shared.ground_truth_collisions_begun()
            xy = [g.p_world_base_m[:2] for g in truth]
            for i, g in enumerate(truth):
                if k % chord == 0:
                    walked[i] += float(np.linalg.norm(xy[i] - xy_prev[i]))
                    xy_prev[i] = xy[i].copy()
                fell[i] |= has_fallen(g)
            close = set()
            for i in range(len(xy)):
                for j in range(i + 1, len(xy)):
                    d = float(np.linalg.norm(xy[i] - xy[j]))
                    closest = min(closest, d)
                    if d < NEAR_MISS_M and (i, j) not in shared.ground_truth_touching:
                        close.add((i, j))
            near_misses += len(close - near)
            near = close
            key = (manager.plan, tuple(r.reached for r in manager.records.values()), len(manager.done))
            if key != progress_key:
                progress_key, last_progress_s = key, now
            able = [not manager.records[n].out for n in names]   # robots the manager still counts on
            if manager.finished and not any(a.locomotion.walking for a, ok in zip(agents, able, strict=True) if ok):
                finished_s = now
                break
            if now - last_progress_s > STUCK_S:
                deadlock = any(able)      # work left, robots able to do it, and none moving on: a deadlock
                break
    finally:
        if recorder is not None:
            recorder.close()
        shared.close()
    wall = time.perf_counter() - start
    walked += [float(np.linalg.norm(g.p_world_base_m[:2] - p)) for g, p in zip(truth, xy_prev, strict=True)]
    figures = tuple(RobotFigures(n, sum(1 for r in manager.done.values() if r == n), fell[i],
                                 shared.robots[i].energy_J, float(walked[i]), manager.records[n].out)
                    for i, n in enumerate(names))
    done = len(manager.done)
    return FleetReport(
        kind=config.kind, robots=figures, tasks=len(setup.tasks), tasks_done=done,
        success=done == len(setup.tasks) and collisions == 0
        and not any(f for i, f in enumerate(fell) if config.fail is None or i != config.fail[0]),
        time_s=finished_s if finished_s is not None else shared.time_s, collisions=collisions,
        near_misses=near_misses, closest_m=closest, deadlock=deadlock, plans=manager.plan,
        planning_failures=manager.planning_failures, events=tuple(manager.events), wall_s=wall)
