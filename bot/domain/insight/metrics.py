"""The product's metrics, computed from the raw interaction records (definitions in
docs/metrics.md, which follow ../shared/DOMAIN.md). `compute` is a pure function over rows, so
the definitions are unit tested on hand-made record sets; `load` reads the rows for a range.

Every figure is given overall and per (day, channel): a conversation counts on the UTC day
and in the channel of its first customer message in the range.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.handoff.notes import is_note

FAQ_ACTION = "action_answer_faq"
FALLBACK_ACTION = "action_default_fallback"
ANSWERED = ("answer", "selected")
NOT_CONFIDENT = ("unknown", "suggest")  # "I don't know", and "did you mean ...?"


@dataclass
class Rows:
    """What the metrics are computed from (plain dicts, as the storage layer returns them)."""

    records: list[dict[str, Any]]  # interaction records in the range, in write order
    handoffs: list[dict[str, Any]]  # handoffs created in the range
    complaints: list[dict[str, Any]]  # complaints filed in the range, each with `resolved_at` (or None)


def compute(rows: Rows, top: int = 10, first_response_target: float | None = None,
            resolution_target_hours: float | None = None) -> dict[str, Any]:
    """All figures: `totals`, `by_day_channel` rows, and the lists (top FAQ entries, unanswered).
    With targets (data/service_levels.yml), the time figures say which share met them."""
    conversation_key = _conversation_keys(rows.records)
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for record in rows.records:
        key = conversation_key.get(record["conversation_id"])
        if key:
            groups[key].append(record)
    with_handoff = {h["conversation_id"] for h in rows.handoffs}
    by_day_channel = []
    for (day, channel), records in sorted(groups.items()):
        by_day_channel.append({"day": day, "channel": channel} | _turn_figures(records, with_handoff))
    totals = _turn_figures(rows.records, with_handoff) | \
        _handoff_figures(rows, conversation_key, first_response_target) | \
        _complaint_figures(rows.complaints, resolution_target_hours)
    return {
        "totals": totals,
        "by_day_channel": by_day_channel,
        "top_faq_entries": [{"faq_id": faq, "answers": n} for faq, n in Counter(
            r["faq_id"] for r in rows.records if _is_faq_reply(r) and r.get("faq_decision") in ANSWERED
        ).most_common(top)],
        "unanswered_questions": unanswered_questions(rows.records),
    }


def unanswered_questions(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The customer messages the FAQ had no confident answer for (unknown or did-you-mean),
    and those it answered after which the customer asked for a person."""
    found, last_customer, last_answered = [], {}, {}
    for record in records:
        conversation = record["conversation_id"]
        if record["actor"] == "customer":
            if record.get("intent") == "request_human" and conversation in last_answered:
                found.append(last_answered.pop(conversation) | {"why": "answered, then asked for a person"})
            last_customer[conversation] = record
        elif _is_faq_reply(record) and conversation in last_customer:
            question = {"text": last_customer[conversation]["text"], "conversation_id": conversation,
                        "created_at": last_customer[conversation]["created_at"]}
            if record.get("faq_decision") in NOT_CONFIDENT:
                found.append(question | {"why": "no confident answer"})
                last_answered.pop(conversation, None)
            elif record.get("faq_decision") in ANSWERED:
                last_answered[conversation] = question
    return found


def _conversation_keys(records: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """Each conversation's (day, channel): those of its first customer record in the range."""
    keys: dict[str, tuple[str, str]] = {}
    for record in records:
        if record["actor"] == "customer" and record["conversation_id"] not in keys:
            keys[record["conversation_id"]] = (_day(record["created_at"]), record["channel"])
    return keys


def _turn_figures(records: list[dict[str, Any]], with_handoff: set[str]) -> dict[str, Any]:
    conversations = {r["conversation_id"] for r in records if r["actor"] == "customer"}
    handed_off = conversations & with_handoff
    customer_turns = sum(r["actor"] == "customer" for r in records)
    faq_replies = [r for r in records if _is_faq_reply(r)]
    answered = sum(r.get("faq_decision") in ANSWERED for r in faq_replies)
    not_understood = sum((_is_faq_reply(r) and r.get("faq_decision") == "unknown") or r.get("action") == FALLBACK_ACTION
                         for r in records if r["actor"] == "bot")
    return {
        "conversations": len(conversations),
        "conversations_with_handoff": len(handed_off),
        "containment_rate": _ratio(len(conversations) - len(handed_off), len(conversations)),
        "handoff_rate": _ratio(len(handed_off), len(conversations)),
        "customer_turns": customer_turns,
        "faq_questions": len(faq_replies),
        "faq_answered": answered,
        "faq_answer_rate": _ratio(answered, len(faq_replies)),
        "fallback_turns": not_understood,
        "fallback_rate": _ratio(not_understood, customer_turns),
    }


def _handoff_figures(rows: Rows, conversation_key: dict[str, tuple[str, str]],
                     target: float | None) -> dict[str, Any]:
    conversations = len(conversation_key)
    by_reason: dict[str, set[str]] = defaultdict(set)
    for handoff in rows.handoffs:
        by_reason[handoff["reason"]].add(handoff["conversation_id"])
    first_agent = _first_agent_reply_seconds(rows)
    closed = [h for h in rows.handoffs if h["status"] == "closed"]
    ratings = [h["rating"] for h in closed if h.get("rating") is not None]
    return {
        "handoff_rate_by_reason": {reason: _ratio(len(ids), conversations)
                                   for reason, ids in sorted(by_reason.items())},
        "handoffs": len(rows.handoffs),
        "time_to_first_agent_response_seconds": _summary(first_agent, target),
        "csat_mean": round(statistics.fmean(ratings), 3) if ratings else None,
        "csat_responses": len(ratings),
        "csat_response_rate": _ratio(len(ratings), len(closed)),
    }


def _first_agent_reply_seconds(rows: Rows) -> list[float]:
    """For each handoff, seconds from its creation to the first agent message after it."""
    agent_times: dict[str, list[datetime]] = defaultdict(list)
    for record in rows.records:
        if record["actor"] == "agent" and not is_note(record):  # a note is not a reply to the customer
            agent_times[record["conversation_id"]].append(_time(record["created_at"]))
    waits = []
    for handoff in rows.handoffs:
        created = _time(handoff["created_at"])
        later = [t for t in agent_times.get(handoff["conversation_id"], []) if t >= created]
        if later:
            waits.append((min(later) - created).total_seconds())
    return waits


def _complaint_figures(complaints: list[dict[str, Any]], target_hours: float | None) -> dict[str, Any]:
    filed = [c for c in complaints if c["status"] != "cancelled"]
    hours = [(_time(c["resolved_at"]) - _time(c["created_at"])).total_seconds() / 3600
             for c in filed if c.get("resolved_at")]
    return {
        "complaints": len(filed),
        "complaints_by_category": dict(sorted(Counter(c["category"] or "other" for c in filed).items())),
        "complaints_by_status": dict(sorted(Counter(c["status"] for c in complaints).items())),
        "complaint_resolution_hours": _summary(hours, target_hours),
    }


def _is_faq_reply(record: dict[str, Any]) -> bool:
    return record["actor"] == "bot" and record.get("action") == FAQ_ACTION


def _summary(values: list[float], target: float | None = None) -> dict[str, float | int | None]:
    """Count, median and mean; with a target, the target and the share of values within it."""
    met = {"target": target, "within_target": _ratio(sum(v <= target for v in values), len(values))} \
        if target is not None else {}
    if not values:
        return {"count": 0, "median": None, "mean": None} | met
    return {"count": len(values), "median": round(statistics.median(values), 3),
            "mean": round(statistics.fmean(values), 3)} | met


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _time(value: str | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _day(value: str | datetime) -> str:
    return _time(value).date().isoformat()
