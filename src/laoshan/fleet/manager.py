"""The fleet manager: tasks to robots by cost, routes reserved in space and time, clearances.

It knows the robots only from what they send on the bus (pose estimates, progress, battery, a
fall). Idle robots get open tasks by cost (path length on the floor map, plus a penalty for a low
battery), cheapest pair first. Whenever assignments change, every robot stops at the waypoint it
is cleared to; once all stand there, routes for all are planned together (:mod:`traffic`) and sent,
and each robot is cleared waypoint by waypoint as the robots the plan has pass first move on. A
robot that falls, goes silent or runs low on battery gives its task back to the pool for another.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from laoshan.fleet.bus import CLEARANCE, POSE, PROGRESS, ROUTE, Clearance, MessageBus, PoseReport, Progress, Route
from laoshan.fleet.traffic import Cell, FloorMap, NoRoute, Schedule, plan_paths, schedule


@dataclass(frozen=True)
class Task:
    name: str
    xy_m: tuple[float, float]       # where it is done (map frame)
    dwell_s: float = 2.0            # how long the robot stays there doing it (an inspection's look)
    robot: str | None = None        # only this robot may do it (None: any)
    action: str = "dwell"           # dwell (stand there dwell_s) | pick | place (see Route)
    at_xyz_m: tuple[float, float, float] | None = None   # pick, place: the object's centre, where it goes (map)
    facing_yaw_rad: float = 0.0     # pick, place: the robot faces this way to use its hands (map frame)
    then: Task | None = None        # the task's second leg, for the robot that did this one (a fetch: picked,
                                    # the robot holding the object delivers it)

    def __post_init__(self) -> None:
        if self.action not in ("dwell", "pick", "place"):
            raise ValueError(f"action must be dwell, pick or place, got {self.action!r}")
        if (self.action != "dwell") != (self.at_xyz_m is not None):
            raise ValueError(f"task {self.name}: a pick or a place needs at_xyz_m, a dwell none")


@dataclass(frozen=True)
class ManagerConfig:
    period_s: float = 0.1           # the manager runs this often
    separation_cells: int = 2       # robots never nearer than this many cells (Chebyshev) in a plan
    silent_after_s: float = 2.0     # a robot that has sent nothing for this long is lost
    low_battery_soc: float = 0.15   # below this a robot takes no task and gives its own back
    battery_cost_m: float = 10.0    # cost of an empty battery, as metres walked
    resend_s: float = 1.0           # routes and clearances sent again this often (a lost message)


@dataclass
class RobotRecord:
    name: str
    pose: PoseReport | None = None
    task: Task | None = None
    out: str = ""                   # why the robot takes no more tasks ("" while it does)
    holding: str | None = None      # the task whose object it holds (picked, not yet delivered)
    reached: int = 0                # the last waypoint reported reached, of the current plan
    cleared: int = 0


@dataclass
class FleetManager:
    floor: FloorMap
    robots: list[str]
    bus: MessageBus
    config: ManagerConfig = field(default_factory=ManagerConfig)

    def __post_init__(self) -> None:
        self.inbox = self.bus.subscribe(POSE, PROGRESS)
        self.records = {r: RobotRecord(r) for r in self.robots}
        self.open: list[Task] = []
        self.done: dict[str, str] = {}            # task -> the robot that did it (a task of two legs: both)
        self.failed: dict[str, str] = {}          # task -> why its robot gave it up (not given out again)
        self.plan = 0
        self.sched: Schedule | None = None
        self._movers: list[str] = []              # the robots of the current plan, in its order
        self._routes: dict[str, Route] = {}
        self.replan_pending = False
        self._next_s = 0.0
        self._next_send_s = 0.0
        self.events: list[str] = []               # what happened, with times (for the report)
        self.planning_failures = 0
        self._defer_until_s = 0.0                 # after a failed plan, no new assignment before this

    def add(self, *tasks: Task) -> None:
        self.open.extend(tasks)

    @property
    def finished(self) -> bool:
        """Every task done, or nobody left to do the rest."""
        busy = any(r.task is not None for r in self.records.values() if not r.out)
        return not busy and (not self.open or all(r.out for r in self.records.values()))

    def tick(self, now_s: float) -> None:
        if now_s < self._next_s:
            return
        self._next_s = now_s + self.config.period_s
        for msg in self.inbox.take(now_s):
            self._receive(msg, now_s)
        self._watch(now_s)
        self._assign(now_s)
        if self.replan_pending and self._all_stopped():
            self._replan(now_s)
        self._clear(now_s)

    # --- what the robots say --------------------------------------------------------------------

    def _receive(self, msg: object, now_s: float) -> None:
        if isinstance(msg, PoseReport) and msg.robot in self.records:
            self.records[msg.robot].pose = msg
        elif isinstance(msg, Progress) and msg.robot in self.records and msg.plan == self.plan:
            rec = self.records[msg.robot]
            rec.reached = max(rec.reached, msg.reached)
            task = rec.task
            if msg.task_done and task is not None and msg.task_done == task.name:
                rec.task, rec.holding = None, None
                if msg.task_failed:
                    self.failed[task.name] = msg.task_failed
                    self.events.append(f"{now_s:.1f} s: {rec.name} gave up {task.name}: {msg.task_failed}")
                    return
                self.events.append(f"{now_s:.1f} s: {rec.name} did {task.name}")
                if task.then is None:
                    self.done[task.name] = rec.name
                else:                                     # it holds what it picked: the second leg is its own
                    rec.task, rec.holding = replace(task.then, robot=rec.name), task.name
                    self.events.append(f"{now_s:.1f} s: {rec.task.name} to {rec.name} (its second leg)")
                    self.replan_pending = True

    def _watch(self, now_s: float) -> None:
        c = self.config
        for rec in self.records.values():
            if rec.out:
                continue
            p = rec.pose
            silent = now_s - (p.time_s if p is not None else 0.0) > c.silent_after_s
            why = ("silent" if silent
                   else "fallen" if p is not None and p.fallen
                   else "battery low" if p is not None and p.battery_soc < c.low_battery_soc else "")
            if why:
                rec.out = why
                own = [t for t in self.open if t.robot == rec.name]   # its second leg, waiting for a plan
                lost = own + ([rec.task] if rec.holding is not None and rec.task is not None else [])
                back = rec.task if rec.task is not None and rec.holding is None else None
                self.events.append(f"{now_s:.1f} s: {rec.name} out ({why})"
                                   + (f"; {back.name} back to the pool" if back else "")
                                   + "".join(f"; {t.name} lost with it" for t in lost))
                for t in lost:                            # what it holds goes down with it
                    self.failed[t.name] = f"{rec.name} out ({why}) holding it"
                    if t in own:
                        self.open.remove(t)
                if back is not None:
                    self.open.insert(0, back)
                rec.task = None
                self.replan_pending = True

    # --- tasks ----------------------------------------------------------------------------------

    def _cell(self, rec: RobotRecord) -> Cell:
        """Where the robot stands for planning: its route's waypoint reached, else its own pose."""
        route = self._routes.get(rec.name)
        if route is not None and route.plan == self.plan:
            return self.floor.cell(route.waypoints_xy_m[rec.reached])
        assert rec.pose is not None
        return self.floor.cell(rec.pose.xy_m)

    def cost(self, rec: RobotRecord, task: Task) -> float:
        """Metres to walk to the task (8-connected cells on the map), plus the battery penalty."""
        a, b = self._cell(rec), self.floor.cell(task.xy_m)
        dx, dy = abs(a[0] - b[0]), abs(a[1] - b[1])
        steps = max(dx, dy) + (math.sqrt(2) - 1) * min(dx, dy)
        soc = rec.pose.battery_soc if rec.pose else 1.0
        return steps * self.floor.cell_m + self.config.battery_cost_m * (1.0 - soc)

    def _assign(self, now_s: float) -> None:
        if now_s < self._defer_until_s:
            return
        idle = [r for r in self.records.values() if not r.out and r.task is None and r.pose is not None]
        while True:
            # a robot holding something takes only its own second leg (back in the pool after a failed plan)
            pairs = [(r, t) for r in idle for t in self.open
                     if t.robot == r.name or (t.robot is None and r.holding is None)]
            if not pairs:
                break
            rec, task = min(pairs, key=lambda rt: self.cost(*rt))
            rec.task = task
            self.open.remove(task)
            idle.remove(rec)
            self.events.append(f"{now_s:.1f} s: {task.name} to {rec.name} ({self.cost(rec, task):.1f} m)")
            self.replan_pending = True

    # --- traffic --------------------------------------------------------------------------------

    def _all_stopped(self) -> bool:
        """Every robot that moves stands at the waypoint it was last cleared to."""
        return all(r.reached >= r.cleared for r in self.records.values() if not r.out)

    def _replan(self, now_s: float) -> None:
        movers = [r for r in self.records.values() if not r.out and r.pose is not None]
        if not movers:                    # nobody left to move
            self.replan_pending = False
            return
        # a robot that is out stands (or lies) where it is: its cell and those around it are blocked
        stuck = frozenset((c[0] + dx, c[1] + dy) for c in (self.floor.cell(r.pose.xy_m) for r in self.records.values()
                                                            if r.out and r.pose)
                          for dx in (-1, 0, 1) for dy in (-1, 0, 1))
        floor = FloorMap(self.floor.origin_xy_m, self.floor.size, self.floor.cell_m, self.floor.blocked | stuck)
        starts = [self._cell(r) for r in movers]
        goals = [floor.cell(r.task.xy_m) if r.task else s for r, s in zip(movers, starts, strict=True)]
        try:
            paths = plan_paths(floor, starts, goals, self.config.separation_cells)
        except NoRoute as exc:
            self.planning_failures += 1
            # the newest assignment waits for the next replan: the rest go ahead
            taken = [r for r in movers if r.task is not None]
            if not taken:
                self.events.append(f"{now_s:.1f} s: no plan ({exc})")
                self.replan_pending = False
                return
            last = taken[-1]
            self.events.append(f"{now_s:.1f} s: no plan with {last.task.name} ({exc}); it waits")
            assert last.task is not None
            self.open.append(last.task)
            last.task = None
            self._defer_until_s = now_s + 2.0
            return
        self.plan += 1
        self.sched = schedule(paths, self.config.separation_cells)
        self._routes = {}
        for rec, ws in zip(movers, self.sched.waypoints, strict=True):
            rec.reached, rec.cleared = 0, 0
            task = rec.task
            self._routes[rec.name] = Route(rec.name, self.plan, task.name if task else None,
                                           tuple(floor.center(c) for c in ws), task.dwell_s if task else 0.0,
                                           *((task.action, task.at_xyz_m, task.facing_yaw_rad) if task else ()))
        self._movers = [r.name for r in movers]
        self.replan_pending = False
        self._next_send_s = now_s      # send now

    def _clear(self, now_s: float) -> None:
        if self.sched is None:
            return
        reached = [self.records[n].reached for n in self._movers]
        changed = False
        for i, name in enumerate(self._movers):
            rec = self.records[name]
            if rec.out:
                continue
            # while a new plan waits, nobody goes further than cleared already
            up_to = rec.cleared if self.replan_pending else self.sched.cleared(i, reached)
            changed |= up_to != rec.cleared
            rec.cleared = up_to
        if changed or now_s >= self._next_send_s:
            self._next_send_s = now_s + self.config.resend_s
            for name in self._movers:
                rec = self.records[name]
                self.bus.publish(ROUTE, self._routes[name], now_s)
                self.bus.publish(CLEARANCE, Clearance(name, self.plan, rec.cleared), now_s)
