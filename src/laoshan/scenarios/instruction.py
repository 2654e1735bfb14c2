"""Follow an instruction: a scene, the executive and a scorer.

Three scenes. At the work table (``scene="table"``) the table holds a red box (seeded a little off
its usual place) and, at its two ends out of reach of the hands, a blue can (right) and a green
ball (left); farther right, out of the camera's view, a yellow can. Stations 1 and 2 lie each side
of the box, stations 3 and 4 beyond them. In the kitchen (``scene="kitchen"``) a cabinet with a
drawer stands before the robot and, to its left beyond the hand's reach, a cabinet with a door;
their handle bars are yellow; between them, a start button (a red cap, a lamp above it that lights
green once pressed) stands on a panel. In the service hall (``scene="hall"``) a blue can stands on
a counter and a customer beside it holds out an open hand (an orange glove).

The robot looks, plans (offline parser, or an LLM backend whose plans are validated) and carries
the plan out through the executive (:func:`laoshan.executive.instruction.follow`) on the
in-process port, exactly as it would on DDS. Ground truth scores the run (where the object ended,
how far the drawer and door are open, whether the lamp lit, falls; :mod:`laoshan.sim.scoring`)
and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from laoshan.brain.planner import LlmPlanner, Plan, plan_offline
from laoshan.brain.screening import harm_reason
from laoshan.brain.world_model import Fixture, Place, Switch, WorldModel
from laoshan.executive.fixtures import CLOSED_BELOW, OPEN_GOAL, Operate, Press
from laoshan.executive.hands import BOX_HALF_M, BOX_MASS_KG
from laoshan.executive.instruction import LOOK_AROUND_YAW_RAD, LOOK_S, Planner, follow, keep_balancing
from laoshan.executive.look import CameraLost, look_around, stand_and_look
from laoshan.executive.skill import Context, ExecutiveConfig, SiteMap
from laoshan.limbs.grasp import BoxPickConfig
from laoshan.limbs.reach import ReachConfig, ReachController
from laoshan.robot.description import RobotDescription, load_description
from laoshan.sim.body import SimBody
from laoshan.sim.render import VideoRecorder
from laoshan.sim.scoring import Watch, fixture_opening, lamp_lit, object_xyz
from laoshan.sim.world import Button, Door, Drawer, Mannequin, Table, Thing, WorldSpec, jittered

AFTER_S = 1.0                     # the robot is watched this long after the plan ends (scoring falls)
TABLE_Z = 0.70
TABLE_XY, TABLE_SIZE = (0.55, 0.0), (0.4, 1.4)   # centre and size on the map (the world frame at start) [m]
TABLE_FRONT_X = TABLE_XY[0] - TABLE_SIZE[0] / 2  # its near edge: the robot checks its odometry against it
SPARE_CAN_XY = (0.40, -0.56)      # a yellow can at the table's right end: out of view until the robot looks around
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
TRUTH_NAME = {"red": "box", "blue": "can", "green": "ball", "yellow": "spare_can"}   # scoring: the world's bodies


SCENES = ("table", "kitchen", "hall")
SCENE_ALIASES = {"factory": "table"}   # the work table is a production line's work cell, stations 1 to 4
COUNTER_XY, COUNTER_SIZE = (0.55, 0.20), (0.4, 0.6)   # the hall's service counter (map) [m] ...
CUSTOMER = Mannequin("customer", xy_m=(0.72, -0.36), palm_xyz_m=(0.40, -0.20, 0.85))   # ... and the customer beside it


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

    def executive(self) -> ExecutiveConfig:
        """How the robot carries the plan out (its own checks use the scenario's goals)."""
        return ExecutiveConfig(place_tolerance_m=self.place_tolerance_m, lift_goal_m=self.lift_goal_m,
                               attempts=self.attempts, first_grip=self.first_grip, reach_m=self.reach_m,
                               max_walk_m=self.max_walk_m)

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

    def world_model(self) -> WorldModel:
        """What the robot knows before it looks: the site's map (the table's stations, the kitchen's
        fixtures and button)."""
        return WorldModel(places=self.places if self.scene == "table" else (), fixtures=self.fixtures(),
                          switches=self.switches())

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


def look(config: InstructionScenario, robot: RobotDescription | None = None, around: bool = False) -> WorldModel:
    """The world model after the robot, standing in the scene, has looked once with its head camera
    (it does not move otherwise): what an instruction is planned on; ``around``: and then looked
    around (the torso turned left and right, the feet still), as it does for something not in view."""
    robot = robot or load_description(config.robot)
    if not robot.cameras:
        raise ValueError(f"{robot.name} has no camera to look with")
    controller = ReachController(robot, config=ReachConfig(settle_gain_1_s=0.0))
    body = SimBody(robot, world=config.world(), seed=config.seed, cameras=True)
    try:
        state = body.reset(config.seed)
        world = config.world_model()
        state, seen = stand_and_look(body, controller, state, LOOK_S)
        world.update(seen)
        world.robot_xy_m = (float(controller.locomotion.state.p_world_base_m[0]),
                            float(controller.locomotion.state.p_world_base_m[1]))
        if around:
            state, views = look_around(body, controller, state, LOOK_AROUND_YAW_RAD, LOOK_S)
            for view in views:
                world.update(view)
            world.looked_around_s = state.time_s
        return world
    finally:
        body.close()


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
    world = config.world_model()
    ctx = Context(body, controller, world, config.executive(), SiteMap(TABLE_Z, TABLE_FRONT_X))
    planner: Planner = LlmPlanner(config.llm_url).plan if config.llm_url else plan_offline
    try:
        report = _run(config, body, ctx, planner, recorder, progress)
    except CameraLost as exc:               # the task stops (category 2); the robot keeps balancing
        report = InstructionReport(config.instruction, None, str(exc), (), (), False, controller.locomotion.fallen,
                                   None, 0.0, body.energy_J, body.time_s, 0.0)
    finally:
        if recorder:
            recorder.close()
        body.close()                                  # free the camera's renderer
    return replace(report, safety_trips=controller.locomotion.safety.trip_log())


def _run(config: InstructionScenario, body: SimBody, ctx: Context, planner: Planner, recorder: VideoRecorder | None,
         progress: Callable[[int], None] | None) -> InstructionReport:
    """The executive follows the instruction; ground truth scores what came of it."""
    state = body.reset(config.seed)
    start_z = {name: float(object_xyz(body, name)[2]) for name in (t.name for t in body.world.things)}   # scoring
    watch = Watch(body, recorder)
    done = follow(ctx, config.instruction, planner, state, config.seconds, watch, progress)
    plan_ms, fell_so_far = done.plan_ms, watch.fall_time_s is not None
    if not done.skills:                          # declined, or nothing for the hands: no after-watch
        return InstructionReport(config.instruction, done.plan, done.answer, done.seen, done.outcomes,
                                 done.verified and not fell_so_far and done.answer is None, fell_so_far, None,
                                 plan_ms, body.energy_J, body.time_s, 0.0)
    keep_balancing(ctx, done.state, AFTER_S, watch, progress)   # a fall under way counts too
    fell = watch.fall_time_s is not None
    wall = (done.loop.wall_s if done.loop else 0.0)
    operations = [s for s in done.skills if isinstance(s, Operate)]
    if operations or any(isinstance(s, Press) for s in done.skills):
        worked = {o.fixture.name: o for o in operations}                   # each fixture's last operation
        opened = tuple((name, o.fixture.kind, fixture_opening(body, name)) for name, o in worked.items())
        pressed = tuple((s.name, lamp_lit(body, s.name)) for s in done.skills if isinstance(s, Press))
        reached = done.verified and all(lit for _, lit in pressed) and all(
            amount >= OPEN_GOAL[kind] if worked[name].action == "open" else amount <= CLOSED_BELOW[kind]
            for name, kind, amount in opened)
        return InstructionReport(config.instruction, done.plan, done.answer, done.seen, done.outcomes,
                                 reached and not fell, fell, None, plan_ms, body.energy_J, body.time_s, wall, opened,
                                 pressed)
    assert done.moved, "a plan for the hands handles at least one object"
    errors, reached = [], done.verified
    for target, place, person in done.moved:     # scoring: where each object ended (ground truth)
        name = TRUTH_NAME[target.colour]
        end = object_xyz(body, name)
        if person is not None:                  # handed over: it stands on the palm
            palm = body.world.people[0]
            off = end - palm.palm_xyz_m
            errors.append(float(np.linalg.norm(off[:2])))
            reached = reached and bool(np.all(np.abs(off[:2]) < np.array(palm.palm_size_m) / 2)) \
                and 0.0 < off[2] < float(target.size_m[2])
        elif place is not None:
            errors.append(float(np.linalg.norm(end[:2] - np.array(place.xy_m))))
            reached = reached and errors[-1] <= config.place_tolerance_m
        else:
            reached = reached and float(end[2]) - start_z[name] >= config.lift_goal_m
    error = max(errors) if errors else None
    return InstructionReport(config.instruction, done.plan, done.answer, done.seen, done.outcomes,
                             reached and not fell, fell, error, plan_ms, body.energy_J, body.time_s, wall)
