"""Going to a spot on the floor: turn toward it, walk, slow down, stop on it.

Works in the estimator's odometry frame (the frame the robot started in), so it sees only what the
robot's sensors report: a goal given in a hall's map frame must be in that frame, i.e. the robot
started at the map's origin facing +x.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from laoshan.cerebellum.estimator import RobotState
from laoshan.cerebellum.locomotion import LocomotionController


@dataclass(frozen=True)
class GoToConfig:
    max_speed_m_s: float = 0.35        # walking speed far from the goal
    min_speed_m_s: float = 0.08        # ... and at the last approach
    slow_down_m: float = 0.8           # speed falls linearly inside this distance
    max_yaw_rate_rad_s: float = 0.5
    yaw_gain: float = 1.2              # yaw rate per rad of heading error
    turn_in_place_rad: float = 0.5     # heading errors above this are turned out before walking on
    sidestep_m: float = 0.5            # inside this distance the heading is held and the last bit is side-stepped
    arrive_m: float = 0.12             # stop commanding steps inside this distance (base to spot)

    def __post_init__(self) -> None:
        if not 0 < self.min_speed_m_s <= self.max_speed_m_s:
            raise ValueError(f"need 0 < min_speed_m_s <= max_speed_m_s, got {self.min_speed_m_s}, "
                             f"{self.max_speed_m_s}")
        if not self.arrive_m > 0:
            raise ValueError(f"arrive_m must be > 0, got {self.arrive_m}")


class GoTo:
    """Velocity commands (vx forward, vy left, yaw rate; base heading frame) that bring the base
    to ``goal_xy_m`` (odometry frame); ``arrived`` once it is within ``arrive_m``."""

    def __init__(self, goal_xy_m: tuple[float, float] | np.ndarray, config: GoToConfig | None = None) -> None:
        goal = np.asarray(goal_xy_m, dtype=float)
        if goal.shape != (2,) or not np.isfinite(goal).all():
            raise ValueError(f"goal must be a finite (x, y) in metres, got {goal_xy_m!r}")
        self.goal_xy_m = goal
        self.config = config or GoToConfig()
        self.arrived = False

    def distance_m(self, state: RobotState) -> float:
        return float(np.linalg.norm(self.goal_xy_m - state.p_world_base_m[:2]))

    def command(self, state: RobotState) -> tuple[float, float, float]:
        """(vx [m/s], vy [m/s], yaw rate [rad/s]) for this estimated state; zeros once arrived."""
        c = self.config
        to_goal = self.goal_xy_m - state.p_world_base_m[:2]
        distance = float(np.linalg.norm(to_goal))
        if self.arrived or distance < c.arrive_m:
            self.arrived = True
            return 0.0, 0.0, 0.0
        return toward(to_goal, state.yaw_rad, distance, c)


def toward(to_goal: np.ndarray, heading_rad: float, left_m: float, c: GoToConfig) -> tuple[float, float, float]:
    """(vx, vy, yaw rate) toward the point ``to_goal`` away (odometry frame) with ``left_m`` of
    the way left to the stop: turned to face it, slowing near the stop, side-stepping the last bit."""
    distance = float(np.linalg.norm(to_goal))
    speed = c.min_speed_m_s + (c.max_speed_m_s - c.min_speed_m_s) * min(1.0, left_m / c.slow_down_m)
    if left_m < c.sidestep_m:         # near: no turning on the base's step-to-step sway
        forward = np.array([math.cos(heading_rad), math.sin(heading_rad)])
        left = np.array([-math.sin(heading_rad), math.cos(heading_rad)])
        return speed * float(forward @ to_goal) / distance, speed * float(left @ to_goal) / distance, 0.0
    error = math.remainder(math.atan2(to_goal[1], to_goal[0]) - heading_rad, math.tau)
    yaw_rate = float(np.clip(c.yaw_gain * error, -c.max_yaw_rate_rad_s, c.max_yaw_rate_rad_s))
    if abs(error) > c.turn_in_place_rad:
        return 0.0, 0.0, yaw_rate
    return speed * math.cos(error), 0.0, yaw_rate


class FollowPath:
    """Velocity commands along a path of waypoints (odometry frame) as far as the one it may go
    to (``stop_at``, raised as the way ahead clears): through each waypoint before it without
    stopping (passed within ``pass_m``), slowing to stop on ``stop_at``."""

    def __init__(self, waypoints_xy_m: np.ndarray, config: GoToConfig | None = None, pass_m: float = 0.25) -> None:
        w = np.asarray(waypoints_xy_m, dtype=float)
        if w.ndim != 2 or w.shape[1] != 2 or len(w) == 0 or not np.isfinite(w).all():
            raise ValueError(f"waypoints must be a finite (n, 2) array in metres, got shape {w.shape}")
        self.waypoints = w
        self.config = config or GoToConfig()
        self.pass_m = pass_m
        self.reached = 0          # index of the last waypoint reached (the first is where the robot starts)
        self.stop_at = 0

    @property
    def arrived(self) -> bool:
        """At the path's last waypoint."""
        return self.reached == len(self.waypoints) - 1

    def command(self, state: RobotState) -> tuple[float, float, float]:
        """(vx [m/s], vy [m/s], yaw rate [rad/s]) for this estimated state; zeros when at ``stop_at``."""
        c, p = self.config, state.p_world_base_m[:2]
        while self.reached < self.stop_at:
            nxt = self.reached + 1
            near = c.arrive_m if nxt == self.stop_at else self.pass_m
            if np.linalg.norm(self.waypoints[nxt] - p) >= near:
                break
            self.reached = nxt
        if self.reached >= self.stop_at:
            return 0.0, 0.0, 0.0
        target = self.waypoints[self.reached + 1]
        ahead = self.waypoints[self.reached + 1:self.stop_at + 1]
        left = float(np.linalg.norm(target - p) + np.linalg.norm(np.diff(ahead, axis=0), axis=1).sum())
        return toward(target - p, state.yaw_rad, left, c)


class WalkTo:
    """Drives a locomotion controller to a spot: call it once per control tick, before the
    controller; ``done`` once the robot has arrived and stopped stepping."""

    def __init__(self, locomotion: LocomotionController, goal_xy_m: tuple[float, float] | np.ndarray,
                 config: GoToConfig | None = None) -> None:
        self.locomotion = locomotion
        self.goto = GoTo(goal_xy_m, config)

    def __call__(self) -> None:
        if self.locomotion.state is not None:
            self.locomotion.set_velocity(*self.goto.command(self.locomotion.state))

    @property
    def done(self) -> bool:
        return self.goto.arrived and not self.locomotion.walking

    def distance_m(self) -> float:
        """How far the robot believes it is from the spot."""
        assert self.locomotion.state is not None
        return self.goto.distance_m(self.locomotion.state)
