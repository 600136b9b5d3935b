"""Linking the customer's chats on different channels by a verified email (bot/identity/).

`email_link_form` asks for the email, emails a 6-digit code, and asks for the code back.
validate_email_link_form checks each answer; action_link_email confirms; "cancel" stops.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.customer import latest_customer_message
from bot.config import load_settings
from bot.identity import mailer, verification
from bot.identity.verification import VerificationError

logger = logging.getLogger(__name__)
FORM = "email_link_form"
DONE, GAVE_UP = "verified", "-"
CODE = re.compile(r"\b(\d{6})\b")
STEP_OUT = {"cancel"}
RESET = [SlotSet("link_email", None), SlotSet("link_code", None)]


class ValidateEmailLinkForm(Action):
    """Take the email (and send the code), then check the code."""

    def name(self) -> str:
        return f"validate_{FORM}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        message = latest_customer_message(tracker)
        requested = tracker.get_slot("requested_slot")
        if message.intent in STEP_OUT:
            return []
        email = verification.normalise_email(message.text)
        if requested in (None, "link_email"):
            if email is None:
                if requested is not None:
                    dispatcher.utter_message(text="That doesn't look like an email address. Please type it like "
                                             "jane@example.com (or say cancel).")
                return [SlotSet("link_email", None)]
            return await _send_code(dispatcher, message.customer_id, email)
        if requested == "link_code":
            return await _check_code(dispatcher, message.customer_id, message.text)
        return []


async def _send_code(dispatcher: CollectingDispatcher, customer_id: str, email: str) -> list[EventType]:
    settings = load_settings()
    try:
        code = await asyncio.to_thread(verification.start, settings.database_url, customer_id, email)
        await asyncio.to_thread(mailer.send_code, settings, email, code)
    except mailer.MailUnavailable as error:
        logger.warning("verification email not sent: %s", error)
        dispatcher.utter_message(text="Sorry, I can't send emails right now, so I can't link your chats. "
                                 "Please try again later.")
        return [SlotSet("link_email", GAVE_UP), SlotSet("link_code", GAVE_UP)]
    dispatcher.utter_message(text=f"I've emailed a 6-digit code to {email}. Please type it here.")
    return [SlotSet("link_email", email)]


async def _check_code(dispatcher: CollectingDispatcher, customer_id: str, text: str) -> list[EventType]:
    found = CODE.search(text)
    if not found:
        dispatcher.utter_message(text="Please type the 6-digit code from the email (or say cancel).")
        return [SlotSet("link_code", None)]
    try:
        await asyncio.to_thread(verification.confirm, load_settings().database_url, customer_id, found.group(1))
    except VerificationError as problem:
        dispatcher.utter_message(text=str(problem))
        if "tries left" in str(problem) and "(0 tries" not in str(problem):
            return [SlotSet("link_code", None)]
        return [SlotSet("link_code", GAVE_UP)]
    return [SlotSet("link_code", DONE)]


class ActionLinkEmail(Action):
    """The form is done: confirm the link (or nothing, when it was given up)."""

    def name(self) -> str:
        return "action_link_email"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if tracker.get_slot("link_code") == DONE:
            dispatcher.utter_message(
                text=f"Thank you: {tracker.get_slot('link_email')} is verified. Our team now sees your chats "
                "from every channel where you verified it together, so you won't have to repeat yourself."
            )
        return RESET


class ActionCancelEmailLink(Action):
    """The customer stopped linking."""

    def name(self) -> str:
        return "action_cancel_email_link"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(text="OK, I haven't linked anything.")
        return [ActiveLoop(None), SlotSet("requested_slot", None), *RESET]
