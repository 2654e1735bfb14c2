"""Walking skills: to a spot on the robot's own pose estimate, and carrying a held box back and round."""

import math
from collections.abc import Callable

import numpy as np

from laoshan.cerebellum.locomotion import LocomotionController
from laoshan.cerebellum.navigate import GoToConfig, WalkTo
from laoshan.executive.look import Observer
from laoshan.executive.loop import LoopStats, drive
from laoshan.executive.skill import SkillBase
from laoshan.limbs.reach import ReachController
from laoshan.limbs.sequence import HandSequence, HandStep
from laoshan.port.base import RobotPort
from laoshan.port.messages import LowCmd, LowState


def walk_outcome(walk: WalkTo) -> str:
    return f"{'arrived' if walk.done else 'did not arrive'}, {walk.distance_m() * 100:.1f} cm from the spot (estimate)"


def walk_to(port: RobotPort, state: LowState, locomotion: LocomotionController, goal_xy_m: tuple[float, float],
            timeout_s: float, loop: Callable[[LowState], LowCmd] | None = None, observe: Observer | None = None,
            progress: Callable[[int], None] | None = None,
            config: GoToConfig | None = None) -> tuple[LowState, WalkTo, LoopStats]:
    """Walk to ``goal_xy_m`` (odometry frame) on the robot's own pose estimate until it has arrived
    and stopped stepping, fallen, or ``timeout_s`` has passed. ``loop`` runs each control tick (the
    locomotion controller itself, or a reach controller around it)."""
    walk, loop = WalkTo(locomotion, goal_xy_m, config), loop or locomotion

    def act(k: int, state: LowState) -> LowCmd:
        walk()
        return loop(state)

    ticks = int(round(timeout_s / port.control_dt_s))
    state, stats = drive(port, state, ticks, act, observe=observe, progress=progress,
                         stop=lambda s: walk.done or locomotion.fallen)
    return state, walk, stats


class CarryWalk(SkillBase):
    """With a box held in both hands: bring it in close to the body (``tuck_m`` back), then walk
    backwards ``distance_m`` at ``speed_m_s`` (the hands tied to the body), turn ``turn_rad`` on
    the spot and stop, all on the robot's own estimate. Verified once stopped."""

    def __init__(self, controller: ReachController, settle_s: float, tuck_m: float, speed_m_s: float,
                 distance_m: float, turn_rad: float, turn_rate_rad_s: float) -> None:
        super().__init__()
        self.controller, self.settle_s, self.tuck_m = controller, settle_s, tuck_m
        self.speed_m_s, self.distance_m = speed_m_s, distance_m
        self.turn_rad, self.turn_rate_rad_s = turn_rad, turn_rate_rad_s
        self.tuck: HandSequence | None = None        # bringing the box in before walking
        self.start_xy: np.ndarray | None = None       # estimated base position when the walk began
        self.t0_s = 0.0                               # ... and when
        self.stop_s: float | None = None
        self._yaw: float | None = None                # estimated heading last tick, while turning ...
        self.turned_rad = 0.0                         # ... and how far it has turned (estimate)

    def tick(self, state: LowState) -> None:
        c, loco = self.controller, self.controller.locomotion
        rs = loco.state
        assert rs is not None
        if self.tuck is None:                               # first the box comes in close to the body
            back = -self.tuck_m * c.heading_frame()[:3, 0]
            targets = {side: motion.T_goal.copy() for side, motion in c.motions.items()}
            for T in targets.values():
                T[:3, 3] += back
            self.tuck = HandSequence(c, [HandStep("tuck", targets, dict(c.loads))], "tucked", self.settle_s)
        if not self.tuck.done:
            self.tuck.update(state.time_s)
            return
        if self.start_xy is None:
            c.carry(tuple(c.motions))                       # the hands holding the box ride along
            loco.set_velocity(-self.speed_m_s)
            self.start_xy, self.t0_s = rs.p_world_base_m[:2].copy(), state.time_s
        elif self.stop_s is not None:
            return
        elif self._yaw is None and np.linalg.norm(rs.p_world_base_m[:2] - self.start_xy) >= self.distance_m:
            self._yaw = rs.yaw_rad
            loco.set_velocity(0.0, 0.0, math.copysign(self.turn_rate_rad_s, self.turn_rad))
        elif self._yaw is not None:
            yaw = rs.yaw_rad
            self.turned_rad += math.remainder(yaw - self._yaw, math.tau)
            self._yaw = yaw
            if abs(self.turned_rad) >= abs(self.turn_rad):
                loco.set_velocity()
                self.stop_s = state.time_s
                self.verified = True
                self.outcomes.append(("walk back and turn", f"done: stopped after {state.time_s - self.t0_s:.1f} s"))
