"""Internal notes: what an agent writes on a conversation for their team ("refund approved by
finance", "customer prefers a call"), never sent to the customer.

A note is an interaction record with actor `agent` and action `note` (the note flag), the
author in its entities; it is written by the console directly, never through Rasa, so no
channel, the widget's history or the conversation's events ever carry it. The metrics that
time agents' replies leave notes out (bot/domain/insight/metrics.py), and the transcript shows
them apart (bot/console/static/console.js). Erased and purged with the conversation's records.
"""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa

from bot.domain.handoff.service import HandoffError, HandoffView
from bot.domain.privacy.redaction import parse_kinds, redactor
from bot.domain.storage.db import session_scope
from bot.domain.storage.models import InteractionRecord
from bot.domain.storage.records import NOTE_ACTION

MAX_NOTE_CHARS = 4000


def is_note(record: dict) -> bool:
    """Whether a record is an internal note (not something the customer was sent)."""
    return record.get("actor") == "agent" and record.get("action") == NOTE_ACTION


def add(url: str, handoff: HandoffView, author: str, text: str, redact: str) -> None:
    """Record a note on the handoff's conversation, redacted as every record is (`redact`: BOT_REDACT's kinds)."""
    text = text.strip()
    if not text:
        raise HandoffError("the note is empty")
    if len(text) > MAX_NOTE_CHARS:
        raise HandoffError(f"a note is at most {MAX_NOTE_CHARS} characters")
    with session_scope(url) as session:
        session.execute(sa.insert(InteractionRecord).values(
            conversation_id=handoff.conversation_id, customer_id=handoff.customer_id, channel=handoff.channel,
            actor="agent", action=NOTE_ACTION, text=redactor(parse_kinds(redact))(text),
            entities=[{"entity": "author", "value": author}], created_at=datetime.now(timezone.utc)))
