"""Interaction records outside a Rasa turn (a channel's own notice), and reading records back:
by conversation, by customer, since a time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from bot.domain.storage.db import as_utc, session_scope
from bot.domain.storage.models import RECORD_FIELDS, InteractionRecord

NOTE_ACTION = "note"  # an agent's internal note (bot/domain/handoff/notes.py): a record, not a reply


def record_exchange(url: str, conversation_id: str, customer_id: str, channel: str, said: str | None,
                    answer: str, action: str) -> None:
    """Record, in one transaction, what a customer sent that never became a Rasa turn (a photo, an
    edit, a message over a limit; `said` None when it had no text) and the channel's answer."""
    now = datetime.now(timezone.utc)
    common = {"conversation_id": conversation_id, "customer_id": customer_id, "channel": channel, "created_at": now}
    with session_scope(url) as session:
        session.execute(sa.insert(InteractionRecord), [
            common | {"actor": "customer", "text": said, "action": action},
            common | {"actor": "bot", "text": answer, "action": action},
        ])


def iter_records(
    url: str,
    conversation_id: str | None = None,
    customer_id: str | None = None,
    since: datetime | None = None,
    batch: int = 1000,
) -> Iterator[dict[str, Any]]:
    """Records in the order they were written, as plain dicts with RECORD_FIELDS keys."""
    query = sa.select(InteractionRecord).order_by(InteractionRecord.id)
    if conversation_id is not None:
        query = query.where(InteractionRecord.conversation_id == conversation_id)
    if customer_id is not None:
        query = query.where(InteractionRecord.customer_id == customer_id)
    if since is not None:
        query = query.where(InteractionRecord.created_at >= since)
    with session_scope(url) as session:
        for row in session.execute(query.execution_options(yield_per=batch)).scalars():
            yield _as_dict(row)


def _as_dict(row: InteractionRecord) -> dict[str, Any]:
    record = {name: getattr(row, name) for name in RECORD_FIELDS}
    record["created_at"] = as_utc(record["created_at"]).isoformat()
    return record


def latest_ids(url: str, conversation_ids: list[str]) -> dict[str, int]:
    """The newest record id per conversation: a cheap "has anything new been said?" check."""
    if not conversation_ids:
        return {}
    query = (sa.select(InteractionRecord.conversation_id, sa.func.max(InteractionRecord.id))
             .where(InteractionRecord.conversation_id.in_(conversation_ids))
             .group_by(InteractionRecord.conversation_id))
    with session_scope(url) as session:
        return dict(session.execute(query).all())


def last_customer_message_at(url: str, conversation_id: str) -> datetime | None:
    """When the customer last wrote in this conversation (None: never)."""
    with session_scope(url) as session:
        last = session.execute(sa.select(sa.func.max(InteractionRecord.created_at)).where(
            InteractionRecord.conversation_id == conversation_id, InteractionRecord.actor == "customer")).scalar()
    return as_utc(last) if last is not None else None


def waiting_since(url: str, conversation_ids: list[str]) -> dict[str, str]:
    """For each conversation whose customer spoke after the last agent message (internal notes do
    not answer anyone), when that customer message came: how long they have waited for a reply."""
    if not conversation_ids:
        return {}
    record = InteractionRecord
    last = {}
    replies = sa.or_(record.action.is_(None), record.action != NOTE_ACTION)
    with session_scope(url) as session:
        for actor, extra in (("customer", sa.true()), ("agent", replies)):
            last[actor] = dict(session.execute(
                sa.select(record.conversation_id, sa.func.max(record.created_at))
                .where(record.conversation_id.in_(conversation_ids), record.actor == actor, extra)
                .group_by(record.conversation_id)).all())
    return {conversation: as_utc(said).isoformat() for conversation, said in last["customer"].items()
            if conversation not in last["agent"] or as_utc(said) > as_utc(last["agent"][conversation])}


def conversations_of(url: str, customer_id: str, limit: int = 10) -> list[dict[str, Any]]:
    """The customer's conversations, newest first: id, channel, first and last time, turns, opening message."""
    record = InteractionRecord
    query = (sa.select(record.conversation_id, sa.func.min(record.created_at), sa.func.max(record.created_at),
                       sa.func.count(), sa.func.min(record.id))
             .where(record.customer_id == customer_id).group_by(record.conversation_id)
             .order_by(sa.func.max(record.id).desc()).limit(limit))
    with session_scope(url) as session:
        rows = session.execute(query).all()
        firsts = {r.id: r for r in session.execute(sa.select(record).where(record.id.in_([row[4] for row in rows])))
                  .scalars()}
        return [
            {"conversation_id": conversation, "channel": firsts[first].channel, "turns": turns,
             "started_at": as_utc(started).isoformat(), "last_at": as_utc(last).isoformat(),
             "opening": firsts[first].text}
            for conversation, started, last, turns, first in rows
        ]
