"""Skills: one protocol for everything the executive carries out, and the loop that runs them.

A skill is started once and then ticked before every control tick on the robot's ``LowState``;
it does its work by setting goals on the one whole-body controller (hand poses and grips, walking,
the waist), which turns them into the tick's ``LowCmd``, so that balance arbitrates every skill.
Its verdict says whether it is still running, has verified its effect (with the camera) or has
given up and why; ``outcomes`` lists (what it tried, what came of it) for the report.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from laoshan.brain.world_model import WorldModel
from laoshan.executive.look import CameraLost, Observer
from laoshan.executive.loop import LoopStats, drive
from laoshan.limbs.grasp import BoxPickConfig
from laoshan.limbs.reach import ReachController
from laoshan.port.base import RobotPort
from laoshan.port.messages import LowCmd, LowState

RUNNING, DONE, GAVE_UP = "running", "done", "gave up"


@dataclass(frozen=True)
class ExecutiveConfig:
    """How the executive carries plans out."""

    place_tolerance_m: float = 0.02     # a placed object seen this close to its place is done
    lift_goal_m: float = 0.08           # a picked object seen at least this much higher is done
    attempts: int = 2                   # tries, each checked with the camera, before giving up
    first_grip: BoxPickConfig | None = None   # the first try's grip (a test forces a failed grasp with it)
    reach_m: float = 0.5                # objects farther from the base (horizontally) are walked to ...
    max_walk_m: float = 0.5             # ... if the spot to grasp them from is this close (a side-step)
    walk_timeout_s: float = 15.0        # a walk not arrived by then has failed


@dataclass(frozen=True)
class SiteMap:
    """What the site's map tells the robot beyond the world model's places and fixtures: the work
    table's top height and its near edge (x), against which the odometry is checked once seen."""

    table_top_z_m: float = 0.70
    table_front_x_m: float = 0.45


@dataclass
class Context:
    """What every skill works with: the robot's port, its whole-body controller and world model."""

    port: RobotPort
    controller: ReachController
    world: WorldModel
    config: ExecutiveConfig
    site: SiteMap


class Skill(Protocol):
    """What the executive runs: started once, ticked before every control tick, judged by its verdict."""

    outcomes: list[tuple[str, str]]     # (what was tried, what came of it), in order
    verified: bool                      # its effect was seen done
    gave_up: str | None                 # why it stopped short (None: it has not)

    def start(self, state: LowState) -> None:
        """Begin (the state is the robot's as the skill's turn comes)."""
        ...

    def tick(self, state: LowState) -> None:
        """Advance on the tick's state, before the controller computes the tick's command."""
        ...


def verdict(skill: Skill) -> str:
    """RUNNING, DONE (verified) or GAVE_UP."""
    return DONE if skill.verified else GAVE_UP if skill.gave_up is not None else RUNNING


class SkillBase:
    """The bookkeeping every skill shares."""

    def __init__(self) -> None:
        self.outcomes: list[tuple[str, str]] = []
        self.verified = False
        self.gave_up: str | None = None

    def start(self, state: LowState) -> None:
        """Nothing to do before the first tick (skills that need to, say so)."""


def run_skills(ctx: Context, state: LowState, skills: list[Skill], until_s: float,
               observe: Observer | None = None, progress: Callable[[int], None] | None = None,
               ) -> tuple[LowState, LoopStats]:
    """Run ``skills`` in order, each started when the one before is verified and ticked until it
    is, until one gives up or the robot's clock reads ``until_s``. A lost camera stops the skill
    that needed it (category 2: the robot keeps balancing)."""
    started: set[int] = set()

    def act(k: int, state: LowState) -> LowCmd:
        i = next((i for i, s in enumerate(skills) if not s.verified), None)
        if i is not None and skills[i].gave_up is None:
            skill = skills[i]
            try:
                if i not in started:
                    started.add(i)
                    skill.start(state)
                skill.tick(state)
            except CameraLost as exc:
                skill.gave_up = str(exc)
        return ctx.controller(state)

    ticks = max(0, int(round((until_s - state.time_s) / ctx.port.control_dt_s)))
    return drive(ctx.port, state, ticks, act, observe=observe, progress=progress,
                 stop=lambda s: all(x.verified for x in skills) or any(x.gave_up for x in skills))
