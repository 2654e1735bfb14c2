"""Hand skills of a plan: pick (and place) with retries, carry a held object to a station or a
person's open hand and set it down there; each checked with the head camera."""

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from laoshan.brain.perception import Detection, near_edge_x
from laoshan.brain.world_model import Person, Place, WorldObject
from laoshan.cerebellum.navigate import GoToConfig, WalkTo
from laoshan.executive.look import Glance
from laoshan.executive.skill import Context, SiteMap, SkillBase
from laoshan.executive.walking import walk_outcome
from laoshan.limbs.grasp import BoxPickConfig, PowerGraspConfig, PowerPlace
from laoshan.limbs.reach import ReachController
from laoshan.limbs.sequence import HandSequence, HandStep, back_off
from laoshan.port.messages import LowState

GRASP_FROM = {"box": (0.42, 0.0), "cylinder": (0.36, -0.12), "sphere": (0.36, -0.12)}
"""Where the base stands to grasp an object of each kind: the object minus this (xy, heading frame) [m]."""
BOX_HALF_M = (0.07, 0.14, 0.09)   # the box the two-hand pick is made for ...
BOX_MASS_KG = 0.5                 # ... and its weight, which the robot is told
HELD_MASS_KG = 0.3                # what the robot is told a can or ball weighs
CARRY_TO_HAND = GoToConfig(arrive_m=0.04)   # carrying to a person's hand: close, not slowly ...
HAND_OVER_NEAR_M = 0.25                     # ... unless the hand reaches it from this close
HAND_OVER_TOLERANCE_M = 0.03      # a handed-over object's centre seen this close to the palm's is done


class PickAttempts(SkillBase):
    """Carries out the pick (and place) and checks its effect with the camera; if the object is not
    where it should be, picks it again from where it is now seen (replanning the same steps), up to
    ``attempts`` times."""

    def __init__(self, ctx: Context, colour: str, place: Place | None,
                 make: Callable[[np.ndarray, BoxPickConfig | None], HandSequence]) -> None:
        super().__init__()
        self.ctx, self.controller, self.world = ctx, ctx.controller, ctx.world
        self.colour, self.place, self.make = colour, place, make
        self._sequence: HandSequence | None = None
        self._start_z = (0.0, 0.0)
        self._glance: Glance | None = None
        self._clearing: HandSequence | None = None      # the hands backing off after a missed or lost grasp

    def _what(self) -> str:
        action = f"pick the {self.colour} object" + (f", place it at {self.place.name}" if self.place else "")
        return f"attempt {len(self.outcomes) + 1}: {action}"

    def begin(self, target: WorldObject, grip: BoxPickConfig | None) -> HandSequence:
        """Pick ``target`` as it was seen, with ``grip`` (None: the default)."""
        self._start_z = (target.top_z_m, target.bottom_z_m)
        self._sequence = self.make(target.p_world_m, grip)
        self._clearing = None
        return self._sequence

    def tick(self, state: LowState) -> None:
        sequence = self._sequence
        assert sequence is not None
        if not sequence.done and not sequence.failed:
            sequence.update(state.time_s)
            return
        if sequence.grasp_failed and self._clearing is None:
            # the hands felt a grasp miss or go: off the object before looking (else they hide or bump it)
            self._clearing = back_off(self.controller, tuple(sorted({s for step in sequence.steps
                                                                     for s in step.targets})))
        if self._clearing is not None and not (self._clearing.done or self._clearing.failed):
            self._clearing.update(state.time_s)
            return
        if self._glance is None:                                # done: look at the result
            self._glance = Glance(self.ctx.port, self.controller, state.time_s)
        detections = self._glance.seen(state)
        if detections is None:
            return
        frame_s, self._glance = self._glance.frame_s, None
        self.world.update(detections)
        seen = [o for o in self.world.find(self.colour) if o.seen_s == frame_s]   # in this very frame
        verdict = self._judge(seen[0] if seen else None, sequence)
        self.outcomes.append((self._what(), verdict))
        if verdict.startswith("done"):
            self.verified = True
        elif len(self.outcomes) >= self.ctx.config.attempts or not seen:
            self.gave_up = f"gave up after {len(self.outcomes)} attempt(s): {verdict}"
        else:
            self.begin(seen[0], None)                           # again, from where it is now

    def _judge(self, seen: WorldObject | None, sequence: HandSequence) -> str:
        """The attempt's effect as the camera sees it (how high: the larger rise of its seen top and
        bottom, as a hand holding it may hide either); a sequence that failed (a grasp felt missed
        or lost, a step out of reach) failed, with where the object is seen now."""
        if seen is None:
            return f"failed: {sequence.failed or f'the {self.colour} object is out of sight'}"
        if self.place is not None:
            verdict = place_verdict(seen.p_world_m, self.place.xy_m, self.place.name,
                                    self.ctx.config.place_tolerance_m)
        else:
            p_seen = seen.p_world_m
            where = f"seen at ({p_seen[0]:.3f}, {p_seen[1]:.3f}, {p_seen[2]:.3f})"
            up = max(seen.top_z_m - self._start_z[0], seen.bottom_z_m - self._start_z[1])
            verdict = f"{'done' if up >= self.ctx.config.lift_goal_m else 'failed'}: {where}, {up * 100:.1f} cm up"
        return f"failed: {sequence.failed}; {verdict.split(': ', 1)[1]}" if sequence.failed else verdict


def place_verdict(p: np.ndarray, xy_m: np.ndarray | tuple[float, float], where: str, tolerance_m: float) -> str:
    """Done if the object seen at ``p`` stands within ``tolerance_m`` (xy) of ``xy_m``, named ``where``."""
    off = float(np.linalg.norm(p[:2] - np.asarray(xy_m)))
    return (f"{'done' if off <= tolerance_m else 'failed'}: seen at ({p[0]:.3f}, {p[1]:.3f}, {p[2]:.3f}), "
            f"{off * 100:.1f} cm from {where}")


class Station:
    """Where a carried object is set down: a station on the table. The odometry drifts as the robot
    walks; the table's near edge, on the map, seen says how much along x."""

    steps: GoToConfig | None = None                 # the walk's default: the hand makes up where it stops
    near_m = 0.0                                    # no closer than this to its spot, the robot walks there

    def __init__(self, place: Place, site: SiteMap) -> None:
        self.place, self.name, self.site = place, place.name, site
        self._drift_x_m = 0.0                       # odometry x minus map x, from the table's edge

    def xy(self) -> np.ndarray:
        return np.array(self.place.xy_m)

    def locate(self, glance: Glance, controller: ReachController) -> tuple[np.ndarray | None, str]:
        """Where the object's bottom centre goes (odometry frame), from the frame ``glance`` took,
        and what was seen."""
        assert glance.frame is not None and glance.X_world_camera is not None
        y = float(controller.locomotion.state.p_world_base_m[1])
        edge = near_edge_x(glance.frame, glance.X_world_camera, self.site.table_top_z_m, (y - 0.15, y + 0.15))
        self._drift_x_m = edge - self.site.table_front_x_m if edge is not None else 0.0
        seen = f"table edge seen {self._drift_x_m * 100:+.1f} cm off along x" if edge is not None else \
            "table edge not seen"
        return np.array([*(self.xy() + [self._drift_x_m, 0.0]), self.site.table_top_z_m]), seen

    def judge(self, p_seen: np.ndarray, tolerance_m: float) -> str:
        return place_verdict(p_seen - [self._drift_x_m, 0.0, 0.0], self.place.xy_m, self.name, tolerance_m)


class Palm:
    """Where a carried object is handed over: set on the open hand a person holds out, as seen
    once the robot stands before it: the robot walks up close to its spot (a hand reaching in front
    of the body reaches less far to the side)."""

    steps = CARRY_TO_HAND
    near_m = HAND_OVER_NEAR_M

    def __init__(self, person: Person) -> None:
        assert person.hand_m is not None                   # the plan was validated
        self.person, self.name = person, f"{person.id}'s hand"
        self._palm = person.hand_m.copy()

    def xy(self) -> np.ndarray:
        return self._palm[:2].copy()

    def locate(self, glance: Glance, controller: ReachController) -> tuple[np.ndarray | None, str]:
        if self.person.hand_seen_s != glance.frame_s or self.person.hand_m is None:
            return None, f"{self.name} not seen"
        self._palm = self.person.hand_m.copy()
        p = self._palm
        return p.copy(), f"{self.name} seen at ({p[0]:.3f}, {p[1]:.3f}, {p[2]:.3f})"

    def judge(self, p_seen: np.ndarray, tolerance_m: float) -> str:
        """On the palm as it was seen before (the object now hides part of it)."""
        return place_verdict(p_seen, self._palm[:2], f"the middle of {self.name}", HAND_OVER_TOLERANCE_M)


class PlaceHeld(SkillBase):
    """After a verified one-hand pick: carries the object (the hand tied to the body) to where the
    hand can set it on the target (a station, a person's open hand), looks where it now is in the
    hand and where the target is, sets it down there (the hand moves by the seen displacement) and
    checks with the camera."""

    def __init__(self, ctx: Context, target: WorldObject, to: Station | Palm, height_m: float) -> None:
        super().__init__()
        self.ctx, self.controller, self.world = ctx, ctx.controller, ctx.world
        self.colour, self.kind, self.to, self.height_m = target.colour, target.kind, to, height_m
        self.radius_m = float(target.size_m[0]) / 2
        self.stand_xy = to.xy() - np.array(GRASP_FROM[target.kind])
        self._walk: WalkTo | None = None
        self._started_s = 0.0
        self._glance: Glance | None = None
        self._sequence: HandSequence | None = None
        self._from_xy: np.ndarray | None = None     # where the carry started (odometry) until it is done

    def _look(self, state: LowState) -> tuple[Detection | None, Glance] | None:
        """The object in the first frame taken since asking (its largest blob) and the glance that
        took it; None while the frame has not come."""
        if self._glance is None:
            self._glance = Glance(self.ctx.port, self.controller, state.time_s)
        glance = self._glance
        seen = glance.seen(state)
        if seen is None:
            return None
        self._glance = None
        self.world.update(seen)
        return next((d for d in seen if d.colour == self.colour), None), glance

    def tick(self, state: LowState) -> None:
        if self._walk is None:                                     # start: carry it over (if not close)
            self.controller.carry((PowerGraspConfig().side,))
            self._from_xy = self.controller.locomotion.state.p_world_base_m[:2].copy()
            close = float(np.linalg.norm(self.stand_xy - self._from_xy)) < self.to.near_m
            self._walk = WalkTo(self.controller.locomotion, self._from_xy if close else self.stand_xy, self.to.steps)
            self._started_s = state.time_s
        goal = self._walk.goto.goal_xy_m
        carry = f"carry to ({goal[0]:.2f}, {goal[1]:.2f})"
        if not self._walk.done:
            self._walk()
            if self.controller.locomotion.fallen or state.time_s - self._started_s > self.ctx.config.walk_timeout_s:
                self.gave_up = "could not carry it over"
                self.outcomes.append((carry, walk_outcome(self._walk)))
            return
        if self._sequence is None:                   # arrived: where is it in the hand, where does it go?
            if self._from_xy is not None:
                here = self.controller.locomotion.state.p_world_base_m[:2]
                self.world.robot_moved(float(np.linalg.norm(here - self._from_xy)))
                self._from_xy = None
            look = self._look(state)
            if look is None:
                return
            held, glance = look
            p_surface, seen = self.to.locate(glance, self.controller)
            self.outcomes.append((carry, f"{walk_outcome(self._walk)}; {seen}"))
            if held is None or p_surface is None:
                self.gave_up = f"the {self.colour} object is out of sight" if held is None else seen
                return
            centre = held.round_centre(self.kind, self.radius_m)   # xy as seen; height: from its top (the
            top_z = float(held.p_world_m[2] + held.size_m[2] / 2)   # hand hides the rest)
            p_held = np.array([*centre[:2], top_z - self.height_m / 2])
            p_place = p_surface + [0.0, 0.0, self.height_m / 2]
            self._sequence = PowerPlace(self.controller, p_held, p_place, HELD_MASS_KG, rolls=self.kind == "sphere")
            return
        sequence = self._sequence
        if not sequence.done and not sequence.failed:
            sequence.update(state.time_s)
            return
        look = self._look(state) if not sequence.failed else (None, None)   # set down: look at the result
        if look is None:
            return
        seen = look[0]
        what = f"set it down on {self.to.name}"
        if sequence.failed or seen is None:
            self.gave_up = f"failed: {sequence.failed}" if sequence.failed else "failed: out of sight"
            self.outcomes.append((what, self.gave_up))
            return
        verdict = self.to.judge(seen.p_world_m, self.ctx.config.place_tolerance_m)
        self.outcomes.append((what, verdict))
        self.verified = verdict.startswith("done")
        if not self.verified:
            self.gave_up = verdict


class ShelfReach(HandSequence):
    """In to the goal with the fingers forward (hand frame = world axes), and out to where the
    hand started, both planned. ``phase`` goes in → out → back."""

    def __init__(self, reach: ReachController, side: str, goal_m: np.ndarray, dwell_s: float,
                 planned: bool = True) -> None:
        T_goal = np.eye(4)
        T_goal[:3, 3] = goal_m
        steps = [HandStep("in", {side: T_goal}, {side: None}, dwell_s=dwell_s, planned=planned),
                 HandStep("out", {}, {side: None}, planned=planned)]    # the start pose, known at the start
        super().__init__(reach, steps, "back", settle_s=0.3)
        self.side = side

    def update(self, t_s: float) -> None:
        if self.phase is None:
            self.steps[1] = replace(self.steps[1], targets={self.side: self.reach.hand_pose(self.side)})
        super().update(t_s)
