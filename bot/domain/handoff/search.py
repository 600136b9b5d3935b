"""Finding past chats (the console's search box): by customer, complaint reference, words said
or left in a ticket, date and channel. Handoffs newest first, each with the line that matched,
so an agent can tell the right one without opening ten.

Words are matched as a case-insensitive substring of the conversation's records (customer, bot
and agent lines, internal notes), the customer id and a ticket's message; a complaint reference
(C-2026-000123) finds the conversation it was filed in. Only what the caller may open is looked
at (bot/domain/handoff/service.py: may_read), so the limit counts only chats they will see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from bot.domain.handoff.agents import AgentView
from bot.domain.handoff.service import HandoffView, newest_first, readable_by
from bot.domain.storage.db import session_scope
from bot.domain.storage.models import Complaint, Handoff, InteractionRecord

MAX_RESULTS = 50
MAX_CONVERSATIONS = 2000  # matching conversations looked at, newest first: a common word stays cheap
SNIPPET_CHARS = 120


@dataclass(frozen=True)
class Found:
    handoff: HandoffView
    matched: str | None  # the line that matched, cut around the words; None for a match on the customer


def find(url: str, reader: AgentView, words: str = "", channel: str | None = None, since: datetime | None = None,
         until: datetime | None = None, limit: int = MAX_RESULTS) -> list[Found]:
    """Handoffs `reader` may open that match all the given filters, newest first."""
    words = words.strip()
    query = sa.select(Handoff).where(readable_by(reader))
    if channel:
        query = query.where(Handoff.channel == channel)
    if since is not None:
        query = query.where(Handoff.created_at >= since)
    if until is not None:
        query = query.where(Handoff.created_at < until)
    if words:
        conversations = _conversations_saying(url, words)
        query = query.where(sa.or_(_contains(Handoff.customer_id, words), _contains(Handoff.message, words),
                                   Handoff.conversation_id.in_(conversations)))
    found = newest_first(url, query, limit)
    lines = _matching_lines(url, [h.conversation_id for h in found], words) if words else {}
    return [Found(h, lines.get(h.conversation_id) or _ticket_line(h, words)) for h in found]


def _contains(column: sa.Column, words: str) -> sa.sql.ColumnElement:
    return sa.func.lower(column).contains(words.lower(), autoescape=True)


def _conversations_saying(url: str, words: str) -> list[str]:
    """Conversations whose records contain the words, or where the complaint with this reference was filed."""
    with session_scope(url) as session:
        said = session.execute(
            sa.select(InteractionRecord.conversation_id).where(_contains(InteractionRecord.text, words))
            .group_by(InteractionRecord.conversation_id).order_by(sa.func.max(InteractionRecord.id).desc())
            .limit(MAX_CONVERSATIONS)).scalars().all()
        filed = session.execute(sa.select(Complaint.conversation_id)
                                .where(Complaint.reference == words.upper())).scalars().all()
    return [*filed, *said]


def _matching_lines(url: str, conversations: list[str], words: str) -> dict[str, str]:
    """The first line of each conversation that contains the words, cut around them."""
    if not conversations:
        return {}
    with session_scope(url) as session:
        rows = session.execute(
            sa.select(InteractionRecord.conversation_id, InteractionRecord.text)
            .where(InteractionRecord.conversation_id.in_(conversations), _contains(InteractionRecord.text, words))
            .order_by(InteractionRecord.id)).all()
    lines: dict[str, str] = {}
    for conversation, text in rows:
        lines.setdefault(conversation, _around(text, words))
    return lines


def _ticket_line(handoff: HandoffView, words: str) -> str | None:
    message = handoff.message or ""
    return _around(message, words) if words and words.lower() in message.lower() else None


def _around(text: str, words: str) -> str:
    """At most SNIPPET_CHARS of `text`, with the words in them."""
    if len(text) <= SNIPPET_CHARS:
        return text
    start = max(0, text.lower().find(words.lower()) - SNIPPET_CHARS // 3)
    cut = text[start:start + SNIPPET_CHARS]
    return ("…" if start else "") + cut + ("…" if start + SNIPPET_CHARS < len(text) else "")
