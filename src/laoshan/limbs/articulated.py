"""Opening drawers and doors with one hand: hook the fingers behind a handle bar and pull, or grasp
the bar (Dex3 thumb and fingers around it) and pull.

The hand turns fingers-down (tilted a little toward the furniture, which the wrist reaches more
easily) with its thumb toward the robot, rises in front of the handle, goes over it, lowers its
fingertips into the gap between the bar and the front, and pulls the handle along its path: a
straight line for a drawer on its rail, an arc about the hinge for a door. Nothing attaches the
hand: the bar moves only by pressing on the fingers. The whole-body QP is told the reaction the
hand will feel (the resistance, against the pull), balances with it and the arm pulls against it.

The grasp: the hand comes down over the bar with its fingers level and pointing away from the
robot and its thumb hanging down on the robot's side; closing, the fingertips curl down around the
far side of the bar into the gap and the thumb swings in under it; the hand pulls along the path,
opens and rises.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from laoshan.limbs.grasp import thumb_down
from laoshan.limbs.reach import ReachController
from laoshan.limbs.sequence import HandSequence, one_hand_steps


@dataclass(frozen=True)
class HookConfig:
    side: str = "right"
    finger_reach_m: float = 0.12     # hand frame to fingertips (Dex3, fingers straight)
    tilt_rad: float = 0.30           # fingers tilted this much from straight down, away from the robot
    tip_inset_m: float = 0.025       # fingertip centres this far off the front behind the bar (the gap's middle,
                                     # a little toward the front: the tilted fingers lean toward the bar)
    clear_m: float = 0.04            # fingertips this far above the bar while going over it
    hook_depth_m: float = 0.035      # fingertips this far below the bar's axis while pulling
    front_m: float = 0.10            # the fingertips rise this far in front of the bar, toward the robot
    back_m: float = 0.04             # ... and, let go, draw back this far toward it (square to the front, a
                                     # door's turned with it: the arm may then go down without sweeping the bar)
    pull_force_N: float = 15.0       # expected resistance
    settle_s: float = 0.3            # each step lasts at least this long

    def __post_init__(self) -> None:
        if self.side not in ("left", "right"):
            raise ValueError(f"side must be 'left' or 'right', got {self.side!r}")
        if min(self.finger_reach_m, self.clear_m, self.hook_depth_m) <= 0 or self.pull_force_N < 0:
            raise ValueError("reach, clearance and hook depth must be > 0, the force >= 0")


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


def straight_pull(toward_robot: np.ndarray, distance_m: float) -> list[np.ndarray]:
    """A drawer's handle path: ``distance_m`` along its rail toward the robot, as the handle's
    motion X_world (4x4, world) at its one waypoint."""
    X = np.eye(4)
    X[:3, 3] = np.asarray(toward_robot, dtype=float) * distance_m
    return [X]


def arc_pull(p_hinge: np.ndarray, angle_rad: float, steps: int) -> list[np.ndarray]:
    """A door's handle path: swung about the vertical hinge axis through ``p_hinge`` (world, m) by
    ``angle_rad`` (positive: counter-clockwise seen from above) in ``steps`` equal turns, as the
    handle's motion X_world (4x4, world) at each waypoint."""
    if steps < 1:
        raise ValueError(f"an arc needs at least one step, got {steps}")
    hinge = np.asarray(p_hinge, dtype=float)
    out = []
    for k in range(1, steps + 1):
        a = angle_rad * k / steps
        X = np.eye(4)
        X[:2, :2] = [[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]]
        X[:3, 3] = hinge - X[:3, :3] @ hinge
        out.append(X)
    return out


class HookAndPull(HandSequence):
    """Pull a handle bar along a path, given the bar's centre (world, m), the horizontal direction
    toward the robot, the clear gap behind the bar, the bar's radius [m] and the path as the
    handle's rigid motions from where it is (4x4, world) at each waypoint: the hooked fingertips
    and the hand's orientation move with it.

    ``phase`` goes raise → over → hook → pull (once per path point) → unhook → back → opened."""

    def __init__(self, reach: ReachController, p_world_handle: np.ndarray, toward_robot: np.ndarray,
                 gap_m: float, bar_radius_m: float, path: list[np.ndarray], config: HookConfig | None = None) -> None:
        self.config = c = config or HookConfig()
        u = np.asarray(toward_robot, dtype=float).copy()
        u[2] = 0.0
        if not np.linalg.norm(u) > 0 or gap_m <= 0 or not path:
            raise ValueError("the direction toward the robot needs a horizontal part, the gap must be > 0 "
                             "and the path must have a point")
        u /= np.linalg.norm(u)
        bar = np.asarray(p_world_handle, dtype=float)
        behind = bar - u * (bar_radius_m + gap_m - c.tip_inset_m)   # fingertips in the gap, near the front
        up = np.array([0.0, 0.0, 1.0])
        over, hook = up * (bar_radius_m + c.clear_m), -up * c.hook_depth_m
        R = fingers_down(u, c.side, c.tilt_rad)
        tips: list[tuple[str, np.ndarray, np.ndarray, np.ndarray | None]] = [   # (phase, fingertips, hand
            ("raise", bar + u * c.front_m + over, R, None),                   # orientation, hand load)
            ("over", behind + over, R, None),
            ("hook", behind + hook, R, None)]
        last = behind + hook
        for X in path:
            tip = X[:3, :3] @ (behind + hook) + X[:3, 3]
            step = tip - last
            pull = -step / np.linalg.norm(step) * c.pull_force_N if np.linalg.norm(step) > 0 else None
            tips.append(("pull", tip, X[:3, :3] @ R, pull))        # the handle holds the hand back
            last = tip
        tips.append(("unhook", last + over - hook, tips[-1][2], None))
        u_end = path[-1][:3, :3] @ u                               # toward the robot, turned with a door
        tips.append(("back", last + over - hook + u_end * c.back_m, tips[-1][2], None))   # clear of the bar
        steps = one_hand_steps(c.side, [(phase, R_hand, tip - c.finger_reach_m * R_hand[:, 0], load, {}, None)
                                        for phase, tip, R_hand, load in tips])
        super().__init__(reach, steps, "opened", c.settle_s)


@dataclass(frozen=True)
class HandleGraspConfig:
    side: str = "right"
    ahead_m: float = -0.02           # hand frame this far beyond the bar's axis, along the fingers (toward
                                     # the robot when negative): the thumb hangs on the robot's side
    above_m: float = 0.05            # hand frame this high above the bar's axis while grasping
    approach_m: float = 0.08         # it comes down from this much higher ...
    down_s: float = 1.0              # ... and stays this long, for the arm to catch up
    finger_torque_Nm: float = 0.5    # closing torque on each finger joint
    close_s: float = 0.8
    pull_force_N: float = 15.0       # expected resistance
    settle_s: float = 0.3

    def __post_init__(self) -> None:
        if self.side not in ("left", "right"):
            raise ValueError(f"side must be 'left' or 'right', got {self.side!r}")
        if not 0.0 < self.finger_torque_Nm <= 5.0 or self.above_m <= 0 or self.pull_force_N < 0:
            raise ValueError("finger_torque_Nm must be in (0, 5] N·m, above_m > 0 and the force >= 0")


class GraspAndPull(HandSequence):
    """Grasp a horizontal handle bar (centre ``p_world_handle``, world, m) from above and pull it
    along ``path`` (the handle's rigid motions from where it is, 4x4 world, at each waypoint); the
    hand's pose moves with the handle; its estimated position is servoed onto its path throughout
    (the arm sags under the pull). ``phase`` goes over → down → close → pull (once per path point)
    → open → up → opened."""

    def __init__(self, reach: ReachController, p_world_handle: np.ndarray, toward_robot: np.ndarray,
                 path: list[np.ndarray], config: HandleGraspConfig | None = None) -> None:
        self.config = c = config or HandleGraspConfig()
        u = np.asarray(toward_robot, dtype=float).copy()
        u[2] = 0.0
        if not np.linalg.norm(u) > 0 or not path:
            raise ValueError("the direction toward the robot needs a horizontal part and the path a point")
        u /= np.linalg.norm(u)
        R = thumb_down(math.atan2(-u[1], -u[0]), c.side)            # fingers away from the robot
        up = np.array([0.0, 0.0, 1.0])
        at = np.asarray(p_world_handle, dtype=float) + R[:, 0] * c.ahead_m + up * c.above_m
        poses: list[tuple[str, np.ndarray, np.ndarray, np.ndarray | None, dict, float | None]] = [
            ("over", at + up * c.approach_m, R, None, {}, None),    # (phase, hand, orientation, load,
            ("down", at, R, None, {}, c.down_s),                     #  grips, dwell)
            ("close", at, R, None, {c.side: c.finger_torque_Nm}, c.close_s)]
        last = at
        for X in path:
            p = X[:3, :3] @ at + X[:3, 3]
            step = p - last
            pull = -step / np.linalg.norm(step) * c.pull_force_N if np.linalg.norm(step) > 0 else None
            poses.append(("pull", p, X[:3, :3] @ R, pull, {}, None))
            last = p
        poses += [("open", last, poses[-1][2], None, {c.side: None}, c.close_s),
                  ("up", last + up * c.approach_m, poses[-1][2], None, {}, None)]
        steps = one_hand_steps(c.side, [(phase, R_hand, p, load, grips, dwell)
                                        for phase, p, R_hand, load, grips, dwell in poses], servo="xyz")
        super().__init__(reach, steps, "opened", c.settle_s)
