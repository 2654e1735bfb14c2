"""Hand jobs at things standing on the map: open or close a fixture (a drawer, a door) by its
handle, press a button; each walked to, looked at, done, and checked with the head camera."""

import math

import numpy as np

from laoshan.brain.world_model import Fixture, Switch, turn_z
from laoshan.cerebellum.navigate import GoToConfig, WalkTo
from laoshan.executive.look import Glance
from laoshan.executive.skill import Context, SkillBase
from laoshan.executive.walking import walk_outcome
from laoshan.limbs.articulated import HookAndPull, HookConfig, arc_pull, straight_pull
from laoshan.limbs.ik import UnreachableTarget
from laoshan.limbs.press import PressButton, PressConfig
from laoshan.limbs.sequence import HandSequence
from laoshan.port.messages import LowState

PRESS_FROM = (0.405, 0.10)     # a button from the base of a robot pressing it with its left hand (the right: -y) [m]
PRESS_NEAR_M = 0.08            # ... standing this close to that spot, the hand reaches it
PRESS_DEEPER_M = 0.01          # pressing again, the fingertip pushes this much deeper
OPERATE_SIDE = "right"
# where the right hand hooks a fixture's handle from (the handle from the robot's base, heading frame, m: a drawer's
# as in scenarios/articulated.py; a door's 5 cm more to the left: after walking the robot stands a little lower)
HANDLE_FROM = {"drawer": (0.38, -0.18), "door": (0.41, -0.14)}
OPEN_GOAL = {"drawer": 0.10, "door": math.radians(30.0)}     # done: seen opened at least this far [m, rad] ...
CLOSED_BELOW = {"drawer": 0.02}                              # ... or closed to within this
PULL_M, SWING_RAD, SWING_STEPS = 0.15, math.radians(45.0), 3  # how far the hand draws a drawer and swings a door
PUSH_PAST_M = 0.03             # closing a drawer, the hand pushes this far past closed
MIN_PULL = {"drawer": 0.03, "door": math.radians(10.0)}       # opening again, the hand pulls at least this far
# having opened a door, the hand goes down past its free edge (swung toward the robot) on its robot side first:
# to one of these points (heading frame) 10 cm lower, then to its posture (straight there, it sweeps the door shut)
DOOR_VIA_M, DOOR_VIA_DOWN_M = ((0.15, -0.05), (0.17, -0.08), (0.13, -0.02)), 0.10
DROP_S = 1.0                   # an arm let go to its posture is out of the camera's way after this long
FINE_STEPS = GoToConfig(max_speed_m_s=0.1, arrive_m=0.02)    # the last few cm to a fixture (and back), slowly


class AtHand(SkillBase):
    """A job the hand does at something standing on the map (a fixture's handle, a button): walks
    to where the hand works it from if the robot stands elsewhere (then shuffles onto the spot:
    the hand reaches only so far), looks at it, runs the hand's sequence, brings the hand back to
    its posture (first through a via point, if the job has one) and looks at the effect; if it is
    not as asked, walks back to the spot and tries again, up to ``attempts`` times. A subclass
    says where the spot is, what the hand does and how the effect is judged."""

    side = "right"
    near_enough_m: float | None = None     # standing this close to the spot, the robot does not walk (None: it
                                           # always shuffles onto the spot)

    def __init__(self, ctx: Context, name: str, action: str, X_heading_rest: dict[str, np.ndarray]) -> None:
        """``X_heading_rest``: each hand at its posture, standing (4x4, heading frame)."""
        super().__init__()
        self.ctx, self.controller, self.world = ctx, ctx.controller, ctx.world
        self.name, self.action, self.X_heading_rest = name, action, X_heading_rest
        self._phase = "start"      # start → walk → shuffle → look → work (→ via) → rest → check
        self._walk: WalkTo | None = None
        self._from_xy = np.zeros(2)
        self._started_s = 0.0
        self._glance: Glance | None = None
        self._sequence: HandSequence | None = None
        self._tries = 0

    def _spot(self) -> np.ndarray:
        """Where the robot's base stands to do the job (world, xy)."""
        raise NotImplementedError

    def _seen_in(self, frame_s: float) -> bool:
        """Whether the world model saw the thing in the frame taken at ``frame_s``."""
        raise NotImplementedError

    def _work(self) -> HandSequence:
        """The hand's sequence, from the thing as last seen."""
        raise NotImplementedError

    def _via(self, sequence: HandSequence) -> bool:
        """After the sequence: start the hand toward a via point on its way back; False if none."""
        return False

    def _verdict(self, seen: bool, failed: str | None) -> str:
        """The attempt's effect as the camera saw it: "done: …" or "failed: …"."""
        raise NotImplementedError

    def _look(self, state: LowState) -> bool | None:
        """Look once: whether the thing was in the frame; None while the frame has not come."""
        if self._glance is None:
            self._glance = Glance(self.ctx.port, self.controller, state.time_s)
        seen = self._glance.seen(state)
        if seen is None:
            return None
        frame_s, self._glance = self._glance.frame_s, None
        self.world.update(seen)
        assert frame_s is not None
        return self._seen_in(frame_s)

    def _walking(self, state: LowState) -> bool:
        """Drive the walk under way: True while it goes on (or has given up)."""
        assert self._walk is not None
        if self._walk.done:
            return False
        self._walk()
        if self.controller.locomotion.fallen or state.time_s - self._started_s > self.ctx.config.walk_timeout_s:
            self.gave_up = f"could not walk to the {self.name}"
            self.outcomes.append((f"walk to the {self.name}", walk_outcome(self._walk)))
        return True

    def tick(self, state: LowState) -> None:
        loco = self.controller.locomotion
        base_xy = loco.state.p_world_base_m[:2]
        if self._phase == "start":                       # stand where the hand works it from
            spot = self._spot()
            self._walk, self._started_s, self._from_xy = WalkTo(loco, spot), state.time_s, base_xy.copy()
            near = self.near_enough_m is not None and float(np.linalg.norm(spot - base_xy)) < self.near_enough_m
            self._phase = "look" if near else "walk"
        if self._phase == "walk":
            if self._walking(state):
                return
            assert self._walk is not None
            self._walk, self._phase = WalkTo(loco, self._walk.goto.goal_xy_m, FINE_STEPS), "shuffle"
        if self._phase == "shuffle":
            if self._walking(state):
                return
            moved = float(np.linalg.norm(base_xy - self._from_xy))
            if moved > FINE_STEPS.arrive_m:
                self.world.robot_moved(moved)
                assert self._walk is not None
                self.outcomes.append((f"walk to the {self.name}", walk_outcome(self._walk)))
            self._phase = "look"
        if self._phase == "look":                        # where is it?
            seen = self._look(state)
            if seen is False:
                self.gave_up = f"the {self.name} is out of sight"
                self.outcomes.append((f"{self.action} the {self.name}", f"failed: {self.gave_up}"))
            elif seen:
                self._sequence, self._phase = self._work(), "work"
            return
        sequence = self._sequence
        assert sequence is not None
        if self._phase == "work":
            if not sequence.done and not sequence.failed:
                sequence.update(state.time_s)
                return
            if sequence.done and self._via(sequence):
                self._phase = "via"
                return
            self._phase = "rest"
        if self._phase == "via":
            if not self.controller.arrived(self.side, state.time_s):
                return
            self._phase = "rest"
        if self._phase == "rest":                        # let go: the hand back to its posture
            self._phase, self._started_s = "check", state.time_s
            try:
                self.controller.reach(self.side, self.controller.heading_frame() @ self.X_heading_rest[self.side])
            except UnreachableTarget:                    # (not from here: the arm finds its posture itself,
                self.controller.release(self.side)       # out of the camera's way in DROP_S)
            return
        if self.side in self.controller.motions:
            if not self.controller.arrived(self.side, state.time_s):
                return
            self.controller.release(self.side)
        elif state.time_s - self._started_s < DROP_S:
            return
        seen = self._look(state)                         # what did it do?
        if seen is None:
            return
        self.outcomes.append((f"attempt {self._tries + 1}: {self.action} the {self.name}",
                              self._verdict(seen, sequence.failed)))
        self._tries += 1
        if self.outcomes[-1][1].startswith("done"):
            self.verified = True
        elif self._tries >= self.ctx.config.attempts or not seen:
            self.gave_up = f"gave up after {self._tries} attempt(s): {self.outcomes[-1][1]}"
        else:                                            # again: walk back to the spot, look, work
            self._phase = "start"


class Operate(AtHand):
    """Opens or closes a fixture with the right hand: hooks its handle and pulls (or pushes) it
    along its way (a drawer's rail, an arc about a door's hinge); from a door it opened, the hand
    goes back through a point on the near side of the door's free edge (which has swung toward the
    robot); the camera then sees how far the fixture is open."""

    side = OPERATE_SIDE

    def __init__(self, ctx: Context, fixture: Fixture | None, action: str,
                 X_heading_rest: dict[str, np.ndarray]) -> None:
        assert fixture is not None and action in ("open", "close")          # the plan was validated
        super().__init__(ctx, fixture.name, action, X_heading_rest)
        self.fixture = fixture

    def _spot(self) -> np.ndarray:
        f = self.fixture
        return (f.handle_at(0.0) + f.map_offset())[:2] - np.array(HANDLE_FROM[f.kind])

    def _seen_in(self, frame_s: float) -> bool:
        return self.fixture.seen_s == frame_s

    def _via(self, sequence: HandSequence) -> bool:
        """Having opened a door: down past its edge first, to the first of DOOR_VIA_M the arm reaches."""
        if self.fixture.kind != "door" or self.action != "open":
            return False
        X_heading = self.controller.heading_frame()
        T = X_heading @ self.X_heading_rest[self.side]
        T[2, 3] = self.controller.hand_pose(self.side)[2, 3] - DOOR_VIA_DOWN_M
        for via in DOOR_VIA_M:
            T[:2, 3] = X_heading[:2, :2] @ np.array(via) + X_heading[:2, 3]
            try:
                self.controller.reach(self.side, T)
            except UnreachableTarget:
                continue
            return True
        return False

    def _work(self) -> HookAndPull:
        """The hand's way for this action from the handle as last seen (a door's hinge: the map's,
        moved by how far the fixture is seen off its place on the map); opening, as far as the
        fixture is still short of the full pull or swing."""
        f = self.fixture
        p = f.handle_at(f.opening) + f.map_offset()            # the handle as last seen (or on the map)
        u = np.array([*f.toward_robot, 0.0])
        if f.kind == "drawer":
            path = straight_pull(u, max(PULL_M - f.opening, MIN_PULL["drawer"]) if self.action == "open"
                                 else -(f.opening + PUSH_PAST_M))
        else:                                                  # (doors are opened only: planner.CLOSES)
            assert f.hinge_xy_m is not None
            hinge = np.array([*f.hinge_xy_m, p[2]]) + f.map_offset()
            u = turn_z(-f.opening) @ u                         # the open door's outward normal
            path = arc_pull(hinge, -max(SWING_RAD - f.opening, MIN_PULL["door"]), SWING_STEPS)
        return HookAndPull(self.controller, p, u, f.gap_m, f.bar_radius_m, path, HookConfig(side=self.side))

    def _verdict(self, seen: bool, failed: str | None) -> str:
        f = self.fixture
        if failed:
            return f"failed: {failed}"
        if not seen:
            return f"failed: the {f.name}'s handle is out of sight"
        ok = f.opening >= OPEN_GOAL[f.kind] if self.action == "open" else f.opening <= CLOSED_BELOW[f.kind]
        return f"{'done' if ok else 'failed'}: the {f.name} is seen {f.amount()} open"


class Press(AtHand):
    """Presses a button with the index fingertip of the hand on its side (the left for a button
    left of the robot) and looks whether its lamp is lit; a retry pushes a centimetre deeper."""

    near_enough_m = PRESS_NEAR_M

    def __init__(self, ctx: Context, switch: Switch | None, X_heading_rest: dict[str, np.ndarray]) -> None:
        assert switch is not None                                            # the plan was validated
        super().__init__(ctx, switch.name, "press", X_heading_rest)
        self.switch = switch

    def _spot(self) -> np.ndarray:
        """From the robot's side where the button is (which hand presses it: that side's)."""
        cap = self.switch.cap_at()[:2]
        self.side = "left" if cap[1] > self.controller.locomotion.state.p_world_base_m[1] else "right"
        x, y = PRESS_FROM
        return cap - np.array([x, y if self.side == "left" else -y])

    def _seen_in(self, frame_s: float) -> bool:
        return self.switch.seen_s == frame_s

    def _work(self) -> PressButton:
        s = self.switch
        config = PressConfig(side=self.side, past_m=PressConfig().past_m + PRESS_DEEPER_M * self._tries)
        return PressButton(self.controller, s.cap_at(), np.array([*s.toward_robot, 0.0]), config)

    def _verdict(self, seen: bool, failed: str | None) -> str:
        if failed:
            return f"failed: {failed}"
        if not seen:
            return f"failed: the {self.name} is out of sight"
        lamp = self.switch.describe_state()
        return f"{'done' if self.switch.lit else 'failed'}: the {self.name}'s lamp is seen {lamp}"
