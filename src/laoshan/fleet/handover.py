"""Robot-to-robot hand-over: one robot holds a part out, another takes it from its hand.

The giver (:class:`Giver`) grasps a part standing on its table (a Dex3 power grasp low on the
part), holds it out at the hand-over point and says so on the bus. The taker (:class:`Taker`)
looks at it with its own head camera, grasps its upper part from the other side and, once its
touch pads feel it, says so; the giver loosens its fingers, draws its hand out and says so; the
taker lifts the part and sets it down upright on its own spot. The part is held by friction all
the way; nothing passes between the robots but the bus messages, and each works in its own
estimator's frame (map positions are turned into it from where the robot was put down).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from laoshan.executive.look import Glance
from laoshan.fleet.agent import OdomFrame
from laoshan.fleet.bus import HANDOVER, MessageBus, Signal
from laoshan.limbs.grasp import PowerGrasp, PowerGraspConfig, PowerHand, PowerPlace
from laoshan.limbs.reach import ReachController
from laoshan.limbs.sequence import HandSequence, back_off
from laoshan.port.base import RobotPort
from laoshan.port.messages import LowState

GRAVITY_M_S2 = 9.81


@dataclass(frozen=True)
class Part:
    """An upright cylinder (the line's part)."""

    radius_m: float = 0.033
    height_m: float = 0.24
    mass_kg: float = 0.3
    colour: str = "blue"          # what the taker's camera looks for
    hand: str = "right"           # the hand that gives it and the hand that takes it (facing each other,
                                  # the same hand of each holds it from opposite sides)


@dataclass(frozen=True)
class HandOverConfig:
    point_xy_m: tuple[float, float] = (0.55, 0.0)   # the part's axis while it is handed over (map frame) ...
    point_above_table_m: float = 0.15               # ... the giver's grasp this high above the table top
    give_grip_above_bottom_m: float = 0.05           # the giver grasps this high on the part ...
    take_grip_below_top_m: float = 0.085             # ... the taker this far below its top, as seen (tried on
                                                     # seed 1000: 6 cm let the fingertips slip off the top)
    lift_m: float = 0.08                             # taken, the part rises this much before it is set down
    slide_clear_m: float = 0.06                      # set down, the loose hand slides up this far past its top
    loosen_s: float = 0.3                            # the giver eases its fingers this long before drawing out
    draw_back_m: float = 0.05                        # ... and draws its hand out to the side and this far back
    give: PowerGraspConfig = field(default_factory=lambda: PowerGraspConfig(side="right", lift_m=0.15))
    take: PowerGraspConfig = field(default_factory=lambda: PowerGraspConfig(side="right", lift_m=0.005))


class _Role:
    """What giver and taker share: the part in hand (by number), the hand sequence under way, the
    heading the fingers point along, the grip of the part's hand."""

    def __init__(self, name: str, controller: ReachController, frame: OdomFrame, bus: MessageBus, parts: list[Part],
                 grip: PowerGraspConfig, index: int) -> None:
        self.name, self.controller, self.frame, self.bus, self.parts = name, controller, frame, bus, parts
        self.inbox = bus.subscribe(HANDOVER)
        self.index = index
        self.sequence: HandSequence | None = None
        self.failures: list[str] = []
        self._grip_config = grip

    def _yaw(self) -> float:
        """The fingers point along the robot's heading at deployment (its estimator's frame)."""
        return self.frame.to_odom_yaw(self.frame.start_xy_yaw[2])

    def _grip(self) -> PowerGraspConfig:
        """The grip of the hand the current part goes with."""
        side = self.parts[self.index].hand if self.index >= 0 else self._grip_config.side
        return replace(self._grip_config, side=side)

    def _advance(self, t: float) -> bool:
        """Update the sequence under way; False (and the part failed) if it has failed."""
        if self.sequence is not None:
            self.sequence.update(t)
            if self.sequence.failed:
                self._fail(t, self.sequence.failed)
                return False
        return True

    def _fail(self, t: float, why: str) -> None:
        raise NotImplementedError


class Giver(_Role):
    """Hands ``parts`` standing at ``parts_xy_m`` (map frame, on a table ``table_z_m`` high) over,
    one after another. Call :meth:`tick` before the controller every control tick."""

    def __init__(self, name: str, controller: ReachController, frame: OdomFrame, bus: MessageBus, parts: list[Part],
                 parts_xy_m: list[tuple[float, float]], table_z_m: float, config: HandOverConfig | None = None) -> None:
        if len(parts) != len(parts_xy_m):
            raise ValueError(f"{len(parts)} parts and {len(parts_xy_m)} places for them")
        self.config = config or HandOverConfig()
        super().__init__(name, controller, frame, bus, parts, self.config.give, 0)
        self.parts_xy_m, self.table_z_m = parts_xy_m, table_z_m
        self.stage = "grasp"

    @property
    def done(self) -> bool:
        return self.index >= len(self.parts)

    def tick(self, state: LowState) -> None:
        t, c = state.time_s, self.config
        if self.done or not self.frame.ready:
            return
        heard = [m for m in self.inbox.take(t) if isinstance(m, Signal) and m.part == self.index]
        if not self._advance(t):
            return
        seq = self.sequence
        part, g = self.parts[self.index], self._grip()
        if self.stage == "grasp" and seq is None:
            xy = self.frame.to_odom(np.array(self.parts_xy_m[self.index]))
            grasp = np.array([*xy, self.table_z_m + c.give_grip_above_bottom_m])
            self.sequence = PowerGrasp(self.controller, grasp, part.radius_m, part.mass_kg, self._yaw(), g)
        elif self.stage == "grasp" and seq is not None and seq.done:
            hand = PowerHand(part.radius_m, part.mass_kg, self._yaw(), g)
            point = np.array([*self.frame.to_odom(np.array(c.point_xy_m)), self.table_z_m + c.point_above_table_m])
            steps = hand.steps([("offer", hand.at(point), hand.weight, {}, None)], holding=("offer",))
            self.sequence, self.stage = HandSequence(self.controller, steps, "offered", g.settle_s), "offer"
        elif self.stage == "offer" and seq is not None and seq.done:
            self.bus.publish(HANDOVER, Signal(self.name, "offered", self.index), t)
            self.stage = "wait"
        elif self.stage == "wait" and any(m.what == "taken" for m in heard):
            hand = PowerHand(part.radius_m, part.mass_kg, self._yaw(), g)
            now = self.controller.hand_pose(g.side)[:3, 3]
            out = now + hand.out - hand.R[:, 0] * c.draw_back_m
            steps = hand.steps([("loosen", now, None, {g.side: g.loosen_torque_Nm}, c.loosen_s),
                                ("draw out", out, None, {}, None),
                                ("open", out, None, {g.side: None}, g.close_s)])
            self.sequence, self.stage = HandSequence(self.controller, steps, "let go", g.settle_s), "let go"
        elif self.stage == "wait" and any(m.what == "failed" for m in heard):
            self._fail(t, "the taker could not take it")
        elif self.stage == "let go" and seq is not None and seq.done:
            self.bus.publish(HANDOVER, Signal(self.name, "released", self.index), t)
            self._next()
        elif self.stage == "back off" and seq is not None and seq.done:
            self._next()

    def _fail(self, t: float, why: str) -> None:
        """This part failed: the hand lets go and rises clear; then on to the next part."""
        self.failures.append(f"part {self.index}: {why}")
        self.bus.publish(HANDOVER, Signal(self.name, "failed", self.index), t)
        self.sequence, self.stage = back_off(self.controller, (self._grip().side,)), "back off"

    def _next(self) -> None:
        self.controller.release(self._grip().side)
        self.index += 1
        self.stage, self.sequence = "grasp", None


class Taker(_Role):
    """Takes each of ``parts`` offered to it (by number) and sets it down on its spot
    (``spots_xy_m``, map frame, on its table ``table_z_m`` high). Call :meth:`tick` before the
    controller every control tick."""

    def __init__(self, name: str, port: RobotPort, controller: ReachController, frame: OdomFrame, bus: MessageBus,
                 parts: list[Part], spots_xy_m: list[tuple[float, float]], table_z_m: float,
                 config: HandOverConfig | None = None) -> None:
        if len(parts) != len(spots_xy_m):
            raise ValueError(f"{len(parts)} parts and {len(spots_xy_m)} spots for them")
        self.config = config or HandOverConfig()
        super().__init__(name, controller, frame, bus, parts, self.config.take, -1)   # -1: none offered yet
        self.port, self.spots, self.table_z_m = port, spots_xy_m, table_z_m
        self.stage = "wait"
        self.glance: Glance | None = None
        self.held_at: np.ndarray | None = None     # the part's axis point at the grasp, as seen (odometry frame)
        self.placed: list[int] = []
        self.released_s: dict[int, float] = {}      # part -> when the giver said it let go

    def tick(self, state: LowState) -> None:
        t, c = state.time_s, self.config
        heard = [m for m in self.inbox.take(t) if isinstance(m, Signal) and m.robot != self.name]
        if not self._advance(t):
            return
        seq, k = self.sequence, self._grip()
        offered = next((m.part for m in heard if m.what == "offered"), None)
        if self.stage == "wait" and offered is not None:
            self.index, self.stage = offered, "look"
            self.glance = Glance(self.port, self.controller, t)
        elif self.stage == "look":
            self.held_at = self._seen(state)
            if self.held_at is None:
                return
            part = self.parts[self.index]
            self.sequence = PowerGrasp(self.controller, self.held_at, part.radius_m, part.mass_kg, self._yaw(), k)
            self.stage = "grasp"
        elif self.stage == "grasp" and seq is not None and seq.done:
            self.bus.publish(HANDOVER, Signal(self.name, "taken", self.index), t)
            self.stage = "wait released"
        elif self.stage == "wait released" and any(m.what == "released" and m.part == self.index for m in heard):
            self.released_s[self.index] = t
            hand = PowerHand(self.parts[self.index].radius_m, self.parts[self.index].mass_kg, self._yaw(), k)
            now = self.controller.hand_pose(k.side)[:3, 3]
            steps = hand.steps([("lift", now + hand.up * c.lift_m, hand.weight, {}, None)], holding=("lift",))
            self.sequence, self.stage = HandSequence(self.controller, steps, "lifted", k.settle_s), "lift"
        elif self.stage == "wait released" and any(m.what == "failed" and m.part == self.index for m in heard):
            self._fail(t, "the giver failed")
        elif self.stage == "lift" and seq is not None and seq.done:
            # where the part sits in the hand now (closing and the giver letting go move it): look again
            self.glance, self.stage = Glance(self.port, self.controller, t), "look held"
        elif self.stage == "look held":
            assert self.glance is not None
            held = self._seen(state)
            if held is None:
                return
            part = self.parts[self.index]
            spot = np.array([*self.frame.to_odom(np.array(self.spots[self.index])),
                             self.table_z_m + part.height_m - c.take_grip_below_top_m])
            self.sequence = PowerPlace(self.controller, held, spot, part.mass_kg, self._yaw(), k,
                                       slide_off_m=c.take_grip_below_top_m + c.slide_clear_m)
            self.stage = "place"
        elif self.stage == "place" and seq is not None and seq.done:
            self.controller.release(k.side)
            self.placed.append(self.index)
            self.bus.publish(HANDOVER, Signal(self.name, "placed", self.index), t)
            self.stage, self.sequence = "wait", None

    def _seen(self, state: LowState) -> np.ndarray | None:
        """Where the glance sees the part held up (its axis point at the taker's grip height,
        odometry frame); None while the frame has not come or when no part is seen (failed)."""
        assert self.glance is not None
        seen = self.glance.seen(state)
        if seen is None:
            return None
        part = self.parts[self.index]
        mine = [d for d in seen if d.colour == part.colour]
        if not mine:
            self._fail(state.time_s, f"no {part.colour} part in view")
            return None
        held = max(mine, key=lambda d: d.p_world_m[2])     # the one held up (others may stand on tables)
        axis = held.round_centre("cylinder", part.radius_m)
        top = float(np.percentile(held.points_m[:, 2], 98))
        return np.array([axis[0], axis[1], top - self.config.take_grip_below_top_m])

    def _fail(self, t: float, why: str) -> None:
        self.failures.append(f"part {self.index}: {why}")
        self.bus.publish(HANDOVER, Signal(self.name, "failed", self.index), t)
        self.controller.close_hand(self._grip().side, None)
        self.controller.release(self._grip().side)
        self.stage, self.sequence = "wait", None
