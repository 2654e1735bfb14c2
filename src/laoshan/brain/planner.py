"""Task planning: an instruction in Chinese or English becomes a validated plan over the skills.

Harm is refused before any planner sees the instruction (:mod:`laoshan.brain.screening`; a misspelt
word of harm is read as what it is), and the offline planner plans only an instruction whose every
word it accounts for. Offline by default: each word is tagged with what it means
(:mod:`laoshan.brain.language`), the instruction read as parts (:mod:`laoshan.brain.reading`:
"先…再…", "then", "and" before a verb, negation, ends and sides of the table, nearest, middle, next
to), and each part grounded in the world model here: the one object it describes (or a question
when several fit, or looking around when none is in view yet), the station by number, ordinal,
side or name (a question when two are named), the person to hand to, the fixture or button. A
request said twice is done once. What cannot be accounted for is refused with the words named; an
object the world model knows too poorly (seen long ago, or before the robot walked) is looked at
first. An optional LLM backend (any OpenAI-compatible chat endpoint, by URL) proposes plans as
JSON; they go through the same validation and are never trusted blindly.

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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

import numpy as np

from laoshan.brain.language import Vocabulary, tag, vocabulary
from laoshan.brain.llm import LlmError, chat_json
from laoshan.brain.plans import SKILL_FIELDS, LookAround, Step, step_of
from laoshan.brain.reading import Part, Ref, read
from laoshan.brain.screening import HARM_WORDS, harm_reason
from laoshan.brain.world_model import Fixture, Switch, WorldModel, WorldObject

SKILLS = SKILL_FIELDS                # skill -> its fields

CLOSES = ("drawer",)               # the kinds of fixture the limbs can close (a door's swing back: not yet)


class PlanError(ValueError):
    """A plan that does not hold: unknown skill, missing field, unknown object or place, wrong order."""


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]    # typed steps (laoshan.brain.plans), checked by validate_plan
    replan: bool = False       # the rest is planned once these steps are done: they look for what it needs

    def to_json(self) -> str:
        return json.dumps({"steps": [dict(s) for s in self.steps], **({"then": "replan"} if self.replan else {})},
                          ensure_ascii=False)


    def to_dict(self) -> dict[str, Any]:
        return {"plan": {"steps": [dict(s) for s in self.steps], **({"then": "replan"} if self.replan else {})}}


@dataclass(frozen=True)
class Refusal:
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"refusal": self.reason}


@dataclass(frozen=True)
class Question:
    text: str                            # a clarifying question to ask back
    options: tuple[str, ...]             # what it could mean: object ids, place names, person ids

    def to_dict(self) -> dict[str, Any]:
        return {"question": self.text, "options": list(self.options)}


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


def vocabulary_of(world: WorldModel) -> Vocabulary:
    """The lexicon with the names the world model knows (places, fixtures, buttons) and the words of
    harm (so that a misspelt one is read as what it is, and refused)."""
    names: list[tuple[str, tuple[str, str]]] = [(w, ("harm", w)) for w in HARM_WORDS if w.isascii()]
    for place in world.places:
        names += [(n, ("place", place.name)) for n in (place.name, *place.aliases)]
    for thing in (*world.fixtures, *world.switches):
        names += [(n, ("fixture_name", thing.name)) for n in (thing.name, *thing.aliases)]
    return _vocabulary(tuple(names))


@lru_cache(maxsize=16)
def _vocabulary(names: tuple[tuple[str, tuple[str, str]], ...]) -> Vocabulary:
    return vocabulary(names)


def plan_offline(instruction: str, world: WorldModel, time_s: float | None = None) -> Plan | Refusal | Question:
    """The built-in bilingual reader and symbolic planner, as of ``time_s`` (the sensor clock;
    None: as of the last sightings)."""
    if not instruction.strip():
        return Refusal("the instruction is empty")
    tokens = tag(instruction, vocabulary_of(world))
    read_as = " ".join(t.read_as or t.text for t in tokens)
    harm = harm_reason(instruction) or harm_reason(read_as)
    if harm is not None:
        return Refusal(harm)
    unknown = [t.text for t in tokens if t.kind == "unknown"]
    if unknown:                                    # a plan for part of what was said is no plan
        words = ", ".join(repr(w) for w in dict.fromkeys(unknown))
        acts = {t.value for t in tokens if t.kind == "act"}
        if len(acts) == 1 and acts <= {"open", "close", "press"} and not any(t.kind.startswith("fixture")
                                                                               for t in tokens):
            known = ", ".join(f.name for f in (*world.fixtures, *world.switches)) or "nothing"
            return Refusal(f"I do not know what to {acts.pop()} in {instruction.strip()!r}: I do not understand "
                           f"{words} (I know: {known})")
        return Refusal(f"I do not understand {words} in {instruction.strip()!r}; please say it another way")
    reading = read(tokens)
    if reading.alternatives == "place":
        return _where(world, "Which one place do you mean")
    if reading.alternatives == "object":
        return Question("Which one do you mean: " + ", ".join(o.id for o in world.objects) + "?",
                        tuple(o.id for o in world.objects))
    return _Grounding(world, time_s).plan(reading.parts, instruction.strip())


def _where(world: WorldModel, ask: str) -> Question | Refusal:
    if not world.places:
        return Refusal("I know no places to put things here")
    return Question(f"{ask}: " + ", ".join(p.name for p in world.places) + "?", tuple(p.name for p in world.places))


class _Grounding:
    """Parts of an instruction, in order, grounded in the world model as steps."""

    def __init__(self, world: WorldModel, time_s: float | None) -> None:
        self.world, self.time_s = world, time_s
        self.steps: list[dict[str, Any]] = []
        self.holding: WorldObject | None = None
        self.pending: WorldObject | None = None      # an object named without a verb ("the red box, put it …")
        self.fixture: str | None = None               # the fixture last named ("open the drawer, then close it")
        self.last: tuple | None = None                # what the part before did (a repeat is done once)
        self.not_colours: set[str] = set()
        self.not_kinds: set[str] = set()
        self.not_stations: set[str] = set()

    def plan(self, parts: list[Part], instruction: str) -> Plan | Refusal | Question:
        for p in parts:
            self.not_colours |= p.not_colours
            self.not_kinds |= p.not_kinds
            self.not_stations |= p.not_stations
        for k, p in enumerate(parts):         # "挪一下，挪到一号工位": the put without a place is a pick
            after = parts[k + 1] if k + 1 < len(parts) else None
            if (self._act(p) == "put" and not self._has_place(p) and after is not None
                    and self._act(after) == "put" and self._has_place(after) and not after.refs):
                p.acts = ["pick"]
        for p in parts:
            if p.exclusion_only:
                continue
            answer = self._part(p)
            if answer is not None:
                return answer
        if self.pending is not None and not self.steps:     # "not the red one, the green one"
            if not (self.not_colours or self.not_kinds):
                return Question(f"What should I do with the {self.pending.describe()}?", (self.pending.id,))
            self._pick(self.pending)
        if not self.steps:
            return Refusal(f"I found nothing to do in {instruction!r}")
        try:
            return validate_plan({"steps": self.steps}, self.world, self.time_s)
        except PlanError as exc:           # a step that cannot be done as things are (a taken place, a shut drawer)
            return Refusal(str(exc))

    @staticmethod
    def _act(p: Part) -> str | None:
        acts = set(p.acts)
        if "look_around" in acts:
            return "look_around"
        if acts & {"open", "close", "press"} and acts & {"pick", "put", "give"}:
            return "mixed"
        if "give" in acts or (p.person and acts & {"pick", "put"}):
            return "give"
        for act in ("close", "open", "press"):     # "push it back in": closing
            if act in acts:
                return act
        if "put" in acts or p.stations or p.places:
            return "put"
        return "pick" if "pick" in acts else None

    @staticmethod
    def _has_place(p: Part) -> bool:
        return bool(p.stations or p.places or p.place_sides())

    def _part(self, p: Part) -> Plan | Refusal | Question | None:
        act = self._act(p)
        if act == "mixed":
            return Refusal(f"I do not understand {p.text!r}: one thing at a time, please (first …, then …)")
        if act == "look_around":
            if self.steps:
                return Refusal("I look around first, before anything else, for now")
            self.steps.append({"skill": "look_around"})
            return None
        if len(p.refs) > 1:
            what = "put things on the stations, not on or in another object" if act == "put" else \
                "hold one thing at a time"
            return Refusal(f"I can {what} ({p.text!r})")
        if act in ("open", "close", "press"):
            return self._operate(p, act)
        if p.it and p.refs and self.fixture is not None:       # "open the drawer and put the red box in it"
            return Refusal(f"I can put things only on stations, not in the {self.fixture}: one thing at a time, "
                           "please (first …, then …)")
        if p.fixtures and not p.refs:                   # a fixture named with a verb for objects
            return Refusal(f"I do not understand {p.text!r}: I can open or close it, or press a button")
        if act is None:
            if p.refs:
                target = self._resolve(p.refs[0])
                if not isinstance(target, WorldObject):
                    return target
                self.pending = target
                return None
            if p.stations or p.it or p.person:
                return Refusal(f"I do not know what to do in {p.text!r}")
            return None                                 # nothing but fillers ("嗯", "thanks")
        target = self._object(p, act)
        if not isinstance(target, WorldObject):
            return target
        if act == "give":
            return self._give(p, target)
        if act == "pick":
            if p.stations:
                return Refusal(f"I do not understand the number in {p.text!r}")
            if self.last == ("pick", target.id):
                return None
            return self._pick(target)
        return self._put(p, target)

    def _object(self, p: Part, act: str) -> WorldObject | Plan | Refusal | Question:
        """What ``p`` acts on: the object it names, or "it" (what is held, or was named before), or
        what is held."""
        if p.refs:
            return self._resolve(p.refs[0])
        if act in ("put", "give") and self.holding is not None:
            return self.holding
        if self.pending is not None:
            return self.pending
        if act == "give" and self.last is not None and self.last[0] == "give":
            return self.world.get(self.last[1]) or Refusal("nothing to hand over")   # "…, 再递给我": a repeat
        verb = {"give": "hand over", "put": "put", "pick": "pick up"}[act]
        return Refusal(f"I do not know what to {verb} in {p.text!r}")

    def _resolve(self, ref: Ref) -> WorldObject | Plan | Refusal | Question:
        """The one object the world model has that ``ref`` describes (and no part excluded); or look
        around for it (not seen yet), a refusal (none), a question (several)."""
        world = self.world
        found = [o for o in world.find(ref.colour, ref.kind)
                 if o.colour not in self.not_colours and o.kind not in self.not_kinds]
        if ref.anchor is not None:
            anchor = self._resolve(ref.anchor)
            if not isinstance(anchor, WorldObject):
                return anchor
            found = [o for o in found if o.id != anchor.id]
            found = _pick_out(found, lambda o: float(np.linalg.norm(o.p_world_m[:2] - anchor.p_world_m[:2])),
                              relative=0.25)
        if ref.side is not None and found:
            sign = 1.0 if ref.side == "left" else -1.0            # the world's y points to the robot's left
            found = _pick_out(found, lambda o: -sign * float(o.p_world_m[1]), absolute=0.05)
        if ref.near and found:
            robot = np.array(world.robot_xy_m)
            found = _pick_out(found, lambda o: float(np.linalg.norm(o.p_world_m[:2] - robot)), absolute=0.05)
        if ref.middle and len(found) >= 3:
            ordered = sorted(found, key=lambda o: float(o.p_world_m[1]))
            found = [ordered[len(ordered) // 2]] if len(ordered) % 2 else found
        wanted = ref.wanted()
        if not found:
            if (ref.colour or ref.kind) and world.looked_around_s is None:
                return Plan((LookAround(),), replan=True)
            seen = ", ".join(o.describe() for o in world.objects) or "nothing"
            return Refusal(f"I see no {wanted} (I see {seen}" + (", having looked around)" if
                                                                   world.looked_around_s is not None else ")"))
        if len(found) > 1:
            return Question(f"Which {wanted} do you mean: " + ", ".join(o.id for o in found) + "?",
                            tuple(o.id for o in found))
        return found[0]

    def _pick(self, target: WorldObject) -> Refusal | None:
        if self.holding is not None and self.holding.id != target.id:
            return Refusal(f"I can hold one thing at a time and already hold {self.holding.id}")
        if self.holding is None:
            if self.world.needs_look(target, self.time_s) and {"skill": "look"} not in self.steps:
                self.steps.append({"skill": "look"})
            self.steps.append({"skill": "pick", "object": target.id})
        self.holding, self.pending, self.last = target, None, ("pick", target.id)
        return None

    def _put(self, p: Part, target: WorldObject) -> Refusal | Question | None:
        world = self.world
        named = [*(f"station {n}" for n in p.stations if n not in self.not_stations), *p.places]
        named += [place.name for side in p.place_sides() if (place := world.place(side)) is not None]
        unknown = [n for n in named if world.place(n) is None]
        if unknown:
            known = ", ".join(pl.name for pl in world.places) or "none here"
            return Refusal(f"I do not know {unknown[0]!r} (I know {known})")
        named = list(dict.fromkeys(world.place(n).name for n in named))     # type: ignore[union-attr]
        if len(named) > 1:
            return Question("Which one place do you mean: " + ", ".join(named) + "?", tuple(named))
        if not named:
            return _where(world, f"Where should I put the {target.describe()}")
        if self.last == ("put", target.id, named[0]):
            return None
        refused = self._pick(target)
        if refused is not None:
            return refused
        self.steps.append({"skill": "place", "place": named[0]})
        self.holding, self.last = None, ("put", target.id, named[0])
        return None

    def _give(self, p: Part, target: WorldObject) -> Plan | Refusal | Question | None:
        world = self.world
        if self.last == ("give", target.id):            # "hand me the can, then hand me the can"
            return None
        if not world.people:
            if world.looked_around_s is None:           # someone may stand out of view
                return Plan((LookAround(),), replan=True)
            return Refusal("I see nobody to hand it to, having looked around")
        if len(world.people) > 1:
            return Question("Whom do you mean: " + ", ".join(q.id for q in world.people) + "?",
                            tuple(q.id for q in world.people))
        refused = self._pick(target)
        if refused is not None:
            return refused
        self.steps.append({"skill": "hand_over", "person": world.people[0].id})
        self.holding, self.last = None, ("give", target.id)
        return None

    def _operate(self, p: Part, act: str) -> Refusal | Question | None:
        world = self.world
        if p.refs and not p.fixtures:
            things = "buttons" if act == "press" else "drawers and doors"
            return Refusal(f"I can {act} only {things}, not the {p.refs[0].wanted()}")
        names: list[str] = []
        for kind, value in p.fixtures:
            if kind == "fixture_name":
                names.append(value)
                continue
            things = world.switches if value == "button" else [f for f in world.fixtures if f.kind == value]
            if not things:
                known = ", ".join(f.name for f in (*world.fixtures, *world.switches)) or "nothing"
                return Refusal(f"I see no {value} here (I know: {known})")
            if len(things) > 1:
                return Question(f"Which {value} do you mean: " + ", ".join(t.name for t in things) + "?",
                                tuple(t.name for t in things))
            names.append(things[0].name)
        names = list(dict.fromkeys(names))
        if not names and self.fixture is not None:      # "…, then close it", "再关上": the one named before
            names = [self.fixture]
        if not names:
            known = ", ".join(f.name for f in (*world.fixtures, *world.switches)) or "nothing"
            return Refusal(f"I do not know what to {act} in {p.text!r} (I know: {known})")
        if len(names) > 1:
            return Refusal(f"I do not understand {p.text!r}: one thing at a time, please (first …, then …)")
        name = names[0]
        switch = world.switch(name)
        if switch is not None:
            colour = next((r.colour for r in p.refs if r.colour), None)
            if colour is not None and colour != switch.cap_colour:
                return Refusal(f"the {switch.name} is {switch.cap_colour}; I see no {colour} one")
            act = "press"
        elif act == "press":
            return Refusal(f"I do not understand {p.text!r}: I open or close the {name}, I press buttons")
        if self.holding is not None:
            return Refusal(f"my hands are not free to {act} the {name}: holding {self.holding.id}")
        self.steps.append({"skill": act, **({"button": name} if act == "press" else {"fixture": name})})
        self.fixture, self.last = (self.fixture if act == "press" else name), (act, name)
        return None


def _pick_out(found: list[WorldObject], measure: Callable[[WorldObject], float], absolute: float = 0.0,
              relative: float = 0.0) -> list[WorldObject]:
    """The object least by ``measure``; all those within ``absolute`` [m] or ``relative`` of it (too
    close to tell apart)."""
    if not found:
        return found
    best = min(measure(o) for o in found)
    return [o for o in found if measure(o) <= best + max(absolute, relative * best)]


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
