"""Forgetting customers: on request (`python -m bot erase-customer ID`) and after the retention
period (`python -m bot purge`, safe to run from cron: it only touches what is old enough).

Both keep the aggregates right without keeping the person: interaction records stay as
anonymous stubs (actor, channel, time, intent, FAQ entry and decision, action) with the text,
entities and identities removed, and each conversation id replaced by a random one that is
stored nowhere (the handoffs of the conversation get the same one, so handoff and
containment rates are unchanged). Rasa's trackers (the event log) of those conversations are
deleted, and so are the live feed's events of them; complaints and handoffs lose their personal
fields; verified emails are deleted.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.domain.identity.channel_ids import widget_conversation
from bot.domain.storage.db import session_scope
from bot.domain.storage.models import (
    Attachment,
    Complaint,
    ComplaintStatusChange,
    ConversationEvent,
    CustomerEmail,
    Handoff,
    InteractionRecord,
    LiveEvent,
    PageView,
    UndeliveredMessage,
)

ERASED = "erased"


def erase_customer(url: str, customer_id: str) -> dict[str, int]:
    """Remove everything personal about one customer id everywhere; return counts per table."""
    with session_scope(url) as session:
        conversations = _conversations_of(session, customer_id)
        removed = _forget_conversations(session, conversations)
        complaints = session.execute(sa.select(Complaint.id).where(Complaint.customer_id == customer_id)).scalars()
        removed["complaints"] += _strip_complaints(session, list(complaints))
        removed["handoffs"] += _strip_handoffs(session, Handoff.customer_id == customer_id, {})
        removed["customer_emails"] = session.execute(
            sa.delete(CustomerEmail).where(CustomerEmail.customer_id == customer_id)).rowcount
    return dict(removed)


def purge(url: str, retention_days: int, now: datetime | None = None) -> dict[str, int]:
    """Forget conversations whose last activity is older than the retention period."""
    if retention_days < 1:
        raise ValueError("the retention period must be at least 1 day")
    cutoff = (now or datetime.now(timezone.utc)) - timedelta(days=retention_days)
    with session_scope(url) as session:
        last_activity = (sa.select(InteractionRecord.conversation_id)
                         .where(InteractionRecord.conversation_id.not_like(f"{ERASED}-%"))
                         .group_by(InteractionRecord.conversation_id)
                         .having(sa.func.max(InteractionRecord.created_at) < cutoff))
        conversations = set(session.execute(last_activity).scalars())
        removed = _forget_conversations(session, conversations)
        old = session.execute(sa.select(Complaint.id).where(
            Complaint.updated_at < cutoff, Complaint.status.in_(("resolved", "rejected", "cancelled")),
            Complaint.customer_id != ERASED)).scalars()
        removed["complaints"] += _strip_complaints(session, list(old))
        removed["customer_emails"] = session.execute(
            sa.delete(CustomerEmail).where(CustomerEmail.created_at < cutoff)).rowcount
        removed["page_views"] += session.execute(sa.delete(PageView).where(PageView.viewed_at < cutoff)).rowcount
    return dict(removed)


def _conversations_of(session: Session, customer_id: str) -> set[str]:
    found = set(session.execute(sa.select(InteractionRecord.conversation_id).distinct()
                                .where(InteractionRecord.customer_id == customer_id)).scalars())
    for table in (Complaint, Handoff):
        found |= set(session.execute(sa.select(table.conversation_id).where(table.customer_id == customer_id))
                     .scalars())
    widget = widget_conversation(customer_id)  # a widget browser's conversation, even with no message yet
    if widget is not None:
        found.add(widget)
    return found


def _forget_conversations(session: Session, conversations: set[str]) -> Counter:
    removed: Counter = Counter()
    for conversation in conversations:
        stand_in = f"{ERASED}-{uuid.uuid4().hex}"
        removed["interaction_records"] += session.execute(
            sa.update(InteractionRecord).where(InteractionRecord.conversation_id == conversation).values(
                conversation_id=stand_in, customer_id=ERASED, text=None, entities=None, faq_candidates=None,
                complaint_ref=None)).rowcount
        removed["conversation_events"] += session.execute(
            sa.delete(ConversationEvent).where(ConversationEvent.sender_id == conversation)).rowcount
        removed["live_events"] += session.execute(  # the operators' feed (sender ids, intents)
            sa.delete(LiveEvent).where(LiveEvent.sender_id == conversation)).rowcount
        removed["undelivered_messages"] += session.execute(
            sa.delete(UndeliveredMessage).where(UndeliveredMessage.recipient_id == conversation)).rowcount
        removed["page_views"] += session.execute(
            sa.delete(PageView).where(PageView.conversation_id == conversation)).rowcount
        removed["attachments"] += session.execute(  # their files: attachments.remove_orphans, after the commit
            sa.delete(Attachment).where(Attachment.conversation_id == conversation)).rowcount
        removed["handoffs"] += _strip_handoffs(session, Handoff.conversation_id == conversation,
                                               {"conversation_id": stand_in})
        complaint_ids = list(session.execute(sa.select(Complaint.id).where(
            Complaint.conversation_id == conversation)).scalars())
        removed["complaints"] += _strip_complaints(session, complaint_ids)
    removed["conversations"] = len(conversations)
    return removed


def _strip_handoffs(session: Session, which: sa.sql.ColumnElement, extra: dict[str, str]) -> int:
    values = {"customer_id": ERASED, "message": None, "contact_email": None} | extra
    if "conversation_id" not in values:
        values["conversation_id"] = sa.literal(f"{ERASED}-h-") + sa.cast(Handoff.id, sa.String)
    return session.execute(sa.update(Handoff).where(which).values(**values)).rowcount


def _strip_complaints(session: Session, complaint_ids: list[int]) -> int:
    if not complaint_ids:
        return 0
    session.execute(sa.update(ComplaintStatusChange).where(ComplaintStatusChange.complaint_id.in_(complaint_ids))
                    .values(note=None))
    return session.execute(sa.update(Complaint).where(Complaint.id.in_(complaint_ids)).values(
        customer_id=ERASED, conversation_id=sa.literal(f"{ERASED}-c-") + sa.cast(Complaint.id, sa.String),
        description=None,
        contact=None, order_ref=None)).rowcount
