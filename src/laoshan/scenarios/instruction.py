"""Follow an instruction: look, plan, then act with the hands (and feet).

Three scenes. At the work table (``scene="table"``) the table holds a red box (seeded a little off
its usual place) and, at its two ends out of reach of the hands, a blue can (right) and a green
ball (left); farther right, out of the camera's view, a yellow can. Stations 1 and 2 lie each side
of the box, stations 3 and 4 beyond them. The robot looks with its head camera, fills its world
model, plans the instruction (offline parser, or an LLM backend whose plans are validated) and
carries the plan out: something not seen yet is looked around for first (the torso turned left and
right on the waist, the feet still, a look at each side) and the rest planned on what it saw then;
an object out of reach is walked to
first (side-stepping along the table on the robot's own pose estimate, then looking again); a box
is picked (and placed) with both hands; a can or ball is picked with the right Dex3 hand and, to
place it, carried over (the hand tied to the body while it side-steps), looked at in the hand and
set down. Each result is checked with the camera. In the kitchen (``scene="kitchen"``) a cabinet
with a drawer stands before the robot and, to its left beyond the hand's reach, a cabinet with a
door; their handle bars are yellow; between them, a start button (a red cap, a lamp above it that
lights green once pressed) stands on a panel. The robot opens either (and closes the drawer) with
its right hand, hooking the bar, walking to where the hand works it from first, and looks how far
it is open after; it presses the button with a fingertip of the hand on its side and looks whether
the lamp is lit. In the service hall (``scene="hall"``) a blue can stands on a counter and a
customer beside it holds out an open hand (an orange glove): the right hand picks the can and sets
it on the palm, and the camera checks it stands there. Ground truth scores the run (where the
object ended, how far the drawer and door are open, whether the lamp lit, falls) and nothing else.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from laoshan.brain.perception import Detection, near_edge_x
from laoshan.brain.planner import LlmPlanner, Plan, PlanError, Question, Refusal, plan_offline
from laoshan.brain.screening import harm_reason
from laoshan.brain.world_model import Fixture, Person, Place, Switch, WorldModel, WorldObject, turn_z
from laoshan.limbs.articulated import HookAndPull, HookConfig, arc_pull, straight_pull
from laoshan.limbs.ik import UnreachableTarget
from laoshan.limbs.grasp import BoxPick, BoxPickConfig, PowerGrasp, PowerGraspConfig, PowerPlace
from laoshan.limbs.press import PressButton, PressConfig
from laoshan.limbs.reach import ReachConfig, ReachController
from laoshan.limbs.sequence import HandSequence
from laoshan.robot.description import RobotDescription, load_description
from laoshan.cerebellum.navigate import GoToConfig, WalkTo
from laoshan.scenarios.episode import (CameraLost, Episode, Glance, HeldUp, look_around, run_episode,
                                      run_walk_to, stand_and_look)
from laoshan.sim.body import SimBody
from laoshan.port.messages import LowCmd, LowState
from laoshan.sim.render import VideoRecorder
from laoshan.sim.world import Button, Door, Drawer, Mannequin, Table, Thing, WorldSpec, jittered, opened_truth

LOOK_S = 0.5
LOOK_AROUND_YAW_RAD = (0.6, -0.6, 0.0)   # looking around, the torso turns left, right and back (waist yaw)
AFTER_S = 1.0                     # the robot is watched this long after the plan ends (scoring falls)
TABLE_Z = 0.70
TABLE_XY, TABLE_SIZE = (0.55, 0.0), (0.4, 1.4)   # centre and size on the map (the world frame at start) [m]
TABLE_FRONT_X = TABLE_XY[0] - TABLE_SIZE[0] / 2  # its near edge: the robot checks its odometry against it
BOX_HALF_M = (0.07, 0.14, 0.09)   # the box the two-hand pick is made for ...
BOX_MASS_KG = 0.5                 # ... and its weight, which the robot is told
# where an object sits from the robot's base (heading frame, m) for each grasp: the two-hand box pick,
# the right-hand power grasp (as in scenarios/grasp.py)
GRASP_FROM = {"box": (0.42, 0.0), "cylinder": (0.36, -0.12), "sphere": (0.36, -0.12)}
SPARE_CAN_XY = (0.40, -0.56)      # a yellow can at the table's right end: out of view until the robot looks around
WALK_TIMEOUT_S = 15.0
HELD_MASS_KG = 0.3                # what the robot is told a can or ball weighs
STATIONS = (Place("station 1", ("一号工位", "1号工位", "工位1", "left", "左边", "左"), (0.42, 0.10)),
            Place("station 2", ("二号工位", "2号工位", "工位2", "right", "右边", "右"), (0.42, -0.10)),
            Place("station 3", ("三号工位", "3号工位", "工位3"), (0.42, -0.26)),
            Place("station 4", ("四号工位", "4号工位", "工位4"), (0.42, 0.26)))
HANDLE_COLOUR, HANDLE_RGBA = "yellow", (0.95, 0.8, 0.1, 1.0)   # the kitchen's handle bars, as perception names them
DRAWER = Drawer("drawer", front_x_m=0.45, center_y_m=-0.18, handle_height_m=0.70, handle_rgba=HANDLE_RGBA)
DOOR = Door("door", front_x_m=0.50, center_y_m=0.40, handle_height_m=0.72, handle_rgba=HANDLE_RGBA)
FIXTURE_ALIASES = {"drawer": ("抽屉",), "door": ("cabinet door", "柜门", "柜子门", "门")}
BUTTON = Button("button", front_x_m=0.42, center_y_m=0.10, height_m=0.80)   # the kitchen's start button:
BUTTON_ALIASES = ("start button", "red button", "按钮", "启动按钮", "红色按钮", "开关", "按键")   # red cap, green lamp
PRESS_FROM = (0.405, 0.10)     # a button from the base of a robot pressing it with its left hand (the right: -y) [m]
PRESS_NEAR_M = 0.08            # ... standing this close to that spot, the hand reaches it
PRESS_DEEPER_M = 0.01          # pressing again, the fingertip pushes this much deeper
HAND_JOBS = {"open", "close", "press"}
OPERATE_SIDE = "right"
# where the right hand hooks a fixture's handle from (the handle from the robot's base, heading frame, m: a drawer's
# as in scenarios/articulated.py; a door's 5 cm more to the left: after walking the robot stands a little lower)
HANDLE_FROM = {"drawer": (0.38, -0.18), "door": (0.41, -0.14)}
OPEN_GOAL = {"drawer": 0.10, "door": math.radians(30.0)}     # success: opened at least this far [m, rad] ...
CLOSED_BELOW = {"drawer": 0.02}                              # ... or closed to within this
PULL_M, SWING_RAD, SWING_STEPS = 0.15, math.radians(45.0), 3  # how far the hand draws a drawer and swings a door
PUSH_PAST_M = 0.03             # closing a drawer, the hand pushes this far past closed
MIN_PULL = {"drawer": 0.03, "door": math.radians(10.0)}       # opening again, the hand pulls at least this far
# having opened a door, the hand goes down past its free edge (swung toward the robot) on its robot side first:
# to one of these points (heading frame) 10 cm lower, then to its posture (straight there, it sweeps the door shut)
DOOR_VIA_M, DOOR_VIA_DOWN_M = ((0.15, -0.05), (0.17, -0.08), (0.13, -0.02)), 0.10
DROP_S = 1.0                   # an arm let go to its posture is out of the camera's way after this long
FINE_STEPS = GoToConfig(max_speed_m_s=0.1, arrive_m=0.02)    # the last few cm to a fixture (and back), slowly
CARRY_TO_HAND = GoToConfig(arrive_m=0.04)                    # carrying to a person's hand: close, not slowly ...
HAND_OVER_NEAR_M = 0.25                                      # ... unless the hand reaches it from this close


SCENES = ("table", "kitchen", "hall")
SCENE_ALIASES = {"factory": "table"}   # the work table is a production line's work cell, stations 1 to 4
COUNTER_XY, COUNTER_SIZE = (0.55, 0.20), (0.4, 0.6)   # the hall's service counter (map) [m] ...
CUSTOMER = Mannequin("customer", xy_m=(0.72, -0.36), palm_xyz_m=(0.40, -0.20, 0.85))   # ... and the customer beside it
HAND_OVER_TOLERANCE_M = 0.03   # success: a handed-over object's centre seen this close to the palm's


@dataclass(frozen=True)
class InstructionScenario:
    instruction: str = "把红色的盒子放到二号工位上"
    scene: str = "table"                # "table" (objects, stations), "kitchen" (a drawer, a door, a button)
                                        # or "hall" (a can on a counter, a customer holding out a hand)
    robot: str = "g1-functional"
    llm_url: str | None = None          # an OpenAI-compatible chat endpoint; None: the offline planner
    jitter_m: float = 0.01              # the box (the kitchen's cabinets) up to this far off its usual place (seeded)
    place_tolerance_m: float = 0.02     # success: a placed object ends this close to its place
    lift_goal_m: float = 0.08           # success: a picked object is at least this high at the end
    attempts: int = 2                   # tries, each checked with the camera, before giving up
    first_grip: BoxPickConfig | None = None   # the first try's grip (a test forces a failed grasp with it)
    reach_m: float = 0.5                # objects farther from the base (horizontally) are walked to ...
    max_walk_m: float = 0.5             # ... if the spot to grasp them from is this close (a side-step)
    seconds: float = 30.0               # at most; the run ends once the result is checked
    seed: int = 0
    video: Path | None = None
    places: tuple[Place, ...] = field(default=STATIONS)   # the table's

    def __post_init__(self) -> None:
        object.__setattr__(self, "scene", SCENE_ALIASES.get(self.scene, self.scene))
        if self.scene not in SCENES:
            raise ValueError(f"scene must be one of {SCENES} (or {', '.join(SCENE_ALIASES)}), got {self.scene!r}")

    def fixtures(self) -> tuple[Fixture, ...]:
        """The scene's drawers and doors as the site's map has them (their nominal places)."""
        if self.scene != "kitchen":
            return ()
        return tuple(Fixture(f.name, FIXTURE_ALIASES[f.name], "drawer" if isinstance(f, Drawer) else "door",
                             tuple(f.handle_xyz_m), HANDLE_COLOUR, f.handle_gap_m, f.handle_radius_m,
                             f.travel_m if isinstance(f, Drawer) else f.max_open_rad,
                             None if isinstance(f, Drawer) else tuple(f.hinge_xyz_m[:2]))
                     for f in (DRAWER, DOOR))

    def switches(self) -> tuple[Switch, ...]:
        """The scene's push buttons as the site's map has them."""
        if self.scene != "kitchen":
            return ()
        return (Switch(BUTTON.name, BUTTON_ALIASES, tuple(BUTTON.cap_xyz_m), "red", BUTTON.lamp_above_m, "green"),)

    def world(self) -> WorldSpec:
        if self.scene == "kitchen":
            return WorldSpec(drawers=(jittered(DRAWER, self.jitter_m, self.seed),),
                             doors=(jittered(DOOR, self.jitter_m, self.seed + 1),),
                             buttons=(jittered(BUTTON, self.jitter_m, self.seed + 2),), seed=self.seed)
        if self.scene == "hall":
            return WorldSpec(tables=(Table("counter", COUNTER_XY, COUNTER_SIZE, TABLE_Z),),
                             things=(Thing("can", "cylinder", (0.033, 0.06), 0.3, (0.40, -0.02, TABLE_Z + 0.06),
                                           rgba=(0.2, 0.5, 0.9, 1.0), jitter_m=self.jitter_m),),
                             people=(CUSTOMER,), seed=self.seed)
        return WorldSpec(
            tables=(Table("table", TABLE_XY, TABLE_SIZE, TABLE_Z),),
            things=(Thing("box", "box", BOX_HALF_M, BOX_MASS_KG, (0.42, 0.0, TABLE_Z + BOX_HALF_M[2]),
                          jitter_m=self.jitter_m),
                    Thing("can", "cylinder", (0.033, 0.06), 0.3, (0.37, -0.36, TABLE_Z + 0.06),
                          rgba=(0.2, 0.5, 0.9, 1.0)),
                    Thing("ball", "sphere", (0.04,), 0.2, (0.37, 0.36, TABLE_Z + 0.04), rgba=(0.2, 0.8, 0.3, 1.0)),
                    Thing("spare_can", "cylinder", (0.033, 0.06), 0.3, SPARE_CAN_XY + (TABLE_Z + 0.06,),
                          rgba=(0.9, 0.8, 0.1, 1.0))),
            seed=self.seed)


@dataclass(frozen=True)
class InstructionReport:
    instruction: str
    plan: Plan | None
    answer: str | None                  # a refusal or a clarifying question (no plan), or why it gave up
    seen: tuple[str, ...]               # what the robot saw: "red-1 box at (x, y, z)"
    steps: tuple[tuple[str, str], ...]  # (attempt, outcome as the camera saw it)
    success: bool
    fell: bool
    error_m: float | None               # placed: object to its place (xy); picked: None
    plan_ms: float
    energy_J: float
    seconds: float
    wall_s: float
    opened: tuple[tuple[str, str, float], ...] = ()   # scoring: each fixture worked (name, kind) and how far
                                                       # it is open at the end [drawer m, door rad]
    pressed: tuple[tuple[str, bool], ...] = ()        # scoring: each button pressed and whether its lamp is lit
    safety_trips: tuple[str, ...] = ()                 # every stop the safety monitor took, as it began


def run_instruction(config: InstructionScenario, progress: Callable[[int], None] | None = None,
                    robot: RobotDescription | None = None) -> InstructionReport:
    """Look, plan and act; ``progress(ticks)`` is called every 100 control ticks while acting."""
    robot = robot or load_description(config.robot)
    if len(robot.hands) < 2 or not robot.cameras:
        raise ValueError(f"{robot.name} needs two hands and a camera to follow instructions")
    harm = harm_reason(config.instruction)
    if harm is not None:                     # refused before the robot is even switched on
        return InstructionReport(config.instruction, None, harm, (), (), False, False, None, 0.0, 0.0, 0.0, 0.0)
    controller = ReachController(robot, config=ReachConfig(settle_gain_1_s=0.0))
    body = SimBody(robot, world=config.world(), seed=config.seed, cameras=True)
    recorder = VideoRecorder(body.model, config.video, robot.base_link) if config.video else None
    try:
        report = _follow(config, body, controller, recorder, progress)
    except CameraLost as exc:               # the task stops (category 2); the robot keeps balancing
        report = InstructionReport(config.instruction, None, str(exc), (), (), False, controller.locomotion.fallen,
                                   None, 0.0, body.energy_J, body.time_s, 0.0)
    finally:
        if recorder:
            recorder.close()
        body.close()                                  # free the camera's renderer
    return replace(report, safety_trips=controller.locomotion.safety.trip_log())


def _follow(config: InstructionScenario, body: SimBody, controller: ReachController,
            recorder: VideoRecorder | None, progress: Callable[[int], None] | None) -> InstructionReport:
    """Look, plan and act: what :func:`run_instruction` does once the robot is set up."""
    state = body.reset(config.seed)
    state, seen = stand_and_look(body, controller, state, LOOK_S, recorder)
    world = WorldModel(places=config.places if config.scene == "table" else (), fixtures=config.fixtures(),
                       switches=config.switches())
    world.update(seen)

    def plan(state: LowState) -> tuple[Plan | Refusal | Question, float]:
        """The instruction planned on the world model as it is now, and how long that took [ms]."""
        start = time.perf_counter()
        try:
            answer = (LlmPlanner(config.llm_url).plan(config.instruction, world, state.time_s) if config.llm_url
                      else plan_offline(config.instruction, world, state.time_s))
        except PlanError as exc:
            answer = Refusal(str(exc))
        return answer, (time.perf_counter() - start) * 1e3

    answer, plan_ms = plan(state)
    looked: list[tuple[str, str]] = []              # the look-around's outcome, if the plan begins with one
    if isinstance(answer, Plan) and answer.steps[0]["skill"] == "look_around":
        state, views = look_around(body, controller, state, LOOK_AROUND_YAW_RAD, LOOK_S, recorder)
        for view in views:
            world.update(view)
        world.looked_around_s = state.time_s
        looked.append(("look around (torso left, right, back)",
                       "saw " + (", ".join(o.describe() for o in world.objects) or "no objects")))
        if answer.replan and not controller.locomotion.fallen:     # what it looked for may be in view now
            answer, again_ms = plan(state)
            plan_ms += again_ms
        if isinstance(answer, Plan):
            answer = Plan(({"skill": "look_around"},
                           *(s for s in answer.steps if s["skill"] != "look_around")))
    seen_text = (*(f"{o.id} {o.kind} at ({o.p_world_m[0]:.2f}, {o.p_world_m[1]:.2f}, {o.p_world_m[2]:.2f})"
                   for o in world.objects),
                 *(f"{f.name} {f.describe_state()}" for f in (*world.fixtures, *world.switches)
                   if f.seen_s is not None),
                 *(p.describe() for p in world.people))

    def declined(why: str, plan: Plan | None = None) -> InstructionReport:
        """Nothing (beyond looking around) was done: the answer says why."""
        return InstructionReport(config.instruction, plan, why, seen_text, tuple(looked), False,
                                 controller.locomotion.fallen, None, plan_ms, body.energy_J, body.time_s, 0.0)

    if not isinstance(answer, Plan):
        return declined(answer.reason if isinstance(answer, Refusal) else answer.text)
    spoken = [(f"say {s['text']!r}", "said") for s in answer.steps if s["skill"] == "say"]   # (to a speaker)
    if not {s["skill"] for s in answer.steps} - {"look", "look_around", "say"}:   # nothing to do with the hands
        return InstructionReport(config.instruction, answer, None, seen_text, (*looked, *spoken),
                                 not controller.locomotion.fallen, controller.locomotion.fallen, None, plan_ms,
                                 body.energy_J, body.time_s, 0.0)
    if answer.steps[0]["skill"] == "look":                  # the world model is out of date: refresh it
        state, seen = stand_and_look(body, controller, state, body.time_s + LOOK_S, recorder)
        world.update(seen)
    skills = {s["skill"] for s in answer.steps}
    if skills & HAND_JOBS:
        if skills - HAND_JOBS - {"look", "look_around", "say"}:
            return declined("a plan that opens, closes or presses something does only that, for now", answer)
        rest = {side: np.linalg.inv(controller.heading_frame()) @ controller.hand_pose(side)   # standing
                for side in ("left", "right")}
        jobs: list[_AtHand] = [
            _Press(config, body, controller, world, world.switch(s["button"]), rest) if s["skill"] == "press"
            else _Operate(config, body, controller, world, world.fixture(s["fixture"]), s["skill"], rest)
            for s in answer.steps if s["skill"] in HAND_JOBS]
        episode = _run_stages(config, body, state, controller, jobs, None, recorder, progress)
        operations = [j for j in jobs if isinstance(j, _Operate)]
        worked = {o.fixture.name: o for o in operations}                   # each fixture's last operation
        furniture = {f.name: f for f in (*body.world.drawers, *body.world.doors)}   # scoring only
        opened = tuple((name, o.fixture.kind, opened_truth(body.data, furniture[name]))
                       for name, o in worked.items())
        pressed = tuple((j.name, body.lamps.lit[j.name]) for j in jobs if isinstance(j, _Press))   # scoring only
        reached = all(j.verified for j in jobs) and all(lit for _, lit in pressed) and all(
            amount >= OPEN_GOAL[kind] if worked[name].action == "open" else amount <= CLOSED_BELOW[kind]
            for name, kind, amount in opened)
        gave_up = next((j.gave_up for j in jobs if j.gave_up), None)
        return InstructionReport(config.instruction, answer, gave_up, seen_text,
                                 (*looked, *(x for j in jobs for x in j.outcomes), *spoken),
                                 reached and not episode.fell,
                                 episode.fell, None, plan_ms, body.energy_J, body.time_s, episode.wall_s, opened,
                                 pressed)
    pick = next(s for s in answer.steps if s["skill"] == "pick")
    place = next((world.place(s["place"]) for s in answer.steps if s["skill"] == "place"), None)
    person = next((world.person(s["person"]) for s in answer.steps if s["skill"] == "hand_over"), None)
    target = world.get(pick["object"])
    assert target is not None
    if person is not None and target.kind == "box":
        return declined("I hand over only what one hand holds (a can, a ball), not the box", answer)
    walked = list(looked)
    base_xy = controller.locomotion.state.p_world_base_m[:2].copy()
    reach = float(np.linalg.norm(target.p_world_m[:2] - base_xy))
    if reach > config.reach_m:
        stand_xy = target.p_world_m[:2] - np.array(GRASP_FROM[target.kind])
        walk = float(np.linalg.norm(stand_xy - base_xy))
        if walk > config.max_walk_m:
            return declined(f"the {target.describe()} is {reach:.2f} m away and the spot to grasp it from "
                            f"{walk:.2f} m: too far to walk to along the table", answer)
        episode, walk = run_walk_to(body, state, controller.locomotion, tuple(stand_xy), WALK_TIMEOUT_S,
                                    controller, recorder, progress)
        walked.append((f"walk to ({stand_xy[0]:.2f}, {stand_xy[1]:.2f})", _walk_outcome(walk)))
        if episode.fell or not walk.done:
            return InstructionReport(config.instruction, answer, "could not walk to it", seen_text, tuple(walked),
                                     False, episode.fell, None, plan_ms, body.energy_J, body.time_s,
                                     episode.wall_s)
        world.robot_moved(float(np.linalg.norm(controller.locomotion.state.p_world_base_m[:2] - base_xy)))
        state, seen = stand_and_look(body, controller, episode.state, body.time_s + LOOK_S, recorder)
        world.update(seen)
        again = [o for o in world.find(target.colour, target.kind) if seen and o.seen_s == seen[0].time_s]
        if not again:
            return declined(f"lost sight of the {pick['object']} after walking", answer)
        target = again[0]
    height_m = float(target.size_m[2])
    if target.kind != "box":
        task = _Attempts(config, body, controller, world, target.colour, None,
                         lambda p, _grip: PowerGrasp(controller, p, float(target.size_m[0]) / 2, HELD_MASS_KG))
    else:
        def box_pick(p_box: np.ndarray, grip: BoxPickConfig | None) -> HandSequence:
            T_box = np.eye(4)
            T_box[:3, 3] = p_box
            T_place = None
            if place is not None:
                T_place = T_box.copy()
                T_place[:2, 3] = place.xy_m
            return BoxPick(controller, T_box, BOX_HALF_M, BOX_MASS_KG, grip, T_place)

        task = _Attempts(config, body, controller, world, target.colour, place, box_pick)
    task.start(target, config.first_grip)
    stages: list[_Attempts | _PlaceHeld] = [task]
    to = _Station(place) if place is not None else _Palm(person) if person is not None else None
    if target.kind != "box" and to is not None:
        stages.append(_PlaceHeld(config, body, controller, world, target, to, height_m))
    truth_name = {"red": "box", "blue": "can", "green": "ball", "yellow": "spare_can"}[target.colour]   # scoring
    watch = HeldUp(body, truth_name, config.lift_goal_m)
    episode = _run_stages(config, body, state, controller, stages, watch, recorder, progress)
    fell = episode.fell
    end = body.data.body(truth_name).xpos                                                # scoring only
    verified = all(s.verified for s in stages)
    if person is not None:                          # handed over: it stands on the palm (scoring only)
        palm = body.world.people[0]
        off = end - palm.palm_xyz_m
        error = float(np.linalg.norm(off[:2]))
        reached = verified and bool(np.all(np.abs(off[:2]) < np.array(palm.palm_size_m) / 2)) \
            and 0.0 < off[2] < height_m
    else:
        error = None if place is None else float(np.linalg.norm(end[:2] - np.array(place.xy_m)))
        reached = verified and (error <= config.place_tolerance_m if error is not None
                                else watch.lift_m >= config.lift_goal_m)
    gave_up = next((s.gave_up for s in stages if s.gave_up), None)
    outcomes = walked + [o for s in stages for o in s.outcomes] + spoken
    return InstructionReport(config.instruction, answer, gave_up, seen_text, tuple(outcomes),
                             reached and not fell, fell, error, plan_ms, body.energy_J, body.time_s, episode.wall_s)


def _run_stages(config: InstructionScenario, body: SimBody, state: LowState, controller: ReachController,
                stages: list, watch: HeldUp | None, recorder: VideoRecorder | None,
                progress: Callable[[int], None] | None) -> Episode:
    """Run the plan's stages in order, each called before every control tick until the camera has
    verified it, until one gives up or the scenario's time is over."""

    def act(k: int, state: LowState) -> LowCmd:
        stage = next((s for s in stages if not s.verified), None)
        if stage is not None and stage.gave_up is None:
            try:
                stage(state)
            except CameraLost as exc:        # the task stops; the robot keeps balancing
                stage.gave_up = str(exc)
        return controller(state)

    ticks = int(round((config.seconds - state.time_s) / body.loop.control_dt_s))
    episode = run_episode(body, state, ticks, act, watch, recorder, progress,
                          stop=lambda: all(s.verified for s in stages) or any(s.gave_up for s in stages))
    after = run_episode(body, episode.state, int(round(AFTER_S / body.loop.control_dt_s)),   # a fall under way
                        lambda k, state: controller(state), watch, recorder, progress)      # counts too
    return Episode(after.state, episode.fall_time_s if episode.fell else after.fall_time_s,
                   episode.wall_s + after.wall_s)


class _Attempts:
    """Carries out the pick (and place) and checks its effect with the camera; if the object is not
    where it should be, picks it again from where it is now seen (replanning the same steps), up to
    ``attempts`` times. Call it before every control tick."""

    def __init__(self, config: InstructionScenario, body: SimBody, controller: ReachController, world: WorldModel,
                 colour: str, place: Place | None,
                 make: Callable[[np.ndarray, BoxPickConfig | None], HandSequence]) -> None:
        self.config, self.body, self.controller, self.world = config, body, controller, world
        self.colour, self.place, self.make = colour, place, make
        self.outcomes: list[tuple[str, str]] = []
        self.verified, self.gave_up = False, None
        self._sequence: HandSequence | None = None
        self._start_z = (0.0, 0.0)
        self._glance: Glance | None = None

    def _what(self) -> str:
        action = f"pick the {self.colour} object" + (f", place it at {self.place.name}" if self.place else "")
        return f"attempt {len(self.outcomes) + 1}: {action}"

    def start(self, target: WorldObject, grip: BoxPickConfig | None) -> HandSequence:
        self._start_z = (target.top_z_m, target.bottom_z_m)
        self._sequence = self.make(target.p_world_m, grip)
        return self._sequence

    def __call__(self, state: LowState) -> None:
        sequence = self._sequence
        assert sequence is not None
        if not sequence.done and not sequence.failed:
            sequence.update(state.time_s)
            return
        if self._glance is None:                                # done: look at the result
            self._glance = Glance(self.body, self.controller, state.time_s)
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
        elif len(self.outcomes) >= self.config.attempts or not seen:
            self.gave_up = f"gave up after {len(self.outcomes)} attempt(s): {verdict}"
        else:
            self.start(seen[0], None)                           # again, from where it is now

    def _judge(self, seen: WorldObject | None, sequence: HandSequence) -> str:
        """The attempt's effect as the camera sees it (how high: the larger rise of its seen top and
        bottom, as a hand holding it may hide either)."""
        if sequence.failed:
            return f"failed: {sequence.failed}"
        if seen is None:
            return f"failed: the {self.colour} object is out of sight"
        if self.place is not None:
            return _place_verdict(seen.p_world_m, self.place.xy_m, self.place.name, self.config.place_tolerance_m)
        p_seen = seen.p_world_m
        where = f"seen at ({p_seen[0]:.3f}, {p_seen[1]:.3f}, {p_seen[2]:.3f})"
        up = max(seen.top_z_m - self._start_z[0], seen.bottom_z_m - self._start_z[1])
        return f"{'done' if up >= self.config.lift_goal_m else 'failed'}: {where}, {up * 100:.1f} cm up"


def _place_verdict(p: np.ndarray, xy_m: np.ndarray | tuple[float, float], where: str, tolerance_m: float) -> str:
    """Done if the object seen at ``p`` stands within ``tolerance_m`` (xy) of ``xy_m``, named ``where``."""
    off = float(np.linalg.norm(p[:2] - np.asarray(xy_m)))
    return (f"{'done' if off <= tolerance_m else 'failed'}: seen at ({p[0]:.3f}, {p[1]:.3f}, {p[2]:.3f}), "
            f"{off * 100:.1f} cm from {where}")


def _walk_outcome(walk: WalkTo) -> str:
    return f"{'arrived' if walk.done else 'did not arrive'}, {walk.distance_m() * 100:.1f} cm from the spot (estimate)"


class _Station:
    """Where a carried object is set down: a station on the table. The odometry drifts as the robot
    walks; the table's near edge, on the map, seen says how much along x."""

    steps: GoToConfig | None = None                 # the walk's default: the hand makes up where it stops
    near_m = 0.0                                    # no closer than this to its spot, the robot walks there

    def __init__(self, place: Place) -> None:
        self.place, self.name = place, place.name
        self._drift_x_m = 0.0                       # odometry x minus map x, from the table's edge

    def xy(self) -> np.ndarray:
        return np.array(self.place.xy_m)

    def locate(self, glance: Glance, controller: ReachController) -> tuple[np.ndarray | None, str]:
        """Where the object's bottom centre goes (odometry frame), from the frame ``glance`` took,
        and what was seen."""
        assert glance.frame is not None and glance.X_world_camera is not None
        y = float(controller.locomotion.state.p_world_base_m[1])
        edge = near_edge_x(glance.frame, glance.X_world_camera, TABLE_Z, (y - 0.15, y + 0.15))
        self._drift_x_m = edge - TABLE_FRONT_X if edge is not None else 0.0
        seen = f"table edge seen {self._drift_x_m * 100:+.1f} cm off along x" if edge is not None else \
            "table edge not seen"
        return np.array([*(self.xy() + [self._drift_x_m, 0.0]), TABLE_Z]), seen

    def judge(self, p_seen: np.ndarray, tolerance_m: float) -> str:
        return _place_verdict(p_seen - [self._drift_x_m, 0.0, 0.0], self.place.xy_m, self.name, tolerance_m)


class _Palm:
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
        return _place_verdict(p_seen, self._palm[:2], f"the middle of {self.name}", HAND_OVER_TOLERANCE_M)


class _PlaceHeld:
    """After a verified one-hand pick: carries the object (the hand tied to the body) to where the
    hand can set it on the target (a station, a person's open hand), looks where it now is in the
    hand and where the target is, sets it down there (the hand moves by the seen displacement) and
    checks with the camera. Call it before every control tick."""

    def __init__(self, config: InstructionScenario, body: SimBody, controller: ReachController, world: WorldModel,
                 target: WorldObject, to: _Station | _Palm, height_m: float) -> None:
        self.config, self.body, self.controller, self.world = config, body, controller, world
        self.colour, self.kind, self.to, self.height_m = target.colour, target.kind, to, height_m
        self.radius_m = float(target.size_m[0]) / 2
        self.stand_xy = to.xy() - np.array(GRASP_FROM[target.kind])
        self.outcomes: list[tuple[str, str]] = []
        self.verified, self.gave_up = False, None
        self._walk: WalkTo | None = None
        self._started_s = 0.0
        self._glance: Glance | None = None
        self._sequence: HandSequence | None = None
        self._from_xy: np.ndarray | None = None     # where the carry started (odometry) until it is done

    def _look(self, state: LowState) -> tuple[Detection | None, Glance] | None:
        """The object in the first frame taken since asking (its largest blob) and the glance that
        took it; None while the frame has not come."""
        if self._glance is None:
            self._glance = Glance(self.body, self.controller, state.time_s)
        glance = self._glance
        seen = glance.seen(state)
        if seen is None:
            return None
        self._glance = None
        self.world.update(seen)
        return next((d for d in seen if d.colour == self.colour), None), glance

    def __call__(self, state: LowState) -> None:
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
            if self.controller.locomotion.fallen or state.time_s - self._started_s > WALK_TIMEOUT_S:
                self.gave_up = "could not carry it over"
                self.outcomes.append((carry, _walk_outcome(self._walk)))
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
            self.outcomes.append((carry, f"{_walk_outcome(self._walk)}; {seen}"))
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
        verdict = self.to.judge(seen.p_world_m, self.config.place_tolerance_m)
        self.outcomes.append((what, verdict))
        self.verified = verdict.startswith("done")
        if not self.verified:
            self.gave_up = verdict


class _AtHand:
    """A job the hand does at something standing on the map (a fixture's handle, a button): walks
    to where the hand works it from if the robot stands elsewhere (then shuffles onto the spot:
    the hand reaches only so far), looks at it, runs the hand's sequence, brings the hand back to
    its posture (first through a via point, if the job has one) and looks at the effect; if it is
    not as asked, walks back to the spot and tries again, up to ``attempts`` times. A subclass
    says where the spot is, what the hand does and how the effect is judged. Call it before every
    control tick."""

    side = "right"
    near_enough_m: float | None = None     # standing this close to the spot, the robot does not walk (None: it
                                           # always shuffles onto the spot)

    def __init__(self, config: InstructionScenario, body: SimBody, controller: ReachController, world: WorldModel,
                 name: str, action: str, X_heading_rest: dict[str, np.ndarray]) -> None:
        """``X_heading_rest``: each hand at its posture, standing (4x4, heading frame)."""
        self.config, self.body, self.controller, self.world = config, body, controller, world
        self.name, self.action, self.X_heading_rest = name, action, X_heading_rest
        self.outcomes: list[tuple[str, str]] = []
        self.verified, self.gave_up = False, None
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
            self._glance = Glance(self.body, self.controller, state.time_s)
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
        if self.controller.locomotion.fallen or state.time_s - self._started_s > WALK_TIMEOUT_S:
            self.gave_up = f"could not walk to the {self.name}"
            self.outcomes.append((f"walk to the {self.name}", _walk_outcome(self._walk)))
        return True

    def __call__(self, state: LowState) -> None:
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
                self.outcomes.append((f"walk to the {self.name}", _walk_outcome(self._walk)))
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
        elif self._tries >= self.config.attempts or not seen:
            self.gave_up = f"gave up after {self._tries} attempt(s): {self.outcomes[-1][1]}"
        else:                                            # again: walk back to the spot, look, work
            self._phase = "start"


class _Operate(_AtHand):
    """Opens or closes a fixture with the right hand: hooks its handle and pulls (or pushes) it
    along its way (a drawer's rail, an arc about a door's hinge); from a door it opened, the hand
    goes back through a point on the near side of the door's free edge (which has swung toward the
    robot); the camera then sees how far the fixture is open."""

    side = OPERATE_SIDE

    def __init__(self, config: InstructionScenario, body: SimBody, controller: ReachController, world: WorldModel,
                 fixture: Fixture | None, action: str, X_heading_rest: dict[str, np.ndarray]) -> None:
        assert fixture is not None and action in ("open", "close")          # the plan was validated
        super().__init__(config, body, controller, world, fixture.name, action, X_heading_rest)
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


class _Press(_AtHand):
    """Presses a button with the index fingertip of the hand on its side (the left for a button
    left of the robot) and looks whether its lamp is lit; a retry pushes a centimetre deeper."""

    near_enough_m = PRESS_NEAR_M

    def __init__(self, config: InstructionScenario, body: SimBody, controller: ReachController, world: WorldModel,
                 switch: Switch | None, X_heading_rest: dict[str, np.ndarray]) -> None:
        assert switch is not None                                            # the plan was validated
        super().__init__(config, body, controller, world, switch.name, "press", X_heading_rest)
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
