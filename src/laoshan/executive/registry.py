"""The skill registry: which skills carry out each kind of plan step.

A builder turns one step of a validated plan into the skills that do it, given the :class:`Job`
(the context, the plan, and what the executive resolved before acting: the object as last seen,
the place or person it goes to, the hands' rest poses). Steps done by the executive itself
(looking, saying) and steps another step's skill already does (a box's place is part of its
two-hand pick) build nothing. A new skill registers here and the executive runs it.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from laoshan.brain.planner import Plan
from laoshan.brain.plans import Step
from laoshan.brain.world_model import Person, Place, WorldObject
from laoshan.executive.fixtures import Operate, Press
from laoshan.executive.hands import (BOX_HALF_M, BOX_MASS_KG, HELD_MASS_KG, Palm, PickAttempts, PlaceHeld,
                                     Station)
from laoshan.executive.skill import Context, Skill
from laoshan.limbs.grasp import BoxPick, BoxPickConfig, PowerGrasp
from laoshan.limbs.sequence import HandSequence


@dataclass
class Job:
    """A plan about to be carried out, and what the executive resolved for it."""

    ctx: Context
    plan: Plan
    target: WorldObject | None = None            # the object picked, as last seen
    place: Place | None = None                   # where it goes ...
    person: Person | None = None                 # ... or whom it goes to
    rest: dict[str, np.ndarray] = field(default_factory=dict)   # each hand at its posture (4x4, heading frame)


Builder = Callable[[Job, Step], list[Skill]]
_BUILDERS: dict[str, Builder] = {}


def register(*skills: str) -> Callable[[Builder], Builder]:
    """Register a builder for these step kinds."""
    def add(builder: Builder) -> Builder:
        for name in skills:
            if name in _BUILDERS:
                raise ValueError(f"a builder for {name!r} steps is registered already")
            _BUILDERS[name] = builder
        return builder
    return add


def skills_for(job: Job) -> list[Skill]:
    """The skills that carry out ``job.plan``, in its order."""
    missing = sorted({s.skill for s in job.plan.steps} - set(_BUILDERS))
    if missing:
        raise KeyError(f"no skill carries out {', '.join(missing)} steps; registered: {', '.join(sorted(_BUILDERS))}")
    return [skill for step in job.plan.steps for skill in _BUILDERS[step.skill](job, step)]


@register("look", "look_around", "say")
def _by_the_executive(job: Job, step: Step) -> list[Skill]:
    return []          # looking and speaking are the executive's own, before the skills run


@register("open", "close")
def _operate(job: Job, step: Step) -> list[Skill]:
    return [Operate(job.ctx, job.ctx.world.fixture(step["fixture"]), step.skill, job.rest)]


@register("press")
def _press(job: Job, step: Step) -> list[Skill]:
    return [Press(job.ctx, job.ctx.world.switch(step["button"]), job.rest)]


@register("pick")
def _pick(job: Job, step: Step) -> list[Skill]:
    """A box with both hands (placed in the same motion, if the plan places it); anything else in
    the right Dex3 hand. Retried from where the camera sees it."""
    target, controller = job.target, job.ctx.controller
    assert target is not None                      # resolved by the executive
    if target.kind != "box":
        radius = float(target.size_m[0]) / 2
        task = PickAttempts(job.ctx, target.colour, None,
                            lambda p, _grip: PowerGrasp(controller, p, radius, HELD_MASS_KG))
    else:
        place = job.place

        def box_pick(p_box: np.ndarray, grip: BoxPickConfig | None) -> HandSequence:
            T_box = np.eye(4)
            T_box[:3, 3] = p_box
            T_place = None
            if place is not None:
                T_place = T_box.copy()
                T_place[:2, 3] = place.xy_m
            return BoxPick(controller, T_box, BOX_HALF_M, BOX_MASS_KG, grip, T_place)

        task = PickAttempts(job.ctx, target.colour, place, box_pick)
    task.begin(target, job.ctx.config.first_grip)
    return [task]


@register("place", "hand_over")
def _set_down(job: Job, step: Step) -> list[Skill]:
    """A held can or ball carried to a station or a person's open hand and set down there (a box's
    place is its pick's)."""
    target = job.target
    assert target is not None
    if target.kind == "box":
        return []
    to = Station(job.place, job.ctx.site) if job.place is not None else Palm(job.person)  # type: ignore[arg-type]
    return [PlaceHeld(job.ctx, target, to, float(target.size_m[2]))]
