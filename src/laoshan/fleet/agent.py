"""One robot's side of the fleet: walks the routes the manager sends, as far as it is cleared.

The agent sees its own robot through ``LowState`` only (its estimator's odometry) and the others
not at all: from the bus it gets its route and clearances, to the bus it sends its own pose
estimate (in the map frame, from where it was put down at deployment) and its progress. At a
route's end the task is done by standing there a while, or by the robot's hands (a :class:`Work`,
e.g. :class:`laoshan.fleet.fetch.CanHands`: a pick or a place), which drive it until they are done.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from laoshan.cerebellum.estimator import RobotState
from laoshan.cerebellum.locomotion import LocomotionController
from laoshan.cerebellum.navigate import FollowPath, GoToConfig
from laoshan.fleet.bus import CLEARANCE, POSE, PROGRESS, ROUTE, Clearance, MessageBus, PoseReport, Progress, Route
from laoshan.limbs.reach import ReachController
from laoshan.port.messages import LowCmd, LowState
from laoshan.robot.description import RobotDescription


@dataclass(frozen=True)
class AgentConfig:
    report_period_s: float = 0.2     # pose and progress sent this often
    # walking between waypoints: a little slower than alone (a tighter path, others about)
    goto: GoToConfig = field(default_factory=lambda: GoToConfig(max_speed_m_s=0.3, slow_down_m=0.5))
    pass_m: float = 0.25             # a waypoint on the way counts as reached this close


class OdomFrame:
    """A robot's estimator frame against the map: the robot was put down at ``start_xy_yaw`` (map
    frame); its estimator starts at the origin with its own first heading estimate."""

    def __init__(self, start_xy_yaw: tuple[float, float, float]) -> None:
        self.start_xy_yaw = start_xy_yaw
        self._turn: float | None = None     # map heading minus estimator heading

    @property
    def ready(self) -> bool:
        return self._turn is not None

    def update(self, rs: RobotState | None) -> None:
        """Take the estimator's first heading (once; None: the estimator has no state yet)."""
        if self._turn is None and rs is not None:
            self._turn = self.start_xy_yaw[2] - rs.yaw_rad

    def _rotation(self) -> np.ndarray:
        assert self._turn is not None, "the frame needs the robot's first state (update)"
        c, s = math.cos(self._turn), math.sin(self._turn)
        return np.array([[c, -s], [s, c]])

    def to_map(self, xy_odom: np.ndarray) -> np.ndarray:
        return np.array(self.start_xy_yaw[:2]) + self._rotation() @ np.asarray(xy_odom)[:2]

    def to_odom(self, xy_map: np.ndarray) -> np.ndarray:
        return self._rotation().T @ (np.asarray(xy_map)[:2] - np.array(self.start_xy_yaw[:2]))

    def shift(self, dxy_map_m: np.ndarray) -> None:
        """Move the estimator's frame on the map by ``dxy_map_m`` [m]: a landmark (an object the
        map places) was seen that far from where the map has it, so the odometry has drifted."""
        x, y, yaw = self.start_xy_yaw
        self.start_xy_yaw = (x + float(dxy_map_m[0]), y + float(dxy_map_m[1]), yaw)

    def to_odom_yaw(self, yaw_map: float) -> float:
        assert self._turn is not None
        return math.remainder(yaw_map - self._turn, math.tau)

    def pose(self, rs: RobotState) -> tuple[np.ndarray, float]:
        """The robot's own estimate of where it is: (xy [m], yaw [rad]), map frame."""
        assert self._turn is not None
        return self.to_map(rs.p_world_base_m[:2]), math.remainder(rs.yaw_rad + self._turn, math.tau)


class Work(Protocol):
    """A robot's tasks done with the hands (a pick, a place) at the end of a route."""

    @property
    def busy(self) -> bool:
        """A task is under way."""
        ...

    @property
    def dropped(self) -> str | None:
        """What is held was lost (why), between tasks; None if nothing was."""
        ...

    def begin(self, route: Route, frame: OdomFrame) -> None:
        """Start the route's task (the robot stands at the route's end)."""
        ...

    def tick(self, state: LowState) -> str | None:
        """While busy, each control tick: "done", or why it was given up, once it is over; None until then."""
        ...

    def watch(self, state: LowState) -> None:
        """Each control tick: whether what is held is still held."""
        ...


class RobotAgent:
    """Call once per control tick with the robot's ``LowState``; returns its ``LowCmd``."""

    def __init__(self, name: str, robot: RobotDescription, start_xy_yaw: tuple[float, float, float], bus: MessageBus,
                 config: AgentConfig | None = None, locomotion: LocomotionController | None = None,
                 hands: ReachController | None = None, work: Work | None = None) -> None:
        """``hands``: the robot's reach controller (around its locomotion), for tasks done with the
        hands, by ``work`` (see :class:`Work`)."""
        if work is not None and hands is None:
            raise ValueError("work with the hands needs the robot's reach controller (hands)")
        self.name = name
        self.config = config or AgentConfig()
        self.locomotion = hands.locomotion if hands is not None else locomotion or LocomotionController(robot)
        self._loop: Callable[[LowState], LowCmd] = hands if hands is not None else self.locomotion
        self.work = work
        self.bus = bus
        self.inbox = bus.subscribe(ROUTE, CLEARANCE)
        self.frame = OdomFrame(start_xy_yaw)
        self.route: Route | None = None
        self.path: FollowPath | None = None
        self._dwell_until: float | None = None
        self.done_tasks: list[str] = []
        self._task_done: str | None = None       # the last task finished (sent with each progress report) ...
        self._task_failed: str | None = None     # ... and, if it was given up, why
        self._next_report = 0.0
        self._soc = 1.0                          # the battery's state of charge, as the BMS reports it

    def pose(self) -> tuple[np.ndarray, float]:
        """The robot's own estimate of where it is: (xy [m], yaw [rad]), map frame."""
        assert self.locomotion.state is not None
        return self.frame.pose(self.locomotion.state)

    # --- the loop -------------------------------------------------------------------------------

    def __call__(self, state: LowState) -> LowCmd:
        cmd = self._loop(state)
        rs = self.locomotion.state
        if rs is None:
            return cmd
        self.frame.update(rs)
        t, self._soc = state.time_s, float(state.bms.soc)
        for msg in self.inbox.take(t):
            if msg.robot == self.name:
                self._receive(msg)
        if self.work is not None:
            self.work.watch(state)
        if self.work is not None and (self.work.busy or self._hands_due()):
            self._work(state)
        elif self.path is not None and not self.locomotion.fallen:
            self.locomotion.set_velocity(*self.path.command(rs))
            self._dwell(t)
        if t >= self._next_report:
            self._next_report = t + self.config.report_period_s
            self._report(t)
        return cmd

    def _receive(self, msg: object) -> None:
        if isinstance(msg, Route) and (self.route is None or msg.plan > self.route.plan):
            self.route = msg
            self.path = FollowPath(np.array([self.frame.to_odom(np.array(w)) for w in msg.waypoints_xy_m]),
                                   self.config.goto, self.config.pass_m)
            self._dwell_until = None
        elif isinstance(msg, Clearance) and self.route is not None and msg.plan == self.route.plan:
            assert self.path is not None
            self.path.stop_at = max(self.path.stop_at, min(msg.up_to, len(self.path.waypoints) - 1))

    def _dwell(self, t: float) -> None:
        """At the route's end, stopped: do the task (stand there ``dwell_s``), then report it done."""
        route, path = self.route, self.path
        assert route is not None and path is not None
        if route.task is None or route.task in self.done_tasks or not path.arrived or self.locomotion.walking:
            return
        if self._dwell_until is None:
            self._dwell_until = t + route.dwell_s
        elif t >= self._dwell_until:
            self.done_tasks.append(route.task)
            self._task_done, self._task_failed = route.task, None
            self._report(t)

    def _hands_due(self) -> bool:
        """The route's task is for the hands, not done yet, and the robot stands at its end (or
        has dropped what it was to place: it gives the place up at once)."""
        route, path, work = self.route, self.path, self.work
        if route is None or path is None or work is None or route.task is None or route.action == "dwell":
            return False
        if route.task in self.done_tasks:
            return False
        return (path.arrived and not self.locomotion.walking) or (route.action == "place" and work.dropped is not None)

    def _work(self, state: LowState) -> None:
        """The hands' task: begun at the route's end, on until it is over, then reported done or given up."""
        work, route = self.work, self.route
        assert work is not None and route is not None and route.task is not None
        if not work.busy:
            work.begin(route, self.frame)
        outcome = work.tick(state)
        if outcome is None:
            return
        self.done_tasks.append(route.task)
        self._task_done, self._task_failed = route.task, None if outcome == "done" else outcome
        self._report(state.time_s)

    def _report(self, t: float) -> None:
        xy, yaw = self.pose()
        self.bus.publish(POSE, PoseReport(self.name, t, (float(xy[0]), float(xy[1])), yaw, self._soc,
                                          self.locomotion.fallen), t)
        if self.route is not None and self.path is not None:
            self.bus.publish(PROGRESS, Progress(self.name, self.route.plan, self.path.reached, self._task_done,
                                                         self._task_failed), t)
