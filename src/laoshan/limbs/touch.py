"""What the hands feel: the touch pads of each hand (``LowState.touch_N``), read as whether the
hand holds something.

A hand holds what its pads press on: the palms of a two-hand box squeeze, the thumb and the
fingertips of a power grasp or a pinch. The pads measure normal force only, so a grasp that holds
but slides (the object dragged over the table as the hands close on it) feels the same as one
that does not; what touch tells is whether the object is there at all: confirmed before a lift,
and watched while lifting, carrying and setting down, so that a missed or lost grasp is noticed
with the camera off too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from laoshan.robot.description import RobotDescription


@dataclass(frozen=True)
class TouchConfig:
    contact_N: float = 1.0    # a hand whose pads together feel less than this holds nothing (pad noise:
                              # 0.05 N each; a held 0.1 kg cube presses about 3 N, a box's palms 25-40 N)
    lost_s: float = 0.1       # a held object is lost once its hand has felt nothing for this long (10 pad
                              # samples at 100 Hz: one dropped sample or a bounce is not a loss)

    def __post_init__(self) -> None:
        if not self.contact_N > 0 or not self.lost_s >= 0:
            raise ValueError(f"contact_N must be > 0 and lost_s >= 0, got {self.contact_N}, {self.lost_s}")


class HandTouch:
    """The touch pads of each hand of ``robot``; call :meth:`update` with every ``LowState``."""

    def __init__(self, robot: RobotDescription, config: TouchConfig | None = None) -> None:
        self.config = config or TouchConfig()
        self.pads = {side: hand.touch for side, hand in robot.hands.items()}   # side -> pad indices
        self.pad_names = [pad.name for pad in robot.touch]
        self._touch_N = np.zeros(len(robot.touch))
        self._felt_s: dict[str, float] = {}    # side -> last time its pads felt contact_N or more
        self._t_s = 0.0

    def has_pads(self, side: str) -> bool:
        """Whether this hand has touch pads at all (a hand without them cannot confirm a grasp)."""
        return bool(self.pads.get(side))

    def update(self, touch_N: np.ndarray, t_s: float) -> None:
        """The pads' readings [N, description order] at ``t_s`` [s]."""
        self._touch_N = np.asarray(touch_N, dtype=float)
        self._t_s = t_s
        for side in self.pads:
            if self.has_pads(side) and self.force_N(side) >= self.config.contact_N:
                self._felt_s[side] = t_s

    def force_N(self, side: str) -> float:
        """The normal force the ``side`` hand's pads feel together [N] (0 if it has none)."""
        pads = self.pads.get(side, ())
        if not pads or len(self._touch_N) == 0:
            return 0.0
        return float(np.sum(np.clip(self._touch_N[list(pads)], 0.0, None)))

    def touching(self, side: str) -> tuple[str, ...]:
        """The names of the ``side`` hand's pads that feel something now."""
        pads = self.pads.get(side, ())
        return tuple(self.pad_names[i] for i in pads
                     if len(self._touch_N) and self._touch_N[i] >= self.config.contact_N / 2)

    def holds(self, side: str) -> bool:
        """Whether the hand's pads feel what it holds now."""
        return self.force_N(side) >= self.config.contact_N

    def lost(self, side: str, since_s: float) -> bool:
        """Whether the hand, holding since ``since_s`` [s], has felt nothing for ``lost_s``."""
        last = max(self._felt_s.get(side, since_s), since_s)
        return self._t_s - last >= self.config.lost_s and not self.holds(side)
