"""Requests for a human. For now the request is acknowledged and recorded (the customer's
message carries intent `request_human` in its interaction record); routing to an agent
console is the handoff feature's job."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

HANDOFF_TEXT = (
    "I've passed your request to our customer service team: a person will reply in this chat "
    "as soon as one is free. You can also email support@brightcart.example."
)


class ActionRequestHuman(Action):
    """Acknowledge that the customer wants a person."""

    def name(self) -> str:
        return "action_request_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(text=HANDOFF_TEXT)
        return [SlotSet("offered_human", False)]


class ActionResetHumanOffer(Action):
    """The customer declined the offer of a person: forget the offer."""

    def name(self) -> str:
        return "action_reset_human_offer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        return [SlotSet("offered_human", False)]
