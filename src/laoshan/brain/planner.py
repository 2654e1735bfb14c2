"""Task planning: an instruction in Chinese or English becomes a validated plan over the skills.

Harm is refused before any planner sees the instruction (:mod:`laoshan.brain.screening`), and the
offline planner plans only an instruction whose every word it accounts for. Offline by default: a
small bilingual parser finds the actions (pick, put, open, close), the objects (colour and
kind) and the places in each clause ("先…再…", "then", "，"), and grounds them in the world model.
An instruction naming something the robot has not seen, or a place it does not know, is refused
with the reason; one that fits more than one object gets a clarifying question; an object the
world model knows too poorly (seen long ago, or before the robot walked) is looked at first. An optional LLM
backend (any OpenAI-compatible chat endpoint, by URL) proposes plans as JSON; they go through the
same validation and are never trusted blindly.

A plan is JSON: ``{"steps": [{"skill": "pick", "object": "red-1"}, {"skill": "place", "place":
"station 2"}]}``; skills: look (look again, refreshing the world model), look_around (turn the
torso left and right, looking: first in a plan; an object not seen yet is looked around for, and
the rest planned after that: ``"then": "replan"``), pick (an object id), place (a place name, the
held object), open (a fixture: a drawer or a door) and close (a drawer; hands free for both, and a
fixture must be closed to open it, open to close it), press (a button), hand_over (a person
holding out a hand, the held object), say (text).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from laoshan.brain.lexicon import (
    CLOSE_WORDS, COLOUR_WORDS, GIVE_WORDS, IT_WORDS, KIND_WORDS, LOOK_AROUND_WORDS, OPEN_WORDS, PICK_WORDS, PRESS_WORDS,
    PUT_WORDS, ZH_DIGITS,
)
from laoshan.brain.llm import LlmError, chat_json
from laoshan.brain.plans import SKILL_FIELDS, LookAround, Step, step_of
from laoshan.brain.screening import filler_only, harm_reason, unaccounted_words
from laoshan.brain.world_model import Fixture, Switch, WorldModel

SKILLS = SKILL_FIELDS                # skill -> its fields

CLOSES = ("drawer",)               # the kinds of fixture the limbs can close (a door's swing back: not yet)
CLAUSE_SPLIT = re.compile(r"\bthen\b|\band then\b|然后|再|之后|[，,;；。]")


class PlanError(ValueError):
    """A plan that does not hold: unknown skill, missing field, unknown object or place, wrong order."""


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]    # typed steps (laoshan.brain.plans), checked by validate_plan
    replan: bool = False       # the rest is planned once these steps are done: they look for what it needs

    def to_json(self) -> str:
        return json.dumps({"steps": [dict(s) for s in self.steps], **({"then": "replan"} if self.replan else {})},
                          ensure_ascii=False)


@dataclass(frozen=True)
class Refusal:
    reason: str


@dataclass(frozen=True)
class Question:
    text: str                            # a clarifying question to ask back
    options: tuple[str, ...]             # object ids it could mean


def validate_plan(data: Any, world: WorldModel, time_s: float | None = None) -> Plan:
    """Check a proposed plan (parsed JSON) against the skills and the world model as of ``time_s``
    (the sensor clock; None: as of the last sightings); raise PlanError saying what is wrong."""
    if not isinstance(data, dict) or not isinstance(data.get("steps"), list) or not data["steps"]:
        raise PlanError('a plan is an object with a non-empty "steps" list')
    holding: str | None = None
    looked = False
    is_open = {f.name: f.is_open for f in world.fixtures}    # as the plan goes: its effects so far
    steps = []
    for i, step in enumerate(data["steps"]):
        if not isinstance(step, Mapping) or step.get("skill") not in SKILLS:
            raise PlanError(f"step {i}: skill must be one of {sorted(SKILLS)}, got {step!r}")
        skill = step["skill"]
        extra = set(step) - {"skill", *SKILLS[skill]}
        if extra:
            raise PlanError(f"step {i} ({skill}): unknown field(s) {sorted(extra)}")
        for key in SKILLS[skill]:
            if not isinstance(step.get(key), str) or not step[key]:
                raise PlanError(f"step {i} ({skill}): needs a text field {key!r}")
        if skill == "look_around" and i > 0:
            raise PlanError(f"step {i}: look_around comes first (the torso turns with empty hands), for now")
        if skill == "pick":
            if holding is not None:
                raise PlanError(f"step {i}: already holding {holding}")
            target = world.get(step["object"])
            if target is None:
                raise PlanError(f"step {i}: no object {step['object']!r} in the world model")
            if not looked and world.needs_look(target, time_s):
                sigma = world.sigma_at(target, time_s)
                raise PlanError(f"step {i}: {target.id} is known only to ±{sigma * 100:.1f} cm: look first")
            holding = step["object"]
        elif skill in ("place", "hand_over") and holding is None:
            raise PlanError(f"step {i}: nothing in hand to {skill.replace('_', ' ')}")
        elif skill == "place":
            place = world.place(step["place"])
            if place is None:
                raise PlanError(f"step {i}: unknown place {step['place']!r}")
            taken = world.occupant(place, other_than=holding)
            if taken is not None:
                raise PlanError(f"step {i}: {place.name} is taken by the {taken.describe()} ({taken.id})")
            holding = None
        elif skill == "hand_over":
            person = world.person(step["person"])
            if person is None:
                raise PlanError(f"step {i}: no person {step['person']!r} in the world model")
            if person.hand_m is None:
                raise PlanError(f"step {i}: {person.id} is not holding out a hand")
            holding = None
        elif skill in ("open", "close"):
            fixture = _known(world.fixture(step["fixture"]), i, "fixture", step["fixture"], world.fixtures)
            if holding is not None:
                raise PlanError(f"step {i}: hands are not free to {skill} the {fixture.name}: holding {holding}")
            if skill == "close" and fixture.kind not in CLOSES:
                raise PlanError(f"step {i}: closing a {fixture.kind} is not among my skills yet")
            if is_open[fixture.name] == (skill == "open"):
                raise PlanError(f"step {i}: the {fixture.name} is already {'open' if skill == 'open' else 'closed'}")
            is_open[fixture.name] = skill == "open"
        elif skill == "press":
            switch = _known(world.switch(step["button"]), i, "button", step["button"], world.switches)
            if holding is not None:
                raise PlanError(f"step {i}: a hand is not free to press the {switch.name}: holding {holding}")
        looked = looked or skill in ("look", "look_around")
        steps.append(step_of(step))
    return Plan(tuple(steps))


Known = TypeVar("Known", Fixture, Switch)


def _known(found: Known | None, i: int, what: str, name: str, all_of_them: tuple[Known, ...]) -> Known:
    """``found``, the fixture or button step ``i`` names as ``name``; a PlanError listing those the
    world model knows if there is none."""
    if found is None:
        known = ", ".join(t.name for t in all_of_them) or "none"
        raise PlanError(f"step {i}: no {what} {name!r} (I know {known})")
    return found


def _contains(text: str, words: tuple[str, ...]) -> bool:
    return any((w in text) if not w.isascii() else re.search(rf"\b{re.escape(w.strip())}", text) for w in words)


def _place_name(clause: str, world: WorldModel) -> str | None:
    """The place a clause names, as the world model calls it."""
    for zh, digit in ZH_DIGITS.items():
        clause = clause.replace(f"{zh}号", f"{digit}号")
    m = re.search(r"station\s*(\d+)|(\d+)\s*号\s*(?:工位|站)|工位\s*(\d+)", clause)
    if m:
        number = next(g for g in m.groups() if g)
        return f"station {number}"
    for place in world.places:
        if any(alias in clause for alias in (place.name, *place.aliases)):
            return place.name
    return None


def _pick(world: WorldModel, colour: str | None, kind: str | None, holding: str | None, time_s: float | None,
          steps: list[dict[str, Any]]) -> Plan | Refusal | Question | None:
    """Add the steps that pick the one object of ``colour`` and ``kind`` (looking first if it is
    known too poorly) unless it is held already; or say why not. Not seen: look around first and
    plan again, if the robot has not looked around yet."""
    matches = world.find(colour, kind)
    wanted = " ".join(w for w in (colour, kind) if w) or "object"
    if not matches:
        if world.looked_around_s is None:
            return Plan((LookAround(),), replan=True)
        seen = ", ".join(o.describe() for o in world.objects) or "nothing"
        return Refusal(f"I see no {wanted} (I see {seen}, having looked around)")
    if len(matches) > 1:
        return Question(f"Which {wanted} do you mean: " + ", ".join(o.id for o in matches) + "?",
                        tuple(o.id for o in matches))
    if holding != matches[0].id:
        if holding is not None:
            return Refusal(f"I can hold one thing at a time and already hold {holding}")
        if world.needs_look(matches[0], time_s) and {"skill": "look"} not in steps:
            steps.append({"skill": "look"})
        steps.append({"skill": "pick", "object": matches[0].id})
    return None


def plan_offline(instruction: str, world: WorldModel, time_s: float | None = None) -> Plan | Refusal | Question:
    """The built-in bilingual parser and symbolic planner, as of ``time_s`` (the sensor clock;
    None: as of the last sightings)."""
    text = instruction.strip().lower().replace("先", "")
    if not text:
        return Refusal("the instruction is empty")
    harm = harm_reason(instruction)
    if harm is not None:
        return Refusal(harm)
    answer = _plan_clauses(text, instruction, world, time_s)
    unknown = unaccounted_words(instruction, world)
    if unknown and not isinstance(answer, Refusal):       # a plan for part of what was said is no plan
        return Refusal(f"I do not understand {', '.join(repr(w) for w in dict.fromkeys(unknown))} in "
                       f"{instruction.strip()!r}; please say it another way")
    return answer


def _plan_clauses(text: str, instruction: str, world: WorldModel,
                  time_s: float | None) -> Plan | Refusal | Question:
    """The plan for ``text`` (the instruction lower-cased), clause by clause."""
    steps: list[dict[str, Any]] = []
    holding: str | None = None
    fixture: str | None = None                   # the fixture last named ("open the drawer, then close it")
    for clause in (c.strip() for c in CLAUSE_SPLIT.split(text)):
        if not clause or filler_only(clause):        # "…，谢谢": nothing to do, nothing dropped
            continue
        if _contains(clause, LOOK_AROUND_WORDS):
            if steps:
                return Refusal("I look around first, before anything else, for now")
            steps.append({"skill": "look_around"})
            continue
        colour = next((c for c, words in COLOUR_WORDS.items() if _contains(clause, words)), None)
        kind = next((k for k, words in KIND_WORDS.items() if _contains(clause, words)), None)
        put, pick = _contains(clause, PUT_WORDS), _contains(clause, PICK_WORDS)
        switch = next((s.name for s in world.switches if _contains(clause, (s.name, *s.aliases))), None)
        named = next((f.name for f in world.fixtures if _contains(clause, (f.name, *f.aliases))), None)
        if switch is not None or (_contains(clause, PRESS_WORDS) and not (named or colour or kind)):
            if switch is None:
                known = ", ".join(s.name for s in world.switches) or "nothing"
                return Refusal(f"I do not know what to press in {clause!r} (I know: {known})")
            if kind or put or pick or named:                 # (a colour may be the cap's: "the red button")
                return Refusal(f"I do not understand {clause!r}: one thing at a time, please (first …, then …)")
            steps.append({"skill": "press", "button": switch})
            continue
        if _contains(clause, GIVE_WORDS):
            if colour or kind:
                answer = _pick(world, colour, kind, holding, time_s, steps)
                if answer is not None:
                    return answer
                holding = steps[-1]["object"] if steps[-1]["skill"] == "pick" else holding
            elif holding is None:
                return Refusal(f"I do not know what to hand over in {clause!r}")
            if not world.people:
                if world.looked_around_s is None:           # someone may stand out of view
                    return Plan((LookAround(),), replan=True)
                return Refusal("I see nobody to hand it to, having looked around")
            if len(world.people) > 1:
                return Question("Whom do you mean: " + ", ".join(p.id for p in world.people) + "?",
                                tuple(p.id for p in world.people))
            steps.append({"skill": "hand_over", "person": world.people[0].id})
            holding = None
            continue
        operate = "open" if _contains(clause, OPEN_WORDS) else "close" if _contains(clause, CLOSE_WORDS) else None
        if operate is not None:
            if named is None and (fixture is None or colour or kind):
                known = ", ".join(f.name for f in world.fixtures) or "nothing"
                return Refusal(f"I do not know what to {operate} in {clause!r} (I know: {known})")
            if colour or kind or put or pick:
                return Refusal(f"I do not understand {clause!r}: one thing at a time, please (first …, then …)")
            fixture = named or fixture
            steps.append({"skill": operate, "fixture": fixture})
            continue
        if colour or kind:
            answer = _pick(world, colour, kind, holding, time_s, steps)
            if answer is not None:
                return answer
            holding = steps[-1]["object"] if steps[-1]["skill"] == "pick" else holding
        elif not _contains(clause, IT_WORDS) and (pick or put):
            if holding is None:
                return Refusal(f"I do not know what to {'put' if put else 'pick'} in {clause!r}")
        if put:
            place = _place_name(clause, world)
            if place is None or world.place(place) is None:
                known = ", ".join(p.name for p in world.places)
                return Refusal(f"I do not know where {clause!r} is (I know {known})")
            if holding is None:
                return Refusal(f"I do not know what to put at {place}")
            steps.append({"skill": "place", "place": place})
            holding = None
        elif not pick and not (colour or kind):
            return Refusal(f"I do not understand {clause!r}")
    if not steps:
        return Refusal(f"I found nothing to do in {instruction!r}")
    try:
        return validate_plan({"steps": steps}, world, time_s)
    except PlanError as exc:               # a step that cannot be done as things are (a taken place, a shut drawer)
        return Refusal(str(exc))


@dataclass(frozen=True)
class LlmPlanner:
    """Plans from an OpenAI-compatible chat endpoint (``url`` ends in /chat/completions); every plan
    is parsed and validated, and a bad one raises PlanError."""

    url: str
    model: str = "default"
    timeout_s: float = 10.0

    def plan(self, instruction: str, world: WorldModel, time_s: float | None = None) -> Plan:
        harm = harm_reason(instruction)           # refused before the model is asked
        if harm is not None:
            raise PlanError(harm)
        objects = [{"id": o.id, "colour": o.colour, "kind": o.kind} for o in world.objects]
        people = [p.describe() for p in world.people]
        fixtures = [{"name": f.name, "kind": f.kind, "state": f.describe_state()} for f in world.fixtures]
        buttons = [{"name": s.name, "lamp": s.describe_state()} for s in world.switches]
        system = ("You plan for a humanoid robot. Answer with JSON only: {\"steps\": [...]}, each step one of "
                  f"{json.dumps({k: list(v) for k, v in SKILLS.items()})}. Objects: {json.dumps(objects)}. "
                  f"Places: {json.dumps([p.name for p in world.places])}. "
                  f"Fixtures: {json.dumps(fixtures, ensure_ascii=False)}. "
                  f"Buttons: {json.dumps(buttons, ensure_ascii=False)}. People: {json.dumps(people)}.")
        try:
            data = chat_json(self.url, system, instruction, self.model, self.timeout_s)
        except LlmError as exc:
            raise PlanError(str(exc)) from None
        return validate_plan(data, world, time_s)
