"""The customer's language: detected from each message, or chosen by the customer.

`action_detect_language` is the custom slot mapping of the `language` slot, so Rasa runs it
on every customer message, before the reply is chosen. Every reply then comes in that
language: domain responses through their `language` slot conditions, action texts through
`language_of`. A customer who asks for a language ("请用中文", "English please", or a
/choose_language{"language": "zh"} button) keeps it until they ask for another.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from faq_index.language import CHINESE, ENGLISH, LANGUAGES, detect_language

_ASKS_FOR = {
    CHINESE: re.compile(r"中文|汉语|漢語|普通话|国语|chinese|mandarin", re.IGNORECASE),
    ENGLISH: re.compile(r"英文|英语|英語|english", re.IGNORECASE),
}


def language_of(tracker: Tracker) -> str:
    """The language to answer this customer in ('en' until they write otherwise)."""
    language = tracker.get_slot("language")
    return language if language in LANGUAGES else ENGLISH


class ActionDetectLanguage(Action):
    """Set `language` from the latest message, unless the customer has chosen one."""

    def name(self) -> str:
        return "action_detect_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        message = tracker.latest_message or {}
        if (message.get("intent") or {}).get("name") == "choose_language":
            chosen = _chosen_language(message)
            if chosen:
                return [SlotSet("language", chosen), SlotSet("language_chosen", True)]
        if tracker.get_slot("language_chosen"):
            return []
        text = message.get("text") or ""
        detected = None if text.startswith("/") else detect_language(text)  # button payloads say nothing
        if detected and detected != tracker.get_slot("language"):
            return [SlotSet("language", detected)]
        return []


def _chosen_language(message: dict) -> str | None:
    """The language a choose_language message asks for: a button's entity, else named in words."""
    for entity in message.get("entities") or []:
        if entity.get("entity") == "language" and entity.get("value") in LANGUAGES:
            return str(entity["value"])
    text = message.get("text") or ""
    named = [language for language, pattern in _ASKS_FOR.items() if pattern.search(text)]
    if len(named) == 1:
        return named[0]
    return detect_language(text) if not named else None
