"""Reading an instruction word by word: each word (or phrase) tagged with what it means to the planner.

Text is normalized (NFKC: full-width digits and letters to plain ones; lower case; "no. 3" and
"st. 3" read as "number 3" and "station 3"), then split into English and Chinese runs. English
words are matched as phrases (longest first) against the lexicon (:mod:`laoshan.brain.lexicon`)
and the world model's names; a word it does not know is read as its base form ("putting" → put)
or, failing that, as the one known word within a small edit distance (optimal string alignment,
``rapidfuzz``: "staton" → station, "drawr" → drawer). Chinese runs are matched longest first too,
and a span no form matches is read by its sound: the known word with the same toneless pinyin
(``pypinyin``: "洪色" → 红色, "公位" → 工位, "抽提" → 抽屉). What is still unknown is kept, split into
words (``jieba``), so that a refusal can name it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from pypinyin import lazy_pinyin
from rapidfuzz.distance import OSA

from laoshan.brain.lexicon import DETERMINERS, NEEDS_DETERMINER, Concept, concepts

CONTENT = ("act", "colour", "kind", "station", "fixture", "person")   # kinds worth reading a misspelling as
_CJK = re.compile(r"[\u3400-\u9fff]")
_ZH_NUMERAL = "零一二三四五六七八九十"


@dataclass(frozen=True)
class Token:
    kind: str          # the concept's kind: act, colour, kind, num, ord, station, number_mark, side, end, near,
                       # middle, next, not, and, or, then, it, person, vague_place, vague_object, fixture, place,
                       # filler, sep (a clause ends), unknown
    value: str         # e.g. "pick", "red", "3", "station 2"
    text: str          # as said
    read_as: str | None = None   # the known word a misspelling or homophone was read as


@dataclass(frozen=True)
class Vocabulary:
    """The forms an instruction is read against: the lexicon's and the world model's names."""

    forms: dict[str, tuple[Concept, ...]]      # form (lower case) -> what it may mean
    english_words: frozenset[str]              # every word of an English form
    longest_en: int                            # words in the longest English form
    longest_zh: int                            # characters in the longest Chinese form
    by_sound: dict[tuple[str, ...], str]       # toneless pinyin of a Chinese content form (2+ characters) -> form
    by_sound_1: dict[str, str]                 # ... of a one-character colour or kind


@cache
def _lexicon() -> dict[str, tuple[Concept, ...]]:
    return {form: tuple(c) for form, c in concepts().items()}


def vocabulary(names: Iterable[tuple[str, Concept]] = ()) -> Vocabulary:
    """The lexicon with ``names`` (a world model's place, fixture and button names and aliases) added;
    a lexicon form keeps its meaning first."""
    forms = dict(_lexicon())
    for form, concept in names:
        key = normalize(form)
        forms[key] = forms.get(key, ()) + (concept,)
    english = {w for f in forms if f.isascii() for w in f.split()}
    zh = [f for f in forms if _CJK.search(f)]
    content = [f for f in zh if any(c[0] in (*CONTENT, "place") for c in forms[f])]
    by_sound = {tuple(lazy_pinyin(f)): f for f in sorted(content, key=len) if len(f) >= 2}
    by_sound_1 = {lazy_pinyin(f)[0]: f for f in content if len(f) == 1 and forms[f][0][0] in ("colour", "kind")}
    return Vocabulary(forms, frozenset(english), max(len(f.split()) for f in forms if f.isascii()),
                      max(len(f) for f in zh), by_sound, by_sound_1)


def normalize(text: str) -> str:
    """NFKC, lower case, one space between words; "no. 3" / "st. 3" / "#3" as "number 3" / "station 3"."""
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    text = re.sub(r"\bno\.\s*(?=\d)", "number ", text)
    text = re.sub(r"\bst\.\s*(?=\d)", "station ", text)
    text = re.sub(r"#\s*(?=\d)", " # ", text)
    return " ".join(text.split())


def tag(instruction: str, vocab: Vocabulary) -> list[Token]:
    """The instruction as tokens, in order: every word is one (an unknown word too)."""
    tokens: list[Token] = []
    for chunk in re.findall(r"[a-z0-9'#&\-]+(?:\s+[a-z0-9'#&\-]+)*|[\u3400-\u9fff]+|[^\sa-z0-9\u3400-\u9fff]",
                            normalize(instruction)):
        if _CJK.match(chunk):
            tokens += _chinese(chunk, vocab)
        elif chunk[0].isalnum() or chunk[0] in "'#&-":
            tokens += _english(chunk, vocab)
        elif chunk in ",，;；.。!！?？、:：":
            tokens.append(Token("sep", chunk, chunk))
    return _numbers_in_context(tokens)


def _token(form: str, said: str, vocab: Vocabulary, read_as: str | None = None) -> Token:
    kind, value = vocab.forms[form][0]
    return Token(kind, value, said, read_as)


def _english(run: str, vocab: Vocabulary) -> list[Token]:
    words = [w for w in re.split(r"[\s\-]+", run) if w]
    fixed = [_known_word(w, vocab, words[k - 1] if k else "", words[k + 1] if k + 1 < len(words) else "")
             for k, w in enumerate(words)]
    out: list[Token] = []
    i = 0
    while i < len(words):
        for n in range(min(vocab.longest_en, len(words) - i), 0, -1):
            form = " ".join(f or w for f, w in zip(fixed[i:i + n], words[i:i + n], strict=True))
            if form in vocab.forms:
                said = " ".join(words[i:i + n])
                out.append(_token(form, said, vocab, form if form != said else None))
                i += n
                break
        else:
            w = words[i]
            out.append(Token("num", str(int(w)), w) if w.isdigit() else Token("unknown", w, w))
            i += 1
    for k, t in enumerate(out):         # "drink": a kind after a determiner ("give me the drink"), not a verb
        if t.text in NEEDS_DETERMINER and not (k and (out[k - 1].text in DETERMINERS or out[k - 1].kind == "colour")):
            out[k] = Token("unknown", t.text, t.text)
    return out


def _known_word(word: str, vocab: Vocabulary, before: str, after: str) -> str | None:
    """``word`` as a word the vocabulary has: itself, its base form, or the known word a slip of the
    keyboard away that starts with the same letter (None: none, or several that mean different
    things and none of which makes a known phrase with the word ``before`` or ``after`` it)."""
    if word in vocab.english_words or word.isdigit():
        return word
    if re.fullmatch(r"\d+(st|nd|rd|th)", word):
        return word if word in vocab.english_words else None
    for base in _base_forms(word):
        if base in vocab.english_words:
            return base
    if len(word) < 2:
        return None
    limit = 1 if len(word) < 7 else 2
    best: list[str] = []
    best_d = limit + 1
    for known in vocab.english_words:
        if abs(len(known) - len(word)) > limit or known[0] != word[0]:
            continue
        d = OSA.distance(word, known, score_cutoff=limit)
        if d < best_d:
            best, best_d = [known], d
        elif d == best_d:
            best.append(known)
    def meaning(known: str) -> Concept:
        return vocab.forms.get(known, (("filler", ""),))[0]

    best = [k for k in best if len(k) >= 3]
    if len({meaning(k) for k in best}) > 1:      # several meanings: the swapped letters ("teh"), or the one
        best = [k for k in best if sorted(k) == sorted(word)] or [        # that makes a known phrase
            k for k in best if f"{before} {k}" in vocab.forms or f"{k} {after}" in vocab.forms]
    return best[0] if best and len({meaning(k) for k in best}) == 1 else None


def _base_forms(word: str) -> list[str]:
    """"putting" → put, "places" → place, "closed" → close ..."""
    out = []
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) > len(suffix) + 1:
            stem = word[: -len(suffix)]
            out += [stem, stem + "e"]
            if len(stem) > 2 and stem[-1] == stem[-2]:
                out.append(stem[:-1])
    return out


def _chinese(run: str, vocab: Vocabulary) -> list[Token]:
    """The segmentation that leaves the fewest characters unknown, then reads the fewest by their
    sound, then has the fewest words: known forms; forms that sound the same (two characters or
    more; or a one-character colour or kind after "的" or a colour, where nothing else fits);
    unknown characters."""
    n_chars = len(run)
    sounds = [lazy_pinyin(ch)[0] for ch in run]
    best: list[tuple[tuple[int, int, int], list[Token]]] = [((0, 0, 0), [])] * (n_chars + 1)
    for i in range(n_chars - 1, -1, -1):
        options: list[tuple[tuple[int, int, int], Token]] = []
        for n in range(1, min(vocab.longest_zh, n_chars - i) + 1):
            piece = run[i:i + n]
            if piece in vocab.forms:
                options.append(((0, 0, 1), _token(piece, piece, vocab)))
            elif n >= 2 and tuple(sounds[i:i + n]) in vocab.by_sound and _loose(piece, vocab):
                form = vocab.by_sound[tuple(sounds[i:i + n])]
                options.append(((0, 1, 1), _token(form, piece, vocab, form)))
        after_noun_word = i > 0 and (run[i - 1] in "的个只" or vocab.forms.get(run[i - 1], (("",),))[0][0] == "colour")
        if sounds[i] in vocab.by_sound_1 and run[i] not in vocab.forms and after_noun_word:
            form = vocab.by_sound_1[sounds[i]]
            options.append(((0, 1, 1), _token(form, run[i], vocab, form)))
        options.append(((1, 0, 1), Token("unknown", run[i], run[i])))
        best[i] = min(((tuple(a + b for a, b in zip(cost, best[i + len(t.text)][0], strict=True)),
                        [t, *best[i + len(t.text)][1]]) for cost, t in options), key=lambda c: c[0])
    out: list[Token] = []
    for t in best[0][1]:                    # unknown characters side by side: one span
        if t.kind == "unknown" and out and out[-1].kind == "unknown":
            out[-1] = Token("unknown", out[-1].text + t.text, out[-1].text + t.text)
        else:
            out.append(t)
    return _chinese_numbers(_unknown_words(out))


def _loose(piece: str, vocab: Vocabulary) -> bool:
    """Whether ``piece`` may be read by its sound: at most one of its characters means something on
    its own ("和子" → 盒子, but not "和二": "and two")."""
    return sum(1 for ch in piece if ch in vocab.forms and vocab.forms[ch][0][0] != "filler") <= 1


def _unknown_words(tokens: list[Token]) -> list[Token]:
    """Unknown spans as words (``jieba``), a word taking in a known character it shares ("冰箱": not
    冰 and a box)."""
    if not any(t.kind == "unknown" for t in tokens):
        return tokens
    import jieba                        # (loads its dictionary on first use: only when something is unknown)
    jieba.setLogLevel(60)
    starts = [0]
    for t in tokens:
        starts.append(starts[-1] + len(t.text))
    out: list[Token] = []
    taken: set[int] = set()             # tokens already in out (by index)
    at = 0
    for word in jieba.lcut("".join(t.text for t in tokens)):
        inside = [k for k in range(len(tokens)) if starts[k] < at + len(word) and starts[k + 1] > at]
        if any(tokens[k].kind == "unknown" for k in inside):
            out.append(Token("unknown", word, word))
        else:
            out += [tokens[k] for k in inside if k not in taken]
        taken.update(inside)
        at += len(word)
    return out


def _chinese_numbers(tokens: list[Token]) -> list[Token]:
    """Consecutive Chinese numerals as one number: 十二 → 12, 二十 → 20."""
    out: list[Token] = []
    for t in tokens:
        prev = out[-1] if out else None
        if t.kind == "num" and prev is not None and prev.kind == "num" and all(
                c in _ZH_NUMERAL + "两" for c in prev.text + t.text) and "十" in prev.text + t.text:
            out[-1] = Token("num", str(_zh_number(prev.text + t.text)), prev.text + t.text)
        else:
            out.append(t)
    return out


def _zh_number(text: str) -> int:
    digits = [2 if c == "两" else _ZH_NUMERAL.index(c) for c in text]
    if digits[0] == 10:
        return 10 + (digits[1] if len(digits) > 1 else 0)
    return digits[0] * 10 + (digits[2] if len(digits) > 2 else 0)


def _numbers_in_context(tokens: list[Token]) -> list[Token]:
    """A word that is a number or a filler ("one", "first", "一") is the number next to a station or
    number mark ("station one", "the first station", "一号"), a filler elsewhere ("the red one")."""
    out = list(tokens)
    content = [k for k, t in enumerate(out) if t.kind != "filler" or t.text in ("one", "first", "一")]
    for pos, k in enumerate(content):
        t = out[k]
        if t.kind not in ("num", "ord", "filler") or t.text not in ("one", "first", "一"):
            continue
        near = [out[content[j]].kind for j in (pos - 1, pos + 1) if 0 <= j < len(content)]
        numeric = any(kind in ("station", "number_mark") for kind in near)
        meaning = ("ord" if t.text == "first" else "num", "1") if numeric else ("filler", "")
        out[k] = Token(meaning[0], meaning[1], t.text)
    return out
