"""Intent recognition and slot filling, offline, trained from the hall's own examples.

Slots are found by the hall's lexicon (longest surface form first; English forms on word
boundaries, where a Chinese character next to one is a boundary too: "ATM在哪"; a plural "s"
allowed), by the sound of Chinese forms (a span with the same toneless pinyin as a form of two
characters or more, ``pypinyin``: "眼课" → 眼科) and by a pattern for ages. The intent classifier
sees the utterance with its slot mentions replaced by the slot's name ("what is the <currency>
rate"): TF-IDF of its words (English words; Chinese words by ``jieba``) and their pairs, and of
character n-grams (1–3 of Chinese, 2–4 within English words: misspellings share most of them),
into a logistic regression (``scikit-learn``) with every intent weighted alike. Out of scope is a
class of its own (general questions, and the other halls' own intents); an utterance it is unsure
of (top probability below ``min_confidence``) is out of scope too. Training one hall takes about
a second; it runs on first use.

An optional LLM backend (any OpenAI-compatible chat endpoint) proposes intent and slots as JSON;
the answer is checked against the hall's intents and lexicon, and a bad one raises LlmError.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import jieba
import numpy as np
from pypinyin import lazy_pinyin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion

from laoshan.brain.dialogue.corpus import OUT_OF_SCOPE, ZH_NUMERALS, Example, Split, examples
from laoshan.brain.dialogue.domain import Domain, has_cjk, load_domain
from laoshan.brain.llm import LlmError, chat_json

jieba.setLogLevel(logging.WARNING)

_AGE = re.compile(r"(?<!\d)(\d{1,3})\s*(?:岁|years?\s*old|yrs?\s*old|-year-old)|(?:age[d]?\s*)(\d{1,3})|"
                  rf"([{ZH_NUMERALS}两百]{{1,4}})\s*岁|(?:she|he|they)(?:'s| is| are)\s+(\d{{1,2}})\b")
_BARE_NUMBER = re.compile(rf"^\D*?(\d{{1,3}}|[{ZH_NUMERALS}两]{{1,3}})\D*$")
_ENGLISH = re.compile(r"<\w+>|[a-z0-9']+")


def normalize(text: str) -> str:
    """NFKC (full-width to half-width), lower case, one space between words."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().replace("’", "'").split())


def language_of(text: str) -> str:
    """"zh" when the Chinese characters outweigh the English words (about 1.5 characters a word)."""
    cjk = sum(1 for ch in text if has_cjk(ch))
    words = len(re.findall(r"[a-zA-Z]+", text))
    return "zh" if cjk and cjk / 1.5 >= words else "en"


def _zh_number(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if text == "一百":
        return 100
    if "百" in text:
        return None
    digits = [ZH_NUMERALS.index(c) if c != "两" else 2 for c in text]
    if len(digits) == 1:
        return digits[0]
    if digits[0] == 10:                     # 十二
        return 10 + (digits[1] if len(digits) > 1 else 0)
    if len(digits) >= 2 and digits[1] == 10:  # 二十, 二十三
        return digits[0] * 10 + (digits[2] if len(digits) > 2 else 0)
    return None


def _ascii_word_char(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


@dataclass(frozen=True)
class Mention:
    slot: str
    value: str
    start: int
    end: int


class SlotTagger:
    """Finds the hall's slot values in normalized text."""

    def __init__(self, domain: Domain) -> None:
        self.domain = domain
        self.forms: dict[str, list[tuple[str, str]]] = {}
        for slot, values in domain.lexicon.items():
            for value, forms in values.items():
                for form in forms:
                    self.forms.setdefault(normalize(form), []).append((slot, value))
        self.by_length = sorted(self.forms, key=len, reverse=True)
        self.by_sound = {tuple(lazy_pinyin(f)): f for f in sorted(self.forms, key=len)
                         if len(f) >= 2 and all(has_cjk(ch) for ch in f)}
        self.longest_sound = max((len(k) for k in self.by_sound), default=0)

    def mentions(self, text: str, bare_numbers: bool = False) -> list[Mention]:
        """Slot mentions in ``text`` (normalized), longest first, not overlapping; an ambiguous
        form gives one mention per reading. ``bare_numbers``: a lone number is an age too."""
        taken = np.zeros(len(text) + 1, dtype=bool)
        found: list[Mention] = []
        for form in self.by_length:
            start = text.find(form)
            while start >= 0:
                end = start + len(form)
                ascii_form = not has_cjk(form)
                if ascii_form and text[end:end + 1] == "s" and not _ascii_word_char(text[end + 1:end + 2] or " "):
                    end += 1                     # a plural: "car loans", "toilets"
                bounded = not ascii_form or ((start == 0 or not _ascii_word_char(text[start - 1]))
                                             and (end == len(text) or not _ascii_word_char(text[end])))
                if bounded and not taken[start:end].any():
                    taken[start:end] = True
                    found += [Mention(slot, value, start, end) for slot, value in self.forms[form]]
                start = text.find(form, start + 1)
        found += self._by_sound(text, taken)
        for slot in self.domain.numbers:
            for m in _AGE.finditer(text):
                n = _zh_number(next(g for g in m.groups() if g))
                if n is not None and not taken[m.start():m.end()].any():
                    found.append(Mention(slot, str(n), m.start(), m.end()))
            if bare_numbers and not any(m.slot == slot for m in found):
                m = _BARE_NUMBER.match(text)
                n = _zh_number(m.group(1)) if m else None
                if m and n is not None:
                    found.append(Mention(slot, str(n), m.start(1), m.end(1)))
        return sorted(found, key=lambda m: m.start)

    def _by_sound(self, text: str, taken: np.ndarray) -> list[Mention]:
        """Chinese spans not yet read that sound like a form ("眼课" → 眼科), longest first."""
        found: list[Mention] = []
        for run in re.finditer(r"[\u3400-\u9fff]{2,}", text):
            sounds = [lazy_pinyin(ch)[0] for ch in run.group()]
            for n in range(min(self.longest_sound, len(sounds)), 1, -1):
                for i in range(len(sounds) - n + 1):
                    start = run.start() + i
                    form = self.by_sound.get(tuple(sounds[i:i + n]))
                    if form is not None and not taken[start:start + n].any():
                        taken[start:start + n] = True
                        found += [Mention(slot, value, start, start + n) for slot, value in self.forms[form]]
        return found


def delexicalized(text: str, mentions: Sequence[Mention]) -> str:
    """``text`` with each slot mention replaced by its slot's name: "what is the <currency> rate"."""
    out, last = [], 0
    for start, end, slot in sorted({(m.start, m.end, m.slot) for m in mentions}):
        if start >= last:
            out += [text[last:start], f" <{slot}> "]
            last = end
    return " ".join(("".join(out) + text[last:]).split())


def _words(text: str) -> list[str]:
    """English words, slot names and Chinese words (``jieba``), with the pairs of neighbours."""
    words: list[str] = []
    for chunk in re.findall(r"<\w+>|[a-z0-9']+|[\u3400-\u9fff]+", text):
        words += [w for w in jieba.lcut(chunk) if w.strip()] if has_cjk(chunk) else [chunk]
    return words + [f"{a} {b}" for a, b in zip(["^", *words], [*words, "$"], strict=True)]


def _characters(text: str) -> list[str]:
    """Character 1–3-grams of the Chinese and 2–4-grams within (bounded) English words."""
    grams: list[str] = []
    for chunk in re.findall(r"[\u3400-\u9fff]+|[a-z']+", text):
        if has_cjk(chunk):
            grams += [chunk[i:i + n] for n in (1, 2, 3) for i in range(len(chunk) - n + 1)]
        else:
            word = f"#{chunk}#"
            grams += [word[i:i + n] for n in (2, 3, 4) for i in range(len(word) - n + 1)]
    return grams


@dataclass(frozen=True)
class Parse:
    intent: str
    confidence: float
    slots: dict[str, str]            # slot -> value, those the intent takes (all for a follow-up)
    mentions: tuple[Mention, ...]    # every slot value heard
    language: str


class IntentClassifier:
    """TF-IDF of words and character n-grams into a logistic regression, every intent weighted alike."""

    def __init__(self, data: Sequence[Example], tagger: SlotTagger, c: float = 20.0) -> None:
        self.tagger = tagger
        texts = [self._text(e.text) for e in data]
        self.features = FeatureUnion([
            ("words", TfidfVectorizer(analyzer=_words, sublinear_tf=True)),
            ("characters", TfidfVectorizer(analyzer=_characters, sublinear_tf=True)),
        ])
        X = self.features.fit_transform(texts)
        self.model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
        self.model.fit(X, [e.intent for e in data])
        self.labels: list[str] = [str(label) for label in self.model.classes_]

    def _text(self, text: str) -> str:
        text = normalize(text)
        return delexicalized(text, self.tagger.mentions(text))

    def probabilities(self, text: str, mentions: Sequence[Mention]) -> np.ndarray:
        return self.model.predict_proba(self.features.transform([delexicalized(text, mentions)]))[0]


class Nlu:
    """Parses one utterance of a hall: intent, confidence, slots, language."""

    def __init__(self, domain: Domain, split: Split = "all", seed: int = 0, min_confidence: float = 0.3) -> None:
        self.domain = domain
        self.tagger = SlotTagger(domain)
        self.classifier = IntentClassifier(examples(domain, split, seed=seed), self.tagger)
        self.min_confidence = min_confidence

    def parse(self, utterance: str, bare_numbers: bool = False) -> Parse:
        text = normalize(utterance)
        mentions = tuple(self.tagger.mentions(text, bare_numbers))
        p = self.classifier.probabilities(text, mentions)
        best = int(p.argmax())
        intent = self.classifier.labels[best]
        if p[best] < self.min_confidence:
            intent = OUT_OF_SCOPE
        return Parse(intent, float(p[best]), self.slots_for(intent, mentions), mentions, language_of(utterance))

    def slots_for(self, intent: str, mentions: Sequence[Mention]) -> dict[str, str]:
        """The mentioned values of the slots ``intent`` takes (the first reading of each; any slot
        for a follow-up)."""
        takes = self.domain.intents[intent].slots if intent in self.domain.intents else ()
        out: dict[str, str] = {}
        for m in mentions:
            if (intent == "follow_up" or m.slot in takes) and m.slot not in out:
                out[m.slot] = m.value
        return out


@cache
def offline_nlu(domain: str) -> Nlu:
    """The shipped recogniser of a hall, trained on all its examples (cached per process)."""
    return Nlu(load_domain(domain))


@dataclass(frozen=True)
class LlmNlu:
    """Intent and slots from an OpenAI-compatible chat endpoint, checked against the hall: an
    unknown intent, slot or value raises LlmError (the caller falls back to the offline parse)."""

    url: str
    model: str = "default"
    timeout_s: float = 10.0

    def parse(self, utterance: str, domain: Domain) -> Parse:
        schema = {name: {s: sorted(domain.lexicon.get(s, {})) or "a number" for s in i.slots}
                  for name, i in domain.intents.items()}
        system = ("You recognise what a visitor of a service hall wants. Answer with JSON only: "
                  '{"intent": "...", "slots": {"slot": "value"}}. Intents with their slots and allowed values: '
                  f"{json.dumps(schema, ensure_ascii=False)}; anything else is \"{OUT_OF_SCOPE}\".")
        data = chat_json(self.url, system, utterance, self.model, self.timeout_s)
        if not isinstance(data, dict) or data.get("intent") not in domain.intents:
            raise LlmError(f"LLM gave an unknown intent: {str(data)[:80]!r}")
        intent = domain.intents[data["intent"]]
        slots = data.get("slots") or {}
        if not isinstance(slots, dict):
            raise LlmError(f"LLM slots are not an object: {slots!r}")
        for slot, value in slots.items():
            ok = slot in intent.slots and (str(value).isdigit() if slot in domain.numbers
                                           else value in domain.lexicon.get(slot, {}))
            if not ok:
                raise LlmError(f"LLM gave {slot}={value!r}, which {intent.name!r} does not take")
        slots = {k: str(v) for k, v in slots.items()}
        return Parse(intent.name, 1.0, slots, tuple(Mention(k, v, 0, 0) for k, v in slots.items()),
                     language_of(utterance))
