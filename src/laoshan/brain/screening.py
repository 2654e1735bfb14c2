"""Screening an instruction before it is planned: harm is refused.

:func:`harm_reason` finds what the robot must not do, in Chinese or English, before any planner
(offline or an LLM) sees the instruction: throwing things, damaging them, hitting or hurting people,
putting, dropping or pushing things on or at people. (That every word is accounted for is the
offline reader's own rule: :mod:`laoshan.brain.language`.)
"""

from __future__ import annotations

import re


THROW_WORDS = ("throw", "toss", "hurl", "fling", "chuck", "lob", "扔", "丢", "抛", "甩", "投掷", "掷")
DAMAGE_WORDS = ("smash", "break", "destroy", "crush", "wreck", "damage", "shatter", "ruin",
                "砸", "摔", "打碎", "摔碎", "弄坏", "打坏", "破坏", "毁", "捣毁", "踩坏")
VIOLENCE_WORDS = ("hurt", "harm", "injure", "attack", "stab", "punch", "kick", "beat", "slap", "shoot", "kill",
                  "伤害", "伤人", "攻击", "打人", "揍", "踢", "刺", "杀", "捅")
STRIKE_WORDS = ("hit", "strike", "bash", "whack", "ram", "打", "撞", "敲")
PERSON_WORDS = ("him", "her", "them", "me", "you", "us", "person", "people", "man", "woman", "child", "kid",
                "baby", "customer", "visitor", "guest", "someone", "somebody", "anyone", "everyone", "head", "face",
                "body", "他", "她", "他们", "她们", "我", "你", "您", "人", "顾客", "客人", "客户", "孩子", "小孩",
                "老人", "头", "脸", "身上", "身体")
AT_WORDS = ("at", "on", "onto", "toward", "towards", "into", "over", "upon", "向", "朝", "往", "到", "在")
MOVE_WORDS = ("drop", "push", "put", "place", "set", "pour", "spill", "move", "放", "推", "倒", "泼", "洒", "搬", "移")
HARM_WORDS = (*THROW_WORDS, *DAMAGE_WORDS, *VIOLENCE_WORDS)
BENIGN = ("打开", "打扫", "打印", "打电话", "敲门")      # "打" / "敲" in words that hurt nobody


def _alternation(words: tuple[str, ...]) -> str:
    return "|".join(rf"\b{re.escape(w)}\b" if w.isascii() else re.escape(w) for w in words)


_ARTICLE = r"(?:\s*(?:the|a|an|this|that|my|your|his|her)\b)?\s*"
_AT_PERSON = re.compile(rf"(?:{_alternation(AT_WORDS)}){_ARTICLE}(?:{_alternation(PERSON_WORDS)})")
_STRIKE_PERSON = re.compile(rf"(?:{_alternation(STRIKE_WORDS)}){_ARTICLE}(?:{_alternation(PERSON_WORDS)})")
_WITH_OBJECT = re.compile(r"\bwith\b|用")


def _has(text: str, words: tuple[str, ...]) -> str | None:
    """The first of ``words`` found in ``text`` (ASCII ones as whole words), or None."""
    found = re.search(_alternation(words), text)
    return found.group(0) if found else None


def harm_reason(instruction: str) -> str | None:
    """Why carrying ``instruction`` out could hurt someone or damage something; None if nothing would."""
    text = instruction.strip().lower()
    for word in BENIGN:
        text = text.replace(word, " ")
    if (word := _has(text, THROW_WORDS)) is not None:
        return f"I do not throw things ({word!r}): a thrown object can hurt someone or break"
    if (word := _has(text, DAMAGE_WORDS)) is not None:
        return f"I do not damage things ({word!r})"
    if (word := _has(text, VIOLENCE_WORDS)) is not None:
        return f"I do not hurt people, nor do anything that could ({word!r})"
    hit = _STRIKE_PERSON.search(text) or (_has(text, STRIKE_WORDS) and _WITH_OBJECT.search(text))
    if hit:
        return f"I do not hit or strike anyone, nor anything with something ({hit.group(0).strip()!r})"
    if _has(text, MOVE_WORDS) is not None and (at := _AT_PERSON.search(text)) is not None:
        return f"I do not put, drop or push things on or at people ({at.group(0).strip()!r}); I can hand them over"
    return None
