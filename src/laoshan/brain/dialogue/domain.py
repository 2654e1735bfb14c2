"""A service hall's domain: its intents (with example utterances), slots, places and knowledge.

Each hall is one TOML file in ``data/`` (bank, hospital, government, telecom, mall), merged with
``common.toml`` (greetings, yes/no, hand-off, finding a place, opening hours, follow-ups, out of
scope). Places are slot values too (``place``) and each gives two knowledge entries: where it is
(``<hall>-place-<id>``) and when it is open (``<hall>-hours-<id>``), so every answer cites an entry.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).with_name("data")
DOMAINS = ("bank", "hospital", "government", "telecom", "mall")
LANGUAGES = ("zh", "en")
PLACEHOLDER = re.compile(r"\{(\w+)\}")
ANY = "any"                      # the placeholder for "any slot value of this hall"
_CJK = re.compile(r"[\u3400-\u9fff]")


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


@dataclass(frozen=True)
class Intent:
    name: str
    examples: dict[str, tuple[str, ...]]     # language -> templates ("{slot}" placeholders)
    slots: tuple[str, ...] = ()              # slots it takes
    required: tuple[str, ...] = ()           # slots it asks for before answering
    replies: dict[str, dict[str, str]] | None = None   # reply, ask_<slot>, confirm, done, alert -> language -> text

    def reply(self, key: str, language: str) -> str | None:
        return (self.replies or {}).get(key, {}).get(language)

    @property
    def transactional(self) -> bool:
        """Whether it is carried out (after a confirmation) rather than answered."""
        return self.reply("confirm", "en") is not None


@dataclass(frozen=True)
class Place:
    id: str
    spot_xy_m: tuple[float, float]           # the marked spot on the hall's floor, map frame
    names: dict[str, tuple[str, ...]]
    where: dict[str, str]
    hours: dict[str, str]


@dataclass(frozen=True)
class Entry:
    """One piece of the hall's knowledge; an answer quotes its text and cites its id."""

    id: str
    intent: str
    text: dict[str, str]
    match: tuple[tuple[str, str], ...] = ()  # (slot, value) pairs the entry is about


@dataclass(frozen=True)
class Domain:
    name: str
    hall: dict[str, str]                                # language -> the hall's name
    intents: dict[str, Intent]
    lexicon: dict[str, dict[str, tuple[str, ...]]]      # slot -> value -> surface forms (zh and en)
    numbers: tuple[str, ...]                            # number slots (ages)
    places: dict[str, Place]
    knowledge: tuple[Entry, ...]

    def display(self, slot: str, value: str, language: str) -> str:
        """How to say a slot value in a reply."""
        if slot in self.numbers:
            return value
        forms = self.lexicon[slot][value]
        return next((f for f in forms if has_cjk(f) == (language == "zh")), forms[0])

    def entry(self, entry_id: str) -> Entry:
        for e in self.knowledge:
            if e.id == entry_id:
                return e
        raise KeyError(f"{self.name} has no knowledge entry {entry_id!r}")


def _intents(data: dict) -> dict[str, Intent]:
    out = {}
    for name, spec in data.get("intents", {}).items():
        replies = {k: v for k, v in spec.items() if isinstance(v, dict)}
        out[name] = Intent(name=name, examples={lang: tuple(spec.get(lang, ())) for lang in LANGUAGES},
                           slots=tuple(spec.get("slots", ())), required=tuple(spec.get("required", ())),
                           replies=replies)
    return out


def _read(name: str) -> dict:
    return tomllib.loads((DATA / f"{name}.toml").read_text(encoding="utf-8"))


@cache
def common_intents() -> tuple[str, ...]:
    """The intents every hall shares."""
    return tuple(_read("common")["intents"])


@cache
def load_domain(name: str) -> Domain:
    """The hall ``name`` (one of DOMAINS) merged with the common intents; checked for consistency."""
    if name not in DOMAINS:
        raise ValueError(f"unknown domain {name!r}; choose one of {', '.join(DOMAINS)}")
    data = _read(name)
    intents = _intents(_read("common")) | _intents(data)
    lexicon = {slot: {v: tuple(forms) for v, forms in values.items()} for slot, values in data.get("slots", {}).items()}
    places = {p["id"]: Place(id=p["id"], spot_xy_m=tuple(p["spot"]), names={k: tuple(v) for k, v in p["names"].items()},
                             where=p["where"], hours=p["hours"]) for p in data.get("places", [])}
    lexicon["place"] = {pid: p.names["zh"] + p.names["en"] for pid, p in places.items()}
    knowledge = [Entry(id=k["id"], intent=k["intent"], text={lang: k[lang] for lang in LANGUAGES},
                       match=tuple(sorted(k.get("match", {}).items()))) for k in data.get("knowledge", [])]
    for pid, p in places.items():
        knowledge.append(Entry(f"{name}-place-{pid}", "find_place", dict(p.where), (("place", pid),)))
        knowledge.append(Entry(f"{name}-hours-{pid}", "opening_hours", dict(p.hours), (("place", pid),)))
    domain = Domain(name=name, hall=data["hall"]["name"], intents=intents, lexicon=lexicon,
                    numbers=tuple(data.get("numbers", ())), places=places, knowledge=tuple(knowledge))
    _check(domain)
    return domain


def _check(domain: Domain) -> None:
    """Every template names a known slot, every entry a known intent and value, ids are unique."""
    known = set(domain.lexicon) | set(domain.numbers) | {ANY}
    for intent in domain.intents.values():
        for lang, templates in intent.examples.items():
            if len(templates) < 4 and intent.name != "affirm":
                raise ValueError(f"{domain.name}: intent {intent.name!r} has only {len(templates)} {lang} examples")
            for t in templates:
                unknown = set(PLACEHOLDER.findall(t)) - known
                if unknown:
                    raise ValueError(f"{domain.name}: {intent.name!r} example {t!r} names unknown slots {unknown}")
        for slot in intent.slots:
            if slot not in known:
                raise ValueError(f"{domain.name}: intent {intent.name!r} takes unknown slot {slot!r}")
    ids = [e.id for e in domain.knowledge]
    if len(ids) != len(set(ids)):
        raise ValueError(f"{domain.name}: duplicate knowledge ids")
    for e in domain.knowledge:
        if e.intent not in domain.intents:
            raise ValueError(f"{domain.name}: entry {e.id!r} is for unknown intent {e.intent!r}")
        for slot, value in e.match:
            if value not in domain.lexicon.get(slot, {}):
                raise ValueError(f"{domain.name}: entry {e.id!r} matches unknown {slot}={value!r}")
