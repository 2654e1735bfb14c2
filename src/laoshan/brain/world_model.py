"""The world model: objects the robot has seen and places it knows, in the world (odometry) frame.

Objects come from perception: a new sighting of the same colour near a known object updates it
(position, size, time of last sighting); others are added. Each object carries how well its
position is known (1-σ per axis): as sighted, ``sighting_sigma_m`` (what
``benchmarks/perception.py`` measures); unseen, an object may be moved by someone, so that grows
with the time since its last sighting (``drift_m_s``); and the world frame is the robot's
odometry, which drifts as it walks, so it grows with the distance walked since
(:meth:`WorldModel.robot_moved`). An object known worse than ``look_sigma_m`` is looked at again
before it is grasped (the planner says so). The latest sighting is kept, not an average: a held
or pushed object moves between sightings. Places come from the site's map (a station on a line,
the left or right of a table) with their names in English and Chinese, and so do fixtures (a
drawer, a cabinet's door): where their handle bar is when closed; a sighting of a handle's colour
on its way out tells how far the fixture is open, and is not taken for an object. So do push
buttons (switches): where the cap is; a sighting of its colour there is the cap, and whether the
lamp above it is seen lit in the same frame tells if it has been pressed. People are what is too
tall or high to be an object to handle (their clothes); the parts of a person seen near one another
are one person, and a blob of ``hand_colour`` (a glove) near a person is their open hand, held out
to be given something.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from laoshan.brain.perception import Detection

SIGHTING_SIGMA_M = 0.003   # 1-σ of one sighting's centre per axis [m] (benchmarks/perception.py: 2.8 mm median)


@dataclass
class WorldObject:
    id: str                               # e.g. "red-1"
    colour: str
    kind: str                             # "box", "cylinder" or "sphere": from the seen shape
    p_world_m: NDArray[np.float64]        # centre (world frame)
    size_m: NDArray[np.float64]           # seen extent x, y and height
    seen_s: float                         # time of the last sighting
    bottom_z_m: float = 0.0               # lowest seen point (world)
    sightings: int = 1
    sigma_m: float = SIGHTING_SIGMA_M     # 1-σ of p_world_m per axis [m] as of its last sighting, and the
                                          # robot's walking since
    kind_votes: dict[str, float] = field(default_factory=dict)   # the shape each sighting saw, by its pixels

    def vote_kind(self, d: Detection) -> None:
        """Count ``d``'s shape (a sighting cut by the image's border counts a tenth) and take the
        shape most seen so far: a can first seen half out of view is not kept as a box."""
        kind = kind_from_sighting(d)
        self.kind_votes[kind] = self.kind_votes.get(kind, 0.0) + d.pixels * (0.1 if d.clipped else 1.0)
        self.kind = max(self.kind_votes, key=lambda k: self.kind_votes[k])

    @property
    def top_z_m(self) -> float:
        return float(self.p_world_m[2] + self.size_m[2] / 2)

    def describe(self) -> str:
        return f"{self.colour} {self.kind}"


@dataclass(frozen=True)
class Place:
    name: str                             # canonical, e.g. "station 2"
    aliases: tuple[str, ...]              # other ways to say it, English and Chinese
    xy_m: tuple[float, float]             # where an object put there goes (world frame)


@dataclass
class Person:
    id: str                                     # e.g. "person-1"
    p_world_m: NDArray[np.float64]              # where they stand: the middle of their seen parts (xy; z 0)
    seen_s: float
    hand_m: NDArray[np.float64] | None = None   # their open hand's palm, top face centre (world), as last seen
    hand_seen_s: float | None = None
    sigma_m: float = SIGHTING_SIGMA_M           # 1-σ of hand_m per axis [m] (as for objects)

    def describe(self) -> str:
        return f"{self.id}" + (" holding out a hand" if self.hand_m is not None else "")


FIXTURE_KINDS = ("drawer", "door")


def turn_z(angle_rad: float) -> NDArray[np.float64]:
    """Rotation (3x3) by ``angle_rad`` about the vertical (counter-clockwise seen from above)."""
    c, s = math.cos(angle_rad), math.sin(angle_rad)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


OPEN_ABOVE = {"drawer": 0.03, "door": math.radians(10.0)}   # a fixture opened further than this is open
HANDLE_NEAR_M = 0.06    # a sighting of a handle's colour this close to the handle's way out is the handle


@dataclass
class Fixture:
    """Something on the site's map that opens, with a coloured handle bar the camera sees: a drawer
    (slides out toward the robot) or a door (swings toward it about a vertical hinge). Its state
    is what was last seen of it."""

    name: str                                   # canonical, e.g. "drawer"
    aliases: tuple[str, ...]                    # other ways to say it, English and Chinese
    kind: str                                   # "drawer" or "door"
    handle_xyz_m: tuple[float, float, float]    # the bar's centre when closed (map: the world frame at start)
    handle_colour: str                          # as perception names it
    gap_m: float                                # clear space behind the bar [m] ...
    bar_radius_m: float                         # ... and its radius
    travel: float                               # how far it opens at most: drawer [m], door [rad]
    hinge_xy_m: tuple[float, float] | None = None   # a door's hinge axis (map)
    toward_robot: tuple[float, float] = (-1.0, 0.0)  # the closed front's outward normal (horizontal, unit)
    opening: float = 0.0                        # as last seen: drawer [m] out, door [rad] open
    p_handle_m: NDArray[np.float64] | None = None   # the bar's centre as last seen (world)
    seen_s: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in FIXTURE_KINDS:
            raise ValueError(f"fixture {self.name!r}: kind must be one of {FIXTURE_KINDS}, got {self.kind!r}")
        if (self.kind == "door") != (self.hinge_xy_m is not None):
            raise ValueError(f"fixture {self.name!r}: a door needs a hinge, a drawer has none")

    @property
    def is_open(self) -> bool:
        return self.opening > OPEN_ABOVE[self.kind]

    def amount(self) -> str:
        """How far open, as last seen: "16 cm" (a drawer), "37°" (a door)."""
        return f"{self.opening * 100:.0f} cm" if self.kind == "drawer" else f"{math.degrees(self.opening):.0f}°"

    def describe_state(self) -> str:
        return f"open {self.amount()}" if self.is_open else "closed"

    def handle_at(self, opening: float) -> NDArray[np.float64]:
        """Where the map has the handle bar's centre with the fixture ``opening`` open (world): a
        drawer slides out toward the robot, a door swings toward it (clockwise seen from above)."""
        closed = np.array(self.handle_xyz_m, dtype=float)
        if self.kind == "drawer":
            return closed + np.array([*self.toward_robot, 0.0]) * opening
        assert self.hinge_xy_m is not None
        hinge = np.array([*self.hinge_xy_m, closed[2]])
        return hinge + turn_z(-opening) @ (closed - hinge)

    def map_offset(self) -> NDArray[np.float64]:
        """How far the fixture stands off its place on the map, in the world (odometry) frame, as
        last seen: the seen handle less where the map has it at the seen opening (zero if unseen)."""
        return np.zeros(3) if self.p_handle_m is None else self.p_handle_m - self.handle_at(self.opening)

    def opening_at(self, p_world_handle: NDArray[np.float64]) -> float | None:
        """How far open the fixture is if its handle is at ``p_world_handle``; None if the handle
        cannot be there."""
        p, closed = np.asarray(p_world_handle, dtype=float)[:2], np.array(self.handle_xyz_m[:2])
        if self.kind == "drawer":
            out = float((p - closed) @ np.array(self.toward_robot))
            off = float(np.linalg.norm(p - closed - out * np.array(self.toward_robot)))
            return max(0.0, out) if -HANDLE_NEAR_M < out < self.travel + HANDLE_NEAR_M and off < HANDLE_NEAR_M \
                else None
        assert self.hinge_xy_m is not None
        arm, now = closed - self.hinge_xy_m, p - np.array(self.hinge_xy_m)
        if abs(float(np.linalg.norm(now) - np.linalg.norm(arm))) > HANDLE_NEAR_M:
            return None
        angle = abs(math.atan2(float(arm[0] * now[1] - arm[1] * now[0]), float(arm @ now)))
        return angle if angle < self.travel + 0.2 else None


SWITCH_NEAR_M = 0.05    # a sighting of a cap's colour this close to the cap (as last seen, else on the map) is
                        # the cap ...
LAMP_NEAR_M = 0.03      # ... and one of a lamp's lit colour this close to where the lamp is seen, the lamp lit


@dataclass
class Switch:
    """A push button on the site's map with a lamp above it that lights once it is pressed: a call
    or start button. Its state is what was last seen of it."""

    name: str                                   # canonical, e.g. "button"
    aliases: tuple[str, ...]                    # other ways to say it, English and Chinese
    cap_xyz_m: tuple[float, float, float]       # the centre of the cap's face (map: the world frame at start)
    cap_colour: str                             # as perception names it
    lamp_above_m: float                         # the lamp's centre above the cap's
    lamp_colour: str                            # lit, as perception names it
    toward_robot: tuple[float, float] = (-1.0, 0.0)  # the panel's outward normal (horizontal, unit)
    p_cap_m: NDArray[np.float64] | None = None  # the cap's face as last seen (world)
    lit: bool | None = None                     # as last seen (None: not seen yet)
    seen_s: float | None = None

    def cap_at(self) -> NDArray[np.float64]:
        """The cap's face as last seen, else where the map has it (world)."""
        return np.array(self.cap_xyz_m, dtype=float) if self.p_cap_m is None else self.p_cap_m.copy()

    def describe_state(self) -> str:
        return {None: "not seen", True: "lit", False: "not lit"}[self.lit]

    def face_of(self, d: Detection) -> NDArray[np.float64]:
        """The centre of the cap's face from a sighting of it: the middle of its points across, and
        along the normal, where its nearest points are."""
        u = np.array([*self.toward_robot, 0.0])
        p = np.median(d.points_m, axis=0)
        out = np.percentile(d.points_m @ u, 95) - p @ u
        return p + u * out


def kind_from_sighting(d: Detection) -> str:
    """A coarse shape guess: a ball's top band is a small cap, a cylinder's top is round and small
    (as wide both ways), a box is the rest."""
    width = float(max(d.size_m[0], d.size_m[1]))
    top = d.top_size_m
    if float(max(top)) < 0.6 * width:
        return "sphere"
    round_top = abs(float(top[0] - top[1])) < 0.2 * float(max(top))
    return "cylinder" if round_top and width < 0.1 else "box"


@dataclass
class WorldModel:
    places: tuple[Place, ...] = ()
    objects: list[WorldObject] = field(default_factory=list)
    fixtures: tuple[Fixture, ...] = ()
    switches: tuple[Switch, ...] = ()
    people: list[Person] = field(default_factory=list)
    looked_around_s: float | None = None  # when the robot last looked all around (sensor clock); None: not yet
    robot_xy_m: tuple[float, float] = (0.0, 0.0)   # where the robot stands (world), as it last estimated
    hand_colour: str = "orange"           # an open hand held out (a glove) near a person is seen in this colour
    person_height_m: float = 0.25         # a blob spanning more than this from bottom to top is part of a person
    same_person_m: float = 0.5            # parts this close (xy) to a person are theirs; so is a hand this close
    same_object_m: float = 0.08           # a sighting this close to a known object of its colour is that object
    sighting_sigma_m: float = SIGHTING_SIGMA_M
    drift_m_s: float = 0.001              # unseen objects may be moved: their 1-σ grows this fast
    odometry_sigma_per_m: float = 0.05    # the odometry's 1-σ error per metre walked (side-steps at a table
                                          # drift about 1.5 cm in 0.3 m)
    look_sigma_m: float = 0.01            # known worse than this, an object is looked at before it is grasped

    def __post_init__(self) -> None:
        if not (self.sighting_sigma_m > 0 and self.look_sigma_m > 0):
            raise ValueError("sighting_sigma_m and look_sigma_m must be > 0")
        if self.drift_m_s < 0 or self.odometry_sigma_per_m < 0:
            raise ValueError("drift_m_s and odometry_sigma_per_m must be >= 0")

    def update(self, detections: list[Detection]) -> None:
        """Merge one frame's detections: a switch's cap or lamp, part of a person or their hand, a
        fixture's handle, or an object."""
        for d in self._people_seen(self._switches_seen(detections)):
            if self._handle_seen(d):
                continue
            known = [o for o in self.objects if o.colour == d.colour
                     and np.linalg.norm(o.p_world_m - d.p_world_m) < self.same_object_m]
            if known:                     # it is where it is seen now, as well as a sighting tells
                o = known[0]
                o.p_world_m, o.size_m, o.seen_s = d.p_world_m.copy(), d.size_m.copy(), d.time_s
                o.bottom_z_m, o.sigma_m = d.bottom_z_m, self.sighting_sigma_m
                o.sightings += 1
                o.vote_kind(d)
            else:
                n = sum(o.colour == d.colour for o in self.objects) + 1
                o = WorldObject(f"{d.colour}-{n}", d.colour, kind_from_sighting(d), d.p_world_m.copy(),
                                d.size_m.copy(), d.time_s, d.bottom_z_m, sigma_m=self.sighting_sigma_m)
                o.vote_kind(d)
                self.objects.append(o)

    def _switches_seen(self, detections: list[Detection]) -> list[Detection]:
        """Note each switch whose cap is in the frame (where, and whether its lamp is lit); the
        detections that are none of theirs."""
        rest = list(detections)
        for s in self.switches:
            faces = ((d, s.face_of(d)) for d in rest if d.colour == s.cap_colour and d.points_m.size)
            cap, face = next(((d, f) for d, f in faces if np.linalg.norm(f - s.cap_at()) < SWITCH_NEAR_M),
                             (None, None))
            if cap is None:
                continue
            rest.remove(cap)
            s.p_cap_m, s.seen_s = face, cap.time_s
            lamp = s.p_cap_m + [0.0, 0.0, s.lamp_above_m]
            lit = next((d for d in rest if d.colour == s.lamp_colour and d.points_m.size
                        and np.linalg.norm(np.median(d.points_m, axis=0) - lamp) < LAMP_NEAR_M), None)
            s.lit = lit is not None
            if lit is not None:
                rest.remove(lit)
        return rest

    def _people_seen(self, detections: list[Detection]) -> list[Detection]:
        """Note the people in the frame and the open hands near them; the detections that are none
        of theirs. A person's part is a blob whose points span more than ``person_height_m`` from
        bottom to top (clothes on a body: an object to be handled, on a table or in a hand, is
        smaller), or one of the same colour near such a part (the rest of their clothes, cut up by
        an arm in front)."""
        tall = [d for d in detections if len(d.points_m) and float(np.ptp(np.percentile(d.points_m[:, 2], [2, 98])))
                > self.person_height_m]
        parts = tall + [d for d in detections if all(d is not t for t in tall) and any(
            d.colour == t.colour and np.linalg.norm(d.p_world_m[:2] - t.p_world_m[:2]) < self.same_person_m
            for t in tall)]
        seen: dict[str, list[Detection]] = {}
        for d in parts:
            near = [p for p in self.people if np.linalg.norm(p.p_world_m[:2] - d.p_world_m[:2]) < self.same_person_m]
            if near:
                person = near[0]
            else:
                person = Person(f"person-{len(self.people) + 1}", np.array([*d.p_world_m[:2], 0.0]), d.time_s)
                self.people.append(person)
            seen.setdefault(person.id, []).append(d)
        for person in self.people:
            if person.id in seen:
                person.p_world_m = np.array([*np.mean([d.p_world_m[:2] for d in seen[person.id]], axis=0), 0.0])
                person.seen_s = seen[person.id][0].time_s
        rest = [d for d in detections if all(d is not p for p in parts)]
        for d in [d for d in rest if d.colour == self.hand_colour]:
            near = [p for p in self.people if p.id in seen
                    and np.linalg.norm(p.p_world_m[:2] - d.p_world_m[:2]) < self.same_person_m]
            if near:
                near[0].hand_m = np.array([*d.p_world_m[:2], d.p_world_m[2] + d.size_m[2] / 2])   # its top face
                near[0].hand_seen_s, near[0].sigma_m = d.time_s, self.sighting_sigma_m
                rest = [r for r in rest if r is not d]
        return rest

    def _handle_seen(self, d: Detection) -> bool:
        """If ``d`` is a fixture's handle (its colour, on its way out), note how far the fixture is
        open; the bar's height is the map's (a thin bar's seen points lie low on it)."""
        for f in self.fixtures:
            opening = f.opening_at(d.p_world_m) if d.colour == f.handle_colour else None
            if opening is not None:
                f.opening, f.seen_s = opening, d.time_s
                f.p_handle_m = np.array([d.p_world_m[0], d.p_world_m[1], f.handle_xyz_m[2]])
                return True
        return False

    def robot_moved(self, distance_m: float) -> None:
        """The robot walked this far: its odometry, the frame every object is in, may be off by
        more, and so may every object's position relative to the robot."""
        if not distance_m >= 0:
            raise ValueError(f"distance_m must be >= 0, got {distance_m}")
        for o in (*self.objects, *self.people):
            o.sigma_m = float(np.hypot(o.sigma_m, self.odometry_sigma_per_m * distance_m))

    def sigma_at(self, o: WorldObject, time_s: float | None) -> float:
        """1-σ of ``o``'s position per axis [m] at ``time_s`` (the sensor clock; None: as of its
        last sighting)."""
        unseen_s = 0.0 if time_s is None else max(0.0, time_s - o.seen_s)
        return float(np.hypot(o.sigma_m, self.drift_m_s * unseen_s))

    def needs_look(self, o: WorldObject, time_s: float | None) -> bool:
        """Whether ``o`` is known too poorly at ``time_s`` to grasp without looking again."""
        return self.sigma_at(o, time_s) > self.look_sigma_m

    def find(self, colour: str | None = None, kind: str | None = None) -> list[WorldObject]:
        return [o for o in self.objects if (colour is None or o.colour == colour) and (kind is None or o.kind == kind)]

    def place(self, name: str) -> Place | None:
        return _by_name(self.places, name)

    def occupant(self, place: Place, other_than: str | None = None, margin_m: float = 0.04) -> WorldObject | None:
        """An object (not ``other_than``) standing on the place: its seen footprint reaches within
        ``margin_m`` of the place's point."""
        for o in self.objects:
            reach = float(max(o.size_m[0], o.size_m[1])) / 2 + margin_m
            if o.id != other_than and float(np.linalg.norm(o.p_world_m[:2] - np.array(place.xy_m))) < reach:
                return o
        return None

    def fixture(self, name: str) -> Fixture | None:
        return _by_name(self.fixtures, name)

    def switch(self, name: str) -> Switch | None:
        return _by_name(self.switches, name)

    def person(self, person_id: str) -> Person | None:
        return next((p for p in self.people if p.id == person_id), None)

    def get(self, object_id: str) -> WorldObject | None:
        return next((o for o in self.objects if o.id == object_id), None)

    def seen(self) -> tuple[str, ...]:
        """What the robot has seen, one line each: "red-1 box at (x, y, z)" (world frame), a fixture's
        or button's state, a person."""
        return (*(f"{o.id} {o.kind} at ({o.p_world_m[0]:.2f}, {o.p_world_m[1]:.2f}, {o.p_world_m[2]:.2f})"
                  for o in self.objects),
                *(f"{f.name} {f.describe_state()}" for f in (*self.fixtures, *self.switches) if f.seen_s is not None),
                *(p.describe() for p in self.people))


Named = TypeVar("Named", Place, Fixture, Switch)


def _by_name(things: Iterable[Named], name: str) -> Named | None:
    """The place, fixture or switch called ``name`` (its canonical name or one of its aliases)."""
    key = name.strip().lower()
    return next((t for t in things if key == t.name or key in t.aliases), None)
