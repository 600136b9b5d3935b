"""Answer customer questions from the FAQ knowledge base, by meaning.

Three outcomes, decided by faq_index's calibrated thresholds:
- answer: the entry's answer;
- suggest: "did you mean" buttons whose payloads select an entry directly;
- unknown: say so plainly and offer to rephrase or reach a person.

Each reply carries `faq` metadata (entry id, score, candidates): the tracker store copies it
into the reply's interaction record; channels never show it to the customer. Answers and
suggestions come in the customer's language when the entry has it (else in its own); the
fixed texts are domain responses (utter_faq_*) with a Chinese variation.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.language import language_of
from actions.wording import pick
from bot.domain.knowledge import faq_index, search
from faq_index import Candidate, SearchResult
from faq_index.language import CHINESE, ENGLISH

SELECT_PAYLOAD = '/ask_question{{"faq_id": "{}"}}'
# After this many "I don't know" answers in a row the bot stops guessing and gets a person.
UNKNOWN_STREAK_LIMIT = 2
# Built here, not in utter_faq_did_you_mean: Rasa puts a response's own buttons before the
# action's, and this one must come after the suggestions.
NONE_OF_THESE = {ENGLISH: "None of these", CHINESE: "都不是"}


class ActionAnswerFaq(Action):
    """Look the customer's message up in the FAQ and answer, suggest, or admit not knowing."""

    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        language = language_of(tracker)
        selected = next(tracker.get_latest_entity_values("faq_id"), None)
        if selected:
            return _answer_selected(dispatcher, str(selected), language)
        result = await _searched(tracker)
        if result.decision == "answer":
            dispatcher.utter_message(text=result.top.answer_in(language), faq=_metadata(result, result.top.id))
            return [SlotSet("offered_human", False), SlotSet("unknown_streak", 0)]
        if result.decision == "suggest":
            dispatcher.utter_message(
                response="utter_faq_did_you_mean",
                buttons=[_select_button(c.question_in(language), c.id) for c in result.candidates]
                + [{"title": pick(NONE_OF_THESE, language), "payload": "/deny"}],
                faq=_metadata(result, None),
            )
            return [SlotSet("offered_human", True)]
        streak = int(tracker.get_slot("unknown_streak") or 0) + 1
        if streak >= UNKNOWN_STREAK_LIMIT and not tracker.active_loop:
            dispatcher.utter_message(response="utter_faq_still_unknown", faq=_metadata(result, None))
            return [SlotSet("unknown_streak", 0), SlotSet("handoff_reason", "not_understood"),
                    FollowupAction("action_request_human")]
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        dispatcher.utter_message(  # both responses carry the yes/no buttons for the offer of a person
            response="utter_faq_out_of_scope" if intent == "out_of_scope" else "utter_faq_unknown",
            faq=_metadata(result, None),
        )
        return [SlotSet("offered_human", True), SlotSet("unknown_streak", streak)]


async def _searched(tracker: Tracker) -> SearchResult:
    """The FAQ search of this message: done by the Rasa server's understanding step
    (bot/rasa_server/understanding/), which puts it in the parse data; searched here only when it is
    missing (a model trained without that step)."""
    message = tracker.latest_message or {}
    found = message.get("faq")
    if not isinstance(found, dict):
        return await asyncio.to_thread(search, message.get("text") or "")
    candidates = []
    for hit in found.get("candidates") or []:
        entry = faq_index().entry(hit["id"])
        if entry is not None:  # an entry removed since the search is not offered
            candidates.append(Candidate(**entry, score=hit["score"]))
    decision = found.get("decision") if candidates else "unknown"
    return SearchResult(query=message.get("text") or "", decision=decision or "unknown", candidates=candidates,
                        version=found.get("version") or "", space=found.get("space") or "")


def _answer_selected(dispatcher: CollectingDispatcher, entry_id: str, language: str) -> list[EventType]:
    """The customer picked a suggestion (button payload): answer that entry directly."""
    entry = faq_index().entry(entry_id)
    if entry is None:
        dispatcher.utter_message(response="utter_faq_gone")
        return []
    dispatcher.utter_message(
        text=(entry.get("answers") or {}).get(language) or entry["answer"],
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

