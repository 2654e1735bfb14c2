"""Plans as typed steps: what the planner hands the executive.

Each step is a frozen dataclass naming one skill and what it acts on; it also reads as its JSON
form (a read-only mapping: ``step["skill"]``, ``step["object"]``), which is what an LLM proposes
and what a plan prints as. :func:`laoshan.brain.planner.validate_plan` is the one place a plan is
checked against the world model; :func:`step_of` only builds a step from its JSON form.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar


@dataclass(frozen=True, eq=False)
class Step(Mapping[str, str]):
    """One step of a plan."""

    skill: ClassVar[str]

    def _json(self) -> dict[str, str]:
        return {"skill": self.skill, **{f.name: getattr(self, f.name) for f in fields(self)}}

    def __getitem__(self, key: str) -> str:
        return self._json()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._json())

    def __len__(self) -> int:
        return 1 + len(fields(self))

    def __hash__(self) -> int:
        return hash(tuple(self._json().items()))


@dataclass(frozen=True, eq=False)
class Look(Step):
    """Look again (the world model is out of date)."""

    skill: ClassVar[str] = "look"


@dataclass(frozen=True, eq=False)
class LookAround(Step):
    """Turn the torso left and right, looking (an object not seen yet is looked for)."""

    skill: ClassVar[str] = "look_around"


@dataclass(frozen=True, eq=False)
class Pick(Step):
    skill: ClassVar[str] = "pick"
    object: str          # a world-model object id


@dataclass(frozen=True, eq=False)
class PlaceAt(Step):
    skill: ClassVar[str] = "place"
    place: str           # a place name (the held object goes there)


@dataclass(frozen=True, eq=False)
class HandOver(Step):
    skill: ClassVar[str] = "hand_over"
    person: str          # a person holding out a hand (the held object goes on it)


@dataclass(frozen=True, eq=False)
class Open(Step):
    skill: ClassVar[str] = "open"
    fixture: str         # a drawer or a door


@dataclass(frozen=True, eq=False)
class Close(Step):
    skill: ClassVar[str] = "close"
    fixture: str


@dataclass(frozen=True, eq=False)
class Press(Step):
    skill: ClassVar[str] = "press"
    button: str


@dataclass(frozen=True, eq=False)
class Say(Step):
    skill: ClassVar[str] = "say"
    text: str


STEP_TYPES: dict[str, type[Step]] = {t.skill: t for t in (Look, LookAround, Pick, PlaceAt, HandOver, Open, Close,
                                                           Press, Say)}
SKILL_FIELDS: dict[str, tuple[str, ...]] = {name: tuple(f.name for f in fields(t)) for name, t in STEP_TYPES.items()}


def step_of(data: Mapping[str, Any]) -> Step:
    """The typed step of a JSON step whose skill and fields were checked."""
    kind = STEP_TYPES[data["skill"]]
    return kind(**{name: data[name] for name in SKILL_FIELDS[kind.skill]})
