"""Labelled utterances made from a hall's example templates, with a held-out split.

A template's placeholders are filled with the slot's surface forms (now and then a form of the
other language, for mixed Chinese–English speech); the labels are the intent and the slot values
put in. A quarter of each intent's templates (per language, chosen by a hash of the text, so adding
one does not reshuffle the rest) are held out: the test split shares no sentence pattern with
training. Other halls' own intents are out of scope here and are added as such.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Literal

import numpy as np

from laoshan.brain.dialogue.domain import (ANY, DOMAINS, LANGUAGES, PLACEHOLDER, Domain, common_intents, has_cjk,
                                          load_domain)

Split = Literal["train", "test", "all"]
OUT_OF_SCOPE = "out_of_scope"
MIXED_LANGUAGE_P = 0.2          # chance a slot is filled with the other language's form
ZH_NUMERALS = "零一二三四五六七八九十"


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    slots: tuple[tuple[str, str], ...]    # (slot, value) put into the text
    language: str


def held_out(template: str) -> bool:
    return zlib.crc32(template.encode()) % 4 == 0


def _split(templates: tuple[str, ...], split: Split) -> list[str]:
    if split == "all":
        return list(templates)
    test = [t for t in templates if held_out(t)]
    if len(test) == len(templates):          # keep at least one pattern to learn from
        test = test[1:]
    return test if split == "test" else [t for t in templates if t not in test]


def age_surface(age: int, language: str, rng: np.random.Generator) -> str:
    if language == "zh":
        zh = ZH_NUMERALS[age] if age <= 10 else "十" + ZH_NUMERALS[age - 10]
        return f"{zh}岁" if rng.random() < 0.5 else f"{age}岁"
    return f"{age} years old"


def _fill(domain: Domain, template: str, language: str, rng: np.random.Generator,
          any_slot: str | None = None) -> tuple[str, tuple]:
    slots = []

    def surface(slot: str) -> str:
        if slot == ANY:
            slot = any_slot or str(rng.choice(sorted(domain.lexicon)))
        if slot in domain.numbers:
            age = int(rng.integers(2, 13))
            slots.append((slot, str(age)))
            return age_surface(age, language, rng)
        value = str(rng.choice(sorted(domain.lexicon[slot])))
        forms = domain.lexicon[slot][value]
        own = [f for f in forms if has_cjk(f) == (language == "zh")] or list(forms)
        other = [f for f in forms if f not in own]
        pool = other if other and rng.random() < MIXED_LANGUAGE_P else own
        slots.append((slot, value))
        form = str(rng.choice(pool))
        return f" {form} " if language == "zh" and not has_cjk(form) else form

    text = PLACEHOLDER.sub(lambda m: surface(m.group(1)), template)
    return " ".join(text.split()), tuple(slots)


def examples(domain: Domain, split: Split = "all", fills: int = 3, seed: int = 0,
             languages: tuple[str, ...] = LANGUAGES) -> list[Example]:
    """The hall's labelled utterances: each template of the split filled ``fills`` times (once if
    it has no placeholder, once per slot for "{any}"), plus the other halls' own intents (filled
    once) as out of scope."""
    rng = np.random.default_rng(seed)
    out: list[Example] = []

    def add(d: Domain, intents: list[str], label: str | None) -> None:
        for name in intents:
            intent = d.intents[name]
            for lang in languages:
                for template in _split(intent.examples[lang], split):
                    if "{" + ANY + "}" in template:      # once with each kind of slot
                        kinds: list[str | None] = sorted(d.lexicon) if label is None else [None]
                    else:
                        kinds = [None] * (fills if PLACEHOLDER.search(template) and label is None else 1)
                    for kind in kinds:
                        text, slots = _fill(d, template, lang, rng, kind)
                        out.append(Example(text, label or name, () if label else slots, lang))

    add(domain, sorted(domain.intents), None)
    for other in DOMAINS:
        if other != domain.name:
            d = load_domain(other)
            add(d, sorted(set(d.intents) - set(common_intents())), OUT_OF_SCOPE)
    return out
