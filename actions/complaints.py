"""Complaints after the form: file it, cancel it, tell its status, announce a status change.

The form itself (collecting the details) is in actions/complaint_form.py; the records are
kept by bot.complaints.service in the project's database.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.complaint_form import NO_ORDER
from actions.customer import latest_customer_message
from bot.complaints import parsing, service
from bot.complaints.service import ComplaintError, ComplaintView, Draft
from bot.config import load_settings

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
            dispatcher.utter_message(
                text="Sorry, I couldn't save your complaint just now. Please say 'I want to complain' again in a "
                "minute: I still have your details."
            )
            return [SlotSet("complaint_confirmed", None)]
        dispatcher.utter_message(
            text=f"Thank you. Your complaint is filed with reference {complaint.reference}. "
            f"{_promise(complaint)} You can ask me \"what's the status of {complaint.reference}?\" any time.",
            complaint_ref=complaint.reference,
        )
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
            dispatcher.utter_message(
                text="OK, I've cancelled it: no complaint was filed. If you change your mind, just say "
                "\"I want to complain\"."
            )
        return [ActiveLoop(None), SlotSet("requested_slot", None), *RESET]


class ActionComplaintStatus(Action):
    """Tell the customer where their complaint stands (only their own complaints)."""

    def name(self) -> str:
        return "action_complaint_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        message = latest_customer_message(tracker)
        url = load_settings().database_url
        reference = parsing.complaint_ref_in(message.text)
        if reference:
            complaint = await asyncio.to_thread(service.find_for_customer, url, reference, message.customer_id)
            if complaint is None:
                dispatcher.utter_message(
                    text=f"I can't find a complaint {reference} filed from this chat. Please check the reference: "
                    "it looks like C-2026-000123 and was in my confirmation message."
                )
                return []
            dispatcher.utter_message(text=status_text(complaint), complaint_ref=complaint.reference)
            return []
        complaints = await asyncio.to_thread(service.recent_for_customer, url, message.customer_id)
        if not complaints:
            dispatcher.utter_message(
                text="I can't find any complaint filed from this chat. If you have a reference (like "
                "C-2026-000123), tell me and I'll look it up, or say \"I want to complain\" to file one."
            )
            return []
        for complaint in complaints:
            dispatcher.utter_message(text=status_text(complaint), complaint_ref=complaint.reference)
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
        dispatcher.utter_message(text="Update on your complaint: " + status_text(complaint),
                                 complaint_ref=complaint.reference)
        return []


def status_text(complaint: ComplaintView) -> str:
    """Reference, status, when it last changed, and the last note."""
    text = (f"Complaint {complaint.reference} ({parsing.CATEGORY_TITLES.get(complaint.category or '', 'other')}) "
            f"is {service.STATUS_TITLES[complaint.status]}, last updated {_when(complaint.updated_at)}.")
    if complaint.last_note and complaint.status != "open":
        text += f" Latest note from our team: {complaint.last_note}"
    elif complaint.status == "open":
        text += " " + _promise(complaint)
    return text


def _promise(complaint: ComplaintView) -> str:
    hours = service.RESPONSE_HOURS[complaint.priority]
    within = f"{hours} hours" if hours < 24 else f"{hours // 24} days"
    by = f" (by {_when(complaint.respond_by)})" if complaint.respond_by else ""
    reach = f" at {complaint.contact}" if complaint.contact else ""
    return f"Our team will get back to you{reach} within {within}{by}."


def _when(moment: datetime | None) -> str:
    return moment.strftime("%a %d %b %Y, %H:%M UTC") if moment else "unknown"
