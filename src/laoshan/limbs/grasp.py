"""Two-hand box pick: the palms squeeze the box's sides and friction holds it.

The sequence, each step a reach checked by whole-body IK: hands above the box and outside its
sides; down to grasp height; in against the sides with a grip force; up. The grip is force
control through the dynamics: the whole-body QP is told the reaction each palm will feel (the
squeeze, then also half the box's weight), balances with it, and the arms push back with it,
while the hand targets sit just inside the sides. Nothing attaches the box: it rises only if
the palms' friction carries it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pinocchio as pin

from laoshan.limbs.ik import UnreachableTarget
from laoshan.limbs.reach import ReachController

GRAVITY_M_S2 = 9.81
HANDS = (("left", 1.0), ("right", -1.0))   # side, and which way (along the box's y axis) it lies


@dataclass(frozen=True)
class BoxPickConfig:
    clearance_m: float = 0.12     # hands this far outside the sides while approaching
    above_m: float = 0.12         # approach from this high above grasp height
    press_m: float = -0.03        # hand frames this far inside the sides while squeezing (negative: outside;
                                  # the Dex3 palm face is about 4 cm beyond the hand frame)
    grip_force_N: float = 20.0    # squeeze per palm
    lift_m: float = 0.15            # hands rise this much (the box, slipping a little, a bit less)
    settle_s: float = 0.3         # each step lasts at least this long

    def __post_init__(self) -> None:
        if self.grip_force_N <= 0 or self.lift_m <= 0 or self.clearance_m <= 0:
            raise ValueError("grip_force_N, lift_m and clearance_m must be > 0")


class BoxPick:
    """Drives a :class:`ReachController` through a two-hand pick of a box of known pose and size.

    Call :meth:`update` before each control tick. ``phase`` goes approach → lower → squeeze →
    lift → hold; ``failed`` holds the reason if a step cannot be reached (nothing moves then).
    """

    PHASES = ("approach", "lower", "squeeze", "lift", "hold")

    def __init__(self, reach: ReachController, T_world_box: np.ndarray, half_size_m: tuple[float, float, float],
                 mass_kg: float, config: BoxPickConfig | None = None) -> None:
        if not mass_kg > 0 or min(half_size_m) <= 0:
            raise ValueError("a box needs a positive mass and half sizes")
        self.reach, self.config = reach, config or BoxPickConfig()
        self.T_box, self.half, self.mass_kg = np.asarray(T_world_box, dtype=float), half_size_m, mass_kg
        yaw = math.atan2(self.T_box[1, 0], self.T_box[0, 0])
        self.R_hand = pin.utils.rpyToMatrix(0.0, 0.0, yaw)   # fingers along the box's x, palms facing its sides
        self.phase: str | None = None
        self.failed: str | None = None
        self._since_s = 0.0

    def _targets(self, lateral_m: float, dz_m: float) -> dict[str, np.ndarray]:
        out = {}
        for side, sign in HANDS:
            T = np.eye(4)
            T[:3, :3] = self.R_hand
            T[:3, 3] = self.T_box[:3, 3] + self.T_box[:3, 1] * sign * lateral_m + np.array([0.0, 0.0, dz_m])
            out[side] = T
        return out

    def _loads(self, carrying: bool) -> dict[str, np.ndarray]:
        """Force the box puts on each palm: pushed out by the squeeze, and down by its weight."""
        weight = -self.mass_kg * GRAVITY_M_S2 / 2 if carrying else 0.0
        return {side: self.T_box[:3, 1] * sign * self.config.grip_force_N + np.array([0.0, 0.0, weight])
                for side, sign in HANDS}

    def _go(self, phase: str, t_s: float) -> None:
        c, w = self.config, self.half[1]
        lateral, dz, loads = {
            "approach": (w + c.clearance_m, c.above_m, None),
            "lower": (w + c.clearance_m, 0.0, None),
            "squeeze": (w - c.press_m, 0.0, self._loads(False)),
            "lift": (w - c.press_m, c.lift_m, self._loads(True)),
        }[phase]
        try:
            for side, T in self._targets(lateral, dz).items():
                self.reach.reach(side, T)
        except UnreachableTarget as exc:
            self.failed = f"{phase}: {exc}"
            return
        for side, _ in HANDS:
            self.reach.set_load(side, None if loads is None else loads[side])
        self.phase, self._since_s = phase, t_s

    @property
    def done(self) -> bool:
        return self.phase == "hold"

    def update(self, t_s: float) -> None:
        if self.failed or self.phase == "hold":
            return
        if self.phase is None:
            self._go("approach", t_s)
            return
        arrived = all(self.reach.arrived(side, t_s) for side, _ in HANDS)
        if arrived and t_s - self._since_s >= self.config.settle_s:
            following = self.PHASES[self.PHASES.index(self.phase) + 1]
            if following == "hold":
                self.phase = "hold"
            else:
                self._go(following, t_s)
