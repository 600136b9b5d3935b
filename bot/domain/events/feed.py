"""The live activity feed: Rasa events as the event consumer received them, stored once each.

The interaction records are written by the tracker store in the reply's own transaction; this
feed is derived and may lag a little behind them. It exists so that operators see what is
happening across every replica right now (`active_conversations`), and it must not double
count when RabbitMQ redelivers a message whose acknowledgement was lost (consumer killed
between commit and ack): each event is keyed by a hash of its identity and inserted with
"on conflict do nothing".

Rasa publishes after the commit from memory: a replica killed in between never publishes those
events. `backfill` closes that gap from the tracker store's own rows (the source of truth),
computing the same keys, so the feed ends up with every event exactly once.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.domain.storage.db import session_scope
from bot.domain.storage.models import ConversationEvent, LiveEvent

# Events worth showing; Rasa's bookkeeping events (slot resets, action_listen, ...) are skipped.
KEPT_EVENTS = {"user", "bot", "action", "session_started", "slot"}


class BadEvent(ValueError):
    """A message on the queue that is not a Rasa event."""


def event_row(body: bytes | str) -> dict[str, Any] | None:
    """The feed row for one broker message, None for an event the feed skips."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadEvent(f"not JSON: {error}") from error
    return _row(data)


def _row(data: Any) -> dict[str, Any] | None:
    if not isinstance(data, dict) or not isinstance(data.get("sender_id"), str) or not data.get("event"):
        raise BadEvent("no sender_id or event")
    if data["event"] not in KEPT_EVENTS:
        return None
    timestamp = data.get("timestamp")
    if not isinstance(timestamp, (int, float)):
        raise BadEvent("no timestamp")
    name = (data.get("parse_data") or {}).get("intent", {}).get("name") if data["event"] == "user" else data.get("name")
    identity = json.dumps([data["sender_id"], data["event"], timestamp, name, data.get("text")], ensure_ascii=False)
    return {
        "key": hashlib.sha1(identity.encode()).hexdigest(),
        "sender_id": data["sender_id"][:255],
        "event": str(data["event"])[:64],
        "name": str(name)[:255] if name is not None else None,
        "timestamp": float(timestamp),
        "received_at": datetime.now(timezone.utc),
    }


def store(url: str, rows: list[dict[str, Any]]) -> None:
    """Insert the rows, ignoring those already stored (redelivered messages)."""
    if not rows:
        return
    with session_scope(url) as session:
        _insert(session, rows)


def _insert(session: Session, rows: list[dict[str, Any]]) -> None:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(LiveEvent).values(rows).on_conflict_do_nothing(index_elements=["key"]))


def backfill(url: str, seconds: float) -> int:
    """Add the stored events of the last `seconds` that the feed lacks; return how many were added.

    The tracker store's rows are read and the missing ones added in one transaction, so erasing a
    customer (bot/domain/privacy/erase.py) cannot fall in between: read in one transaction and
    written in another, a conversation erased in between came back into the feed (a CI run of
    tests/resilience/test_load.py). On PostgreSQL the rows read are locked against deletion: an
    erase already deleting them is skipped (its rows are going), one that starts meanwhile waits
    for this commit and then deletes what was added. SQLite has one writer: the transaction takes
    the write lock before it reads.
    """
    since = time.time() - seconds
    with session_scope(url) as session:
        if session.get_bind().dialect.name == "sqlite":
            session.execute(sa.text("BEGIN IMMEDIATE"))
        stored = session.query(ConversationEvent.sender_id, ConversationEvent.data).filter(
            ConversationEvent.timestamp >= since).with_for_update(read=True, skip_locked=True).all()
        rows = {}
        for sender_id, data in stored:
            row = _row({"sender_id": sender_id} | json.loads(data))
            if row is not None:
                rows[row["key"]] = row
        known = set(session.execute(sa.select(LiveEvent.key).where(LiveEvent.key.in_(list(rows)))).scalars())
        missing = [row for key, row in rows.items() if key not in known]
        if missing:
            _insert(session, missing)
    return len(missing)


def active_conversations(url: str, minutes: float = 15) -> list[dict[str, Any]]:
    """Conversations with events in the last `minutes`: sender, turns, last activity, newest first."""
    since = time.time() - minutes * 60
    users = sa.func.sum(sa.case((LiveEvent.event == "user", 1), else_=0))
    with session_scope(url) as session:
        rows = (
            session.query(LiveEvent.sender_id, users, sa.func.max(LiveEvent.timestamp))
            .filter(LiveEvent.timestamp >= since)
            .group_by(LiveEvent.sender_id)
            .order_by(sa.func.max(LiveEvent.timestamp).desc())
            .all()
        )
    return [{"sender_id": s, "customer_messages": int(n or 0), "last_activity": t} for s, n, t in rows]
