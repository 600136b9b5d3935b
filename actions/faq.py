"""Answer customer questions from the FAQ knowledge base, by meaning.

Three outcomes, decided by faq_index's calibrated thresholds:
- answer: the entry's answer;
- suggest: "did you mean" buttons whose payloads select an entry directly;
- unknown: say so plainly and offer to rephrase or reach a person.

Each reply carries `faq` metadata (entry id, score, candidates): the tracker store copies it
into the reply's interaction record; channels never show it to the customer.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.knowledge import faq_index, search
from faq_index import SearchResult

SELECT_PAYLOAD = '/ask_question{{"faq_id": "{}"}}'
UNKNOWN_TEXT = (
    "Sorry, I don't know the answer to that. You can rephrase your question, "
    "or I can put you through to a person. Would you like to talk to someone?"
)
OUT_OF_SCOPE_TEXT = (
    "That's outside what I can help with: I answer questions about Brightcart orders, "
    "products, payment, delivery, returns and accounts. Would you like to talk to a person?"
)
STILL_UNKNOWN_TEXT = "Sorry, I still can't find an answer to that. Let me put you through to a person."
# After this many "I don't know" answers in a row the bot stops guessing and gets a person.
UNKNOWN_STREAK_LIMIT = 2
OFFER_BUTTONS = [
    {"title": "Yes, talk to a person", "payload": "/affirm"},
    {"title": "No, I'll rephrase", "payload": "/deny"},
]


class ActionAnswerFaq(Action):
    """Look the customer's message up in the FAQ and answer, suggest, or admit not knowing."""

    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        selected = next(tracker.get_latest_entity_values("faq_id"), None)
        if selected:
            return _answer_selected(dispatcher, str(selected))
        text = tracker.latest_message.get("text") or ""
        result = await search(text, k=3)
        if result.decision == "answer":
            dispatcher.utter_message(text=result.top.answer, faq=_metadata(result, result.top.id))
            return [SlotSet("offered_human", False), SlotSet("unknown_streak", 0)]
        if result.decision == "suggest":
            dispatcher.utter_message(
                text="I'm not sure I understood. Did you mean one of these?",
                buttons=[_select_button(c.question, c.id) for c in result.candidates]
                + [{"title": "None of these", "payload": "/deny"}],
                faq=_metadata(result, None),
            )
            return [SlotSet("offered_human", True)]
        streak = int(tracker.get_slot("unknown_streak") or 0) + 1
        if streak >= UNKNOWN_STREAK_LIMIT and not tracker.active_loop:
            dispatcher.utter_message(text=STILL_UNKNOWN_TEXT, faq=_metadata(result, None))
            return [SlotSet("unknown_streak", 0), SlotSet("handoff_reason", "not_understood"),
                    FollowupAction("action_request_human")]
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        dispatcher.utter_message(
            text=OUT_OF_SCOPE_TEXT if intent == "out_of_scope" else UNKNOWN_TEXT,
            buttons=OFFER_BUTTONS,
            faq=_metadata(result, None),
        )
        return [SlotSet("offered_human", True), SlotSet("unknown_streak", streak)]


def _answer_selected(dispatcher: CollectingDispatcher, entry_id: str) -> list[EventType]:
    """The customer picked a suggestion (button payload): answer that entry directly."""
    entry = faq_index().entry(entry_id)
    if entry is None:
        dispatcher.utter_message(text="Sorry, that answer is no longer available. Could you ask again?")
        return []
    dispatcher.utter_message(
        text=entry["answer"],
        faq={"decision": "selected", "faq_id": entry_id, "faq_score": 1.0, "faq_candidates": None},
    )
    return [SlotSet("offered_human", False), SlotSet("unknown_streak", 0)]


def _select_button(question: str, entry_id: str) -> dict[str, str]:
    return {"title": question, "payload": SELECT_PAYLOAD.format(entry_id)}


def _metadata(result: SearchResult, answered_id: str | None) -> dict[str, Any]:
    return {
        "decision": result.decision,
        "faq_id": answered_id,
        "faq_score": result.top.score if result.top else None,
        "faq_candidates": [{"id": c.id, "score": c.score} for c in result.candidates],
        "index_version": result.version,
    }

