"""Peg-in-hole insertion with a peg held in a one-hand power grasp.

The hand turns about the peg so that the peg stands upright (its lean as seen), brings it over
the hole, makes up what it fell short (as its joint encoders measure it) and lowers the peg to
just above the hole's mouth, servoing its estimated position onto the path on every axis (the arm
sags under the load and the balance tasks otherwise). Then it pushes down with a set force: force
control through the whole-body dynamics, the QP told that the hole pushes back. Height is left to
the force; sideways the hand keeps servoing, slowly enough that the chamfer at the hole's mouth
steers the peg onto the hole's axis. If the encoders say the hand stopped at the mouth, the
insertion has failed and the hand keeps hold of the peg. A hand can also slip down along a stuck
peg, so whoever can see should check before :class:`LetGo` opens the fingers and backs the hand
out (the peg then slides down the hole).

Nothing attaches the peg: it goes in, or not, by contact.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pinocchio as pin

from laoshan.limbs.grasp import PowerGraspConfig, PowerHand
from laoshan.limbs.reach import ReachController
from laoshan.limbs.sequence import HandSequence, HandStep, one_hand_steps


@dataclass(frozen=True)
class PegInsertConfig:
    above_m: float = 0.02          # the peg's tip comes over the hole this high above its mouth ...
    enter_m: float = 0.002         # ... then down to this high above it
    press_N: float = 8.0           # downward push while inserting
    press_m: float = 0.005         # the hand's goal is this far below the fully inserted peg
    insert_s: float = 0.8          # the push lasts at least this long
    entered_m: float = 0.006       # after the push the tip must be this far below the mouth, else it stuck
    release_s: float = 0.6         # time the fingers get to open

    def __post_init__(self) -> None:
        if not 0.0 < self.press_N <= 40.0:
            raise ValueError(f"press_N={self.press_N} must be in (0, 40] N")
        if not 0.0 <= self.enter_m < self.above_m:
            raise ValueError("enter_m must be in [0, above_m)")
        if self.entered_m <= 0 or self.insert_s <= 0:
            raise ValueError("entered_m and insert_s must be > 0")


UNTIL = {"over hole": 2, "pushed": 4}   # where a PegInsert may end: the steps it takes


class PegInsert(HandSequence):
    """Insert a peg held in a power grasp (taken by :class:`PowerGrasp` with the same grasp config)
    into a hole: the peg's axis point ``p_world_held`` (world, e.g. as seen) goes to
    ``p_world_inserted``, where that point is with the peg fully in; the hole's mouth is
    ``depth_m`` above the peg's tip then.

    ``peg_axis_world`` is the held peg's axis (world, unit; e.g. as seen): the hand turns about the
    peg so that it stands upright over the hole (a peg leaning a degree or two jams in a tight
    hole). ``phase`` goes over → align → enter → insert → pushed; ``failed`` says so if the hand
    stopped at the mouth. ``until="over hole"`` ends it after align (to look again at the peg from
    close by and insert from there). The hand keeps hold of the peg: :class:`LetGo` lets go, once
    the peg is known to be in.
    """

    def __init__(self, reach: ReachController, p_world_held: np.ndarray, p_world_inserted: np.ndarray,
                 depth_m: float, mass_kg: float, yaw_rad: float = 0.0, config: PegInsertConfig | None = None,
                 grasp: PowerGraspConfig | None = None, until: str = "pushed",
                 peg_axis_world: np.ndarray | None = None) -> None:
        if not depth_m > 0:
            raise ValueError(f"depth_m={depth_m} must be > 0")
        if until not in UNTIL:
            raise ValueError(f"until must be one of {sorted(UNTIL)}, got {until!r}")
        self.config = c = config or PegInsertConfig()
        g = grasp or PowerGraspConfig()
        hand = PowerHand(1.0, mass_kg, yaw_rad, g)
        move = np.asarray(p_world_inserted, dtype=float) - np.asarray(p_world_held, dtype=float)
        inserted = reach.hand_pose(g.side)[:3, 3] + move            # the hand with the peg fully in
        up = hand.up
        press = hand.weight + up * c.press_N                        # the hole pushes back on the peg
        plan = [("over", inserted + up * (depth_m + c.above_m), hand.weight, {}, None),
                ("align", inserted + up * (depth_m + c.above_m), hand.weight, {}, None),
                ("enter", inserted + up * (depth_m + c.enter_m), hand.weight, {}, None),
                ("insert", inserted - up * c.press_m, press, {}, c.insert_s)][:UNTIL[until]]
        steps = [replace(step, servo="xyz" if k < 3 else "xy", correct=step.phase == "align")
                 for k, step in enumerate(hand.steps(plan, holding=("over", "align", "enter", "insert")))]
        if peg_axis_world is not None:        # the hand turns about the peg so that the peg stands upright
            C = pin.Quaternion.FromTwoVectors(np.asarray(peg_axis_world, dtype=float), up).toRotationMatrix()
            d = np.asarray(p_world_held, dtype=float) - reach.hand_pose(g.side)[:3, 3]   # hand to peg
            steps = [replace(step, targets={g.side: self._turned(step.targets[g.side], C, d - C @ d)})
                     for step in steps]
        self.side = g.side
        self.mouth_z_m = float(inserted[2] + depth_m)                 # the hand with the peg's tip at the mouth
        super().__init__(reach, steps, until, g.settle_s)

    @staticmethod
    def _turned(T_hand: np.ndarray, C: np.ndarray, shift_m: np.ndarray) -> np.ndarray:
        """The hand pose turned by the rotation C about the peg: its orientation turned, its
        position moved by ``shift_m`` (world)."""
        T = T_hand.copy()
        T[:3, :3] = C @ T_hand[:3, :3]
        T[:3, 3] = T_hand[:3, 3] + shift_m
        return T

    def check(self, step: HandStep) -> str | None:
        """After the push the peg's tip must be in the hole (then, let go, it slides down), else it
        stuck at the mouth."""
        if step.phase != "insert":
            return None
        in_m = self.mouth_z_m - self.reach.hand_pose(self.side)[2, 3]
        return None if in_m >= self.config.entered_m else f"the peg stuck at the mouth ({in_m * 1000:+.0f} mm in)"


class LetGo(HandSequence):
    """Open the fingers where the hand is (with the grasp config's timing), back the hand out to
    the side, away from the palm, and up. ``phase`` goes open → out → up → inserted."""

    def __init__(self, reach: ReachController, config: PegInsertConfig | None = None,
                 grasp: PowerGraspConfig | None = None, yaw_rad: float = 0.0) -> None:
        c, g = config or PegInsertConfig(), grasp or PowerGraspConfig()
        hand = PowerHand(1.0, 1.0, yaw_rad, g)
        T = reach.hand_pose(g.side)
        moves = (("open", np.zeros(3), {g.side: None}, c.release_s), ("out", hand.out, {}, None),
                 ("up", hand.out + hand.up * g.above_m, {}, None))
        steps = one_hand_steps(g.side, [(phase, T[:3, :3], T[:3, 3] + shift, None, grips, dwell)
                                        for phase, shift, grips, dwell in moves], servo="xy")
        super().__init__(reach, steps, "inserted", g.settle_s)
