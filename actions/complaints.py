"""Complaints after the form: file it, cancel it, tell its status, announce a status change.

The form itself (collecting the details) is in actions/complaint_form.py; the records are
kept by bot.domain.complaints.service in the project's database. Texts come in the customer's
language: fixed ones are domain responses; those with a complaint's details (its contact)
are built here with actions.wording.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.complaint_form import NO_ORDER
from actions.customer import latest_customer_message
from actions.language import language_of
from actions.wording import category_title, duration, moment, pick, status_title
from bot.config import load_settings
from bot.domain.complaints import parsing, service
from bot.domain.complaints.service import ComplaintError, ComplaintView, Draft
from faq_index.language import CHINESE, ENGLISH

logger = logging.getLogger(__name__)
FORM_SLOTS = ("complaint_category", "order_ref", "complaint_description", "contact", "complaint_confirmed",
              "complaint_priority")
RESET = [SlotSet(slot, None) for slot in FORM_SLOTS]


def _draft(tracker: Tracker) -> Draft:
    message = latest_customer_message(tracker)
    order_ref = tracker.get_slot("order_ref")
    return Draft(
        customer_id=message.customer_id,
        conversation_id=tracker.sender_id,
        channel=message.channel,
        category=tracker.get_slot("complaint_category"),
        order_ref=None if order_ref == NO_ORDER else order_ref,
        description=tracker.get_slot("complaint_description"),
        contact=tracker.get_slot("contact"),
        priority=tracker.get_slot("complaint_priority") or "normal",
    )


class ActionFileComplaint(Action):
    """The customer confirmed: file the complaint and give them its reference."""

    def name(self) -> str:
        return "action_file_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        try:
            complaint = await asyncio.to_thread(service.file, load_settings().database_url, _draft(tracker))
        except SQLAlchemyError:
            logger.exception("filing a complaint failed")
            dispatcher.utter_message(response="utter_complaint_not_saved")
            return [SlotSet("complaint_confirmed", None)]
        language = language_of(tracker)
        text = pick(_FILED, language).format(reference=complaint.reference, promise=_promise(complaint, language))
        if complaint.channel in FILE_CHANNELS:  # bot/domain/attachments.py links what they send next
            text += pick(_SEND_FILES, language)
        dispatcher.utter_message(text=text, complaint_ref=complaint.reference)
        if complaint.priority == "urgent":  # urgent complaints go to a person straight away
            return [*RESET, SlotSet("handoff_reason", "urgent_complaint"),
                    SlotSet("handoff_skill", complaint.category), FollowupAction("action_request_human")]
        return RESET


class ActionCancelComplaint(Action):
    """The customer stopped filing: keep what they typed as a cancelled draft, and say so."""

    def name(self) -> str:
        return "action_cancel_complaint"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        draft = _draft(tracker)
        if any((draft.category, draft.order_ref, draft.description, draft.contact)):
            await asyncio.to_thread(service.file, load_settings().database_url, draft, "cancelled")
        if latest_customer_message(tracker).intent == "cancel":
            dispatcher.utter_message(response="utter_complaint_cancelled")
        return [ActiveLoop(None), SlotSet("requested_slot", None), *RESET]


class ActionComplaintStatus(Action):
    """Tell the customer where their complaint stands (only their own complaints)."""

    def name(self) -> str:
        return "action_complaint_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        message = latest_customer_message(tracker)
        language = language_of(tracker)
        url = load_settings().database_url
        reference = parsing.complaint_ref_in(message.text)
        if reference:
            complaint = await asyncio.to_thread(service.find_for_customer, url, reference, message.customer_id)
            if complaint is None:
                dispatcher.utter_message(response="utter_complaint_not_found", reference=reference)
                return []
            dispatcher.utter_message(text=status_text(complaint, language), complaint_ref=complaint.reference)
            return []
        complaints = await asyncio.to_thread(service.recent_for_customer, url, message.customer_id)
        if not complaints:
            dispatcher.utter_message(response="utter_no_complaints")
            return []
        for complaint in complaints:
            dispatcher.utter_message(text=status_text(complaint, language), complaint_ref=complaint.reference)
        return []


class ActionNotifyComplaintUpdate(Action):
    """Pushed by `python -m bot complaints set-status`: tell the customer the new status."""

    def name(self) -> str:
        return "action_notify_complaint_update"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        reference = next(tracker.get_latest_entity_values("complaint_ref"), None)
        try:
            complaint = await asyncio.to_thread(service.get, load_settings().database_url, str(reference))
        except ComplaintError:
            logger.warning("status update for unknown complaint %r", reference)
            return []
        if complaint.conversation_id != tracker.sender_id:
            logger.warning("status update for %s pushed to the wrong conversation", reference)
            return []
        language = language_of(tracker)
        dispatcher.utter_message(text=pick(_UPDATE, language) + status_text(complaint, language),
                                 complaint_ref=complaint.reference)
        return []


def status_text(complaint: ComplaintView, language: str) -> str:
    """Reference, status, when it last changed, and the last note."""
    words = _STATUS[language]
    text = words["status"].format(
        reference=complaint.reference,
        category=category_title(complaint.category, language, {ENGLISH: "other", CHINESE: "其他"}),
        status=status_title(complaint.status, language), when=moment(complaint.updated_at, language))
    if complaint.last_note and complaint.status != "open":
        text += words["note"].format(complaint.last_note)
    elif complaint.status == "open":
        text += words["then"] + _promise(complaint, language)
    return text


def _promise(complaint: ComplaintView, language: str) -> str:
    words = _PROMISE[language]
    within = duration(service.RESPONSE_HOURS[complaint.priority], language)
    by = words["by"].format(moment(complaint.respond_by, language)) if complaint.respond_by else ""
    reach = words["reach"].format(complaint.contact) if complaint.contact else ""
    return words["promise"].format(within=within, by=by, reach=reach)


# Texts with the complaint's contact in them (see actions.wording), per language.
_FILED = {
    ENGLISH: "Thank you. Your complaint is filed with reference {reference}. {promise} You can ask me "
             "\"what's the status of {reference}?\" any time.",
    CHINESE: "谢谢。您的投诉已提交，编号为 {reference}。{promise}您可以随时问我“{reference} 处理得怎么样了？”。",
}
FILE_CHANNELS = ("widget", "telegram")  # where a customer can send a photo or a PDF
_SEND_FILES = {
    ENGLISH: " If you have a photo of the item or a receipt, send it here and it will be added to the complaint.",
    CHINESE: "如有商品照片或收据，可以直接在这里发送，我们会把它附到投诉中。",
}
_UPDATE = {ENGLISH: "Update on your complaint: ", CHINESE: "您的投诉有新进展："}
_STATUS = {
    ENGLISH: {"status": "Complaint {reference} ({category}) is {status}, last updated {when}.",
              "note": " Latest note from our team: {}", "then": " "},
    CHINESE: {"status": "投诉 {reference}（{category}）{status}，最后更新于 {when}。",
              "note": "我们团队的最新备注：{}", "then": ""},
}
_PROMISE = {
    ENGLISH: {"promise": "Our team will get back to you{reach} within {within}{by}.", "reach": " at {}",
              "by": " (by {})"},
    CHINESE: {"promise": "我们的团队会在{within}内{by}{reach}回复您。", "reach": "通过 {} ", "by": "（{}之前）"},
}
