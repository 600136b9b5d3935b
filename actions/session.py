"""A new conversation session keeps the customer's language.

Sessions expire after an hour (domain.yml) and start with fresh slots, but the bot also
speaks first in a later session: a complaint's status update, days after it was filed. It
must come in the language of the customer's last message, so this replaces Rasa's default
action_session_start and carries the language slots over (and nothing else; values that are
the slots' initial values need no event).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

CARRIED_OVER = ("language", "language_chosen")


class ActionSessionStart(Action):
    """Start a session (as Rasa's default does) with the previous session's language."""

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        slots = domain.get("slots") or {}
        carried = [SlotSet(slot, tracker.get_slot(slot)) for slot in CARRIED_OVER
                   if tracker.get_slot(slot) not in (None, (slots.get(slot) or {}).get("initial_value"))]
        return [SessionStarted(), *carried, ActionExecuted("action_listen")]
