"""The dialogue manager: one session per person, turn-taking, context, slot filling, hand-off.

People are told apart by an id (from perception, or given by the caller). What they say is queued
in the order heard; each reply goes to one person, and someone who had to wait behind another is
thanked for waiting. Each session keeps its own pending request, the slot it is waiting for, the
values last talked about (so "那个呢" / "what about the euro" / "when does it close" refer back)
and its misunderstandings: two in a row, or asking for one, hands the person to a human clerk.

Answers come only from the hall's knowledge and cite the entry; a question the knowledge does not
cover gets a clerk, never an invented answer. Requests that change something (open an account,
register, book) are confirmed before they are carried out.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import asdict, dataclass, field

from laoshan.brain.dialogue.corpus import OUT_OF_SCOPE
from laoshan.brain.dialogue.domain import Domain, Entry, Intent
from laoshan.brain.dialogue.nlu import LlmNlu, Nlu, Parse, normalize, offline_nlu
from laoshan.brain.llm import LlmError

REFERS_BACK = re.compile(r"它|那里|那儿|那个|这个|^那|就这|\bit\b|\bits\b|\bthere\b|\bthat\b|\bthis\b|\bthe same\b")
CONTROL_INTENTS = ("affirm", "deny", "follow_up", OUT_OF_SCOPE)
MISUNDERSTOOD_LIMIT = 2

PHRASES = {
    "waited": {"zh": "{person}，让您久等了。", "en": "{person}, thank you for waiting. "},
    "cancelled": {"zh": "好的，已取消。还有什么需要？", "en": "All right, cancelled. Anything else?"},
    "which": {"zh": "您指的是哪一个？", "en": "Which one do you mean?"},
    "no_entry": {"zh": "抱歉，我这里没有这方面的资料，我请工作人员来为您解答。",
                 "en": "Sorry, I have no information on that; I am asking a clerk to help you."},
    "too_many": {"zh": "抱歉我没能听明白，我请工作人员来帮您。",
                 "en": "Sorry, I could not follow; I am asking a clerk to help you."},
    "guide": {"zh": "{name}在{where}。请跟我来，我带您过去。", "en": "The {name} is {where}. Please follow me."},
    "passed_on": {"zh": "我已把您说的情况转告工作人员，他们马上来帮您。",
                  "en": "I have passed what you said on to the staff; they are coming to help you now."},
    "hours": {"zh": "{name}的开放时间：{hours}。", "en": "The {name} is open {hours}."},
}


@dataclass(frozen=True)
class Guide:
    """Walk the person to a place's marked spot (hall map frame)."""

    place: str
    spot_xy_m: tuple[float, float]


@dataclass(frozen=True)
class HandOff:
    """Call a human clerk for this person; ``urgent`` for emergencies (a lost child)."""

    person: str
    reason: str
    urgent: bool = False


@dataclass(frozen=True)
class Ticket:
    """A request carried out: its number, what it was and its slots."""

    number: str
    intent: str
    slots: tuple[tuple[str, str], ...]


Action = Guide | HandOff | Ticket


@dataclass(frozen=True)
class Reply:
    person: str
    text: str
    language: str
    intent: str
    slots: dict[str, str]
    cites: tuple[str, ...] = ()          # knowledge entries the answer quotes
    actions: tuple[Action, ...] = ()

    def to_dict(self) -> dict:
        """As JSON-ready data; each action carries its ``type`` (guide, hand_off, ticket)."""
        kinds = {Guide: "guide", HandOff: "hand_off", Ticket: "ticket"}
        return {"person": self.person, "text": self.text, "language": self.language, "intent": self.intent,
                "slots": self.slots, "cites": list(self.cites),
                "actions": [{"type": kinds[type(a)], **asdict(a)} for a in self.actions]}


@dataclass
class Session:
    """What the robot remembers of one person."""

    person: str
    pending: str | None = None                    # the request being filled or confirmed
    slots: dict[str, str] = field(default_factory=dict)
    awaiting: str | None = None                   # a slot name, or "confirm"
    focus: dict[str, str] = field(default_factory=dict)   # slot -> value last talked about
    last_intent: str | None = None
    language: str = "zh"                          # of the last utterance long enough to tell
    misunderstood: int = 0
    tickets: list[Ticket] = field(default_factory=list)
    history: list[tuple[str, str]] = field(default_factory=list)   # (speaker, text)


class DialogueManager:
    """Talks with the people of one hall. ``hear`` queues what someone said; ``respond`` answers the
    next in line; ``turn`` does both for one utterance."""

    def __init__(self, domain: Domain, nlu: Nlu, llm: LlmNlu | None = None) -> None:
        if nlu.domain is not domain:
            raise ValueError(f"the recogniser is for {nlu.domain.name!r}, not {domain.name!r}")
        self.domain, self.nlu, self.llm = domain, nlu, llm
        self.sessions: dict[str, Session] = {}
        self.queue: deque[tuple[str, str, int]] = deque()     # (person, text, people ahead when heard)
        self._counters: dict[str, int] = {}
        self.llm_failures = 0

    @classmethod
    def for_hall(cls, domain: str, llm_url: str | None = None) -> DialogueManager:
        """A manager for the hall ``domain`` with the shipped recogniser (and an LLM backend at
        ``llm_url``, falling back to the offline recogniser when it fails)."""
        nlu = offline_nlu(domain)
        return cls(nlu.domain, nlu, LlmNlu(llm_url) if llm_url else None)

    def session(self, person: str) -> Session:
        if not person or not person.strip():
            raise ValueError("a speaker needs a non-empty id")
        return self.sessions.setdefault(person, Session(person))

    def hear(self, person: str, text: str) -> None:
        if not text or not text.strip():
            raise ValueError(f"{person!r} said nothing")
        self.session(person)
        ahead = len({p for p, _, _ in self.queue if p != person})
        self.queue.append((person, text, ahead))

    def respond(self) -> Reply | None:
        """The reply to the next utterance in line, or None when nobody is waiting."""
        if not self.queue:
            return None
        person, text, ahead = self.queue.popleft()
        reply = self._answer(self.sessions[person], text)
        if ahead:
            name = PHRASES["waited"][reply.language].format(person=person)
            reply = Reply(reply.person, name + reply.text, reply.language, reply.intent, reply.slots, reply.cites,
                          reply.actions)
        self.sessions[person].history += [(person, text), ("robot", reply.text)]
        return reply

    def turn(self, person: str, text: str) -> Reply:
        self.hear(person, text)
        reply = self.respond()
        assert reply is not None
        return reply

    # --- understanding ----------------------------------------------------------------------------

    def _parse(self, s: Session, text: str) -> Parse:
        bare = s.awaiting in self.domain.numbers
        if self.llm is not None:
            try:
                return self.llm.parse(text, self.domain)
            except LlmError:
                self.llm_failures += 1
        return self.nlu.parse(text, bare_numbers=bare)

    def _answer(self, s: Session, text: str) -> Reply:
        p = self._parse(s, text)
        if p.language == "zh" or len(text.split()) > 1:   # "VIP", "ok": keep the language spoken so far
            s.language = p.language
        lang = s.language
        pending = self.domain.intents[s.pending] if s.pending else None
        if pending is not None:
            # a slot of the request under way, given or corrected ("savings", "5岁", "不对，改周五")
            given = {m.slot: m.value for m in reversed(p.mentions) if m.slot in pending.slots}
            agreed = p.intent == "affirm" and all(s.slots.get(k) == v for k, v in given.items())
            if given and not agreed and (p.intent in CONTROL_INTENTS or p.intent == pending.name or p.confidence < 0.6
                          or not set(given) & set(self.domain.intents[p.intent].slots)):
                s.slots.update(given)
                self._note(s, {m.slot: m.value for m in p.mentions})
                return self._advance(s, pending, lang)
        if s.awaiting == "confirm" and p.intent in ("affirm", "deny") and pending is not None:
            if p.intent == "affirm":
                return self._carry_out(s, pending, lang)
            self._reset(s)
            return self._reply(s, lang, "deny", PHRASES["cancelled"][lang])
        if p.intent == "follow_up":
            last = self.domain.intents[s.last_intent] if s.last_intent else None
            if last is None or not set(p.slots) & set(last.slots):
                last = self._intent_taking(p.slots)
            if last is None:
                return self._reply(s, lang, "follow_up", PHRASES["which"][lang])
            slots = dict(s.focus) | dict(p.slots)
            return self._start(s, last, {k: v for k, v in slots.items() if k in last.slots}, lang)
        if p.intent == OUT_OF_SCOPE:
            return self._misunderstood(s, lang, text)
        if p.intent in ("affirm", "deny"):      # a yes or no with nothing to confirm
            return self._misunderstood(s, lang, text)
        intent = self.domain.intents[p.intent]
        slots = dict(p.slots)
        if REFERS_BACK.search(normalize(text)):     # "它几点关门", "book that for monday": what was talked about
            for slot in intent.slots:
                if slot not in slots and slot in s.focus:
                    slots[slot] = s.focus[slot]
        return self._start(s, intent, slots, lang)

    def _intent_taking(self, slots: dict[str, str]) -> Intent | None:
        """The one intent of the hall (not a shared one) that takes all of ``slots`` ("那英镑汇率呢"
        with nothing before it: the exchange rate); None if none or several."""
        fits = [i for i in self.domain.intents.values() if slots and set(slots) <= set(i.slots)
                and i.name not in CONTROL_INTENTS]
        return fits[0] if len(fits) == 1 else None

    # --- acting -----------------------------------------------------------------------------------

    def _start(self, s: Session, intent: Intent, slots: dict[str, str], lang: str) -> Reply:
        s.misunderstood = 0
        self._note(s, slots)
        s.last_intent = intent.name
        if not intent.required and not intent.transactional:
            self._reset(s)
            return self._inform(s, intent, slots, lang)
        s.pending, s.slots = intent.name, dict(slots)
        reply = self._advance(s, intent, lang)
        alert = intent.reply("alert", lang)
        if alert is None:
            return reply
        urgent = HandOff(s.person, f"{intent.name}: {dict(slots)}", urgent=True)
        return Reply(reply.person, alert + reply.text, lang, reply.intent, reply.slots, reply.cites,
                     (urgent, *reply.actions))

    def _advance(self, s: Session, intent: Intent, lang: str) -> Reply:
        """Ask for the next missing slot, ask for confirmation, or answer."""
        for slot in intent.required:
            if slot not in s.slots:
                s.awaiting = slot
                return self._reply(s, lang, intent.name, intent.reply(f"ask_{slot}", lang) or "", s.slots)
        if intent.transactional:
            s.awaiting = "confirm"
            return self._reply(s, lang, intent.name, self._fill(intent.reply("confirm", lang) or "", s.slots, lang),
                               s.slots)
        slots = dict(s.slots)
        self._reset(s)
        return self._inform(s, intent, slots, lang)

    def _carry_out(self, s: Session, intent: Intent, lang: str) -> Reply:
        n = self._counters[intent.name] = self._counters.get(intent.name, 0) + 1
        prefix = "ABCDEFGHJKLMNPQRSTUVWXYZ"[sorted(self.domain.intents).index(intent.name) % 24]
        ticket = Ticket(f"{prefix}{n:03d}", intent.name, tuple(sorted(s.slots.items())))
        s.tickets.append(ticket)
        slots = dict(s.slots)
        self._reset(s)
        text = self._fill(intent.reply("done", lang) or "", slots | {"ticket": ticket.number}, lang)
        entry = self._lookup(intent.name, slots)
        cites = ()
        if entry is not None:
            text, cites = text + ("" if lang == "zh" else " ") + entry.text[lang], (entry.id,)
        return self._reply(s, lang, intent.name, text, slots, cites, (ticket,))

    def _inform(self, s: Session, intent: Intent, slots: dict[str, str], lang: str) -> Reply:
        """Answer from the hall's knowledge (or the intent's fixed reply), citing the entry."""
        fixed = intent.reply("reply", lang)
        if fixed is not None:
            actions = (HandOff(s.person, "asked for a clerk"),) if intent.name == "human_agent" else ()
            return self._reply(s, lang, intent.name, fixed.format(hall=self.domain.hall[lang]), slots, (), actions)
        entry = self._lookup(intent.name, slots)
        if entry is None:
            return self._reply(s, lang, intent.name, PHRASES["no_entry"][lang], slots, (),
                               (HandOff(s.person, f"no knowledge for {intent.name} {slots}"),))
        if intent.name == "find_place":
            place = self.domain.places[slots["place"]]
            name = self.domain.display("place", place.id, lang)
            text = PHRASES["guide"][lang].format(name=name, where=entry.text[lang])
            return self._reply(s, lang, intent.name, text, slots, (entry.id,), (Guide(place.id, place.spot_xy_m),))
        if intent.name == "opening_hours" and "place" in slots:
            name = self.domain.display("place", slots["place"], lang)
            return self._reply(s, lang, intent.name, PHRASES["hours"][lang].format(name=name, hours=entry.text[lang]),
                               slots, (entry.id,))
        return self._reply(s, lang, intent.name, entry.text[lang], slots, (entry.id,))

    def _misunderstood(self, s: Session, lang: str, text: str) -> Reply:
        pending = self.domain.intents[s.pending] if s.pending else None
        if pending is not None and pending.reply("alert", lang) is not None:
            # an emergency is never dropped: what was said goes to the people already alerted
            slots = dict(s.slots)
            self._reset(s)
            return self._reply(s, lang, pending.name, PHRASES["passed_on"][lang], slots, (),
                               (HandOff(s.person, f"{pending.name}: {slots}; said: {text!r}", urgent=True),))
        s.misunderstood += 1
        if s.misunderstood >= MISUNDERSTOOD_LIMIT:
            s.misunderstood = 0
            self._reset(s)
            return self._reply(s, lang, OUT_OF_SCOPE, PHRASES["too_many"][lang], {}, (),
                               (HandOff(s.person, "not understood twice"),))
        text = self.domain.intents[OUT_OF_SCOPE].reply("reply", lang) or ""
        if s.awaiting and s.pending:          # still waiting on something: ask again
            again = self._advance(s, self.domain.intents[s.pending], lang)
            text = f"{text} {again.text}"
        return self._reply(s, lang, OUT_OF_SCOPE, text.format(hall=self.domain.hall[lang]))

    # --- helpers ----------------------------------------------------------------------------------

    def _lookup(self, intent: str, slots: dict[str, str]) -> Entry | None:
        """The most specific entry for ``intent`` whose slot values all hold."""
        fits = [e for e in self.domain.knowledge if e.intent == intent and all(slots.get(k) == v for k, v in e.match)]
        return max(fits, key=lambda e: len(e.match), default=None)

    def _fill(self, template: str, slots: dict[str, str], lang: str) -> str:
        names = {k: (v if k == "ticket" else self.domain.display(k, v, lang)) for k, v in slots.items()}
        return template.format_map(names)

    @staticmethod
    def _note(s: Session, slots: dict[str, str]) -> None:
        s.focus.update(slots)

    @staticmethod
    def _reset(s: Session) -> None:
        s.pending, s.slots, s.awaiting = None, {}, None

    @staticmethod
    def _reply(s: Session, lang: str, intent: str, text: str, slots: dict[str, str] | None = None,
               cites: tuple[str, ...] = (), actions: tuple[Action, ...] = ()) -> Reply:
        return Reply(s.person, text, lang, intent, dict(slots or {}), cites, actions)
