"""From tagged words to clauses: what each part of an instruction asks, before it meets the world.

An instruction splits into clauses at sequence words ("then", "然后", "再") and punctuation, and a
clause into parts at "and" / "和" unless the "and" joins two places ("一号和二号工位": a question).
A part without a verb takes the verb of the part before it ("open the drawer and the door"), or of
the one after it ("把抽屉和柜门都打开"). In each part: the actions named, the objects referred to
(colour, kind, an end or side of the table, nearest, middle, next to another object), what is
negated ("not the red one", "不是球的那个", "别放一号"), the stations (by number, ordinal, side or
name), "it", a person to hand to, fixtures and buttons. A side word after a putting verb is a place
("放到左边": station 1 on the table); before it, or with an end word ("最左边", "the left end"), it
picks an object out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from laoshan.brain.language import Token

SCOPE_ENDS = ("的", "one", "ones", "那个", "这个", "that", "which")   # a negation ends at "…的" / "… one"
PLACE_KINDS = ("num", "ord", "station", "number_mark", "side", "place")


@dataclass
class Ref:
    """An object referred to."""

    colour: str | None = None
    kind: str | None = None               # box, cylinder, sphere
    side: str | None = None               # "left" / "right": the one farthest that way
    near: bool = False                    # the nearest to the robot
    middle: bool = False                  # the middle one
    anchor: Ref | None = None             # next to this one
    vague: bool = False                   # "something", "the one", "东西"

    @property
    def given(self) -> bool:
        return bool(self.colour or self.kind or self.side or self.near or self.middle or self.anchor or self.vague)

    def wanted(self) -> str:
        return " ".join(w for w in (self.colour, self.kind) if w) or "object"


@dataclass
class Part:
    """One thing asked: a clause, or one side of an "and"."""

    tokens: list[Token]
    acts: list[str] = field(default_factory=list)      # in order said
    act_at: int = -1                                   # index of the first act in tokens
    refs: list[Ref] = field(default_factory=list)      # positive object references
    not_colours: set[str] = field(default_factory=set)
    not_kinds: set[str] = field(default_factory=set)
    not_stations: set[str] = field(default_factory=set)
    stations: list[str] = field(default_factory=list)  # station numbers said
    places: list[str] = field(default_factory=list)    # the world model's place names said
    sides: list[tuple[str, int, bool]] = field(default_factory=list)   # (side, token index, with an end word)
    station_word: bool = False                         # "station" / "工位" said (with a number or not)
    vague_place: bool = False
    it: bool = False
    person: bool = False
    fixtures: list[tuple[str, str]] = field(default_factory=list)   # ("fixture", kind) or ("fixture_name", name)
    negated_act: bool = False                          # "别放…", "don't put …"
    borrowed: bool = False                             # its act was taken from the part next to it

    @property
    def text(self) -> str:
        return " ".join(t.text for t in self.tokens)

    @property
    def exclusion_only(self) -> bool:
        """Only says what is not meant ("not the red one", "别放一号")."""
        has_not = bool(self.not_colours or self.not_kinds or self.not_stations or self.negated_act)
        return has_not and not (self.refs or self.stations or self.places or self.fixtures or self.person
                                or (self.acts and not self.negated_act))

    def place_sides(self) -> list[str]:
        """The sides said as places: after a putting verb, without an end word."""
        putting = self.act_at >= 0 and "put" in self.acts
        return [s for s, at, end in self.sides if putting and at > self.act_at and not end]


@dataclass
class Reading:
    parts: list[Part]
    alternatives: str | None = None     # "place" / "object": two joined by "or" / "and" where one is meant


def read(tokens: list[Token]) -> Reading:
    """The parts of a tagged instruction, in order (fillers dropped)."""
    words = [t for t in tokens if t.kind != "filler" or t.text in SCOPE_ENDS]
    clauses: list[list[Token]] = [[]]
    for t in words:
        if t.kind in ("then", "sep"):
            clauses.append([])
        else:
            clauses[-1].append(t)
    parts: list[Part] = []
    for clause in (c for c in clauses if c):
        either = _alternatives(clause)
        if either:
            return Reading([], either)
        groups: list[list[Token]] = [[]]
        for t in clause:
            if t.kind == "and":
                groups.append([])
            else:
                groups[-1].append(t)
        read_parts = [_part(g) for g in groups if g]
        for k, p in enumerate(read_parts):          # "… and the door": the verb of the part next to it
            if not p.acts and (p.refs or p.fixtures or p.stations):
                donor = next((q for q in [*read_parts[:k][::-1], *read_parts[k + 1:]] if q.acts), None)
                if donor is not None:
                    p.acts, p.act_at, p.borrowed = list(donor.acts), -1, True
        if parts and not read_parts[0].acts and read_parts[0].fixtures and parts[-1].acts:
            read_parts[0].acts, read_parts[0].borrowed = list(parts[-1].acts), True   # "…, then the drawer"
        parts += read_parts
    return Reading(parts)


def _alternatives(clause: list[Token]) -> str | None:
    """"place" or "object" if the clause joins two places ("一号和二号", "station 1 or 2") or two
    objects by "or"; None otherwise."""
    for k, t in enumerate(clause):
        if t.kind not in ("and", "or") or k == 0 or k + 1 >= len(clause):
            continue
        before, after = clause[k - 1].kind, clause[k + 1].kind
        if before in PLACE_KINDS and after in ("num", "ord", "station", "side", "place"):
            return "place"
        if t.kind == "or":
            return "place" if after in PLACE_KINDS else "object"
    return None


def _part(tokens: list[Token]) -> Part:
    p = Part(tokens)
    ref, negating, anchoring = Ref(), False, False
    negated_any = False
    for k, t in enumerate(tokens):
        if t.kind == "not":
            negating, negated_any = True, False
            continue
        if negating and negated_any and (t.text in SCOPE_ENDS or t.kind in ("vague_object", "act")):
            negating = False
            ref.vague = ref.vague or bool(p.acts) or k + 1 < len(tokens)   # "拿起不是红色的那个": the one that is not
        if t.kind == "act":
            if negating:
                p.negated_act = True
            else:
                p.acts.append(t.value)
                p.act_at = k if p.act_at < 0 else p.act_at
        elif t.kind in ("colour", "kind"):
            if negating:
                (p.not_colours if t.kind == "colour" else p.not_kinds).add(t.value)
                negated_any = True
                continue
            target = ref.anchor if anchoring and ref.anchor is not None else ref
            if getattr(target, t.kind) not in (None, t.value) or (t.kind == "colour" and target.kind):
                if target is ref:              # a second object: "the ball on the box"
                    p.refs.append(ref)
                    ref = Ref()
                    target = ref
            setattr(target, t.kind, t.value)
        elif t.kind == "side":
            end = any(tokens[j].kind == "end" for j in (k - 1, k + 1) if 0 <= j < len(tokens))
            p.sides.append((t.value, k, end))
        elif t.kind == "near":
            ref.near = True
        elif t.kind == "middle":
            ref.middle = True
        elif t.kind == "next":
            ref.anchor, anchoring = Ref(), True
        elif t.kind == "vague_object":
            ref.vague = True
        elif t.kind in ("num", "ord"):
            (p.not_stations.add(t.value) if negating else p.stations.append(t.value))
            negated_any = negated_any or negating
        elif t.kind == "station":
            p.station_word = True
        elif t.kind == "place":
            (p.not_stations.add(t.value) if negating else p.places.append(t.value))
        elif t.kind == "vague_place":
            p.vague_place = True
        elif t.kind == "it":
            p.it = True
        elif t.kind == "person":
            p.person = True
        elif t.kind in ("fixture", "fixture_name"):
            p.fixtures.append((t.kind, t.value))
    place_sides = set(p.place_sides())
    for side, _, _ in p.sides:                          # the other sides pick an object out
        if side not in place_sides:
            ref.side = side
    if ref.anchor is not None and not ref.anchor.given:
        ref.anchor = None
    if ref.given:
        p.refs.append(ref)
    return p
