"""Traffic on a shared floor: paths reserved in space and time, executed without collision or deadlock.

The floor is a grid of square cells (:class:`FloorMap`). Paths are planned one robot after
another (prioritized planning) by A* in space and time over the cells, each robot avoiding what
the robots before it reserved: two robots are never closer than ``separation`` cells (Chebyshev
distance) at a step, nor across a step (one's cell now against the other's next, both ways),
and a robot that has arrived keeps its cell for good. Robots never keep to the plan's clock, so it
is executed as an action dependency graph (Hönig et al., 2019): a robot may move to its next cell
only once every robot that the plan had near that cell before it has moved on, which keeps the
plan's order of passing whatever the delays — no collision and no deadlock as long as the plan was
found.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

Cell = tuple[int, int]
MOVES: tuple[Cell, ...] = ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (1, -1), (-1, 1), (-1, -1))


class NoRoute(RuntimeError):
    """No conflict-free path within the planner's horizon."""


@dataclass(frozen=True)
class FloorMap:
    """The floor as a grid: ``cell_m`` square cells from ``origin_xy_m`` (the lower-left corner,
    map frame), ``size`` cells along x and y; ``blocked`` cells hold furniture."""

    origin_xy_m: tuple[float, float]
    size: tuple[int, int]
    cell_m: float = 0.5
    blocked: frozenset[Cell] = frozenset()

    def __post_init__(self) -> None:
        if not self.cell_m > 0 or min(self.size) < 1:
            raise ValueError(f"a floor map needs cells > 0 m and at least one of them, got {self.cell_m} m, "
                             f"{self.size}")

    @classmethod
    def room(cls, xy_min_m: tuple[float, float], xy_max_m: tuple[float, float], cell_m: float = 0.5,
             obstacles: Iterable[tuple[tuple[float, float], tuple[float, float]]] = (),
             clearance_m: float = 0.3) -> FloorMap:
        """A rectangular room; each obstacle an axis-aligned (min xy, max xy) rectangle whose cells,
        grown by ``clearance_m``, are blocked."""
        size = (int(math.ceil((xy_max_m[0] - xy_min_m[0]) / cell_m)),
                int(math.ceil((xy_max_m[1] - xy_min_m[1]) / cell_m)))
        floor = cls(xy_min_m, size, cell_m)
        blocked = set()
        for lo, hi in obstacles:
            for c in floor.cells():
                x, y = floor.center(c)
                if lo[0] - clearance_m <= x <= hi[0] + clearance_m and lo[1] - clearance_m <= y <= hi[1] + clearance_m:
                    blocked.add(c)
        return cls(xy_min_m, size, cell_m, frozenset(blocked))

    def cells(self) -> Iterable[Cell]:
        return itertools.product(range(self.size[0]), range(self.size[1]))

    def cell(self, xy_m: Sequence[float] | np.ndarray) -> Cell:
        """The cell holding the point ``xy_m`` (map frame), clamped onto the map."""
        i = int((xy_m[0] - self.origin_xy_m[0]) // self.cell_m)
        j = int((xy_m[1] - self.origin_xy_m[1]) // self.cell_m)
        return min(max(i, 0), self.size[0] - 1), min(max(j, 0), self.size[1] - 1)

    def center(self, cell: Cell) -> tuple[float, float]:
        """The middle of ``cell`` (map frame) [m]."""
        return (self.origin_xy_m[0] + (cell[0] + 0.5) * self.cell_m,
                self.origin_xy_m[1] + (cell[1] + 0.5) * self.cell_m)

    def free(self, cell: Cell) -> bool:
        return 0 <= cell[0] < self.size[0] and 0 <= cell[1] < self.size[1] and cell not in self.blocked


def apart(a: Cell, b: Cell, separation: int) -> bool:
    """Whether two robots in cells ``a`` and ``b`` keep the separation (Chebyshev distance)."""
    return max(abs(a[0] - b[0]), abs(a[1] - b[1])) >= separation


@dataclass
class Reservations:
    """Cells taken over time by the paths planned so far."""

    separation: int
    paths: list[list[Cell]] = field(default_factory=list)   # cell at each step; the last is kept after
    brief: list[list[Cell]] = field(default_factory=list)   # cell at each step, nothing after

    def ok(self, cell: Cell, t: int) -> bool:
        """Whether a robot may be in ``cell`` at step ``t``: apart from every reserved cell at
        ``t`` and at the steps either side."""
        s = self.separation
        for steps in (t - 1, t, t + 1):
            if steps < 0:
                continue
            if not all(apart(cell, p[min(steps, len(p) - 1)], s) for p in self.paths):
                return False
            if not all(apart(cell, p[steps], s) for p in self.brief if steps < len(p)):
                return False
        return True

    def horizon(self) -> int:
        return max((len(p) for p in self.paths), default=0)


def plan_path(floor: FloorMap, start: Cell, goal: Cell, reserved: Reservations, max_steps: int = 400) -> list[Cell]:
    """Space-time A*: the cells of a path from ``start`` to ``goal`` one move (8 neighbours or
    a wait) per step, keeping clear of ``reserved``, that can stay at ``goal`` for good."""
    for end, what in ((start, "start"), (goal, "goal")):
        if not floor.free(end):
            raise NoRoute(f"the {what} cell {end} is off the map or blocked")

    def h(c: Cell) -> int:
        return max(abs(c[0] - goal[0]), abs(c[1] - goal[1]))

    settle = reserved.horizon()      # after every reserved path has ended, staying at the goal must be clear
    tie = itertools.count()
    frontier = [(h(start), next(tie), 0, start)]
    parent: dict[tuple[Cell, int], tuple[Cell, int] | None] = {(start, 0): None}
    while frontier:
        _, _, t, c = heapq.heappop(frontier)
        if c == goal and all(reserved.ok(c, k) for k in range(t, max(settle, t) + 1)):
            path, node = [], (c, t)
            while node is not None:
                path.append(node[0])
                node = parent[node]
            return path[::-1]
        if t >= max_steps:
            continue
        for dx, dy in MOVES:
            n = (c[0] + dx, c[1] + dy)
            if (n, t + 1) in parent or not floor.free(n) or not reserved.ok(n, t + 1):
                continue
            if dx and dy and not (floor.free((c[0] + dx, c[1])) and floor.free((c[0], c[1] + dy))):
                continue             # no cutting a blocked corner
            parent[(n, t + 1)] = (c, t)
            heapq.heappush(frontier, (t + 1 + h(n), next(tie), t + 1, n))
    raise NoRoute(f"no path from {start} to {goal} clear of the other robots within {max_steps} steps")


def plan_paths(floor: FloorMap, starts: Sequence[Cell], goals: Sequence[Cell], separation: int = 2,
               max_steps: int = 400) -> list[list[Cell]]:
    """Conflict-free paths for every robot (robot ``i`` from ``starts[i]`` to ``goals[i]``).
    Robots are planned in order of their distance to go, longest first; if an order fails, the
    robot that failed is moved to the front and the plan is made again (at most once per robot)."""
    n = len(starts)
    if len(goals) != n:
        raise ValueError(f"{n} starts and {len(goals)} goals")
    for i, j in itertools.combinations(range(n), 2):
        if not apart(starts[i], starts[j], separation):
            raise NoRoute(f"robots {i} and {j} start closer than {separation} cells ({starts[i]}, {starts[j]})")
    order = sorted(range(n), key=lambda i: -max(abs(starts[i][0] - goals[i][0]), abs(starts[i][1] - goals[i][1])))
    last_error: NoRoute | None = None
    for _ in range(n):
        reserved = Reservations(separation)
        paths: dict[int, list[Cell]] = {}
        try:
            for i in order:
                path = plan_path(floor, starts[i], goals[i], _with_starts(reserved, starts, paths, order, i), max_steps)
                reserved.paths.append(path)
                paths[i] = path
            return [paths[i] for i in range(n)]
        except NoRoute as exc:
            last_error = exc
            failed = next(i for i in order if i not in paths)
            order = [failed] + [i for i in order if i != failed]
    raise NoRoute(f"no conflict-free plan for {n} robots: {last_error}")


def _with_starts(reserved: Reservations, starts: Sequence[Cell], paths: dict[int, list[Cell]], order: list[int],
                 i: int) -> Reservations:
    """What robot ``i`` must keep clear of: the planned paths, and the robots planned after it
    standing at their starts for the first step (they cannot be passed through at the start)."""
    first = [[starts[k], starts[k]] for k in order if k not in paths and k != i]
    return Reservations(reserved.separation, reserved.paths, first)


@dataclass(frozen=True)
class Schedule:
    """A plan to execute: each robot's waypoints (the cells where its path changes cell, its start
    first) and, per waypoint, what must have happened before the robot may move to it."""

    waypoints: list[list[Cell]]
    # waits[i][k]: {robot j: waypoint index robot j must have reached} before robot i moves to waypoint k
    waits: list[list[dict[int, int]]]

    def cleared(self, robot: int, reached: Sequence[int]) -> int:
        """The furthest waypoint ``robot`` may go to given how far each robot has got
        (``reached[j]``: the index of the last waypoint robot j has arrived at)."""
        k = reached[robot]
        while k + 1 < len(self.waypoints[robot]) and all(reached[j] >= m for j, m in self.waits[robot][k + 1].items()):
            k += 1
        return k


def schedule(paths: Sequence[list[Cell]], separation: int = 2) -> Schedule:
    """The action dependency graph of conflict-free ``paths`` (one cell per step)."""
    steps: list[list[int]] = []            # per robot: the step at which it arrives at each waypoint
    waypoints: list[list[Cell]] = []
    for path in paths:
        ws, ts = [path[0]], [0]
        for t, c in enumerate(path[1:], start=1):
            if c != ws[-1]:
                ws.append(c)
                ts.append(t)
        waypoints.append(ws)
        steps.append(ts)
    n = len(paths)
    waits: list[list[dict[int, int]]] = [[{} for _ in ws] for ws in waypoints]
    for i, j in itertools.permutations(range(n), 2):
        for k in range(1, len(waypoints[i])):          # robot i moving to its waypoint k ...
            t_enter = steps[i][k]
            for m, c in enumerate(waypoints[j]):       # ... after robot j was near there at its waypoint m
                leave = steps[j][m + 1] if m + 1 < len(steps[j]) else math.inf
                if steps[j][m] < t_enter and not apart(c, waypoints[i][k], separation):
                    if leave > t_enter:
                        raise ValueError(f"paths of robots {j} and {i} conflict at step {t_enter}")
                    waits[i][k][j] = max(waits[i][k].get(j, 0), m + 1)   # j must have left: reached m + 1
    return Schedule(waypoints, waits)
