"""The loop every scenario runs: controller on the sensor loop, ground truth only for scoring."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from laoshan.brain.perception import Detection, detect_objects
from laoshan.cerebellum.locomotion import LocomotionController
from laoshan.cerebellum.navigate import GoToConfig, WalkTo
from laoshan.limbs.reach import ReachController
from laoshan.limbs.sequence import HandSequence
from laoshan.sim.body import GroundTruth, SimBody
from laoshan.port.messages import LowCmd, LowState, RgbdFrame
from laoshan.sim.render import VideoRecorder
from laoshan.sim.scoring import has_fallen

FRAME_TIMEOUT_S = 1.0  # a look whose frame has not come this long after asking: the camera is lost


@dataclass(frozen=True)
class TaskReport:
    """What every manipulation task reports; tasks add their own scores."""

    robot: str
    success: bool
    fell: bool
    failure: str | None               # why the hand sequence stopped, if it did
    phase: str | None                 # how far it got
    timeline: tuple[tuple[float, str], ...]   # (start time [s], phase) of each phase begun
    energy_J: float
    wall_s: float
    seconds: float
    safety_trips: tuple[str, ...]     # every stop the safety monitor took, as it began

    @property
    def real_time_factor(self) -> float:
        return self.seconds / self.wall_s if self.wall_s > 0 else float("inf")

    @classmethod
    def of_run(cls: type[R], body: SimBody, sequence: HandSequence, episode: Episode, seconds: float, success: bool,
               **scores: Any) -> R:
        """The fields every task fills the same way, from the body, its hand sequence and the
        episode; ``scores`` are the task's own."""
        return cls(robot=body.robot.name, success=success, fell=episode.fell,
                   failure=sequence.failed, phase=sequence.phase, timeline=tuple(sequence.timeline),
                   energy_J=body.energy_J, wall_s=episode.wall_s, seconds=seconds,
                   safety_trips=sequence.reach.locomotion.safety.trip_log(), **scores)


R = TypeVar("R", bound=TaskReport)


class HeldUp:
    """Scoring (ground truth): how high a free body has risen from where it started, and for how
    long it has been at least ``goal_m`` up."""

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


@dataclass(frozen=True)
class Episode:
    state: LowState               # the last LowState
    fall_time_s: float | None     # first time the robot counted as fallen (ground truth)
    wall_s: float

    @property
    def fell(self) -> bool:
        return self.fall_time_s is not None


def run_episode(body: SimBody, state: LowState, ticks: int, act: Callable[[int, LowState], LowCmd],
                observe: Callable[[GroundTruth], None] | None = None, video: Path | VideoRecorder | None = None,
                progress: Callable[[int], None] | None = None, stop: Callable[[], bool] | None = None) -> Episode:
    """Step ``ticks`` control ticks from ``state`` (fewer if ``stop()`` turns true): ``act(tick,
    state)`` gives each LowCmd, ``observe(truth)`` scores each tick, ``progress(100)`` is called
    every 100 ticks. ``video``: a path to write, or a recorder the caller closes (one video over
    several episodes)."""
    own = isinstance(video, Path | str)
    recorder = VideoRecorder(body.model, video, body.robot.base_link) if own else video
    fall_time = None
    start = time.perf_counter()
    try:
        for k in range(ticks):
            state = body.step(act(k, state))
            truth = body.ground_truth()   # scoring only
            if observe:
                observe(truth)
            if fall_time is None and has_fallen(truth):
                fall_time = body.time_s
            if recorder:
                recorder.capture(body.data, body.time_s)
            if progress and (k + 1) % 100 == 0:
                progress(100)
            if stop is not None and stop():
                break
    finally:
        if own:
            recorder.close()
    return Episode(state=state, fall_time_s=fall_time, wall_s=time.perf_counter() - start)


def run_hand_sequence(body: SimBody, state: LowState, controller: ReachController, sequence: HandSequence,
                      seconds: float, start_s: float, observe: Callable[[GroundTruth], None] | None = None,
                      video: Path | VideoRecorder | None = None, progress: Callable[[int], None] | None = None,
                      then: Callable[[LowState], None] | None = None,
                      stop: Callable[[], bool] | None = None) -> Episode:
    """Stand until ``start_s`` (sensor clock), then run ``sequence`` on ``controller`` until the clock
    reads ``seconds`` or ``stop()`` turns true; once the sequence is done (or has failed),
    ``then(state)`` runs before every tick (what comes next)."""
    if not seconds > start_s:
        raise ValueError(f"seconds must be > {start_s}, got {seconds}")

    def act(k: int, state: LowState) -> LowCmd:
        if state.time_s >= start_s:
            sequence.update(state.time_s)
            if then is not None and (sequence.done or sequence.failed):
                then(state)
        return controller(state)

    ticks = int(round((seconds - state.time_s) / body.loop.control_dt_s))   # to ``seconds`` on the sensor clock
    return run_episode(body, state, ticks, act, observe, video, progress, stop)


def run_walk_to(body: SimBody, state: LowState, locomotion: LocomotionController, goal_xy_m: tuple[float, float],
                timeout_s: float, loop: Callable[[LowState], LowCmd] | None = None,
                video: Path | VideoRecorder | None = None, progress: Callable[[int], None] | None = None,
                config: GoToConfig | None = None) -> tuple[Episode, WalkTo]:
    """Walk to ``goal_xy_m`` (odometry frame) on the robot's own pose estimate until it has arrived
    and stopped stepping, fallen, or ``timeout_s`` has passed. ``loop`` runs each control tick (the
    locomotion controller itself, or a reach controller around it)."""
    walk, loop = WalkTo(locomotion, goal_xy_m, config), loop or locomotion

    def act(k: int, state: LowState) -> LowCmd:
        walk()
        return loop(state)

    ticks = int(round(timeout_s / body.loop.control_dt_s))
    episode = run_episode(body, state, ticks, act, video=video, progress=progress,
                          stop=lambda: walk.done or locomotion.fallen)
    return episode, walk


def look_around(body: SimBody, controller: ReachController, state: LowState, yaws_rad: tuple[float, ...],
                settle_s: float, recorder: VideoRecorder | None = None) -> tuple[LowState, list[list[Detection]]]:
    """Turn the torso (the waist; the feet stay) to each of ``yaws_rad`` in turn (+: to the left),
    balancing, and look once it has been there ``settle_s``; the objects seen at each. The last yaw
    is where it stays."""
    views = []
    for yaw in yaws_rad:
        move = controller.turn_torso(yaw)
        state, seen = stand_and_look(body, controller, state, move.t0_s + move.duration_s + settle_s, recorder)
        views.append(seen)
        if controller.locomotion.fallen:
            break
    return state, views


class CameraLost(RuntimeError):
    """No camera frame came within ``FRAME_TIMEOUT_S`` of asking: what needed the look stops (a
    category 2 stop: the task ends, the robot keeps balancing)."""


class Glance:
    """One look with the robot's head camera: the stream starts when asked and stops at the first
    frame taken after that, whose objects are placed in the world by the robot's own pose estimate."""

    def __init__(self, body: SimBody, controller: ReachController, asked_s: float) -> None:
        self.body, self.controller, self.asked_s = body, controller, asked_s
        self.camera = body.robot.cameras[0]
        self.frame_s: float | None = None     # when the frame looked at was taken
        self.frame: RgbdFrame | None = None   # ... the frame itself
        self.X_world_camera: np.ndarray | None = None   # the camera mount's pose then, as the robot estimates it
        body.streaming = True

    def seen(self, state: LowState) -> list[Detection] | None:
        """The objects in the first frame taken since asking; None while it has not come. Raises
        CameraLost once none has come for ``FRAME_TIMEOUT_S``."""
        frame = state.rgbd.get(self.camera.name)
        if frame is None or frame.time_s < self.asked_s:
            if state.time_s > self.asked_s + FRAME_TIMEOUT_S:
                raise CameraLost(f"camera {self.camera.name!r} sent no frame in {FRAME_TIMEOUT_S:g} s")
            return None
        self.body.streaming = False
        self.frame_s, self.frame = frame.time_s, frame
        self.X_world_camera = self.controller.locomotion.model.robot.get_T_world_frame(self.camera.link)
        return detect_objects(frame, self.X_world_camera)


def stand_and_look(body: SimBody, controller: ReachController, state: LowState, until_s: float,
                   recorder: VideoRecorder | None = None) -> tuple[LowState, list[Detection]]:
    """Keep balancing until ``until_s`` (sensor clock) and a head-camera frame taken after now has
    come (filmed by ``recorder``, if given); the objects in it. Raises CameraLost if none comes."""
    glance = Glance(body, controller, state.time_s)
    while True:
        seen = glance.seen(state) if state.time_s >= until_s else None
        if seen is not None:
            return state, seen
        state = body.step(controller(state))
        if recorder:
            recorder.capture(body.data, body.time_s)
