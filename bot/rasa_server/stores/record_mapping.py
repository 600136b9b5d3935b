"""Map Rasa events to interaction records: one record per customer or bot/agent message.

Pure functions over event dictionaries (`Event.as_dict()`), so the mapping is unit tested
without Rasa running. Context a record needs (which customer message a reply answers, which
action sent it) is read from the events before it in the same conversation session.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

Event = dict[str, Any]


def records_from_events(sender_id: str, events: list[Event], start: int) -> list[dict[str, Any]]:
    """Records for `events[start:]`; `events[:start]` (already stored) only give context."""
    context = _Context(sender_id)
    records = []
    for position, event in enumerate(events):
        record = context.observe(event)
        if record is not None and position >= start:
            records.append(record)
    return records


class _Context:
    """What is known at a point in the event stream: the last customer message and action."""

    def __init__(self, sender_id: str) -> None:
        self.sender_id = sender_id
        self.customer_id = sender_id
        self.channel = "unknown"
        self.last_user_timestamp: float | None = None
        self.last_action: str | None = None

    def observe(self, event: Event) -> dict[str, Any] | None:
        kind = event.get("event")
        if kind == "user":
            if is_external(event):  # the bot's own trigger (e.g. a status update), not the customer
                self.last_user_timestamp = None
                self.last_action = None
                return None
            return self._customer_record(event)
        if kind == "action":
            self.last_action = event.get("name")
        elif kind == "bot":
            return self._reply_record(event)
        return None

    def _customer_record(self, event: Event) -> dict[str, Any]:
        metadata = event.get("metadata") or {}
        self.customer_id = str(metadata.get("customer_id") or self.sender_id)
        self.channel = event.get("input_channel") or "unknown"
        self.last_user_timestamp = event.get("timestamp")
        self.last_action = None
        parse = event.get("parse_data") or {}
        intent = parse.get("intent") or {}
        return self._base(event, "customer") | {
            "intent": intent.get("name"),
            "intent_confidence": _float(intent.get("confidence")),
            "entities": [_entity(e) for e in parse.get("entities") or []],
        }

    def _reply_record(self, event: Event) -> dict[str, Any]:
        metadata = event.get("metadata") or {}
        faq = metadata.get("faq") or {}
        timestamp = event.get("timestamp")
        latency = None
        if timestamp is not None and self.last_user_timestamp is not None:
            latency = round(max(0.0, timestamp - self.last_user_timestamp) * 1000, 3)
        return self._base(event, "agent" if metadata.get("actor") == "agent" else "bot") | {
            "faq_id": faq.get("faq_id"),
            "faq_score": _float(faq.get("faq_score")),
            "faq_candidates": faq.get("faq_candidates"),
            "action": self.last_action,
            "latency_ms": latency,
            "complaint_ref": metadata.get("complaint_ref"),
            "faq_decision": faq.get("decision"),
        }

    def _base(self, event: Event, actor: str) -> dict[str, Any]:
        return {
            "conversation_id": self.sender_id,
            "customer_id": self.customer_id,
            "channel": self.channel,
            "actor": actor,
            "text": event.get("text"),
            "intent": None,
            "intent_confidence": None,
            "entities": None,
            "faq_id": None,
            "faq_score": None,
            "faq_candidates": None,
            "action": None,
            "created_at": _when(event.get("timestamp")),
            "latency_ms": None,
            "complaint_ref": None,
            "faq_decision": None,
        }


def is_external(event: Event) -> bool:
    """A message Rasa's API injected (`trigger_intent`), named EXTERNAL_...: no customer said it."""
    if (event.get("metadata") or {}).get("is_external"):
        return True
    intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name") or ""
    return intent.startswith("EXTERNAL_")


def _entity(entity: dict[str, Any]) -> dict[str, Any]:
    return {k: entity[k] for k in ("entity", "value", "start", "end") if k in entity}


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _when(timestamp: float | None) -> datetime:
    if timestamp is None:
        return datetime.now(timezone.utc)
    return datetime.fromtimestamp(timestamp, tz=timezone.utc)
