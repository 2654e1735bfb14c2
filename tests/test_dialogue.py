"""Service dialogue: several people over many turns, slot filling and confirmation, context,
knowledge with citations, out of scope, hand-off, an LLM backend that is checked, the kiosk API,
and a guiding request walked in physics."""

from __future__ import annotations

import json
import threading
import urllib.request
from dataclasses import replace

import pytest

from laoshan.brain.dialogue.corpus import examples
from laoshan.brain.dialogue.domain import DOMAINS, load_domain
from laoshan.brain.dialogue.manager import DialogueManager, Guide, HandOff, Ticket
from laoshan.brain.dialogue.nlu import Nlu, language_of, normalize, SlotTagger


@pytest.fixture(scope="module")
def bank() -> DialogueManager:
    return DialogueManager.for_hall("bank")


def fresh(domain: str) -> DialogueManager:
    """A manager with no sessions (the recogniser is trained once per process)."""
    return DialogueManager.for_hall(domain)


def test_three_people_over_ten_turns_keep_their_slots_apart() -> None:
    dm = fresh("bank")
    script = [
        ("alice", "我想开户"),                            # asks which account
        ("bob", "what is the US dollar rate"),
        ("carol", "我的信用卡丢了"),                       # asks to confirm the block
        ("alice", "定期存款"),                            # alice's slot, while others talk
        ("bob", "and the euro?"),                         # follow-up on bob's own question
        ("carol", "对"),                                  # carol confirms hers, not alice's
        ("alice", "是的"),
        ("bob", "where is the ATM"),
        ("bob", "when does it close"),                    # "it": the ATM bob asked about
        ("carol", "谢谢"),
    ]
    replies = [dm.turn(who, text) for who, text in script]
    assert len(replies) == 10 and all(r.person == who for r, (who, _) in zip(replies, script, strict=True))
    tickets = {p: s.tickets for p, s in dm.sessions.items()}
    assert [(t.intent, dict(t.slots)) for t in tickets["alice"]] == [("open_account", {"account_type": "fixed"})]
    assert [(t.intent, dict(t.slots)) for t in tickets["carol"]] == [("lost_card", {"card_type": "credit"})]
    assert tickets["bob"] == []
    assert replies[1].cites == ("bank-rate-usd",) and replies[4].cites == ("bank-rate-eur",)
    assert "Euro" in replies[4].text
    assert any(isinstance(a, Guide) and a.place == "atm" for a in replies[7].actions)
    assert replies[8].cites == ("bank-hours-atm",)
    assert replies[3].language == "zh" and replies[1].language == "en"
    assert "currency" not in dm.sessions["alice"].focus and "account_type" not in dm.sessions["bob"].focus


def test_people_speaking_at_once_are_answered_in_turn() -> None:
    dm = fresh("hospital")
    dm.hear("ann", "你好")
    dm.hear("ben", "where is the pharmacy")
    first, second = dm.respond(), dm.respond()
    assert first is not None and second is not None and dm.respond() is None
    assert (first.person, second.person) == ("ann", "ben")
    assert second.text.startswith("ben, thank you for waiting")
    assert any(isinstance(a, Guide) and a.place == "pharmacy" for a in second.actions)


@pytest.mark.parametrize("domain", DOMAINS)
def test_out_of_scope_gets_a_polite_answer_and_then_a_clerk(domain: str) -> None:
    dm = fresh(domain)
    joke = dm.turn("zoe", "tell me a joke")
    assert joke.intent == "out_of_scope" and joke.text.startswith("Sorry") and not joke.cites and not joke.actions
    again = dm.turn("zoe", "给我讲个笑话")
    assert again.language == "zh" and "抱歉" in again.text
    assert any(isinstance(a, HandOff) for a in again.actions)      # twice not understood: a clerk


def test_answers_quote_and_cite_their_entry(bank: DialogueManager) -> None:
    reply = bank.turn("dan", "日元汇率是多少")
    entry = bank.domain.entry("bank-rate-jpy")
    assert reply.cites == (entry.id,) and entry.text["zh"] in reply.text


def test_a_question_the_knowledge_does_not_cover_goes_to_a_clerk() -> None:
    domain = load_domain("bank")
    no_rates = replace(domain, knowledge=tuple(e for e in domain.knowledge if e.intent != "exchange_rate"))
    dm = DialogueManager(no_rates, Nlu(no_rates))
    reply = dm.turn("eve", "what is the euro exchange rate")
    assert reply.intent == "exchange_rate" and not reply.cites
    assert any(isinstance(a, HandOff) for a in reply.actions) and "no information" in reply.text


def test_context_fills_what_refers_back() -> None:
    dm = fresh("hospital")
    dm.turn("fay", "药房在哪里")
    assert dm.turn("fay", "它几点关门").cites == ("hospital-hours-pharmacy",)
    assert "哪一个" in dm.turn("gus", "那个呢").text                     # nothing said before: which one?


def test_a_request_is_confirmed_and_can_be_cancelled(bank: DialogueManager) -> None:
    assert "业务" in bank.turn("hal", "我要取号").text                  # which service?
    assert "对吗" in bank.turn("hal", "VIP").text                       # slot given alone, reply stays Chinese
    cancelled = bank.turn("hal", "不对")
    assert cancelled.intent == "deny" and bank.sessions["hal"].tickets == []


def test_a_lost_child_alerts_security_at_once_then_fills_the_details() -> None:
    dm = fresh("mall")
    first = dm.turn("ivy", "我孩子走丢了")
    assert any(isinstance(a, HandOff) and a.urgent for a in first.actions)
    dm.turn("ivy", "五岁")
    assert "对吗" in dm.turn("ivy", "穿蓝色衣服").text
    done = dm.turn("ivy", "对")
    ticket = next(a for a in done.actions if isinstance(a, Ticket))
    assert dict(ticket.slots) == {"age": "5", "colour": "blue"}


def test_mixed_chinese_and_english() -> None:
    dm = fresh("bank")
    reply = dm.turn("jay", "我想换 dollar，汇率多少")
    assert language_of("我想换 dollar，汇率多少") == "zh" and reply.language == "zh"
    assert reply.cites == ("bank-rate-usd",)
    assert [m.value for m in SlotTagger(dm.domain).mentions(normalize("two euros and some yen"))] == ["EUR", "JPY"]


def test_held_out_sentence_patterns_are_recognised() -> None:
    domain = load_domain("hospital")
    nlu = Nlu(domain, split="train")
    test = examples(domain, "test", seed=1)
    accuracy = sum(nlu.parse(e.text).intent == e.intent for e in test) / len(test)
    assert len(test) > 300 and accuracy >= 0.9


def test_llm_intents_are_checked_and_the_offline_recogniser_steps_in(llm_server) -> None:
    url, replies = llm_server
    dm = DialogueManager.for_hall("bank", url)
    replies += ['{"intent": "teleport", "slots": {}}',                                  # unknown intent
                '{"intent": "exchange_rate", "slots": {"currency": "BTC"}}',            # unknown value
                '```json\n{"intent": "exchange_rate", "slots": {"currency": "GBP"}}\n```']
    assert dm.turn("kim", "what is the euro rate").cites == ("bank-rate-eur",)     # offline answered
    assert dm.turn("kim", "what is the euro rate").cites == ("bank-rate-eur",)
    assert dm.llm_failures == 2
    assert dm.turn("kim", "what is the euro rate").cites == ("bank-rate-gbp",)     # the LLM's (valid) reading


def test_kiosk_answers_over_http_and_websocket() -> None:
    from websockets.sync.client import connect

    from laoshan.ui.kiosk import make_server

    server = make_server(fresh("telecom"), port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        request = urllib.request.Request(f"{base}/api/turn", json.dumps({"person": "lee", "text": "我想换成家庭套餐"})
                                         .encode(), {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as response:
            reply = json.loads(response.read())
        assert reply["intent"] == "plan_change" and reply["slots"] == {"plan": "family"}
        with connect(f"ws://127.0.0.1:{server.server_port}/ws", open_timeout=5) as ws:
            ws.send(json.dumps({"person": "lee", "text": "好的"}))
            done = json.loads(ws.recv(timeout=5))
            assert done["actions"][0]["type"] == "ticket" and done["cites"] == ["telecom-plan-family"]
            ws.send("not json")
            assert "error" in json.loads(ws.recv(timeout=5))
        with urllib.request.urlopen(f"{base}/", timeout=5) as page:
            assert "WebSocket" in page.read().decode()
    finally:
        server.shutdown()
        server.server_close()


def test_a_guiding_request_ends_at_the_goal() -> None:
    from laoshan.scenarios.guide import GOAL_TOLERANCE_M, HallRobot

    dm = fresh("hospital")
    reply = dm.turn("max", "请问挂号处在哪里")
    guide = next(a for a in reply.actions if isinstance(a, Guide))
    report = HallRobot(dm.domain, seed=0).walk_to(guide.place)
    assert report.success and not report.fell
    assert report.error_m <= GOAL_TOLERANCE_M
