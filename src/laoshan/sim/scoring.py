"""Scoring from ground truth: what a run did, as the simulator knows it. Never read by a controller.

Every scenario's reading of the simulator's truth (falls, where objects ended, how far a drawer
is open, whether a lamp is lit) goes through here; :class:`Watch` follows a run tick by tick as
an observer of the executive's loop (it films the run too).
"""

from collections.abc import Callable
from pathlib import Path

import numpy as np

from laoshan.port.messages import LowState
from laoshan.sim.body import GroundTruth, SimBody
from laoshan.sim.render import VideoRecorder
from laoshan.sim.world import Towel, opened_truth, towel_points_truth

FALL_HEIGHT_M = 0.45   # pelvis below this height (or tilted past FALL_TILT_RAD) counts as a fall
FALL_TILT_RAD = 1.0


def has_fallen(truth: GroundTruth) -> bool:
    """Scoring: pelvis too low or body tipped over (uses ground truth)."""
    return bool(truth.p_world_base_m[2] < FALL_HEIGHT_M or truth.tilt_rad > FALL_TILT_RAD)


def object_xyz(body: SimBody, name: str) -> np.ndarray:
    """Where a free object of the world is (its body origin, world frame) [m]."""
    return body.data.body(name).xpos.copy()


def fixture_opening(body: SimBody, name: str) -> float:
    """How far a drawer [m] or door [rad] of the world is open."""
    furniture = {f.name: f for f in (*body.world.drawers, *body.world.doors)}
    return opened_truth(body.data, furniture[name])


def towel_points(body: SimBody, towel: Towel) -> np.ndarray:
    """The towel's points (rows along x, columns along y; xyz [m], world)."""
    return towel_points_truth(body.model, body.data, towel)


def lamp_lit(body: SimBody, button: str) -> bool:
    return bool(body.lamps.lit[button])


class HeldUp:
    """How high a free body has risen from where it started, and for how long it has been at
    least ``goal_m`` up."""

    def __init__(self, body: SimBody, name: str, goal_m: float) -> None:
        self.body, self.name, self.goal_m = body, name, goal_m
        self.z0_m = float(body.data.body(name).xpos[2])
        self._since_s: float | None = None

    @property
    def lift_m(self) -> float:
        return float(self.body.data.body(self.name).xpos[2]) - self.z0_m

    def __call__(self, truth: GroundTruth) -> None:
        up = self.lift_m >= self.goal_m
        if up and self._since_s is None:
            self._since_s = truth.time_s
        elif not up:
            self._since_s = None

    def held_s(self) -> float:
        return self.body.time_s - self._since_s if self._since_s is not None else 0.0


class HandAndContact:
    """How long and how hard the robot touched a world body, and how far a hand (its link and grasp
    offset) was from ``goal_m`` while ``during()`` held (the last such tick)."""

    def __init__(self, body: SimBody, touched: str, link: str, offset_m: tuple[float, float, float],
                 goal_m: np.ndarray, during: Callable[[], bool]) -> None:
        self.body, self.touched, self.link, self.offset_m = body, touched, link, offset_m
        self.goal_m, self.during = goal_m, during
        self.touch_s, self.peak_N = 0.0, 0.0
        self.hand_error_m = float("inf")

    def __call__(self, truth: GroundTruth) -> None:
        force = self.body.ground_truth_contact_N(self.touched)
        if force > 0.0:
            self.touch_s += self.body.control_dt_s
            self.peak_N = max(self.peak_N, force)
        if self.during():
            p = self.body.ground_truth_link_pose(self.link, self.offset_m)[:3, 3]
            self.hand_error_m = float(np.linalg.norm(p - self.goal_m))


class Watch:
    """Follows a run from ground truth, state by state: when the robot first fell, what ``also``
    scores each tick, and the run filmed by ``recorder``."""

    def __init__(self, body: SimBody, recorder: VideoRecorder | None = None,
                 also: Callable[[GroundTruth], None] | None = None) -> None:
        self.body, self.recorder, self.also = body, recorder, also
        self.fall_time_s: float | None = None

    def __call__(self, state: LowState) -> None:
        body = self.body
        truth = body.ground_truth()
        if self.also is not None:
            self.also(truth)
        if self.fall_time_s is None and has_fallen(truth):
            self.fall_time_s = body.time_s
        if self.recorder is not None:
            self.recorder.capture(body.data, body.time_s)


def recorder_for(body: SimBody, video: Path | VideoRecorder | None) -> tuple[VideoRecorder | None, bool]:
    """A recorder for ``video`` (a path: a new one the caller closes, flagged True; a recorder: itself)."""
    if isinstance(video, Path | str):
        return VideoRecorder(body.model, Path(video), body.robot.base_link), True
    return video, False
