"""Intent recognition and slot filling, offline, trained from the hall's own examples.

Slots are found by the hall's lexicon (longest surface form first; English forms on word
boundaries, a plural "s" allowed) and by a pattern for ages. The intent classifier sees the utterance with its slot
mentions replaced by the slot's name ("what is the <currency> rate"), as tokens (Chinese
characters, English words), token bi- and trigrams and character trigrams of English words, and
is a softmax regression fitted with L-BFGS. An utterance it is unsure of (top probability below
``min_confidence``) is out of scope. Training one hall takes about a second; it runs on first use.

An optional LLM backend (any OpenAI-compatible chat endpoint) proposes intent and slots as JSON;
the answer is checked against the hall's intents and lexicon, and a bad one raises LlmError.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import scipy.optimize
import scipy.sparse

from laoshan.brain.dialogue.corpus import OUT_OF_SCOPE, ZH_NUMERALS, Example, Split, examples
from laoshan.brain.dialogue.domain import Domain, has_cjk, load_domain
from laoshan.brain.llm import LlmError, chat_json

_TOKEN = re.compile(r"<\w+>|[a-z0-9']+|[\u3400-\u9fff]|[^\s\w]")
_AGE = re.compile(r"(\d{1,2})\s*(?:岁|years?\s*old|yrs?\s*old|-year-old)|(?:age[d]?\s*)(\d{1,2})|"
                  rf"([{ZH_NUMERALS}两]{{1,3}})\s*岁")
_BARE_NUMBER = re.compile(rf"^\D*?(\d{{1,2}}|[{ZH_NUMERALS}两]{{1,3}})\D*$")


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
    digits = [ZH_NUMERALS.index(c) if c != "两" else 2 for c in text]
    if len(digits) == 1:
        return digits[0]
    if digits[0] == 10:                     # 十二
        return 10 + (digits[1] if len(digits) > 1 else 0)
    if len(digits) >= 2 and digits[1] == 10:  # 二十, 二十三
        return digits[0] * 10 + (digits[2] if len(digits) > 2 else 0)
    return None


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
                if ascii_form and text[end:end + 1] == "s" and not text[end + 1:end + 2].isalnum():
                    end += 1                     # a plural: "car loans", "toilets"
                bounded = not ascii_form or ((start == 0 or not text[start - 1].isalnum())
                                             and (end == len(text) or not text[end].isalnum()))
                if bounded and not taken[start:end].any():
                    taken[start:end] = True
                    found += [Mention(slot, value, start, end) for slot, value in self.forms[form]]
                start = text.find(form, start + 1)
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


def features(text: str, mentions: Sequence[Mention]) -> list[str]:
    """Tokens, token bi-, tri- and skip-grams and English character trigrams of the delexicalized text."""
    spans = sorted({(m.start, m.end, m.slot) for m in mentions})
    out, last = [], 0
    for start, end, slot in spans:
        if start >= last:
            out += [text[last:start], f" <{slot}> "]
            last = end
    tokens = ["^", *_TOKEN.findall("".join(out) + text[last:]), "$"]
    feats = tokens[1:-1] + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]
    feats += [f"{a} {b} {c}" for a, b, c in zip(tokens, tokens[1:], tokens[2:], strict=False)]
    feats += [f"{a} _ {c}" for a, c in zip(tokens, tokens[2:], strict=False)]
    for tok in tokens:
        if tok.isascii() and tok.isalpha() and len(tok) > 3:
            word = f"#{tok}#"
            feats += [f"c:{word[i:i + 3]}" for i in range(len(word) - 2)]
    return feats


@dataclass(frozen=True)
class Parse:
    intent: str
    confidence: float
    slots: dict[str, str]            # slot -> value, those the intent takes (all for a follow-up)
    mentions: tuple[Mention, ...]    # every slot value heard
    language: str


class IntentClassifier:
    """Softmax regression over hashed-free sparse features (the vocabulary is the training set's)."""

    def __init__(self, data: Sequence[Example], tagger: SlotTagger, l2: float = 1e-5) -> None:
        self.tagger = tagger
        self.labels = sorted({e.intent for e in data})
        rows = [features(normalize(e.text), tagger.mentions(normalize(e.text))) for e in data]
        self.vocab = {f: i for i, f in enumerate(sorted({f for r in rows for f in r}))}
        X = self._matrix(rows)
        y = np.array([self.labels.index(e.intent) for e in data])
        n, d, k = X.shape[0], X.shape[1], len(self.labels)
        Y = np.zeros((n, k))
        Y[np.arange(n), y] = 1.0
        counts = Y.sum(axis=0)
        sample_w = (n / (k * counts[y]))[:, None]     # every intent weighs the same, however many examples

        def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
            W = w.reshape(d + 1, k)
            Z = X @ W[:-1] + W[-1]
            Z -= Z.max(axis=1, keepdims=True)
            logp = Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
            G = sample_w * (np.exp(logp) - Y) / n
            grad = np.vstack([X.T @ G + l2 * W[:-1], G.sum(axis=0)])
            return float(-(sample_w * Y * logp).sum() / n + 0.5 * l2 * (W[:-1] ** 2).sum()), grad.ravel()

        result = scipy.optimize.minimize(loss, np.zeros((d + 1) * k), jac=True, method="L-BFGS-B",
                                         options={"maxiter": 500})
        self.W = result.x.reshape(d + 1, k)

    def _matrix(self, rows: Sequence[Sequence[str]]) -> scipy.sparse.csr_matrix:
        indptr, indices = [0], []
        for r in rows:
            cols = sorted({self.vocab[f] for f in r if f in self.vocab})
            indices += cols
            indptr.append(len(indices))
        data = np.concatenate([np.full(indptr[i + 1] - indptr[i], 1.0 / max(1, indptr[i + 1] - indptr[i]) ** 0.5)
                               for i in range(len(rows))]) if indices else np.zeros(0)
        return scipy.sparse.csr_matrix((data, indices, indptr), shape=(len(rows), len(self.vocab)))

    def probabilities(self, text: str, mentions: Sequence[Mention]) -> np.ndarray:
        Z = (self._matrix([features(text, mentions)]) @ self.W[:-1] + self.W[-1])[0]
        p = np.exp(Z - Z.max())
        return p / p.sum()


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
