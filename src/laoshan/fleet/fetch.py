"""A fetch's hands: at a table, pick an upright object (a can) with one hand; at another, set it down.

The fleet manager sends a robot to the free floor in front of a table with a pick or a place
task (the object's centre on the map, the way to face). :class:`CanHands` turns the robot to face
the table, walks it in to where the hand reaches the spot (holding its heading), and there:

- **pick**: looks with its head camera for the object near where the map has it (the odometry has
  drifted since the robot was put down; the object is where it is seen, and the map frame is moved
  by what the robot sees against the map: the object is a landmark), power-grasps it, lifts it and
  looks again to learn where it sits in the hand; the hand is then tied to the body;
- **place**: sets it down where the map says (through its frame), lets go and lifts the hand clear;

then walks back out to where it came in, and says "done" (or why it gave up). Between the two, the
touch pads watch the grasp: an object lost on the way is noticed, and its place is given up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from laoshan.brain.perception import near_edge_ahead
from laoshan.executive.look import Glance
from laoshan.fleet.agent import OdomFrame
from laoshan.fleet.bus import Route
from laoshan.fleet.handover import Part
from laoshan.limbs.grasp import PowerGrasp, PowerGraspConfig, PowerHand, PowerPlace
from laoshan.limbs.reach import ReachController
from laoshan.limbs.sequence import HandSequence, back_off
from laoshan.port.base import RobotPort
from laoshan.port.messages import LowState


@dataclass(frozen=True)
class CanHandsConfig:
    grasp_from_m: tuple[float, float] = (0.36, -0.12)   # the object's centre from the base, heading frame (x ahead,
                                                         # y left), for the right hand's power grasp
    speed_m_s: float = 0.12          # walking in and out, heading held ...
    min_speed_m_s: float = 0.05      # ... never slower (the steps stop short of slower commands)
    gain_1_s: float = 1.5            # ... speed per metre off
    yaw_gain: float = 0.8            # yaw rate per rad off the heading to face
    max_yaw_rate_rad_s: float = 0.4
    facing_rad: float = 0.05         # turned to face the table within this (then it stops turning)
    arrive_m: float = 0.03           # walked in (or out) within this of the spot (own estimate) ...
    stand_within_m: float = 0.03     # ... and, seen from there, the object this close to where the hand grasps it
                                     # best, else the robot steps over (twice at most): a power grasp of a can 7 cm
                                     # closer to the body let it tilt out of the hand (tuning seed 1003)
    find_within_m: float = 0.10      # the object seen this close to where it was seen from afar is it ...
    find_from_afar_m: float = 0.40   # ... and from afar, this close to where the map has it (the odometry drifts
                                     # tens of cm over a few walks and turns; objects stand 1 m apart)
    on_table_m: float = 0.06         # objects and spots lie this far in from their table's near edge (the layout)
    edge_window_m: float = 0.15      # the edge is looked for this far to either side of a line straight ahead ...
    edge_aside_m: float = 0.2        # ... this far to the side of the hand free (the hand holding hides the middle)
    table_search_m: float = 0.15     # the table top is where most points are seen within this of its height on the
                                     # map (the estimate of the robot's own height may be a cm or two off after
                                     # minutes of walking; it drifted 10 cm before the estimator's ground plane) ...
    table_band_m: float = 0.015      # ... and its points this close to that (the estimate's pitch tilts it a little)
    look_settle_s: float = 0.5       # stood still this long before a frame is looked at
    grasps: int = 2                  # a grasp the touch pads feel miss (or too weak) is tried this many times in all
    firm_N: float = 33.0             # lifted, a grip the pads feel weaker than this is set down and taken again, or
                                     # given up after the last try (cans held at 19-30 N tilted out of the hand
                                     # walking, dropped at the robot's feet and tripped it; at 38-50 N they stayed:
                                     # seeds 1002-1003)
    tuck_m: float = 0.10             # lifted, the object comes this much closer to the body before walking (held at
                                     # arm's length, cans tilted out of the hand as the robot walked: seeds 1001, 1003)
    grip: PowerGraspConfig = field(default_factory=lambda: PowerGraspConfig(side="right", lift_m=0.10))


class CanHands:
    """:class:`laoshan.fleet.agent.Work` for pick and place tasks of upright cylinders (``part``) on
    tables ``table_z_m`` high. ``port`` gives the head camera's frames."""

    def __init__(self, controller: ReachController, port: RobotPort, part: Part, table_z_m: float,
                 config: CanHandsConfig | None = None) -> None:
        self.controller, self.port, self.part, self.table_z_m = controller, port, part, table_z_m
        self.config = config or CanHandsConfig()
        self.stage = "idle"              # idle | turn | look from afar | in | look | grasp | regrip | look held |
                                         # tuck | place | back off | out
        self.route: Route | None = None
        self.frame: OdomFrame | None = None
        self.sequence: HandSequence | None = None
        self.glance: Glance | None = None
        self.held_in_hand: np.ndarray | None = None   # the object's axis point at the grip, hand frame (held)
        self._dropped: str | None = None
        self._failure: str | None = None              # the task under way is given up: why
        self._yaw = 0.0                               # the heading to face (odometry frame)
        self._spot = np.zeros(2)                      # where the base stands to use the hand (odometry)
        self._entry = np.zeros(2)                     # ... and where it came in from
        self._there = False                           # the walk under way has got there: stopping
        self._steps_in = 0                            # steps over to stand where the hand grasps best
        self._grasps = 0                              # grasps tried of the object under way ...
        self._grasp_at: np.ndarray | None = None      # ... and where the last took it (odometry)
        self._seen_at: np.ndarray | None = None       # the object last seen (odometry)
        self._table_z = table_z_m                     # the place's table top as last seen (odometry frame)

    @property
    def busy(self) -> bool:
        return self.stage != "idle"

    @property
    def dropped(self) -> str | None:
        return self._dropped

    @property
    def holding(self) -> bool:
        return self.held_in_hand is not None

    def begin(self, route: Route, frame: OdomFrame) -> None:
        if route.at_xyz_m is None or route.action not in ("pick", "place"):
            raise ValueError(f"a can's hands pick or place at a point, not {route.action!r}")
        self.route, self.frame, self._failure = route, frame, None
        loco = self.controller.locomotion
        assert loco.state is not None
        self._entry = loco.state.p_world_base_m[:2].copy()
        if route.action == "place" and not self.holding:
            self._failure = self._dropped or "nothing in hand to place"
            self._dropped = None
            self.stage = "out"
            return
        self._yaw = frame.to_odom_yaw(route.facing_yaw_rad)
        self._aim(frame)
        self.stage, self._steps_in, self._grasps = "turn", 0, 0

    # --- each tick ----------------------------------------------------------------------------

    def watch(self, state: LowState) -> None:
        if self.holding and not self.busy and self.sequence is not None:
            self.sequence.update(state.time_s)
            if self.sequence.failed:
                self._dropped = f"dropped on the way ({self.sequence.failed})"
                self._let_go()

    def tick(self, state: LowState) -> str | None:
        t, loco = state.time_s, self.controller.locomotion
        if loco.fallen:
            self.stage = "idle"
            return "fell"
        seq = self.sequence
        if seq is not None and self.stage in ("grasp", "regrip", "tuck", "place", "back off"):
            seq.update(t)
            if seq.failed and self.stage != "back off":
                retry = self.stage == "grasp" and seq.grasp_failed and self._grasps < self.config.grasps
                self._failure = None if retry else seq.failed
                self._let_go()
                self.sequence, self.stage = back_off(self.controller, (self.config.grip.side,)), "back off"
                return None
        if self.stage == "turn" and self._walk(self._spot, turn_only=True):
            self.glance, self.stage = self._glance(t), "look from afar"
        elif self.stage == "look from afar":
            self._locate(state)
        elif self.stage == "in" and self._walk(self._spot):
            if self.route is not None and self.route.action == "pick":
                self.glance, self.stage = self._glance(t), "look"
            else:
                self._place()
        elif self.stage == "look":
            self._grasp(state)
        elif self.stage == "grasp" and seq is not None and seq.done:
            c = self.config
            felt = self.controller.touch.force_N(c.grip.side)
            if felt < c.firm_N:                      # a weak grip: set it back down (and grasp it again)
                assert self._grasp_at is not None
                if self._grasps >= c.grasps:
                    self._failure = f"too weak a grip ({felt:.0f} N on the pads) after {self._grasps} grasps"
                lifted = self._grasp_at + np.array([0.0, 0.0, c.grip.lift_m])
                self.sequence = PowerPlace(self.controller, lifted, self._grasp_at, self.part.mass_kg, self._yaw,
                                           c.grip)
                self.stage = "regrip"
            else:
                self.glance, self.stage = self._glance(t), "look held"
        elif self.stage == "regrip" and seq is not None and seq.done:
            self._hand_free(t)
        elif self.stage == "look held":
            self._learn_grip(state)
        elif self.stage == "tuck" and seq is not None and seq.done:
            self.controller.carry((self.config.grip.side,))    # the hand rides along with the body
            self.stage = "out"
        elif self.stage == "place" and seq is not None and seq.done:
            self.controller.release(self.config.grip.side)
            self.held_in_hand, self.sequence, self.stage = None, None, "out"
        elif self.stage == "back off" and seq is not None and (seq.done or seq.failed):
            self._hand_free(t)
        elif self.stage == "out" and self._walk(self._entry):
            self.stage = "idle"
            return self._failure or "done"
        return None

    # --- the steps ----------------------------------------------------------------------------

    def _glance(self, t: float) -> Glance:
        """A look at a frame taken once the body has stood still ``look_settle_s``: a frame is placed with the
        camera's pose as it is when the frame comes, tens of ms later, and a head still swaying from a walk
        or a lift has moved by then (a table top seen 1.4 cm high, tuning seed 1000)."""
        return Glance(self.port, self.controller, t + self.config.look_settle_s)

    def _hand_free(self, t: float) -> None:
        """The hand clear of the object (set back down, or backed off a miss): the arm to its
        posture; then look and grasp again, or, given up, walk out."""
        self.controller.release(self.config.grip.side)
        self.sequence = None
        if self._failure is None:
            self.glance, self.stage = self._glance(t), "look"
        else:
            self.stage = "out"

    def _walk(self, goal_xy: np.ndarray, turn_only: bool = False) -> bool:
        """Toward ``goal_xy`` (odometry) facing the table; True once there and standing."""
        c, loco = self.config, self.controller.locomotion
        rs = loco.state
        assert rs is not None
        yaw_err = float(np.remainder(self._yaw - rs.yaw_rad + np.pi, 2 * np.pi) - np.pi)
        w = float(np.clip(c.yaw_gain * yaw_err, -c.max_yaw_rate_rad_s, c.max_yaw_rate_rad_s))
        off = goal_xy - rs.p_world_base_m[:2]
        distance = float(np.linalg.norm(off))
        # there (turned within facing_rad, or within arrive_m of the spot), it stops and takes where it stops
        self._there |= abs(yaw_err) < c.facing_rad if turn_only else distance < c.arrive_m
        if self._there:
            loco.set_velocity()
            if loco.walking:
                return False
            self._there = False           # ready for the next walk
            return True
        if turn_only:
            loco.set_velocity(0.0, 0.0, w)
            return False
        v = off / distance * float(np.clip(c.gain_1_s * distance, c.min_speed_m_s, c.speed_m_s))
        cy, sy = np.cos(rs.yaw_rad), np.sin(rs.yaw_rad)
        loco.set_velocity(float(cy * v[0] + sy * v[1]), float(-sy * v[0] + cy * v[1]), w)
        return False

    def _seen(self, state: LowState, near: np.ndarray | None, within_m: float = 0.0) -> np.ndarray | None:
        """The part's axis point at its middle as the glance sees it (odometry frame; also kept in
        ``_seen_at``): the one nearest ``near`` (xy, within ``within_m``), or the highest (held up);
        None while the frame has not come or if none is seen (the task given up)."""
        assert self.glance is not None
        seen = self.glance.seen(state)
        if seen is None:
            return None
        mine = [d for d in seen if d.colour == self.part.colour]
        if near is not None:
            mine = [d for d in mine if np.linalg.norm(d.p_world_m[:2] - near) < within_m]
        if not mine:
            self._failure, self.stage = f"no {self.part.colour} object seen where it should be", "out"
            return None
        d = (min(mine, key=lambda d: np.linalg.norm(d.p_world_m[:2] - near)) if near is not None
             else max(mine, key=lambda d: d.p_world_m[2]))
        axis = d.round_centre("cylinder", self.part.radius_m)
        top = float(np.percentile(d.points_m[:, 2], 98))
        self._seen_at = np.array([axis[0], axis[1], top - self.part.height_m / 2])
        return self._seen_at.copy()

    def _locate(self, state: LowState) -> None:
        """From the route's end, before walking in: where the robot is against the table, from
        what it sees (the map frame moved to match): a pick's object, else the table's near edge
        (along the way it faces only)."""
        route, frame, glance = self.route, self.frame, self.glance
        assert route is not None and route.at_xyz_m is not None and frame is not None and glance is not None
        at_map = np.array(route.at_xyz_m[:2])
        if route.action == "pick":
            if self._seen(state, frame.to_odom(at_map), self.config.find_from_afar_m) is None:
                return
            assert self._seen_at is not None
            frame.shift(at_map - frame.to_map(self._seen_at[:2]))
        else:
            if glance.seen(state) is None:
                return
            assert glance.frame is not None and glance.X_world_camera is not None
            rs = self.controller.locomotion.state
            assert rs is not None
            heading = np.array([np.cos(self._yaw), np.sin(self._yaw)])
            free_side = np.array([-heading[1], heading[0]]) * (1.0 if self.config.grip.side == "right" else -1.0)
            edge = near_edge_ahead(glance.frame, glance.X_world_camera, self.table_z_m,
                                   rs.p_world_base_m[:2] + free_side * self.config.edge_aside_m, self._yaw,
                                   self.config.edge_window_m, self.config.table_band_m, self.config.table_search_m)
            if edge is None:
                self._failure, self.stage = "the table's edge is not in view", "out"
                return
            ahead, self._table_z = edge
            expected = float((frame.to_odom(at_map) - rs.p_world_base_m[:2]) @ heading) - self.config.on_table_m
            facing = np.array([np.cos(route.facing_yaw_rad), np.sin(route.facing_yaw_rad)])
            frame.shift(-(ahead - expected) * facing)
        self._aim(frame)
        self.stage = "in"

    def _aim(self, frame: OdomFrame) -> None:
        """Where to stand (odometry) to use the hand on the route's point, as the frame now has it."""
        assert self.route is not None and self.route.at_xyz_m is not None
        target = frame.to_odom(np.array(self.route.at_xyz_m[:2]))
        c, s = np.cos(self._yaw), np.sin(self._yaw)
        self._spot = target - np.array([[c, -s], [s, c]]) @ np.array(self.config.grasp_from_m)

    def _grasp(self, state: LowState) -> None:
        route, frame = self.route, self.frame
        assert route is not None and route.at_xyz_m is not None and frame is not None
        where = frame.to_odom(np.array(route.at_xyz_m[:2]))
        p = self._seen(state, where, self.config.find_within_m)
        if p is None:
            return
        frame.shift(np.array(route.at_xyz_m[:2]) - frame.to_map(p[:2]))   # the object, seen, is a landmark
        rs = self.controller.locomotion.state
        assert rs is not None
        self._aim(frame)
        if np.linalg.norm(self._spot - rs.p_world_base_m[:2]) > self.config.stand_within_m and self._steps_in < 2:
            self._steps_in += 1           # stopped too far off where the hand reaches it best: step over
            self.stage = "in"
            return
        self._grasps += 1
        self._grasp_at = p
        self.sequence = PowerGrasp(self.controller, p, self.part.radius_m, self.part.mass_kg, self._yaw,
                                   self.config.grip)
        self.stage = "grasp"

    def _learn_grip(self, state: LowState) -> None:
        p = self._seen(state, None)
        if p is None:
            if self._failure:             # not seen in the hand: let it go
                self._let_go()
                self.sequence, self.stage = back_off(self.controller, (self.config.grip.side,)), "back off"
            return
        c = self.config
        X_world_hand = self.controller.hand_pose(c.grip.side)
        self.held_in_hand = (np.linalg.inv(X_world_hand) @ np.array([*p, 1.0]))[:3]
        hand = PowerHand(self.part.radius_m, self.part.mass_kg, self._yaw, c.grip)
        tucked = X_world_hand[:3, 3] - hand.R[:, 0] * c.tuck_m
        self.sequence = HandSequence(self.controller, hand.steps([("tuck", tucked, hand.weight, {}, None)],
                                                                 holding=("tuck",)), "tucked", c.grip.settle_s)
        self.stage = "tuck"

    def _place(self) -> None:
        route, frame = self.route, self.frame
        assert route is not None and route.at_xyz_m is not None and frame is not None and self.held_in_hand is not None
        held = (self.controller.hand_pose(self.config.grip.side) @ np.array([*self.held_in_hand, 1.0]))[:3]
        goal = np.array([*frame.to_odom(np.array(route.at_xyz_m[:2])), self._table_z + self.part.height_m / 2])
        self.sequence = PowerPlace(self.controller, held, goal, self.part.mass_kg, self._yaw, self.config.grip)
        self.stage = "place"

    def _let_go(self) -> None:
        """Nothing (more) in hand."""
        self.held_in_hand = None
        self.controller.close_hand(self.config.grip.side, None)

