"""A sequence of hand moves, each checked by whole-body IK and run to its end before the next.

Each step names its phase, a goal pose for every hand it moves, the force the world is expected
to put on each of them (a grip's reaction, a held load, a pulled handle) and, for hands with
fingers, whether they close.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from laoshan.limbs.ik import UnreachableTarget
from laoshan.limbs.reach import ReachController


@dataclass(frozen=True)
class HandStep:
    phase: str
    targets: dict[str, np.ndarray]                 # side -> 4x4 goal (world)
    loads: dict[str, np.ndarray | None]            # side -> expected force on the hand [N, world], or None
    grips: dict[str, float | None] = field(default_factory=dict)   # side -> finger closing torque [N·m],
                                                                   # None opens; unlisted hands keep theirs
    dwell_s: float | None = None                   # the step lasts at least this long (default: the settle time)
    correct: bool = False                          # from here on, goals shift so that the hand falls short of
    like: str | None = None                        # them (xy) as at the end of phase ``like`` (None: not at all)
    servo: str | None = None                       # axes servoed throughout (ReachController.reach)
    planned: bool = False                          # go around the obstacles (ReachController.plan_reach)


Pose = tuple[str, np.ndarray, np.ndarray, np.ndarray | None, dict, float | None]
"""One step of one hand: phase, R_world_hand (3x3), p_world_hand (3,) [m], the expected load on it
[N, world] or None, grips (as in HandStep) and dwell [s] or None."""


def one_hand_steps(side: str, poses: list[Pose], servo: str | None = None) -> list[HandStep]:
    """The steps of a sequence that moves the ``side`` hand alone through ``poses``, each servoed
    on ``servo``'s axes (ReachController.reach)."""
    steps = []
    for phase, R, p, load, grips, dwell in poses:
        T = np.eye(4)
        T[:3, :3], T[:3, 3] = R, p
        steps.append(HandStep(phase, {side: T}, {side: load}, grips, dwell, servo=servo))
    return steps


class HandSequence:
    """Call :meth:`update` before each control tick; ``phase`` names the step under way, then
    ``final_phase``; ``failed`` holds the reason if a step cannot be reached (nothing moves then)
    or did not do its job (:meth:`check`); ``timeline`` lists (start time [s], phase) of every
    phase begun."""

    def __init__(self, reach: ReachController, steps: list[HandStep], final_phase: str, settle_s: float) -> None:
        if not steps:
            raise ValueError("a hand sequence needs at least one step")
        self.reach, self.steps, self.final_phase, self.settle_s = reach, steps, final_phase, settle_s
        self.phase: str | None = None
        self.failed: str | None = None
        self.timeline: list[tuple[float, str]] = []
        self._index = -1
        self._since_s = 0.0
        self._shift: dict[str, np.ndarray] = {}       # side -> xy correction of every goal from now on [m]
        self._short: dict[str, dict[str, np.ndarray]] = {}   # phase -> side -> goal minus hand (xy) as it ended

    @property
    def done(self) -> bool:
        return self.phase == self.final_phase

    def _go(self, index: int, t_s: float) -> None:
        step = self.steps[index]
        if index > 0:                             # how far each hand fell short of the last step's goal
            last = self.steps[index - 1]
            self._short[last.phase] = {side: T[:2, 3] + self._shift.get(side, 0.0) - self.reach.hand_pose(side)[:2, 3]
                                       for side, T in last.targets.items()}
            if step.correct:
                for side, short in self._short[last.phase].items():
                    wanted = self._short.get(step.like or "", {}).get(side, np.zeros(2))
                    self._shift[side] = self._shift.get(side, np.zeros(2)) + short - wanted
        try:
            for side, T in step.targets.items():
                if side in self._shift:
                    T = T.copy()
                    T[:2, 3] += self._shift[side]
                if step.planned:
                    self.reach.plan_reach(side, T)
                else:
                    self.reach.reach(side, T, servo=step.servo)
        except UnreachableTarget as exc:
            self.failed = f"{step.phase}: {exc}"
            return
        for side, load in step.loads.items():
            self.reach.set_load(side, load)
        for side, torque in step.grips.items():
            self.reach.close_hand(side, torque)
        self.phase, self._index, self._since_s = step.phase, index, t_s
        self.timeline.append((t_s, step.phase))

    def check(self, step: HandStep) -> str | None:
        """Whether a step that has run its course did what it was for: None if so, else what went
        wrong (the sequence then fails there, the hands holding still)."""
        return None

    def update(self, t_s: float) -> None:
        if self.failed or self.done:
            return
        if self.phase is None:
            self._go(0, t_s)
            return
        step = self.steps[self._index]
        planning_failed = next((self.reach.plan_errors.pop(side) for side in step.targets
                                if side in self.reach.plan_errors), None)
        if planning_failed is not None:
            self.failed = f"{step.phase}: {planning_failed}"
            return
        arrived = all(self.reach.arrived(side, t_s) for side in step.targets)
        if arrived and t_s - self._since_s >= (self.settle_s if step.dwell_s is None else step.dwell_s):
            problem = self.check(step)
            if problem is not None:
                self.failed = f"{step.phase}: {problem}"
                return
            if self._index + 1 == len(self.steps):
                self.phase = self.final_phase
                self.timeline.append((t_s, self.final_phase))
            else:
                self._go(self._index + 1, t_s)
