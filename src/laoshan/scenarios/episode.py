"""The loop every scenario runs: the executive's control loop on the in-process port, watched from
ground truth for scoring (:mod:`laoshan.sim.scoring`) and filmed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from laoshan.executive.loop import LoopStats, drive
from laoshan.executive.sequence import run_sequence
from laoshan.limbs.reach import ReachController
from laoshan.limbs.sequence import HandSequence
from laoshan.port.messages import LowCmd, LowState
from laoshan.sim.body import GroundTruth, SimBody
from laoshan.sim.render import VideoRecorder
from laoshan.sim.scoring import Watch, recorder_for


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
    felt_N: dict[str, float]          # what each hand's touch pads feel together at the end [N] (hands with pads)

    @property
    def real_time_factor(self) -> float:
        return self.seconds / self.wall_s if self.wall_s > 0 else float("inf")

    @classmethod
    def of_run(cls: type[R], body: SimBody, sequence: HandSequence, episode: Episode, seconds: float, success: bool,
               **scores: Any) -> R:
        """The fields every task fills the same way, from the body, its hand sequence and the
        episode; ``scores`` are the task's own."""
        touch = sequence.reach.touch
        return cls(robot=body.robot.name, success=success, fell=episode.fell,
                   failure=sequence.failed, phase=sequence.phase, timeline=tuple(sequence.timeline),
                   energy_J=body.energy_J, wall_s=episode.wall_s, seconds=seconds,
                   safety_trips=sequence.reach.locomotion.safety.trip_log(),
                   felt_N={side: touch.force_N(side) for side in touch.pads if touch.has_pads(side)}, **scores)


R = TypeVar("R", bound=TaskReport)


@dataclass(frozen=True)
class Episode:
    state: LowState               # the last LowState
    fall_time_s: float | None     # first time the robot counted as fallen (ground truth)
    wall_s: float
    loop: LoopStats               # how the control loop kept time

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
    recorder, own = recorder_for(body, video)
    watch = Watch(body, recorder, observe)
    try:
        state, loop = drive(body, state, ticks, act, stop=None if stop is None else lambda s: stop(),
                            progress=progress, observe=watch)
    finally:
        if own and recorder is not None:
            recorder.close()
    return Episode(state=state, fall_time_s=watch.fall_time_s, wall_s=loop.wall_s, loop=loop)


def run_hand_sequence(body: SimBody, state: LowState, controller: ReachController, sequence: HandSequence,
                      seconds: float, start_s: float, observe: Callable[[GroundTruth], None] | None = None,
                      video: Path | VideoRecorder | None = None, progress: Callable[[int], None] | None = None,
                      then: Callable[[LowState], None] | None = None,
                      stop: Callable[[], bool] | None = None) -> Episode:
    """The executive's :func:`run_sequence` on the in-process port until the clock reads
    ``seconds``, watched (``observe(truth)`` scores each tick) and filmed."""
    recorder, own = recorder_for(body, video)
    watch = Watch(body, recorder, observe)
    try:
        state, loop = run_sequence(body, state, controller, sequence, seconds, start_s, then, stop, watch, progress)
    finally:
        if own and recorder is not None:
            recorder.close()
    return Episode(state=state, fall_time_s=watch.fall_time_s, wall_s=loop.wall_s, loop=loop)
