"""Complaint records: file one, look one up for its customer, move it through its statuses.

The lifecycle is open → in_progress → resolved (or rejected); a resolved or rejected
complaint can be reopened (back to in_progress) because customers come back. A draft the
customer abandons is kept as `cancelled`, so nothing they typed is lost.
Every change is a row in `complaint_status_changes`: who, when, why.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.domain import attachments
from bot.domain.storage.db import as_utc, session_scope
from bot.domain.storage.models import Complaint, ComplaintStatusChange

STATUSES = ("open", "in_progress", "resolved", "rejected", "cancelled")
NEXT_STATUSES = {
    "open": ("in_progress", "resolved", "rejected"),
    "in_progress": ("open", "resolved", "rejected"),
    "resolved": ("in_progress",),
    "rejected": ("in_progress",),
    "cancelled": (),
}
STATUS_TITLES = {
    "open": "received, waiting for our team",
    "in_progress": "being worked on",
    "resolved": "resolved",
    "rejected": "closed without the change you asked for",
    "cancelled": "cancelled",
}
# What we promise the customer when filing: urgent complaints get a person within hours.
RESPONSE_HOURS = {"normal": 48, "urgent": 4}
FIELDS = ("reference", "status", "priority", "category", "order_ref", "description", "contact", "customer_id",
          "conversation_id", "channel", "created_at", "respond_by", "updated_at", "last_note")


class ComplaintError(ValueError):
    """A request about complaints that cannot be carried out; the message says why."""


@dataclass(frozen=True)
class Draft:
    """What the customer told the bot, ready to be filed."""

    customer_id: str
    conversation_id: str
    channel: str
    category: str | None
    order_ref: str | None
    description: str | None
    contact: str | None
    priority: str = "normal"


@dataclass(frozen=True)
class ComplaintView:
    reference: str
    status: str
    priority: str
    category: str | None
    order_ref: str | None
    description: str | None
    contact: str | None
    customer_id: str
    conversation_id: str
    channel: str
    created_at: datetime
    respond_by: datetime | None
    updated_at: datetime
    last_note: str | None

    def as_row(self) -> dict[str, Any]:
        """Plain values for export (times as ISO-8601)."""
        return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(self).items()}


@dataclass(frozen=True)
class StatusChange:
    id: int
    complaint: ComplaintView
    from_status: str
    to_status: str
    note: str | None


def file(url: str, draft: Draft, status: str = "open") -> ComplaintView:
    """Store a complaint (or, with status `cancelled`, an abandoned draft) and give it a reference."""
    now = _now()
    respond_by = now + timedelta(hours=RESPONSE_HOURS[draft.priority]) if status == "open" else None
    with session_scope(url) as session:
        row = Complaint(**asdict(draft), status=status, created_at=now, updated_at=now, respond_by=respond_by)
        session.add(row)
        session.flush()  # assigns the id the reference is made from
        row.reference = f"C-{now.year}-{row.id:06d}"
        if status == "open":  # the photo sent just before the complaint is part of it
            attachments.link_to_complaint(session, draft.conversation_id, row.reference, now)
        session.add(ComplaintStatusChange(complaint_id=row.id, from_status=None, to_status=status,
                                          note="filed by the customer in chat", changed_by="customer",
                                          changed_at=now))
        session.flush()
        return _view(session, row)


def find_for_customer(url: str, reference: str, customer_id: str) -> ComplaintView | None:
    """The complaint with this reference if it belongs to this customer; None otherwise.

    Not found and not theirs look the same, so a guessed reference reveals nothing.
    """
    with session_scope(url) as session:
        row = session.execute(
            sa.select(Complaint).where(Complaint.reference == reference.upper(), Complaint.customer_id == customer_id,
                                       Complaint.status != "cancelled")
        ).scalar_one_or_none()
        return _view(session, row) if row else None


def recent_for_customer(url: str, customer_id: str, limit: int = 3) -> list[ComplaintView]:
    """The customer's newest filed complaints, newest first."""
    with session_scope(url) as session:
        rows = session.execute(
            sa.select(Complaint).where(Complaint.customer_id == customer_id, Complaint.status != "cancelled")
            .order_by(Complaint.id.desc()).limit(limit)
        ).scalars()
        return [_view(session, row) for row in rows]


def get(url: str, reference: str) -> ComplaintView:
    """Any complaint by reference (for operators), or ComplaintError."""
    with session_scope(url) as session:
        return _view(session, _by_reference(session, reference))


def set_status(url: str, reference: str, status: str, note: str | None, changed_by: str) -> StatusChange:
    """Move a complaint to `status`, recording who and why; ComplaintError if not allowed."""
    if status not in STATUSES:
        raise ComplaintError(f"unknown status {status!r}; use one of: {', '.join(STATUSES[:4])}")
    with session_scope(url) as session:
        row = _by_reference(session, reference, lock=True)
        if status not in NEXT_STATUSES[row.status]:
            allowed = ", ".join(NEXT_STATUSES[row.status]) or "none"
            raise ComplaintError(f"{row.reference} is {row.status}; it can move to: {allowed}")
        now = _now()
        change = ComplaintStatusChange(complaint_id=row.id, from_status=row.status, to_status=status, note=note,
                                       changed_by=changed_by, changed_at=now)
        previous, row.status, row.updated_at = row.status, status, now
        session.add(change)
        session.flush()
        return StatusChange(change.id, _view(session, row), previous, status, note)


def mark_notified(url: str, change_id: int) -> None:
    """The customer was told about this status change."""
    with session_scope(url) as session:
        session.get(ComplaintStatusChange, change_id).customer_notified_at = _now()


def unnotified_changes(url: str) -> list[tuple[int, str, str]]:
    """(change id, reference, conversation id) of status changes the customer was not told about yet."""
    with session_scope(url) as session:
        rows = session.execute(
            sa.select(ComplaintStatusChange.id, Complaint.reference, Complaint.conversation_id)
            .join(Complaint, Complaint.id == ComplaintStatusChange.complaint_id)
            .where(ComplaintStatusChange.customer_notified_at.is_(None), ComplaintStatusChange.changed_by != "customer")
            .order_by(ComplaintStatusChange.id)
        ).all()
        return [tuple(row) for row in rows]


def iter_complaints(url: str, status: str | None = None) -> Iterator[ComplaintView]:
    """Every complaint (optionally of one status), oldest first."""
    if status is not None and status not in STATUSES:
        raise ComplaintError(f"unknown status {status!r}; use one of: {', '.join(STATUSES)}")
    query = sa.select(Complaint).order_by(Complaint.id)
    if status is not None:
        query = query.where(Complaint.status == status)
    with session_scope(url) as session:
        for row in session.execute(query).scalars().all():
            yield _view(session, row)


def history(url: str, reference: str) -> list[dict[str, Any]]:
    """The status changes of one complaint, oldest first."""
    with session_scope(url) as session:
        row = _by_reference(session, reference)
        changes = session.execute(
            sa.select(ComplaintStatusChange).where(ComplaintStatusChange.complaint_id == row.id)
            .order_by(ComplaintStatusChange.id)
        ).scalars()
        return [{"from": c.from_status, "to": c.to_status, "note": c.note, "by": c.changed_by,
                 "at": as_utc(c.changed_at).isoformat()} for c in changes]


def _by_reference(session: Session, reference: str, lock: bool = False) -> Complaint:
    query = sa.select(Complaint).where(Complaint.reference == reference.strip().upper())
    row = session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
    if row is None:
        raise ComplaintError(f"no complaint with reference {reference!r}")
    return row


def _view(session: Session, row: Complaint) -> ComplaintView:
    last_note = session.execute(
        sa.select(ComplaintStatusChange.note).where(ComplaintStatusChange.complaint_id == row.id)
        .order_by(ComplaintStatusChange.id.desc()).limit(1)
    ).scalar()
    values = {name: getattr(row, name) for name in FIELDS if name != "last_note"}
    for name in ("created_at", "respond_by", "updated_at"):
        values[name] = as_utc(values[name])
    return ComplaintView(**values, last_note=last_note)


def _now() -> datetime:
    return datetime.now(timezone.utc)
