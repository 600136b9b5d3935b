"""Linking the customer's chats on different channels by a verified email (bot/domain/identity/).

`email_link_form` asks for the email, emails a 6-digit code, and asks for the code back.
validate_email_link_form checks each answer; action_link_email confirms; "cancel" stops.
Texts come in the customer's language (domain responses; the one naming the email address
is built here, see actions.wording).
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
from actions.language import language_of
from actions.wording import pick
from bot.config import load_settings
from bot.domain.identity import mailer, verification
from bot.domain.identity.verification import VerificationError
from faq_index.language import CHINESE, ENGLISH

logger = logging.getLogger(__name__)
FORM = "email_link_form"
DONE, GAVE_UP = "verified", "-"
CODE = re.compile(r"\b(\d{6})\b", re.ASCII)  # ASCII boundaries: "验证码是123456" has none in Unicode
STEP_OUT = {"cancel"}
RESET = [SlotSet("link_email", None), SlotSet("link_code", None)]
CODE_SENT = {ENGLISH: "I've emailed a 6-digit code to {email}. Please type it here.",
             CHINESE: "我已将 6 位验证码发送到 {email}，请在这里输入。"}
# bot.domain.identity.verification explains a failed code in English; which response says it here.
_PROBLEMS = (
    (re.compile(r"no code waiting"), "utter_link_no_code"),
    (re.compile(r"expired"), "utter_link_code_expired"),
    (re.compile(r"\((\d+) tries left\)"), "utter_link_code_wrong"),
)


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
        if requested is not None and message.asks_for_a_language():
            return [SlotSet(requested, None)]  # asked again, in the chosen language
        email = verification.normalise_email(message.text)
        if requested in (None, "link_email"):
            if email is None:
                if requested is not None:
                    dispatcher.utter_message(response="utter_link_bad_email")
                return [SlotSet("link_email", None)]
            return await _send_code(dispatcher, message.customer_id, email, language_of(tracker))
        if requested == "link_code":
            return await _check_code(dispatcher, message.customer_id, message.text)
        return []


async def _send_code(dispatcher: CollectingDispatcher, customer_id: str, email: str,
                     language: str) -> list[EventType]:
    settings = load_settings()
    try:
        code = await asyncio.to_thread(verification.start, settings.database_url, customer_id, email)
        await asyncio.to_thread(mailer.send_code, settings, email, code)
    except mailer.MailUnavailable as error:
        logger.warning("verification email not sent: %s", error)
        dispatcher.utter_message(response="utter_link_mail_unavailable")
        return [SlotSet("link_email", GAVE_UP), SlotSet("link_code", GAVE_UP)]
    # The address goes in `text`, not as a response variable (which would be stored as metadata).
    dispatcher.utter_message(text=pick(CODE_SENT, language).format(email=email))
    return [SlotSet("link_email", email)]


async def _check_code(dispatcher: CollectingDispatcher, customer_id: str, text: str) -> list[EventType]:
    found = CODE.search(text)
    if not found:
        dispatcher.utter_message(response="utter_link_ask_code_again")
        return [SlotSet("link_code", None)]
    try:
        await asyncio.to_thread(verification.confirm, load_settings().database_url, customer_id, found.group(1))
    except VerificationError as problem:
        _explain(dispatcher, str(problem))
        if "tries left" in str(problem) and "(0 tries" not in str(problem):
            return [SlotSet("link_code", None)]
        return [SlotSet("link_code", GAVE_UP)]
    return [SlotSet("link_code", DONE)]


def _explain(dispatcher: CollectingDispatcher, problem: str) -> None:
    """Why the code failed, in the customer's language (the English text if it is a new kind)."""
    for pattern, response in _PROBLEMS:
        if found := pattern.search(problem):
            values = {"tries": found.group(1)} if found.groups() else {}
            dispatcher.utter_message(response=response, **values)
            return
    dispatcher.utter_message(text=problem)


class ActionLinkEmail(Action):
    """The form is done: confirm the link (or nothing, when it was given up)."""

    def name(self) -> str:
        return "action_link_email"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if tracker.get_slot("link_code") == DONE:
            # The response fills {link_email} from the slot itself: no address in the metadata.
            dispatcher.utter_message(response="utter_link_verified")
        return RESET


class ActionCancelEmailLink(Action):
    """The customer stopped linking."""

    def name(self) -> str:
        return "action_cancel_email_link"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_link_cancelled")
        return [ActiveLoop(None), SlotSet("requested_slot", None), *RESET]
