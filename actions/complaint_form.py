"""The complaint form's brain: what each customer answer fills in, and what it does not.

Rasa's `complaint_form` (domain.yml) asks for category, order reference, description and
contact, then shows a summary to confirm. This validation action decides, turn by turn:
- on activation, fill in whatever the first message already said (never ask it again);
- a valid answer fills the requested slot; an invalid one gets a clear message and is asked
  again;
- a question, "cancel" or "a person please" fills nothing, so the form steps aside and the
  rules in data/rules.yml answer it (the form then resumes, or is cancelled);
- an order reference or contact typed at another step corrects that detail.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.customer import CustomerMessage, latest_customer_message
from bot.complaints import parsing
from bot.complaints.parsing import CATEGORY_TITLES

FORM = "complaint_form"
URGENT_HANDOFF_PAYLOAD = '/request_human{"handoff_reason": "urgent_complaint"}'
NO_ORDER = "none"
# Intents that step out of the form when the message does not answer the question asked.
STEP_OUT = {"cancel", "request_human", "complaint_status", "EXTERNAL_complaint_update"}
QUESTION_INTENTS = {"ask_question", "out_of_scope", "nlu_fallback", "bot_challenge"}
# Which detail "change the ..." means; checked in this order ("phone number" is a contact).
FIELD_WORDS = (
    ("contact", ("email", "e-mail", "phone", "contact", "mobile")),
    ("order_ref", ("order", "reference")),
    ("complaint_category", ("category", "type", "topic", "about")),
    ("complaint_description", ("description", "details", "what happened", "text")),
)
FORM_ACTIONS = {FORM, f"validate_{FORM}", "action_listen", "action_extract_slots", "action_ask_complaint_confirmed"}


class ValidateComplaintForm(Action):
    """Fill, check or step aside, for the complaint form's current question."""

    def name(self) -> str:
        return f"validate_{FORM}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        message = latest_customer_message(tracker)
        requested = tracker.get_slot("requested_slot")
        if requested is None:  # the form is being activated: nothing was asked yet
            return _prefill_from_first_message(dispatcher, message)
        if _back_from_an_interruption(tracker):
            return []  # the message was a question the rules answered; just ask again
        corrections = _corrections(dispatcher, tracker, message, requested)
        if corrections:
            return corrections
        check = _CHECKS.get(requested)
        return check(dispatcher, message) if check else []


def _prefill_from_first_message(dispatcher: CollectingDispatcher, message: CustomerMessage) -> list[EventType]:
    """Take every detail the opening message gave; offer a person at once if it is urgent."""
    text = message.text
    urgent = parsing.is_urgent(text)
    events: list[EventType] = [SlotSet("complaint_priority", "urgent" if urgent else "normal")]
    category = message.entities.get("complaint_category") or parsing.category_in(text)
    if category in parsing.CATEGORIES:
        events.append(SlotSet("complaint_category", category))
    if order_ref := parsing.order_ref_in(text):
        events.append(SlotSet("order_ref", order_ref))
    if contact := parsing.contact_in(text):
        events.append(SlotSet("contact", contact))
    if parsing.describes_the_problem(text):
        events.append(SlotSet("complaint_description", text))
    if urgent:
        dispatcher.utter_message(
            text="I'm really sorry about this. I've marked your complaint as urgent. "
            "If you'd rather talk to a person right now, tap below; otherwise I'll take the details.",
            buttons=[{"title": "Talk to a person now", "payload": URGENT_HANDOFF_PAYLOAD}],
        )
    else:
        dispatcher.utter_message(text="I'm sorry to hear that. Let me take down your complaint.")
    return events


def _back_from_an_interruption(tracker: Tracker) -> bool:
    """Since the customer's last message, something other than the form ran (e.g. an FAQ answer)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "action" and event.get("name") not in FORM_ACTIONS:
            return True
    return False


def _steps_out(message: CustomerMessage) -> bool:
    """Not an answer: the customer wants something else (the rules handle it)."""
    if message.intent in STEP_OUT:
        return True
    return message.intent in QUESTION_INTENTS and message.looks_like_a_question()


def _corrections(
    dispatcher: CollectingDispatcher, tracker: Tracker, message: CustomerMessage, requested: str | None
) -> list[EventType]:
    """An order reference or contact typed while something else was asked corrects that detail."""
    if requested == "complaint_description":
        return []  # a description may mention numbers and addresses; it is taken whole
    events: list[EventType] = []
    order_ref = parsing.order_ref_in(message.text)
    if requested != "order_ref" and order_ref and order_ref != tracker.get_slot("order_ref"):
        events.append(SlotSet("order_ref", order_ref))
        dispatcher.utter_message(text=f"Thanks, I've noted the order reference {order_ref}.")
    contact = parsing.contact_in(message.text)
    if requested != "contact" and contact and contact != tracker.get_slot("contact"):
        events.append(SlotSet("contact", contact))
        dispatcher.utter_message(text=f"Thanks, I'll use {contact} to reach you.")
    if events and requested == "complaint_confirmed":
        events.append(SlotSet("complaint_confirmed", None))  # show the corrected summary
    return events


def _check_category(dispatcher: CollectingDispatcher, message: CustomerMessage) -> list[EventType]:
    category = message.entities.get("complaint_category") or parsing.category_in(message.text)
    if category in parsing.CATEGORIES:
        return [SlotSet("complaint_category", category)]
    if _steps_out(message):
        return []
    dispatcher.utter_message(text="Please choose one of the options, so the right team gets your complaint.")
    return [SlotSet("complaint_category", None)]


def _check_order_ref(dispatcher: CollectingDispatcher, message: CustomerMessage) -> list[EventType]:
    if order_ref := parsing.order_ref_in(message.text):
        return [SlotSet("order_ref", order_ref)]
    if message.intent == "deny" or parsing.says_no_order(message.text):
        return [SlotSet("order_ref", NO_ORDER)]
    if _steps_out(message):
        return []
    dispatcher.utter_message(
        text="That doesn't look like a Brightcart order reference: they look like BC-123456 "
        "(it's in your order confirmation email). Please type it again, or tap 'No order number'."
    )
    return [SlotSet("order_ref", None)]


def _check_description(dispatcher: CollectingDispatcher, message: CustomerMessage) -> list[EventType]:
    if message.intent in STEP_OUT and message.confidence >= 0.6 and len(message.text.split()) <= 6:
        return []
    if problem := parsing.description_problem(message.text):
        dispatcher.utter_message(text=problem)
        return [SlotSet("complaint_description", None)]
    return [SlotSet("complaint_description", message.text)]


def _check_contact(dispatcher: CollectingDispatcher, message: CustomerMessage) -> list[EventType]:
    if contact := parsing.contact_in(message.text):
        return [SlotSet("contact", contact)]
    if _steps_out(message):
        return []
    dispatcher.utter_message(
        text="That doesn't look like an email address or a phone number. Please type one we can reach you on, "
        "for example jane@example.com or +44 20 7946 0958."
    )
    return [SlotSet("contact", None)]


def _check_confirmation(dispatcher: CollectingDispatcher, message: CustomerMessage) -> list[EventType]:
    if message.intent == "affirm":
        return [SlotSet("complaint_confirmed", True)]
    field = message.entities.get("complaint_field") or _field_named_in(message.text)
    if field in CHANGEABLE and message.intent in {"complaint_change", "deny", "inform", "nlu_fallback", None}:
        dispatcher.utter_message(text="Sure, let's change that.")
        return [SlotSet(field, None), SlotSet("complaint_confirmed", None)]
    if _steps_out(message):
        return []
    if message.intent == "deny":
        dispatcher.utter_message(text="No problem: choose what to change below, or cancel the complaint.")
    else:
        dispatcher.utter_message(text="Please choose one of the options below.")
    return [SlotSet("complaint_confirmed", None)]


def _field_named_in(text: str) -> str | None:
    lowered = text.lower()
    for field, words in FIELD_WORDS:
        if any(word in lowered for word in words):
            return field
    return None


CHANGEABLE = {field for field, _ in FIELD_WORDS}
_CHECKS = {
    "complaint_category": _check_category,
    "order_ref": _check_order_ref,
    "complaint_description": _check_description,
    "contact": _check_contact,
    "complaint_confirmed": _check_confirmation,
}


class ActionAskComplaintConfirmed(Action):
    """Show the complaint as it will be filed, with buttons to file, change or cancel it."""

    def name(self) -> str:
        return "action_ask_complaint_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(text=summary(tracker) + "\n\nShall I file it?", buttons=[
            {"title": "Yes, file it", "payload": "/affirm"},
            {"title": "Change the category", "payload": '/complaint_change{"complaint_field": "complaint_category"}'},
            {"title": "Change the order number", "payload": '/complaint_change{"complaint_field": "order_ref"}'},
            {"title": "Change the description",
             "payload": '/complaint_change{"complaint_field": "complaint_description"}'},
            {"title": "Change the contact", "payload": '/complaint_change{"complaint_field": "contact"}'},
            {"title": "Cancel", "payload": "/cancel"},
        ])
        return []


def summary(tracker: Tracker) -> str:
    """The complaint's details as the customer will see them confirmed."""
    order_ref = tracker.get_slot("order_ref")
    lines = [
        "Here is your complaint:",
        f"- About: {CATEGORY_TITLES.get(tracker.get_slot('complaint_category') or '', 'not given')}",
        f"- Order: {'no order number' if order_ref in (None, NO_ORDER) else order_ref}",
        f"- What happened: {tracker.get_slot('complaint_description')}",
        f"- Contact: {tracker.get_slot('contact')}",
    ]
    if tracker.get_slot("complaint_priority") == "urgent":
        lines.append("- Priority: urgent")
    return "\n".join(lines)
