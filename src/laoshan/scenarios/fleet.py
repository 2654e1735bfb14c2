"""Fleet: several robots share one floor, tasks given out by the fleet manager, traffic kept apart.

``cross``: robots start on a circle and each goes to the point opposite (their straight paths all
cross in the middle). ``inspect``: a room with tables; inspection spots marked on the floor, each
visited by one robot that stands there a moment. ``fetch``: functional robots fetch cans across a
room: each can stands on a long table on one side, each has its own spot on a table on the other,
and the robots share the aisle between (:mod:`laoshan.fleet.fetch` does the hands' part; a robot
finds each can with its own head camera). Every robot runs its own controller on its own
``LowState``; the manager and the robots talk only on the bus. Ground truth scores the run:
robot-robot contacts (collisions), the closest two robots came, falls, energy per robot, and
(fetch) where each can ended.
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
from laoshan.fleet.fetch import CanHands, CanHandsConfig
from laoshan.fleet.handover import Part
from laoshan.fleet.manager import FleetManager, Task
from laoshan.fleet.traffic import FloorMap
from laoshan.limbs.reach import ReachController
from laoshan.robot.description import RobotDescription, load_description
from laoshan.sim.render import VideoRecorder
from laoshan.sim.scoring import has_fallen
from laoshan.sim.shared import Placement, SharedWorld
from laoshan.sim.world import FloorMark, Table, Thing, WorldSpec

ROOM_M = (-3.5, 3.5)             # the inspection room's floor, x and y [m]
NEAR_MISS_M = 0.6                # two robots' bases closer than this (ground truth): a near miss
FETCH_TABLE_Z_M = 0.70           # fetch: the tables' height ...
FETCH_EDGE_X_M = 1.4             # ... their near edges this far either side of the aisle's middle (x = 0) ...
FETCH_ON_TABLE_M = 0.06          # ... each can (and each spot) this far in from its table's near edge
FETCH_TOLERANCE_M = 0.05         # a can counts as delivered standing this close to its spot
CAN = Part(radius_m=0.033, height_m=0.12, mass_kg=0.3, colour="blue")
STUCK_S = 30.0                   # no robot reaching a waypoint (nor its hands' work moving on) for this long while
                                 # work is left: the run ends (a deadlock if some robot the manager counts on is left)


@dataclass(frozen=True)
class FleetScenario:
    kind: str = "cross"              # cross | inspect | fetch
    robots: int = 2
    tasks: int = 6                   # inspect: spots to visit; fetch: cans to fetch (cross: one per robot, its
                                     # opposite point)
    robot: str = ""                  # every robot ("": g1-functional for fetch, which needs hands, else g1-basic)
    seed: int = 0
    seconds: float = 240.0           # give up after this long
    video: Path | None = None
    fail: tuple[int, float] | None = None   # (robot, time [s]): its controller dies then (no more commands or
                                            # messages: its drivers damp and it collapses), a deliberate fault


    def __post_init__(self) -> None:
        if self.kind not in ("cross", "inspect", "fetch"):
            raise ValueError(f"kind must be 'cross', 'inspect' or 'fetch', got {self.kind!r}")
        if self.kind == "fetch" and not 1 <= self.tasks <= 6:
            raise ValueError(f"a fetch has 1 to 6 cans (the tables hold six), got {self.tasks}")
        if not 1 <= self.robots <= 6:
            raise ValueError(f"robots must be 1 to 6, got {self.robots}")
        if self.tasks < 1:
            raise ValueError(f"tasks must be >= 1, got {self.tasks}")
        if self.fail is not None and not (0 <= self.fail[0] < self.robots and self.fail[1] >= 0):
            raise ValueError(f"fail names a robot 0..{self.robots - 1} and a time >= 0 s, got {self.fail}")

    @property
    def robot_name(self) -> str:
        return self.robot or ("g1-functional" if self.kind == "fetch" else "g1-basic")


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
    delivered: int | None = None     # fetch: cans standing upright on the table within FETCH_TOLERANCE_M of their
                                     # spots at the end (ground truth)
    place_errors_m: tuple[float, ...] = ()   # fetch: each can's distance from its spot (inf: not standing there)
    given_up: tuple[str, ...] = ()   # the tasks robots gave up, and why

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


def _approach(floor: FloorMap, stand_xy: np.ndarray, facing_rad: float) -> tuple[float, float]:
    """The middle of the free cell nearest ``stand_xy`` straight back from the table the robot
    faces there: its route ends there, and it walks in (and back out) on its own."""
    back = -np.array([math.cos(facing_rad), math.sin(facing_rad)])
    for d in np.arange(0.0, 2.0, 0.1):
        cell = floor.cell(stand_xy + back * d)
        if floor.free(cell):
            return floor.center(cell)
    raise ValueError(f"no free floor behind the stand spot {stand_xy}")


def _fetch(config: FleetScenario, rng: np.random.Generator) -> _Setup:
    """A long table each side of an aisle along y; cans on the one at +x, each its own spot on the
    one at -x (1 m apart, moved up to 10 cm along the tables by the seed; the tables up to 5 cm
    across); robots start in the aisle facing +x. The layout is drawn before the starts: the same
    seed gives the same cans to any number of robots."""
    lo, hi = ROOM_M
    depth, length = 0.5, 5.6
    edges = [FETCH_EDGE_X_M + float(rng.uniform(-0.05, 0.05)) for _ in range(2)]    # pick side (+x), place side
    tables = (Table("pick_table", (edges[0] + depth / 2, 0.0), (depth, length), FETCH_TABLE_Z_M),
              Table("place_table", (-edges[1] - depth / 2, 0.0), (depth, length), FETCH_TABLE_Z_M))
    rows = np.arange(6) - 2.5
    cans_y = rows + rng.uniform(-0.1, 0.1, 6)
    spots_y = rows + rng.uniform(-0.1, 0.1, 6)
    order = rng.permutation(6)[:config.tasks]          # the cans fetched, and ...
    to_spot = rng.permutation(6)[:config.tasks]        # ... the spot each goes to
    obstacles = [((t.center_xy_m[0] - t.top_size_m[0] / 2, t.center_xy_m[1] - t.top_size_m[1] / 2),
                  (t.center_xy_m[0] + t.top_size_m[0] / 2, t.center_xy_m[1] + t.top_size_m[1] / 2)) for t in tables]
    floor = FloorMap.room((lo, lo), (hi, hi), obstacles=obstacles)
    z = FETCH_TABLE_Z_M + CAN.height_m / 2
    grasp_from = np.array(CanHandsConfig().grasp_from_m)
    tasks, things = [], []
    for k, (i, j) in enumerate(zip(order, to_spot, strict=True)):
        can = np.array([edges[0] + FETCH_ON_TABLE_M, cans_y[i]])
        spot = np.array([-edges[1] - FETCH_ON_TABLE_M, spots_y[j]])
        place = Task(f"place{k}", _approach(floor, spot + grasp_from, math.pi), action="place",
                     at_xyz_m=(float(spot[0]), float(spot[1]), z), facing_yaw_rad=math.pi)
        tasks.append(Task(f"fetch{k}", _approach(floor, can - grasp_from, 0.0), action="pick",
                          at_xyz_m=(float(can[0]), float(can[1]), z), then=place))
        things.append(Thing(f"can{k}", "cylinder", (CAN.radius_m, CAN.height_m / 2), CAN.mass_kg,
                            (float(can[0]), float(can[1]), z), rgba=(0.2, 0.5, 0.9, 1.0), jitter_m=0.01))
    ys = np.linspace(-2.0, 2.0, config.robots) if config.robots > 1 else np.array([0.0])
    starts = [(*floor.center(floor.cell((0.0, float(y)))), 0.0) for y in ys]
    starts = [(x + float(rng.uniform(-0.05, 0.05)), y + float(rng.uniform(-0.05, 0.05)), float(rng.uniform(-0.2, 0.2)))
              for x, y, _ in starts]
    return _Setup(WorldSpec(tables=tables, things=tuple(things), seed=config.seed), starts, tasks, floor)


def run_fleet(config: FleetScenario, progress: Callable[[int], None] | None = None,
              robot: RobotDescription | None = None) -> FleetReport:
    """Run the fleet until every task is done, a deadlock, or ``config.seconds``; ``progress(ticks)``
    is called every 100 control ticks; every robot is ``robot`` (default: ``config.robot``'s)."""
    rng = np.random.default_rng(config.seed)
    setup = {"cross": _cross, "inspect": _inspect, "fetch": _fetch}[config.kind](config, rng)
    robot = robot or load_description(config.robot_name)
    fetch = config.kind == "fetch"
    if fetch and ("right" not in robot.hands or not robot.hands["right"].closing or not robot.cameras):
        raise ValueError(f"{robot.name} needs a right hand with fingers and a camera to fetch")
    shared = SharedWorld([Placement(robot, s) for s in setup.starts], setup.world, seed=config.seed, cameras=fetch)
    bus = Bus(seed=config.seed)
    names = [f"robot{i}" for i in range(len(setup.starts))]
    hands: list[CanHands | None] = [None] * len(names)
    if fetch:
        for i, body in enumerate(shared.robots):
            body.streaming = False            # a camera renders only while a look waits for its frame
            hands[i] = CanHands(ReachController(robot), body, CAN, FETCH_TABLE_Z_M,
                                CanHandsConfig(on_table_m=FETCH_ON_TABLE_M))    # the robots know the layout
    agents = [RobotAgent(n, robot, s, bus, hands=h.controller if h else None, work=h)
              for n, s, h in zip(names, setup.starts, hands, strict=True)]
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
            key = (manager.plan, tuple(r.reached for r in manager.records.values()), len(manager.done),
                   tuple(h.stage for h in hands if h is not None))     # hands at work are no deadlock
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
    errors = tuple(_can_off_m(shared, f"can{k}", t) for k, t in enumerate(setup.tasks)) if fetch else ()
    delivered = sum(e <= FETCH_TOLERANCE_M for e in errors)
    return FleetReport(
        kind=config.kind, robots=figures, tasks=len(setup.tasks), tasks_done=done,
        success=done == len(setup.tasks) and collisions == 0 and (not fetch or delivered == len(setup.tasks))
        and not any(f for i, f in enumerate(fell) if config.fail is None or i != config.fail[0]),
        time_s=finished_s if finished_s is not None else shared.time_s, collisions=collisions,
        near_misses=near_misses, closest_m=closest, deadlock=deadlock, plans=manager.plan,
        planning_failures=manager.planning_failures, events=tuple(manager.events), wall_s=wall,
        delivered=delivered if fetch else None, place_errors_m=errors,
        given_up=tuple(f"{name}: {why}" for name, why in manager.failed.items()))


def _can_off_m(shared: SharedWorld, name: str, task: Task) -> float:
    """Scoring (ground truth): how far the can ended from its spot (xy); infinite if it is not
    standing upright on the table."""
    assert task.then is not None and task.then.at_xyz_m is not None
    body = shared.data.body(name)
    upright = body.xmat.reshape(3, 3)[2, 2] > math.cos(math.radians(10))
    on_table = abs(body.xpos[2] - task.then.at_xyz_m[2]) < 0.01
    return float(np.hypot(*(body.xpos[:2] - task.then.at_xyz_m[:2]))) if upright and on_table else math.inf
