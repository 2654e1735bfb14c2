"""Opening a drawer with one hand: hook the fingers behind its handle bar and pull.

The hand turns fingers-down (tilted a little toward the drawer, which the wrist reaches more
easily) with its thumb toward the robot, rises in front of the handle, goes over it, lowers its
fingertips into the gap between the bar and the drawer front, and pulls along the drawer's rail.
Nothing attaches the hand: the bar is pulled only by pressing on the fingers. The whole-body QP is
told the reaction the hand will feel (the drawer's resistance), balances with it and the arm pulls
against it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from laoshan.limbs.reach import ReachController
from laoshan.limbs.sequence import HandSequence, HandStep


@dataclass(frozen=True)
class DrawerOpenConfig:
    side: str = "right"
    finger_reach_m: float = 0.12     # hand frame to fingertips (Dex3, fingers straight)
    tilt_rad: float = 0.30           # fingers tilted this much from straight down, toward the drawer
    tip_inset_m: float = 0.025       # fingertip centres this far off the drawer front (the gap's middle, a
                                     # little toward the front: the tilted fingers lean toward the bar)
    clear_m: float = 0.04            # fingertips this far above the bar while going over it
    hook_depth_m: float = 0.035      # fingertips this far below the bar's axis while pulling
    front_m: float = 0.10            # the fingertips rise this far in front of the bar, toward the robot
    pull_m: float = 0.15             # how far to pull along the rail
    pull_force_N: float = 15.0       # expected resistance of the drawer
    settle_s: float = 0.3            # each step lasts at least this long

    def __post_init__(self) -> None:
        if self.side not in ("left", "right"):
            raise ValueError(f"side must be 'left' or 'right', got {self.side!r}")
        if min(self.finger_reach_m, self.clear_m, self.hook_depth_m, self.pull_m) <= 0 or self.pull_force_N < 0:
            raise ValueError("reach, clearance, hook depth and pull must be > 0, the force >= 0")


def fingers_down(toward_robot: np.ndarray, side: str, tilt_rad: float = 0.0) -> np.ndarray:
    """Hand orientation (3x3, world) with the fingers pointing down, tilted by ``tilt_rad`` away
    from the robot, and the thumb toward the robot: the Dex3 fingers are then thin along
    ``toward_robot`` and fit behind a bar."""
    u = toward_robot / np.linalg.norm(toward_robot)
    fingers = np.array([0.0, 0.0, -math.cos(tilt_rad)]) - u * math.sin(tilt_rad)
    thumb = np.cross(np.cross(fingers, u), fingers)          # u, made square to the fingers
    thumb /= np.linalg.norm(thumb)
    if side == "left":                                        # the thumb lies on the hand's +y (right), -y (left)
        thumb = -thumb
    return np.column_stack([fingers, thumb, np.cross(fingers, thumb)])


class DrawerOpen(HandSequence):
    """Pull a drawer open by its handle bar, given the bar's centre (world, m), the rail's
    direction toward the robot, the clear gap behind the bar and the bar's radius [m].

    ``phase`` goes raise → over → hook → pull → unhook → opened."""

    def __init__(self, reach: ReachController, p_world_handle: np.ndarray, pull_direction: np.ndarray,
                 gap_m: float, bar_radius_m: float, config: DrawerOpenConfig | None = None) -> None:
        self.config = c = config or DrawerOpenConfig()
        u = np.asarray(pull_direction, dtype=float).copy()
        u[2] = 0.0
        if not np.linalg.norm(u) > 0 or gap_m <= 0:
            raise ValueError("the pull direction needs a horizontal part and the gap must be > 0")
        u /= np.linalg.norm(u)
        bar = np.asarray(p_world_handle, dtype=float)
        behind = bar - u * (bar_radius_m + gap_m - c.tip_inset_m)   # fingertips in the gap, near the front
        up = np.array([0.0, 0.0, 1.0])
        over, hook = up * (bar_radius_m + c.clear_m), -up * c.hook_depth_m
        pull = -u * c.pull_force_N              # the drawer holds the hand back
        tips = [("raise", bar + u * c.front_m + over, None),     # (phase, fingertips, hand load)
                ("over", behind + over, None),
                ("hook", behind + hook, None),
                ("pull", behind + hook + u * c.pull_m, pull),
                ("unhook", behind + over + u * c.pull_m, None)]
        R = fingers_down(u, c.side, c.tilt_rad)
        steps = []
        for phase, tip, load in tips:
            T = np.eye(4)
            T[:3, :3], T[:3, 3] = R, tip - c.finger_reach_m * R[:, 0]
            steps.append(HandStep(phase, {c.side: T}, {c.side: load}))
        super().__init__(reach, steps, "opened", c.settle_s)
