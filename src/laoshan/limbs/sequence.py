"""A sequence of hand moves, each checked by whole-body IK and run to its end before the next.

Each step names its phase, a goal pose for every hand it moves, the force the world is expected
to put on each of them (a grip's reaction, a held load, a pulled handle), for hands with
fingers, whether they close, and which hands hold the object: those hands' touch pads
(``limbs/touch.py``) watch it through the step. The first step that holds it closes on it: by its
end the hands must feel it, else the grasp missed (a sequence that begins holding it, carried in,
is watched from its start); from then on the object is lost when none of them has felt anything
for a while (a box squeezed between two palms may rest on one hand's unpadded fingers for a
moment; gone from both, it is gone). Either ends the sequence as failed, saying so.
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
    holds: tuple[str, ...] = ()                    # hands holding the object (by the step's end, if closing)


Pose = tuple[str, np.ndarray, np.ndarray, np.ndarray | None, dict, float | None]
"""One step of one hand: phase, R_world_hand (3x3), p_world_hand (3,) [m], the expected load on it
[N, world] or None, grips (as in HandStep) and dwell [s] or None."""


def one_hand_steps(side: str, poses: list[Pose], servo: str | None = None,
                   holding: tuple[str, ...] = ()) -> list[HandStep]:
    """The steps of a sequence that moves the ``side`` hand alone through ``poses``, each servoed
    on ``servo``'s axes (ReachController.reach); the hand holds the object in the phases named
    in ``holding``."""
    steps = []
    for phase, R, p, load, grips, dwell in poses:
        T = np.eye(4)
        T[:3, :3], T[:3, 3] = R, p
        steps.append(HandStep(phase, {side: T}, {side: load}, grips, dwell, servo=servo,
                              holds=(side,) if phase in holding else ()))
    return steps


class HandSequence:
    """Call :meth:`update` before each control tick; ``phase`` names the step under way, then
    ``final_phase``; ``failed`` holds the reason if a step cannot be reached (nothing moves then),
    did not do its job (:meth:`check`), or a grasp missed or was lost (also after the last step:
    what it holds is watched on); ``timeline`` lists (start time [s], phase) of every phase begun."""

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
        self.held_since_s: float | None = None     # since when the holding hands' touch pads feel the object
        self.grasp_failed = False                  # whether it failed on a grasp felt missed or lost

    @property
    def done(self) -> bool:
        """Whether it has run its course and still holds what it held at its end."""
        return self.phase == self.final_phase and self.failed is None

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
        hands = self._feeling(step)
        if not hands:
            self.held_since_s = None
        elif index == 0 and any(self.reach.touch.holds(side) for side in hands):
            self.held_since_s = t_s               # held when the sequence begins (carried in): watched from now

    def _feeling(self, step: HandStep) -> tuple[str, ...]:
        """The hands holding the object in ``step`` that have touch pads to feel it with."""
        return tuple(side for side in step.holds if self.reach.touch.has_pads(side))

    def _grasp_problem(self, step: HandStep, t_s: float, at_end: bool) -> str | None:
        """A grasp that the touch pads say has been lost (watched every tick) or, at the step's
        end, has missed (the hands holding from here on feel nothing); None if neither."""
        hands, touch = self._feeling(step), self.reach.touch
        if not hands:
            return None
        names = " and ".join(hands) + (" hands'" if len(hands) > 1 else " hand's")
        if self.held_since_s is not None:
            if all(touch.lost(side, self.held_since_s) for side in hands):
                return (f"lost grasp: the {names} touch pads have felt nothing for {touch.config.lost_s:g} s "
                        f"(held since {self.held_since_s:.2f} s)")
        elif at_end:
            if not any(touch.holds(side) for side in hands):
                felt = ", ".join(f"{touch.force_N(side):.1f} N" for side in hands)
                return f"missed grasp: the {names} touch pads feel nothing ({felt})"
            self.held_since_s = t_s
        return None

    def check(self, step: HandStep) -> str | None:
        """Whether a step that has run its course did what it was for: None if so, else what went
        wrong (the sequence then fails there, the hands holding still)."""
        return None

    def update(self, t_s: float) -> None:
        if self.failed:
            return
        if self.done:                 # what the last step held is still watched
            lost = self._grasp_problem(self.steps[-1], t_s, at_end=False)
            if lost is not None:
                self.failed, self.grasp_failed = f"{self.final_phase}: {lost}", True
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
        lost = self._grasp_problem(step, t_s, at_end=False)
        if lost is not None:
            self.failed, self.grasp_failed = f"{step.phase}: {lost}", True
            return
        arrived = all(self.reach.arrived(side, t_s) for side in step.targets)
        if arrived and t_s - self._since_s >= (self.settle_s if step.dwell_s is None else step.dwell_s):
            missed = self._grasp_problem(step, t_s, at_end=True)
            problem = missed or self.check(step)
            if problem is not None:
                self.failed, self.grasp_failed = f"{step.phase}: {problem}", missed is not None
                return
            if self._index + 1 == len(self.steps):
                self.phase = self.final_phase
                self.timeline.append((t_s, self.final_phase))
            else:
                self._go(self._index + 1, t_s)


def back_off(reach: ReachController, sides: tuple[str, ...], up_m: float = 0.12, settle_s: float = 0.3) -> HandSequence:
    """The hands ``sides`` let go of what they press (no load, fingers open) and rise ``up_m``
    straight up from where they are: after a missed or lost grasp, clear of the object before the
    robot looks again. ``phase`` goes back off → clear."""
    targets = {}
    for side in sides:
        T = reach.hand_pose(side).copy()
        T[2, 3] += up_m
        targets[side] = T
    grips: dict[str, float | None] = {side: None for side in sides if side in reach.grips}
    return HandSequence(reach, [HandStep("back off", targets, dict.fromkeys(sides), grips)], "clear", settle_s)
