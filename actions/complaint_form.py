"""The complaint form's brain: what each customer answer fills in, and what it does not.

Rasa's `complaint_form` (domain.yml) asks for category, order reference, description and
contact, then shows a summary to confirm. This validation action decides, turn by turn:
- on activation, fill in whatever the first message already said (never ask it again);
- a valid answer fills the requested slot; an invalid one gets a clear message and is asked
  again;
- a question, "cancel" or "a person please" fills nothing, so the form steps aside and the
  rules in data/rules.yml answer it (the form then resumes, or is cancelled);
- an order reference or contact typed at another step corrects that detail;
- "请用中文" / "English please" fills nothing and asks the same question again, in that language.

Customers answer in English or Chinese: bot.domain.complaints.parsing reads both, and every text
the form sends comes in the customer's language (domain responses, or actions.wording).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.customer import CustomerMessage, latest_customer_message
from actions.language import language_of
from actions.wording import category_title, pick
from bot.domain.complaints import parsing
from faq_index.language import CHINESE, ENGLISH

FORM = "complaint_form"
# The payload of the button in utter_complaint_urgent (domain.yml).
URGENT_HANDOFF_PAYLOAD = '/request_human{"handoff_reason": "urgent_complaint"}'
NO_ORDER = "none"
# Intents that step out of the form when the message does not answer the question asked.
STEP_OUT = {"cancel", "request_human", "complaint_status", "EXTERNAL_complaint_update"}
QUESTION_INTENTS = {"ask_question", "out_of_scope", "nlu_fallback", "bot_challenge"}
# Which detail "change the ..." means; checked in this order ("phone number" is a contact).
FIELD_WORDS = (
    ("contact", ("email", "e-mail", "phone", "contact", "mobile", "邮箱", "邮件", "电话", "手机", "联系")),
    ("order_ref", ("order", "reference", "订单")),
    ("complaint_category", ("category", "type", "topic", "about", "类别", "类型", "分类", "种类")),
    ("complaint_description", ("description", "details", "what happened", "text", "描述", "经过", "详情", "内容",
                               "说明")),
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
        if message.asks_for_a_language():
            return [SlotSet(requested, None)]  # the same question again, now in the chosen language
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
    # utter_complaint_urgent has the "Talk to a person now" button (URGENT_HANDOFF_PAYLOAD).
    dispatcher.utter_message(response="utter_complaint_urgent" if urgent else "utter_complaint_start")
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
        dispatcher.utter_message(response="utter_complaint_order_ref_noted", order_ref=order_ref)
    contact = parsing.contact_in(message.text)
    if requested != "contact" and contact and contact != tracker.get_slot("contact"):
        events.append(SlotSet("contact", contact))
        dispatcher.utter_message(text=pick(CONTACT_NOTED, language_of(tracker)).format(contact=contact))
    if events and requested == "complaint_confirmed":
        events.append(SlotSet("complaint_confirmed", None))  # show the corrected summary
    return events


def _check_category(dispatcher: CollectingDispatcher, message: CustomerMessage) -> list[EventType]:
    category = message.entities.get("complaint_category") or parsing.category_in(message.text)
    if category in parsing.CATEGORIES:
        return [SlotSet("complaint_category", category)]
    if _steps_out(message):
        return []
    dispatcher.utter_message(response="utter_complaint_choose_category")
    return [SlotSet("complaint_category", None)]


def _check_order_ref(dispatcher: CollectingDispatcher, message: CustomerMessage) -> list[EventType]:
    if order_ref := parsing.order_ref_in(message.text):
        return [SlotSet("order_ref", order_ref)]
    if message.intent == "deny" or parsing.says_no_order(message.text):
        return [SlotSet("order_ref", NO_ORDER)]
    if _steps_out(message):
        return []
    dispatcher.utter_message(response="utter_complaint_bad_order_ref")
    return [SlotSet("order_ref", None)]


def _check_description(dispatcher: CollectingDispatcher, message: CustomerMessage) -> list[EventType]:
    if message.intent in STEP_OUT and message.confidence >= 0.6 and parsing.word_count(message.text) <= 6:
        return []
    if parsing.too_short_to_describe(message.text):
        dispatcher.utter_message(response="utter_complaint_more_detail")
        return [SlotSet("complaint_description", None)]
    return [SlotSet("complaint_description", message.text)]


def _check_contact(dispatcher: CollectingDispatcher, message: CustomerMessage) -> list[EventType]:
    if contact := parsing.contact_in(message.text):
        return [SlotSet("contact", contact)]
    if _steps_out(message):
        return []
    dispatcher.utter_message(response="utter_complaint_bad_contact")
    return [SlotSet("contact", None)]


def _check_confirmation(dispatcher: CollectingDispatcher, message: CustomerMessage) -> list[EventType]:
    if message.intent == "affirm":
        return [SlotSet("complaint_confirmed", True)]
    field = message.entities.get("complaint_field") or _field_named_in(message.text)
    if field in CHANGEABLE and message.intent in {"complaint_change", "deny", "inform", "nlu_fallback", None}:
        dispatcher.utter_message(response="utter_complaint_change_ok")
        return [SlotSet(field, None), SlotSet("complaint_confirmed", None)]
    if _steps_out(message):
        return []
    dispatcher.utter_message(
        response="utter_complaint_what_to_change" if message.intent == "deny" else "utter_choose_option_below")
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
        # Built here, not as a response: the summary holds the customer's contact (see actions.wording).
        language = language_of(tracker)
        words = _SUMMARY[language]
        dispatcher.utter_message(text=summary(tracker) + "\n\n" + words["confirm"], buttons=[
            {"title": words["file"], "payload": "/affirm"},
            {"title": words["change_category"],
             "payload": '/complaint_change{"complaint_field": "complaint_category"}'},
            {"title": words["change_order"], "payload": '/complaint_change{"complaint_field": "order_ref"}'},
            {"title": words["change_description"],
             "payload": '/complaint_change{"complaint_field": "complaint_description"}'},
            {"title": words["change_contact"], "payload": '/complaint_change{"complaint_field": "contact"}'},
            {"title": words["cancel"], "payload": "/cancel"},
        ])
        return []


def summary(tracker: Tracker) -> str:
    """The complaint's details as the customer will see them confirmed, in their language."""
    language = language_of(tracker)
    words = _SUMMARY[language]
    order_ref = tracker.get_slot("order_ref")
    category = category_title(tracker.get_slot("complaint_category"), language,
                              {ENGLISH: "not given", CHINESE: "未提供"})
    lines = [
        words["heading"],
        words["about"].format(category),
        words["order"].format(words["no_order"] if order_ref in (None, NO_ORDER) else order_ref),
        words["what"].format(tracker.get_slot("complaint_description")),
        words["contact"].format(tracker.get_slot("contact")),
    ]
    if tracker.get_slot("complaint_priority") == "urgent":
        lines.append(words["urgent"])
    return "\n".join(lines)


# In Python because they hold the customer's contact (see actions.wording).
CONTACT_NOTED = {ENGLISH: "Thanks, I'll use {contact} to reach you.", CHINESE: "谢谢，我们会通过 {contact} 联系您。"}
_SUMMARY = {
    ENGLISH: {
        "heading": "Here is your complaint:", "about": "- About: {}", "order": "- Order: {}",
        "no_order": "no order number", "what": "- What happened: {}", "contact": "- Contact: {}",
        "urgent": "- Priority: urgent", "confirm": "Shall I file it?", "file": "Yes, file it",
        "change_category": "Change the category", "change_order": "Change the order number",
        "change_description": "Change the description", "change_contact": "Change the contact", "cancel": "Cancel",
    },
    CHINESE: {
        "heading": "以下是您的投诉：", "about": "- 类别：{}", "order": "- 订单：{}",
        "no_order": "无订单号", "what": "- 经过：{}", "contact": "- 联系方式：{}",
        "urgent": "- 优先级：紧急", "confirm": "要提交这份投诉吗？", "file": "是的，提交",
        "change_category": "修改类别", "change_order": "修改订单号",
        "change_description": "修改描述", "change_contact": "修改联系方式", "cancel": "取消",
    },
}
