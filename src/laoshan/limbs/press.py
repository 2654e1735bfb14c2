"""Pressing a push button with a fingertip.

The hand comes level with the button, fingers straight toward it and thumb hanging down (the
Dex3's index and middle fingers then lie side by side across the button's face); it sets the
index fingertip square in front of the cap, pushes it in past the cap's face (the panel around the
cap stops the fingers once the cap is in) and draws back. The hand's estimated position is servoed
onto its way (a sagging or lagging arm would miss a 4 cm cap): in front of the cap on every axis,
then across the push only.
Nothing but the fingertip's contact moves the cap. The whole-body QP is told the push the hand
will feel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from laoshan.limbs.grasp import thumb_down
from laoshan.limbs.reach import ReachController
from laoshan.limbs.sequence import HandSequence, one_hand_steps


@dataclass(frozen=True)
class PressConfig:
    side: str = "left"
    tip_reach_m: float = 0.11        # hand frame to the index fingertip, along the straight fingers (Dex3)
    finger_offset_m: float = 0.028   # the index finger's axis off the hand frame, along the hand's z
    approach_m: float = 0.05         # the fingertip stops this far in front of the cap first ...
    past_m: float = 0.02             # ... then pushes to this far past the cap's face (as seen)
    force_N: float = 5.0             # the push back on the hand the whole-body QP balances
    press_s: float = 0.8             # the push lasts at least this long
    settle_s: float = 0.3            # each other step at least this long

    def __post_init__(self) -> None:
        if self.side not in ("left", "right"):
            raise ValueError(f"side must be 'left' or 'right', got {self.side!r}")
        if min(self.tip_reach_m, self.approach_m, self.past_m, self.press_s) <= 0 or self.force_N < 0:
            raise ValueError("reach, approach, push depth and time must be > 0, the force >= 0")


class PressButton(HandSequence):
    """Press the button whose cap's face is centred at ``p_world_face`` (world, m) and faces
    ``toward_robot`` (horizontal). ``phase`` goes approach → press → release → pressed."""

    def __init__(self, reach: ReachController, p_world_face: np.ndarray, toward_robot: np.ndarray,
                 config: PressConfig | None = None) -> None:
        self.config = c = config or PressConfig()
        u = np.asarray(toward_robot, dtype=float).copy()
        u[2] = 0.0
        if not np.linalg.norm(u) > 0:
            raise ValueError("the direction toward the robot needs a horizontal part")
        u /= np.linalg.norm(u)
        R = thumb_down(math.atan2(-u[1], -u[0]), c.side)            # fingers toward the button
        tip_to_hand = -R[:, 0] * c.tip_reach_m - R[:, 2] * c.finger_offset_m
        face = np.asarray(p_world_face, dtype=float)
        away = face + u * c.approach_m
        poses = [("approach", R, away + tip_to_hand, None, {}, None),
                 ("press", R, face - u * c.past_m + tip_to_hand, u * c.force_N, {}, c.press_s),   # (the cap
                 ("release", R, away + tip_to_hand, None, {}, None)]                             # pushes back)
        across = "yz" if abs(u[0]) >= abs(u[1]) else "xz"          # pushing: servoed square to the push only
        steps = one_hand_steps(c.side, poses, servo=across)
        steps[0] = replace(steps[0], servo="xyz")                   # in front of the cap: on every axis
        super().__init__(reach, steps, "pressed", c.settle_s)
