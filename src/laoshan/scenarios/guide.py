"""Guiding in a service hall: the robot walks a visitor to a place's marked spot.

The hall is an open floor with each place of the hall's knowledge painted as a disc at its spot
(map frame: the reception spot is the origin, the robot starts there facing +x). The robot walks
with ``GoTo`` on its own pose estimate; ground truth is read only to score how far from the spot
it stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from laoshan.brain.dialogue.domain import Domain, load_domain
from laoshan.cerebellum.locomotion import LocomotionController
from laoshan.cerebellum.navigate import GoToConfig
from laoshan.robot.description import RobotDescription, load_description
from laoshan.executive.walking import walk_to
from laoshan.port.messages import LowState
from laoshan.scenarios.episode import run_episode
from laoshan.sim.body import SimBody
from laoshan.sim.scoring import Watch, recorder_for
from laoshan.sim.world import FloorMark, WorldSpec

GOAL_TOLERANCE_M = 0.3     # a guide ends within this distance of the spot (ground truth)
SETTLE_S = 0.5             # stand this long before the first walk
RECEPTION = "reception"


@dataclass(frozen=True)
class GuideReport:
    place: str
    spot_xy_m: tuple[float, float]
    success: bool                    # stopped within GOAL_TOLERANCE_M of the spot, standing
    arrived: bool                    # the robot believed it had arrived (and stopped) in time
    error_m: float                   # ground truth: base (xy) to the spot where it stopped
    estimated_error_m: float         # what the robot believed that distance to be
    fell: bool
    seconds: float                   # simulated time of the walk
    wall_s: float
    safety_trips: tuple[str, ...] = ()   # every stop the safety monitor took (since the robot started), as it began

    @property
    def real_time_factor(self) -> float:
        return self.seconds / self.wall_s if self.wall_s > 0 else float("inf")


class HallRobot:
    """A robot standing at the reception spot of a hall, walking people to its places one after another."""

    def __init__(self, domain: Domain, robot: str | RobotDescription = "g1-basic", seed: int = 0,
                 config: GoToConfig | None = None) -> None:
        self.domain = domain
        self.robot = robot if isinstance(robot, RobotDescription) else load_description(robot)
        marks = (FloorMark(RECEPTION, (0.0, 0.0), rgba=(0.2, 0.6, 0.9, 1.0)),
                 *(FloorMark(pid, p.spot_xy_m) for pid, p in domain.places.items()))
        self.body = SimBody(self.robot, world=WorldSpec(marks=marks, seed=seed), seed=seed)
        self.controller = LocomotionController(self.robot)
        self.config = config or GoToConfig()
        self.state: LowState = self.body.reset(seed)
        self.fell = False
        self._stand(SETTLE_S)

    def _stand(self, seconds: float) -> None:
        ticks = int(round(seconds / self.body.loop.control_dt_s))
        episode = run_episode(self.body, self.state, ticks, lambda k, s: self.controller(s))
        self.state, self.fell = episode.state, self.fell or episode.fell

    def walk_to(self, place: str, timeout_s: float = 40.0, progress: Callable[[int], None] | None = None,
                video: Path | None = None) -> GuideReport:
        """Walk to ``place``'s spot (a place id of the hall) and stop there; ``progress(100)`` every
        100 control ticks."""
        if place not in self.domain.places:
            raise ValueError(f"{self.domain.name} has no place {place!r}; it has {', '.join(self.domain.places)}")
        if not timeout_s > 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
        spot = self.domain.places[place].spot_xy_m
        start_s = self.body.time_s
        recorder, own = recorder_for(self.body, video)
        watch = Watch(self.body, recorder)
        try:
            self.state, walk, loop = walk_to(self.body, self.state, self.controller, spot, timeout_s, observe=watch,
                                             progress=progress, config=self.config)
        finally:
            if own and recorder is not None:
                recorder.close()
        self.fell = self.fell or watch.fall_time_s is not None
        truth = self.body.ground_truth()     # scoring only
        error = float(np.linalg.norm(truth.p_world_base_m[:2] - np.asarray(spot)))
        success = walk.done and not self.fell and error <= GOAL_TOLERANCE_M
        return GuideReport(place=place, spot_xy_m=spot, success=success, arrived=walk.done, error_m=error,
                           estimated_error_m=walk.distance_m(), fell=self.fell,
                           seconds=self.body.time_s - start_s, wall_s=loop.wall_s,
                           safety_trips=self.controller.safety.trip_log())


@dataclass(frozen=True)
class GuideScenario:
    domain: str = "hospital"
    place: str = "pharmacy"
    robot: str = "g1-basic"
    seed: int = 0
    timeout_s: float = 40.0
    video: Path | None = None


def run_guide(config: GuideScenario, progress: Callable[[int], None] | None = None,
              robot: RobotDescription | None = None) -> GuideReport:
    """Stand at reception, then walk to the place."""
    hall = HallRobot(load_domain(config.domain), robot or config.robot, config.seed)
    return hall.walk_to(config.place, config.timeout_s, progress, config.video)
