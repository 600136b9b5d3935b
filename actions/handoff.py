"""Handing the customer to a person, and back.

- action_request_human: queue the conversation for an agent with a reason (the customer
  asked; accepted the offer after an unknown FAQ answer; the bot failed twice in a row; an
  urgent complaint), tell the customer their place in the queue, and pause the conversation:
  from then on the bot stays silent and the customer's messages go to the agent.
  Nobody online, or outside opening hours: say so and start `ticket_form` to take a message.
- action_ask_ticket_message / validate_ticket_form / action_file_ticket / action_cancel_ticket:
  the message left for the team, filed as a ticket that agents see first. With an SMTP server
  (BOT_SMTP_URL) the customer is asked for an email address in the same message (or their
  verified one is used): the agent's answer is emailed too (bot/console/routes/handoffs.py).
- action_ask_satisfaction: the agent handed back (EXTERNAL_handback); ask for a 1-5 rating.
- action_store_rating: keep the customer's rating on the handoff.

Every text is a domain response with a Chinese variation (the customer's language).
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, ConversationPaused, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.customer import CustomerMessage, latest_customer_message
from actions.language import language_of
from bot.config import Settings, load_settings
from bot.domain.handoff import replies, service
from bot.domain.handoff.service import Request
from bot.domain.identity import verification
from bot.domain.identity.verification import normalise_email
from bot.domain.knowledge import faq_index

logger = logging.getLogger(__name__)
# Stars read the same in every language; sent with the responses that ask for a rating.
RATING_BUTTONS = [{"title": "★" * n, "payload": f'/rate{{"rating": {n}}}'} for n in range(1, 6)]
TICKET_FORM = "ticket_form"
LEAVE_NO_MESSAGE = {"deny", "cancel"}
# A rating typed in words: "4", "4 stars", "给4分" (digits next to Chinese need ASCII boundaries), "五星".
_RATING_DIGIT = re.compile(r"\b([1-5])\b", re.ASCII)
_RATING_ZH = re.compile(r"([一二两三四五])\s*(?:颗星|星|分)")
_CHINESE_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
AFTER_HANDOFF = [SlotSet(slot, value) for slot, value in replies.SLOTS_AFTER_HANDOFF.items()]


class ActionRequestHuman(Action):
    """Queue the conversation for a person and go quiet, or offer to take a message."""

    def name(self) -> str:
        return "action_request_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        settings = load_settings()
        message = latest_customer_message(tracker)
        skill = tracker.get_slot("handoff_skill") or _skill_of_last_faq(tracker)
        wanted = Request(conversation_id=tracker.sender_id, customer_id=message.customer_id, channel=message.channel,
                         reason=_reason(tracker), skill=skill, language=language_of(tracker))
        try:
            if not await asyncio.to_thread(replies.someone_available, settings):
                dispatcher.utter_message(**replies.nobody_available(settings))
                return [*AFTER_HANDOFF, SlotSet("ticket_reason", wanted.reason), SlotSet("handoff_skill", wanted.skill),
                        FollowupAction(TICKET_FORM)]
            handoff = await asyncio.to_thread(service.request, settings.database_url, wanted)
        except SQLAlchemyError:
            logger.exception("queueing a handoff failed")
            dispatcher.utter_message(response="utter_handoff_failed")
            return AFTER_HANDOFF
        dispatcher.utter_message(**replies.queued(handoff))
        return [*AFTER_HANDOFF, ConversationPaused()]


class ActionAskTicketMessage(Action):
    """Ask for the message to leave; with email configured, for an address in it as well."""

    def name(self) -> str:
        return "action_ask_ticket_message"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        email = load_settings().smtp_url
        dispatcher.utter_message(response="utter_ask_ticket_message_or_email" if email else "utter_ask_ticket_message")
        return []


class ValidateTicketForm(Action):
    """Take the customer's next message as the message for the team, unless they decline."""

    def name(self) -> str:
        return f"validate_{TICKET_FORM}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if tracker.get_slot("requested_slot") != "ticket_message":
            return []
        message = latest_customer_message(tracker)
        if message.intent in LEAVE_NO_MESSAGE or not message.text.strip():
            return []  # fills nothing: the rules for deny/cancel inside the form end it
        if message.asks_for_a_language():
            return [SlotSet("ticket_message", None)]  # asked again, in the chosen language
        return [SlotSet("ticket_message", message.text.strip())]


class ActionFileTicket(Action):
    """File the message left for the team as a ticket."""

    def name(self) -> str:
        return "action_file_ticket"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        settings = load_settings()
        message = latest_customer_message(tracker)
        left = tracker.get_slot("ticket_message") or ""
        reset = [SlotSet("ticket_message", None), SlotSet("ticket_reason", None), SlotSet("handoff_skill", None)]
        try:
            email = await asyncio.to_thread(_answer_email, settings, message.customer_id, left)
            wanted = Request(conversation_id=tracker.sender_id, customer_id=message.customer_id,
                             channel=message.channel, reason=tracker.get_slot("ticket_reason") or "customer_asked",
                             skill=tracker.get_slot("handoff_skill"), message=left, language=language_of(tracker),
                             contact_email=email)
            ticket = await asyncio.to_thread(service.leave_ticket, settings.database_url, wanted)
        except SQLAlchemyError:
            logger.exception("filing a ticket failed")
            dispatcher.utter_message(response="utter_ticket_not_saved")
            return reset
        if ticket.contact_email:
            dispatcher.utter_message(response="utter_ticket_filed_email", ticket_id=ticket.id,
                                     email=ticket.contact_email)
        else:
            dispatcher.utter_message(response="utter_ticket_filed", ticket_id=ticket.id)
        return reset


class ActionCancelTicket(Action):
    """The customer does not want to leave a message."""

    def name(self) -> str:
        return "action_cancel_ticket"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_ticket_cancelled")
        return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("ticket_message", None),
                SlotSet("ticket_reason", None), SlotSet("handoff_skill", None)]


class ActionAskSatisfaction(Action):
    """The agent handed the conversation back: the bot takes over and asks for a rating."""

    def name(self) -> str:
        return "action_ask_satisfaction"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        mode = next(tracker.get_latest_entity_values("close_mode"), "closed")
        dispatcher.utter_message(
            response="utter_satisfaction_question_back_to_bot" if mode == "to_bot" else "utter_satisfaction_question",
            buttons=RATING_BUTTONS)
        return []


class ActionStoreRating(Action):
    """Keep the customer's 1-5 rating on the handoff they just had."""

    def name(self) -> str:
        return "action_store_rating"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        rating = _rating(tracker)
        if rating is None:
            dispatcher.utter_message(response="utter_rating_invalid", buttons=RATING_BUTTONS)
            return []
        try:
            await asyncio.to_thread(service.rate, load_settings().database_url, tracker.sender_id, rating)
        except SQLAlchemyError:
            logger.exception("storing a rating failed")
        dispatcher.utter_message(response="utter_rating_thanks")
        return []


class ActionResetHumanOffer(Action):
    """The customer declined the offer of a person: forget the offer."""

    def name(self) -> str:
        return "action_reset_human_offer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        return [SlotSet("offered_human", False)]


def _answer_email(settings: Settings, customer_id: str, left: str) -> str | None:
    """Where the answer to a ticket is emailed as well: an address in the message left, else the
    customer's verified one; none without an SMTP server."""
    if not settings.smtp_url:
        return None
    return normalise_email(left) or next(iter(verification.verified_emails(settings.database_url, customer_id)), None)


def _reason(tracker: Tracker) -> str:
    """Why the customer is handed over: set by the action that decided it, else read from the turn."""
    chosen = tracker.get_slot("handoff_reason") or next(tracker.get_latest_entity_values("handoff_reason"), None)
    if chosen in service.REASONS:
        return chosen
    if latest_customer_message(tracker).intent == "affirm" and tracker.get_slot("offered_human"):
        return "faq_unknown"
    return "customer_asked"


def _skill_of_last_faq(tracker: Tracker) -> str | None:
    """The knowledge-base category of the bot's best guess in its last FAQ reply, if any."""
    for event in reversed(tracker.events):
        if event.get("event") != "bot":
            continue
        candidates = ((event.get("metadata") or {}).get("faq") or {}).get("faq_candidates") or []
        if candidates:
            entry = faq_index().entry(candidates[0]["id"])
            return entry.get("category") if entry else None
        return None
    return None


def _rating(tracker: Tracker) -> int | None:
    value = next(tracker.get_latest_entity_values("rating"), None)
    if value is None:
        value = _rating_in_words(latest_customer_message(tracker))
    try:
        rating = int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
    return rating if rating is not None and 1 <= rating <= 5 else None


def _rating_in_words(message: CustomerMessage) -> int | None:
    if found := _RATING_DIGIT.search(message.text):
        return int(found.group(1))
    if found := _RATING_ZH.search(message.text):
        return _CHINESE_DIGITS[found.group(1)]
    return None
