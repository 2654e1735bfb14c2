"""The fleet's message bus: what robots and the fleet manager know of one another.

In-process by default: a message published at time t reaches every subscriber of its topic at
t + ``latency_s`` (the clock is the robots' shared one; ``drop`` loses a message now and then, as a
wireless link does); on DDS, :class:`laoshan.fleet.dds_bus.DdsBus`. Nothing else passes between
robots: no robot reads another's state.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Protocol

import numpy as np

# topics
POSE = "fleet/pose"              # PoseReport: each robot, a few times a second
PROGRESS = "fleet/progress"      # Progress: a robot reached a waypoint of its route, or finished its task
ROUTE = "fleet/route"            # Route: the manager gives a robot its task and waypoints ...
CLEARANCE = "fleet/clearance"    # Clearance: ... and how far along them it may go now
HANDOVER = "fleet/handover"      # Signal: a hand-over's steps (offered, taken, released, placed, failed)
CARRY = "fleet/carry"            # Signal: a carry together (holding, go, stop, down, failed)


@dataclass(frozen=True)
class PoseReport:
    robot: str
    time_s: float
    xy_m: tuple[float, float]        # the robot's own estimate, map frame
    yaw_rad: float
    battery_soc: float
    fallen: bool


@dataclass(frozen=True)
class Route:
    robot: str
    plan: int                        # the plan this route belongs to (a new plan replaces the old)
    task: str | None                 # the task the route leads to (None: make room, or stay)
    waypoints_xy_m: tuple[tuple[float, float], ...]   # map frame; the first is where the robot is
    dwell_s: float                   # at the last waypoint, stay this long to do the task (action "dwell")
    action: str = "dwell"            # what the task is: dwell (stand there) | pick | place
    at_xyz_m: tuple[float, float, float] | None = None   # pick: the object's centre; place: where its centre
                                                          # goes (map frame)
    facing_yaw_rad: float = 0.0      # pick, place: the robot faces this way (map frame) to use its hands


@dataclass(frozen=True)
class Clearance:
    robot: str
    plan: int
    up_to: int                       # the robot may go as far as this waypoint of its route


@dataclass(frozen=True)
class Progress:
    robot: str
    plan: int
    reached: int                     # index of the last waypoint arrived at
    task_done: str | None = None     # a task finished (its dwell over, its object picked or placed)
    task_failed: str | None = None   # ... or given up: why


@dataclass(frozen=True)
class Signal:
    robot: str                       # who says it
    what: str                        # hand-over: offered | taken | released | placed | failed; carry: holding |
                                     # go | stop | down | failed
    part: int                        # which part (its number in the line's order; 0 for a carry)


Message = PoseReport | Route | Clearance | Progress | Signal


class MessageInbox(Protocol):
    def take(self, now_s: float) -> list[Message]:
        """The messages delivered by ``now_s``, oldest first (each once)."""
        ...


class MessageBus(Protocol):
    """What the fleet talks over: this in-process :class:`Bus`, or DDS (:mod:`laoshan.fleet.dds_bus`)."""

    def publish(self, topic: str, message: Message, now_s: float) -> None:
        ...

    def subscribe(self, *topics: str) -> MessageInbox:
        ...


class Bus:
    """Publish/subscribe with a fixed latency; every subscriber gets every message of its topics."""

    def __init__(self, latency_s: float = 0.02, drop: float = 0.0, seed: int = 0) -> None:
        if latency_s < 0 or not 0 <= drop < 1:
            raise ValueError(f"latency_s must be >= 0 and drop in [0, 1), got {latency_s}, {drop}")
        self.latency_s, self.drop = latency_s, drop
        self._rng = np.random.default_rng(seed)
        self._inboxes: dict[str, list[deque[tuple[float, Message]]]] = defaultdict(list)

    def subscribe(self, *topics: str) -> Inbox:
        box: deque[tuple[float, Message]] = deque()
        for topic in topics:
            self._inboxes[topic].append(box)
        return Inbox(box)

    def publish(self, topic: str, message: Message, now_s: float) -> None:
        for box in self._inboxes[topic]:
            if self.drop and self._rng.random() < self.drop:
                continue
            box.append((now_s + self.latency_s, message))


class Inbox:
    """What has arrived for one subscriber."""

    def __init__(self, box: deque[tuple[float, Message]]) -> None:
        self._box = box

    def take(self, now_s: float) -> list[Message]:
        """The messages delivered by ``now_s``, oldest first (each once)."""
        out = []
        while self._box and self._box[0][0] <= now_s + 1e-9:
            out.append(self._box.popleft()[1])
        return out
