"""Rasa events → interaction records."""

from __future__ import annotations

from bot.rasa_server.stores.record_mapping import records_from_events

USER = {
    "event": "user", "timestamp": 100.0, "text": "how long does delivery take?", "input_channel": "rest",
    "metadata": {}, "parse_data": {"intent": {"name": "ask_question", "confidence": 0.98},
                                   "entities": [{"entity": "faq_id", "value": "x", "start": 0, "end": 1,
                                                 "extractor": "RegexMessageHandler"}]},
}
ACTION = {"event": "action", "timestamp": 100.01, "name": "action_answer_faq"}
BOT = {
    "event": "bot", "timestamp": 100.045, "text": "Two to four working days.",
    "metadata": {"faq": {"faq_id": "delivery-time", "faq_score": 0.91,
                         "faq_candidates": [{"id": "delivery-time", "score": 0.91}]}},
}


def test_a_turn_gives_a_customer_record_and_a_bot_record() -> None:
    customer, bot = records_from_events("c1", [USER, ACTION, BOT], start=0)
    assert customer["actor"] == "customer" and customer["text"] == USER["text"]
    assert customer["intent"] == "ask_question" and customer["intent_confidence"] == 0.98
    assert customer["entities"] == [{"entity": "faq_id", "value": "x", "start": 0, "end": 1}]
    assert customer["conversation_id"] == "c1" and customer["customer_id"] == "c1" and customer["channel"] == "rest"
    assert bot["actor"] == "bot" and bot["action"] == "action_answer_faq"
    assert bot["faq_id"] == "delivery-time" and bot["faq_score"] == 0.91
    assert bot["faq_candidates"] == [{"id": "delivery-time", "score": 0.91}]
    assert bot["channel"] == "rest"
    assert abs(bot["latency_ms"] - 45.0) < 0.01
    assert bot["created_at"].timestamp() == 100.045


def test_events_already_stored_give_context_but_no_records() -> None:
    second_bot = BOT | {"timestamp": 100.5, "text": "Anything else?", "metadata": {}}
    [record] = records_from_events("c1", [USER, ACTION, BOT, second_bot], start=3)
    assert record["text"] == "Anything else?" and record["action"] == "action_answer_faq"
    assert abs(record["latency_ms"] - 500.0) < 0.01


def test_customer_id_comes_from_metadata_when_given_and_agents_are_marked() -> None:
    user = USER | {"metadata": {"customer_id": "cust-42"}}
    agent = BOT | {"metadata": {"actor": "agent"}}
    customer, reply = records_from_events("conv-9", [user, agent], start=0)
    assert customer["customer_id"] == "cust-42" and reply["customer_id"] == "cust-42"
    assert reply["actor"] == "agent" and reply["faq_id"] is None


def test_other_events_are_not_records() -> None:
    events = [{"event": "session_started", "timestamp": 1.0}, {"event": "slot", "name": "x", "value": 1}]
    assert records_from_events("c1", events, start=0) == []
