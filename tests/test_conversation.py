"""Dialogue that follows people (issue 26): corrections while confirming, context carried from one
request to the next, mixed-script words, numbers, homophones, the telecom shop's widened intents,
emergencies never dropped, several people at once, and one JSON object per reply."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from laoshan.brain.dialogue.manager import DialogueManager, HandOff, Ticket
from laoshan.brain.dialogue.nlu import offline_nlu


def talk(hall: str, *turns: tuple[str, str]) -> list:
    dm = DialogueManager.for_hall(hall)
    return [dm.turn(person, text) for person, text in turns]


def test_a_correction_while_confirming_changes_the_slot_not_the_request() -> None:
    a = "alice"
    replies = talk("bank", (a, "我想开个定期"), (a, "不对，是储蓄账户"), (a, "对"))
    assert [r.slots for r in replies] == [{"account_type": "fixed"}, {"account_type": "savings"},
                                          {"account_type": "savings"}]
    ticket = replies[-1].actions[0]
    assert isinstance(ticket, Ticket) and ticket.slots == (("account_type", "savings"),)
    booked = talk("government", (a, "我想预约"), (a, "注册公司"), (a, "周一"), (a, "不对，改周五"), (a, "对"))
    assert booked[3].intent == "appointment" and booked[3].slots == {"service": "company", "day": "friday"}
    assert isinstance(booked[4].actions[0], Ticket)
    assert talk("bank", (a, "开个定期"), (a, "不用了"))[1].intent == "deny"       # a plain no still cancels


def test_context_carries_into_the_next_request() -> None:
    replies = talk("government", ("bob", "what documents do I need for marriage registration"),
                   ("bob", "ok book that for monday"), ("bob", "yes"))
    assert replies[1].intent == "appointment" and replies[1].slots == {"service": "marriage", "day": "monday"}
    assert isinstance(replies[2].actions[0], Ticket)
    assert talk("bank", ("bob", "今天股市怎么样"), ("bob", "那英镑汇率呢"))[1].intent == "exchange_rate"


@pytest.mark.parametrize(("hall", "text", "intent", "slots"), [
    ("bank", "ATM在哪", "find_place", {"place": "atm"}),               # an English word against Chinese ones
    ("hospital", "挂一个眼课的号", "register", {"department": "ophthalmology"}),   # a homophone typo
    ("telecom", "这里能充电吗", "charging", {}),
    ("telecom", "my home gets almost no signal", "network_issue", {}),
    ("telecom", "can I move my number onto an eSIM", "sim_card", {"sim_type": "esim"}),
    ("telecom", "which phones do you have for sale", "buy_phone", {}),
    ("telecom", "有卖手机壳的吗", "accessories", {}),
    ("telecom", "去泰国旅游要开漫游吗", "roaming", {}),
    ("mall", "is there wifi here", "wifi", {}),
    ("telecom", "你会跳舞吗", "out_of_scope", {}),
])
def test_visitors_are_understood(hall: str, text: str, intent: str, slots: dict) -> None:
    parse = offline_nlu(hall).parse(text)
    assert (parse.intent, parse.slots) == (intent, slots), parse


def test_ages_are_read_whole() -> None:
    nlu = offline_nlu("mall")
    assert nlu.parse("我找不到我的孩子，他100岁").slots.get("age") == "100"
    assert nlu.parse("my son is lost, he is 7").slots.get("age") == "7"


def test_a_lost_child_in_any_colour_or_words_is_never_dropped() -> None:
    green = talk("mall", ("p", "我孩子走丢了"), ("p", "五岁"), ("p", "穿绿色衣服"))
    assert green[-1].intent == "lost_child" and green[-1].slots == {"age": "5", "colour": "green"}
    told = talk("mall", ("p", "my son is lost"), ("p", "he's 6"), ("p", "a striped t-shirt with a dinosaur on it"))
    urgent = [a for a in told[-1].actions if isinstance(a, HandOff)]
    assert told[-1].intent == "lost_child" and urgent and urgent[0].urgent and "dinosaur" in urgent[0].reason


def test_several_people_at_once_are_answered_in_turn_each_in_their_own_context() -> None:
    dm = DialogueManager.for_hall("bank")
    dm.hear("a", "我想开个户")
    dm.hear("b", "美元汇率多少")
    first, second = dm.respond(), dm.respond()
    assert (first.person, first.intent) == ("a", "open_account")
    assert (second.person, second.intent, second.slots) == ("b", "exchange_rate", {"currency": "USD"})
    assert dm.turn("a", "定期").slots == {"account_type": "fixed"}
    assert dm.turn("b", "那欧元呢").slots == {"currency": "EUR"}
    assert isinstance(dm.turn("a", "好的").actions[0], Ticket)


def test_chat_json_prints_one_object_per_reply() -> None:
    lines = "@a 我想开个定期\n@a 不对，是储蓄账户\n@a 对\n@b where is the ATM\n"
    out = subprocess.run([sys.executable, "-m", "laoshan.cli", "chat", "--domain", "bank", "--json", "--no-walk"],
                         input=lines, capture_output=True, text=True, timeout=120, check=True).stdout
    replies = [json.loads(line) for line in out.splitlines()]
    assert [r["person"] for r in replies] == ["a", "a", "a", "b"]
    assert set(replies[0]) >= {"person", "intent", "slots", "cites", "actions", "text"}
    assert replies[2]["actions"][0]["type"] == "ticket" and replies[2]["slots"] == {"account_type": "savings"}
    assert replies[3]["intent"] == "find_place" and replies[3]["actions"][0]["type"] == "guide"
