"""Who the customer is and what they last said, read from the conversation's events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rasa_sdk import Tracker

QUESTION_START = ("how", "what", "when", "where", "why", "who", "which", "can", "could", "do", "does", "did", "is",
                  "are", "will", "would", "should", "may", "have", "has")


@dataclass(frozen=True)
class CustomerMessage:
    text: str
    intent: str | None
    confidence: float
    entities: dict[str, Any]
    customer_id: str
    channel: str

    def looks_like_a_question(self) -> bool:
        """A question mark or a question word first: the customer is asking, not answering."""
        words = self.text.strip().lower().split()
        return self.text.rstrip().endswith("?") or bool(words and words[0] in QUESTION_START)


def latest_customer_message(tracker: Tracker) -> CustomerMessage:
    """The newest message the customer typed (not a message Rasa's API injected)."""
    for event in reversed(tracker.events):
        if event.get("event") != "user" or (event.get("metadata") or {}).get("is_external"):
            continue
        parse = event.get("parse_data") or {}
        intent = parse.get("intent") or {}
        metadata = event.get("metadata") or {}
        return CustomerMessage(
            text=event.get("text") or "",
            intent=intent.get("name"),
            confidence=float(intent.get("confidence") or 0.0),
            entities={e["entity"]: e.get("value") for e in parse.get("entities") or [] if "entity" in e},
            customer_id=str(metadata.get("customer_id") or tracker.sender_id),
            channel=event.get("input_channel") or "unknown",
        )
    return CustomerMessage("", None, 0.0, {}, tracker.sender_id, "unknown")
