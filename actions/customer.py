"""Who the customer is and what they last said, read from the conversation's events."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Tracker

from bot.domain.complaints.parsing import word_count

QUESTION_START = ("how", "what", "when", "where", "why", "who", "which", "can", "could", "do", "does", "did", "is",
                  "are", "will", "would", "should", "may", "have", "has")
# Chinese asks with question words and particles, anywhere in the sentence, and often without "？".
_QUESTION_ZH = re.compile(r"怎么|怎样|如何|什么|为什么|为啥|哪|多少|多久|几[天号点个时]|吗"
                          r"|能不能|可不可以|是不是|有没有|是否")
# A choose_language message longer than this is more likely a description that mentions a
# language ("说明书只有英文") than a request to switch.
LANGUAGE_REQUEST_MAX_WORDS = 8


@dataclass(frozen=True)
class CustomerMessage:
    text: str
    intent: str | None
    confidence: float
    entities: dict[str, Any]
    customer_id: str
    channel: str

    def looks_like_a_question(self) -> bool:
        """A question mark, an English question word first, or a Chinese question word or particle
        anywhere ("怎么", "吗"): the customer is asking, not answering."""
        words = self.text.strip().lower().split()
        return (self.text.rstrip().endswith(("?", "？")) or bool(words and words[0] in QUESTION_START)
                or bool(_QUESTION_ZH.search(self.text)))

    def asks_for_a_language(self) -> bool:
        """A request to switch language ("请用中文", "English please", the button), not an answer."""
        return self.intent == "choose_language" and (
            self.text.startswith("/") or word_count(self.text) <= LANGUAGE_REQUEST_MAX_WORDS)


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
