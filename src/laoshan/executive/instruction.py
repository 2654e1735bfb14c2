"""Carry an instruction out: look, plan (beside the loop), then run the plan's skills, verifying each
with the camera and retrying; on any robot port.

Something not seen yet is looked around for first (the torso turned left and right on the waist,
the feet still, a look at each side) and the rest planned on what it saw then; an object out of
reach is walked to first (side-stepping on the robot's own pose estimate, then looking again); a
box is picked (and placed) with both hands; a can or ball with the right Dex3 hand and, to place
or hand it over, carried there, looked at in the hand and set down; a fixture is opened or closed
and a button pressed by the hand on its side. The result is what the robot saw: the scenario that
runs it scores it from ground truth.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from laoshan.brain.planner import Plan, PlanError, Question, Refusal
from laoshan.brain.plans import HandOver, Look, LookAround, Pick, PlaceAt, Say, Step
from laoshan.brain.world_model import Person, Place, WorldModel, WorldObject
from laoshan.cerebellum.beside import Beside
from laoshan.executive.hands import GRASP_FROM
from laoshan.executive.look import Observer, look_around, stand_and_look
from laoshan.executive.loop import LoopStats, drive
from laoshan.executive.registry import Job, skills_for
from laoshan.executive.skill import Context, Skill, run_skills
from laoshan.executive.walking import walk_outcome, walk_to
from laoshan.limbs.ik import UnreachableTarget
from laoshan.port.messages import LowState

LOOK_S = 0.5
LOOK_AROUND_YAW_RAD = (0.6, -0.6, 0.0)   # looking around, the torso turns left, right and back (waist yaw)
HAND_JOBS = ("open", "close", "press")     # the skills done at a thing on the map (a plan of them does only that)

Planner = Callable[[str, WorldModel, float], Plan | Refusal | Question]
"""An instruction, the world model and the sensor clock [s] -> a validated plan, a refusal or a question."""


@dataclass
class Execution:
    """What carrying an instruction out came to, as the robot saw it."""

    plan: Plan | None
    answer: str | None                  # a refusal or a question (no plan), or why it declined or gave up
    seen: tuple[str, ...]               # what the robot saw: "red-1 box at (x, y, z)"
    outcomes: tuple[tuple[str, str], ...]   # (what it tried, what came of it as the camera saw it)
    verified: bool                      # every skill's effect was seen done
    plan_ms: float                      # time spent planning (beside the loop)
    state: LowState                     # the last state
    skills: tuple[Skill, ...] = ()      # the skills that ran (none: declined, or nothing for the hands)
    target: WorldObject | None = None   # what the plan picked (the last, if several), as last seen
    place: Place | None = None          # ... and where it put it
    person: Person | None = None        # ... or whom it handed it to
    loop: LoopStats | None = None       # the skills' control loop (the last object's)
    moved: tuple[tuple[WorldObject, Place | None, Person | None], ...] = ()   # every object handled, in order:
                                                                             # (it, where it went, to whom)


def think(ctx: Context, state: LowState, work: Callable[[], object],
          observe: Observer | None) -> tuple[object, LowState]:
    """``work()``'s result, the robot balancing beside it (on a real-time port) until it is done."""
    beside = Beside(work, threaded=ctx.port.realtime)
    while not beside.done:
        state = ctx.port.step(ctx.controller(state))
        if observe:
            observe(state)
    return beside.result(), state


def follow(ctx: Context, instruction: str, planner: Planner, state: LowState, until_s: float,
           observe: Observer | None = None, progress: Callable[[int], None] | None = None) -> Execution:
    """Look, plan and act on ``ctx``'s port from ``state``, the skills running until the robot's clock
    reads ``until_s`` at most."""
    port, controller, world = ctx.port, ctx.controller, ctx.world
    controller.plan_beside = port.realtime          # arm paths too are planned beside a real-time loop
    state, seen = stand_and_look(port, controller, state, LOOK_S, observe)
    world.update(seen)
    world.robot_xy_m = (float(controller.locomotion.state.p_world_base_m[0]),
                        float(controller.locomotion.state.p_world_base_m[1]))
    planning_ms = [0.0]

    def plan(state: LowState) -> tuple[Plan | Refusal | Question, LowState]:
        """The instruction planned on the world model as it is now (beside the loop)."""
        start = time.perf_counter()

        def work() -> Plan | Refusal | Question:
            try:
                return planner(instruction, world, state.time_s)
            except PlanError as exc:
                return Refusal(str(exc))

        answer, state = think(ctx, state, work, observe)
        planning_ms[0] += (time.perf_counter() - start) * 1e3
        return answer, state  # type: ignore[return-value]

    answer, state = plan(state)
    looked: list[tuple[str, str]] = []              # the look-around's outcome, if the plan begins with one
    if isinstance(answer, Plan) and isinstance(answer.steps[0], LookAround):
        state, views = look_around(port, controller, state, LOOK_AROUND_YAW_RAD, LOOK_S, observe)
        for view in views:
            world.update(view)
        world.looked_around_s = state.time_s
        looked.append(("look around (torso left, right, back)",
                       "saw " + (", ".join(o.describe() for o in world.objects) or "no objects")))
        if answer.replan and not controller.locomotion.fallen:     # what it looked for may be in view now
            answer, state = plan(state)
        if isinstance(answer, Plan):
            answer = Plan((LookAround(), *(s for s in answer.steps if not isinstance(s, LookAround))))
    seen_text = world.seen()

    if not isinstance(answer, Plan):                         # nothing (beyond looking around) done: why
        why = answer.reason if isinstance(answer, Refusal) else answer.text
        return Execution(None, why, seen_text, tuple(looked), False, planning_ms[0], state)
    spoken = [(f"say {s.text!r}", "said") for s in answer.steps if isinstance(s, Say)]   # (to a speaker)
    if all(isinstance(s, Look | LookAround | Say) for s in answer.steps):   # nothing to do with the hands
        return Execution(answer, None, seen_text, (*looked, *spoken), True, planning_ms[0], state)
    if isinstance(answer.steps[0], Look):                    # the world model is out of date: refresh it
        state, seen = stand_and_look(port, controller, state, port.time_s + LOOK_S, observe)
        world.update(seen)
    if any(s.skill in HAND_JOBS for s in answer.steps):
        return _hand_jobs(ctx, answer, state, until_s, looked, spoken, seen_text, planning_ms[0], observe, progress)
    return _objects_in_turn(ctx, answer, state, until_s, looked, spoken, seen_text, planning_ms[0], observe, progress)


def _hand_jobs(ctx: Context, answer: Plan, state: LowState, until_s: float, looked: list, spoken: list,
               seen_text: tuple[str, ...], plan_ms: float, observe: Observer | None,
               progress: Callable[[int], None] | None) -> Execution:
    """Open, close and press, each skill in the plan's order."""
    controller = ctx.controller
    if any(not isinstance(s, Look | LookAround | Say) and s.skill not in HAND_JOBS for s in answer.steps):
        return Execution(answer, "a plan that opens, closes or presses something does only that, for now",
                         seen_text, tuple(looked), False, plan_ms, state)
    rest = {side: np.linalg.inv(controller.heading_frame()) @ controller.hand_pose(side)   # standing
            for side in ("left", "right")}
    skills = skills_for(Job(ctx, answer, rest=rest))
    state, loop = run_skills(ctx, state, list(skills), until_s, observe, progress)
    gave_up = next((j.gave_up for j in skills if j.gave_up), None)
    return Execution(answer, gave_up, seen_text, (*looked, *(x for j in skills for x in j.outcomes), *spoken),
                     all(j.verified for j in skills), plan_ms, state, tuple(skills), loop=loop)


def _objects_in_turn(ctx: Context, answer: Plan, state: LowState, until_s: float, looked: list, spoken: list,
                     seen_text: tuple[str, ...], plan_ms: float, observe: Observer | None,
                     progress: Callable[[int], None] | None) -> Execution:
    """Each object of the plan in turn (its pick and its place or hand-over), stopping at the first
    that is not seen done."""
    groups: list[list[Step]] = []
    for step in answer.steps:
        if isinstance(step, Pick):
            groups.append([step])
        elif groups and not isinstance(step, Look | LookAround | Say):
            groups[-1].append(step)
    outcomes: list[tuple[str, str]] = []
    skills: list[Skill] = []
    moved: list[tuple[WorldObject, Place | None, Person | None]] = []
    controller = ctx.controller
    rest = {side: np.linalg.inv(controller.heading_frame()) @ controller.hand_pose(side) for side in ("left", "right")}
    for k, group in enumerate(groups):
        if k:                                    # the hands back to their posture before walking on
            state = _hands_to_rest(ctx, state, rest, observe)
        done = _pick_and_place(ctx, Plan(tuple(group)), state, until_s, looked if k == 0 else [],
                               spoken if k == len(groups) - 1 else [], seen_text, plan_ms, observe, progress)
        state = done.state
        outcomes += done.outcomes
        skills += done.skills
        if done.target is not None:
            moved.append((done.target, done.place, done.person))
        if not done.verified or done.answer is not None or ctx.controller.locomotion.fallen:
            break
    verified = done.verified and len(moved) == len(groups)
    return Execution(answer, done.answer, seen_text, tuple(outcomes), verified, plan_ms, state, tuple(skills),
                     done.target, done.place, done.person, done.loop, tuple(moved))


def _hands_to_rest(ctx: Context, state: LowState, rest: dict[str, np.ndarray], observe: Observer | None,
                   timeout_s: float = 4.0) -> LowState:
    """Both hands back to their standing posture (``rest``: 4x4, heading frame), balancing until
    they are there (or ``timeout_s``), then free."""
    controller = ctx.controller
    for side, X_heading_hand in rest.items():
        try:
            controller.reach(side, controller.heading_frame() @ X_heading_hand)
        except UnreachableTarget:                # the arm finds its posture itself
            controller.release(side)
    until_s = state.time_s + timeout_s
    while state.time_s < until_s and any(side in controller.motions and not controller.arrived(side, state.time_s)
                                         for side in rest):
        state = ctx.port.step(controller(state))
        if observe:
            observe(state)
    for side in rest:
        controller.release(side)
    return state


def _pick_and_place(ctx: Context, answer: Plan, state: LowState, until_s: float, looked: list, spoken: list,
                    seen_text: tuple[str, ...], plan_ms: float, observe: Observer | None,
                    progress: Callable[[int], None] | None) -> Execution:
    """Pick an object (walking to it first if it is out of reach), then place it or hand it over."""
    port, controller, world, config = ctx.port, ctx.controller, ctx.world, ctx.config
    pick = next(s for s in answer.steps if isinstance(s, Pick))
    place = next((world.place(s.place) for s in answer.steps if isinstance(s, PlaceAt)), None)
    person = next((world.person(s.person) for s in answer.steps if isinstance(s, HandOver)), None)
    target = world.get(pick.object)
    assert target is not None                        # the plan was validated
    walked = list(looked)

    def declined(why: str) -> Execution:
        return Execution(answer, why, seen_text, tuple(walked), False, plan_ms, state, target=target, place=place,
                         person=person)

    if person is not None and target.kind == "box":
        return declined("I hand over only what one hand holds (a can, a ball), not the box")
    base_xy = controller.locomotion.state.p_world_base_m[:2].copy()
    reach = float(np.linalg.norm(target.p_world_m[:2] - base_xy))
    if reach > config.reach_m:
        stand_xy = target.p_world_m[:2] - np.array(GRASP_FROM[target.kind])
        walk = float(np.linalg.norm(stand_xy - base_xy))
        if walk > config.max_walk_m:
            return declined(f"the {target.describe()} is {reach:.2f} m away and the spot to grasp it from "
                            f"{walk:.2f} m: too far to walk to along the table")
        state, walk_to_it, _ = walk_to(port, state, controller.locomotion, tuple(stand_xy), config.walk_timeout_s,
                                       controller, observe, progress)
        walked.append((f"walk to ({stand_xy[0]:.2f}, {stand_xy[1]:.2f})", walk_outcome(walk_to_it)))
        if controller.locomotion.fallen or not walk_to_it.done:
            return declined("could not walk to it")
        world.robot_moved(float(np.linalg.norm(controller.locomotion.state.p_world_base_m[:2] - base_xy)))
        state, seen = stand_and_look(port, controller, state, port.time_s + LOOK_S, observe)
        world.update(seen)
        again = [o for o in world.find(target.colour, target.kind) if seen and o.seen_s == seen[0].time_s]
        if not again:
            return declined(f"lost sight of the {pick.object} after walking")
        target = again[0]
    skills = skills_for(Job(ctx, answer, target, place, person))
    state, loop = run_skills(ctx, state, list(skills), until_s, observe, progress)
    gave_up = next((s.gave_up for s in skills if s.gave_up), None)
    return Execution(answer, gave_up, seen_text, (*walked, *(o for s in skills for o in s.outcomes), *spoken),
                     all(s.verified for s in skills), plan_ms, state, tuple(skills), target, place, person, loop)


def keep_balancing(ctx: Context, state: LowState, seconds: float, observe: Observer | None = None,
                   progress: Callable[[int], None] | None = None) -> tuple[LowState, LoopStats]:
    """Balance (the plan done) for ``seconds``."""
    ticks = int(round(seconds / ctx.port.control_dt_s))
    return drive(ctx.port, state, ticks, lambda k, s: ctx.controller(s), observe=observe, progress=progress)
