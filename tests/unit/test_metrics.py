"""The metric definitions (docs/metrics.md) on hand-made record sets with known answers, and the
report command giving the same figures from a database (SQLite file and PostgreSQL)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from bot.domain.insight import metrics
from bot.domain.insight.metrics import Rows
from bot.domain.storage.db import session_scope
from bot.domain.storage.migrate import upgrade
from bot.domain.storage.models import Handoff, InteractionRecord

DAY1 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
DAY2 = DAY1 + timedelta(days=1)


def turn(conversation: str, actor: str, at: datetime, text: str = "", channel: str = "rest", **fields: object) -> dict:
    return {"conversation_id": conversation, "customer_id": f"cust-{conversation}", "channel": channel,
            "actor": actor, "text": text, "intent": None, "faq_id": None, "faq_decision": None, "action": None,
            "created_at": at.isoformat()} | fields


def faq_reply(conversation: str, at: datetime, decision: str, faq_id: str | None = None, **fields: object) -> dict:
    return turn(conversation, "bot", at, "...", action="action_answer_faq", faq_decision=decision, faq_id=faq_id,
                **fields)


def sample(prefix: str = "") -> Rows:
    a, b, c, d = (f"{prefix}{x}" for x in "abcd")
    t = DAY1
    records = [
        # a (rest, day 1): answered, answered again -> contained
        turn(a, "customer", t, "how long is delivery", intent="ask_question"),
        faq_reply(a, t + timedelta(seconds=1), "answer", "delivery-time"),
        turn(a, "customer", t + timedelta(minutes=1), "and returns?", intent="ask_question"),
        faq_reply(a, t + timedelta(minutes=1, seconds=1), "answer", "returns-window"),
        # b (telegram, day 1): unknown, then asks for a person -> handoff, agent replies after 120 s
        turn(b, "customer", t, "boiling point of mercury", channel="telegram", intent="out_of_scope"),
        faq_reply(b, t + timedelta(seconds=1), "unknown", channel="telegram"),
        turn(b, "customer", t + timedelta(seconds=30), "a person please", channel="telegram", intent="request_human"),
        turn(b, "agent", t + timedelta(seconds=60), "VIP, be quick", channel="telegram", action="note"),  # not a reply
        turn(b, "agent", t + timedelta(seconds=150), "Hi, Ann here", channel="telegram"),
        # c (rest, day 2): answered, then asks for a person -> unanswered (answered, then asked) + handoff
        turn(c, "customer", DAY2, "can I pay by cheque", intent="ask_question"),
        faq_reply(c, DAY2 + timedelta(seconds=1), "answer", "delivery-time"),
        turn(c, "customer", DAY2 + timedelta(seconds=20), "talk to a human", intent="request_human"),
        # d (rest, day 2): not understood by Rasa at all
        turn(d, "customer", DAY2, "asdf qwer"),
        turn(d, "bot", DAY2 + timedelta(seconds=1), "Sorry?", action="action_default_fallback"),
    ]
    handoffs = [
        {"conversation_id": b, "reason": "customer_asked", "status": "closed", "rating": 4,
         "created_at": t + timedelta(seconds=30)},
        {"conversation_id": c, "reason": "faq_unknown", "status": "closed", "rating": None,
         "created_at": DAY2 + timedelta(seconds=20)},
    ]
    complaints = [
        {"category": "delivery", "status": "resolved", "created_at": DAY1, "resolved_at": DAY1 + timedelta(hours=6)},
        {"category": "billing", "status": "open", "created_at": DAY2, "resolved_at": None},
        {"category": "delivery", "status": "cancelled", "created_at": DAY2, "resolved_at": None},
    ]
    return Rows(records, handoffs, complaints)


def test_totals_follow_the_definitions() -> None:
    totals = metrics.compute(sample())["totals"]
    assert totals["conversations"] == 4
    assert totals["containment_rate"] == 0.5 and totals["handoff_rate"] == 0.5
    assert totals["handoff_rate_by_reason"] == {"customer_asked": 0.25, "faq_unknown": 0.25}
    assert (totals["faq_questions"], totals["faq_answered"], totals["faq_answer_rate"]) == (4, 3, 0.75)
    assert totals["customer_turns"] == 7 and totals["fallback_turns"] == 2 and totals["fallback_rate"] == 0.2857
    assert totals["time_to_first_agent_response_seconds"] == {"count": 1, "median": 120.0, "mean": 120.0}
    targets = metrics.compute(sample(), first_response_target=100, resolution_target_hours=6)["totals"]
    assert targets["time_to_first_agent_response_seconds"]["within_target"] == 0.0  # 120 s against 100 s
    assert targets["complaint_resolution_hours"] == {"count": 1, "median": 6.0, "mean": 6.0, "target": 6,
                                                          "within_target": 1.0}
    assert (totals["csat_mean"], totals["csat_responses"], totals["csat_response_rate"]) == (4.0, 1, 0.5)
    assert totals["complaints"] == 2 and totals["complaints_by_category"] == {"billing": 1, "delivery": 1}
    assert totals["complaints_by_status"] == {"cancelled": 1, "open": 1, "resolved": 1}
    assert totals["complaint_resolution_hours"]["median"] == 6.0


def test_per_day_and_channel_and_the_lists() -> None:
    report = metrics.compute(sample())
    rows = {(r["day"], r["channel"]): r for r in report["by_day_channel"]}
    assert set(rows) == {("2026-11-20", "rest"), ("2026-11-20", "telegram"), ("2026-11-21", "rest")}
    assert rows[("2026-11-20", "telegram")]["handoff_rate"] == 1.0
    assert rows[("2026-11-21", "rest")]["faq_answer_rate"] == 1.0 and rows[("2026-11-21", "rest")]["conversations"] == 2
    assert report["top_faq_entries"][0] == {"faq_id": "delivery-time", "answers": 2}
    unanswered = [(q["text"], q["why"]) for q in report["unanswered_questions"]]
    assert unanswered == [("boiling point of mercury", "no confident answer"),
                          ("can I pay by cheque", "answered, then asked for a person")]


def test_empty_range_gives_no_rates() -> None:
    totals = metrics.compute(Rows([], [], []))["totals"]
    assert totals["conversations"] == 0 and totals["containment_rate"] is None and totals["csat_mean"] is None


def test_the_report_command_gives_the_same_figures(database_url: str, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from bot.domain.insight import report

    upgrade(database_url)
    rows = sample(prefix=uuid.uuid4().hex[:6])
    with session_scope(database_url) as session:  # PostgreSQL is shared by the session: start clean
        session.execute(sa.delete(InteractionRecord).where(InteractionRecord.created_at < DAY2 + timedelta(days=1),
                                                           InteractionRecord.created_at >= DAY1 - timedelta(days=1)))
        session.execute(sa.delete(Handoff))
        for record in rows.records:
            session.add(InteractionRecord(**(record | {"created_at": datetime.fromisoformat(record["created_at"])})))
        for handoff in rows.handoffs:
            session.add(Handoff(customer_id="x", channel="rest", **handoff))
    monkeypatch.setenv("DATABASE_URL", database_url)
    report.main("2026-11-20", "2026-11-22", None, "json")
    printed = json.loads(capsys.readouterr().out)
    expected = metrics.compute(Rows(rows.records, rows.handoffs, []), first_response_target=120.0,
                               resolution_target_hours=48.0)["totals"]  # data/service_levels.yml
    for key in ("conversations", "containment_rate", "handoff_rate", "faq_answer_rate", "fallback_rate",
                "handoff_rate_by_reason", "time_to_first_agent_response_seconds", "csat_mean"):
        assert printed["totals"][key] == expected[key], key
    report.main("2026-11-21", "2026-11-22", "rest", "csv")
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("day,channel,conversations") and len(lines) == 2
    with pytest.raises(ValueError, match="not a date"):
        report.main("last tuesday", None, None, "text")
