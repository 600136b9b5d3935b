"""Complaint storage on a SQLite file and on the machine's PostgreSQL."""

from __future__ import annotations

import re

import pytest

from bot.domain.complaints import service
from bot.domain.complaints.service import ComplaintError, Draft
from bot.domain.storage.migrate import upgrade


def draft(customer: str = "cust-1", **overrides: object) -> Draft:
    values = dict(customer_id=customer, conversation_id=f"conv-{customer}", channel="rest", category="delivery",
                  order_ref="BC-123456", description="the parcel never came", contact="jane@example.com")
    return Draft(**(values | overrides))


def test_filing_gives_a_reference_and_a_promise(database_url: str) -> None:
    upgrade(database_url)
    normal = service.file(database_url, draft())
    urgent = service.file(database_url, draft(priority="urgent"))
    assert re.fullmatch(r"C-\d{4}-\d{6}", normal.reference) and normal.reference != urgent.reference
    assert normal.status == "open" and normal.last_note == "filed by the customer in chat"
    assert (normal.respond_by - normal.created_at).total_seconds() == 48 * 3600
    assert (urgent.respond_by - urgent.created_at).total_seconds() == 4 * 3600


def test_only_the_owner_finds_a_complaint(database_url: str) -> None:
    upgrade(database_url)
    mine = service.file(database_url, draft("alice"))
    assert service.find_for_customer(database_url, mine.reference.lower(), "alice").reference == mine.reference
    assert service.find_for_customer(database_url, mine.reference, "mallory") is None
    assert service.find_for_customer(database_url, "C-2026-999999", "alice") is None
    cancelled = service.file(database_url, draft("alice"), status="cancelled")
    assert service.find_for_customer(database_url, cancelled.reference, "alice") is None
    assert [c.reference for c in service.recent_for_customer(database_url, "alice")] == [mine.reference]


def test_status_lifecycle_keeps_history(database_url: str) -> None:
    upgrade(database_url)
    ref = service.file(database_url, draft()).reference
    change = service.set_status(database_url, ref, "in_progress", "looking into it", "agent-ann")
    assert (change.from_status, change.to_status) == ("open", "in_progress")
    service.set_status(database_url, ref, "resolved", "refund sent", "agent-bob")
    with pytest.raises(ComplaintError, match="can move to: in_progress"):
        service.set_status(database_url, ref, "rejected", None, "agent-bob")
    with pytest.raises(ComplaintError, match="unknown status"):
        service.set_status(database_url, ref, "done", None, "agent-bob")
    with pytest.raises(ComplaintError, match="no complaint"):
        service.set_status(database_url, "C-2026-999999", "resolved", None, "agent-bob")
    history = service.history(database_url, ref)
    assert [(h["from"], h["to"], h["by"]) for h in history] == [
        (None, "open", "customer"), ("open", "in_progress", "agent-ann"), ("in_progress", "resolved", "agent-bob")]
    complaint = service.get(database_url, ref)
    assert complaint.status == "resolved" and complaint.last_note == "refund sent"
    assert [c.reference for c in service.iter_complaints(database_url, "resolved")] == [ref]


def test_unnotified_changes_until_marked(database_url: str) -> None:
    upgrade(database_url)
    complaint = service.file(database_url, draft())
    change = service.set_status(database_url, complaint.reference, "in_progress", None, "agent")
    def pending() -> list[tuple]:  # the PostgreSQL database is shared by this session's tests
        return [c for c in service.unnotified_changes(database_url) if c[1] == complaint.reference]

    assert pending() == [(change.id, complaint.reference, complaint.conversation_id)]
    service.mark_notified(database_url, change.id)
    assert pending() == []


PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def test_a_file_sent_just_before_or_after_filing_belongs_to_the_complaint(database_url: str, tmp_path) -> None:
    from datetime import datetime, timedelta, timezone

    import sqlalchemy as sa

    from bot.domain import attachments
    from bot.domain.attachment_files import DirectoryStore
    from bot.domain.storage.db import session_scope
    from bot.domain.storage.models import Attachment

    upgrade(database_url)
    files = DirectoryStore(tmp_path)
    keep = lambda conversation, name: attachments.store(database_url, files, conversation, name, PNG)  # noqa: E731
    before = keep("conv-jane", "before.png")
    stale = keep("conv-jane", "last-month.png")
    with session_scope(database_url) as session:  # sent long before: not about this complaint
        session.get(Attachment, stale.id).created_at = datetime.now(timezone.utc) - timedelta(days=30)
    elsewhere = keep("conv-other", "other.png")
    complaint = service.file(database_url, draft("jane"))
    after = keep("conv-jane", "after.png")
    assert [f.name for f in attachments.for_complaint(database_url, complaint.reference)] == ["before.png",
                                                                                              "after.png"]
    assert attachments.get(database_url, stale.id).complaint_ref is None
    assert attachments.get(database_url, elsewhere.id).complaint_ref is None
    assert before.complaint_ref is None and after.complaint_ref == complaint.reference
    service.set_status(database_url, complaint.reference, "resolved", "refunded", "agent-ann")
    assert keep("conv-jane", "much-later.png").complaint_ref is None  # a settled complaint takes no more files
    drafted = service.file(database_url, draft("kim"), status="cancelled")
    kept = keep("conv-kim", "draft.png")
    assert kept.complaint_ref is None and attachments.for_complaint(database_url, drafted.reference) == []
    with session_scope(database_url) as session:
        assert session.execute(sa.select(sa.func.count()).select_from(Attachment)).scalar() == 6
