"""What channels keep about delivery: updates already processed, messages not delivered yet.

A recorded message its channel did not take is kept with the whole message (buttons included)
and a time for the next try; bot/rasa_server/channels/redelivery.py claims the due ones. Pauses
grow from BOT_REDELIVERY_SECONDS (30 s) doubling up to an hour; after MAX_ATTEMPTS later tries
(about a day) the row stays, given up (`next_attempt_at` empty), for an operator to see.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bot.config import load_settings
from bot.domain.storage.db import session_scope
from bot.domain.storage.models import ChannelUpdate, UndeliveredMessage


async def first_delivery(channel: str, update_id: int | str) -> bool:
    """True the first time this update arrives; False for a redelivery (already taken)."""
    return await asyncio.to_thread(_claim, load_settings().database_url, channel, _key(update_id))


async def forget_delivery(channel: str, update_id: int | str) -> None:
    """Processing failed: let a redelivery of the update be processed."""
    await asyncio.to_thread(_forget, load_settings().database_url, channel, _key(update_id))


def _key(update_id: int | str) -> str:
    """The id as `channel_updates` keeps it: as it is when it fits the column, else its sha256
    (a WhatsApp wamid or an email Message-ID can be longer than 64 characters)."""
    text = str(update_id)
    return text if len(text) <= UPDATE_ID_CHARS else "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:57]


UPDATE_ID_CHARS = 64  # channel_updates.update_id
MAX_ATTEMPTS = 30  # later tries: 30 s, 1 min, 2 min, ... then hourly: about a day in all
LONGEST_PAUSE = timedelta(hours=1)


@dataclass
class Pending:
    """An undelivered message claimed for one more try."""

    id: int
    channel: str
    recipient_id: str
    message: dict[str, Any]


async def record_undelivered(channel: str, recipient_id: str, message: dict[str, Any], error: str) -> None:
    """Keep a recorded message its channel did not take; it is tried again later."""
    settings = load_settings()
    await asyncio.to_thread(_record, settings.database_url, channel, recipient_id, message, error,
                            settings.redelivery_seconds)


def undelivered(url: str, recipient_id: str | None = None) -> list[dict[str, Any]]:
    """Messages not delivered (yet): oldest first, with how often they were tried again."""
    query = sa.select(UndeliveredMessage).where(UndeliveredMessage.delivered_at.is_(None)) \
        .order_by(UndeliveredMessage.id)
    if recipient_id is not None:
        query = query.where(UndeliveredMessage.recipient_id == recipient_id)
    with session_scope(url) as session:
        return [{"channel": r.channel, "recipient_id": r.recipient_id, "text": r.text, "error": r.error,
                 "attempts": r.attempts, "given_up": r.next_attempt_at is None}
                for r in session.execute(query).scalars()]


def claim_due(url: str, base_seconds: float, limit: int = 50) -> list[Pending]:
    """The messages due for another try, each moved to its next time first: of several Rasa
    replicas, only the one whose update changed the row tries it."""
    now = datetime.now(timezone.utc)
    claimed: list[Pending] = []
    with session_scope(url) as session:
        due = session.execute(
            sa.select(UndeliveredMessage.id, UndeliveredMessage.attempts)
            .where(UndeliveredMessage.delivered_at.is_(None), UndeliveredMessage.next_attempt_at <= now)
            .order_by(UndeliveredMessage.id).limit(limit)).all()
    for row_id, attempts in due:
        with session_scope(url) as session:
            taken = session.execute(
                sa.update(UndeliveredMessage)
                .where(UndeliveredMessage.id == row_id, UndeliveredMessage.attempts == attempts)
                .values(attempts=attempts + 1, next_attempt_at=_next_attempt(now, attempts + 1, base_seconds))
            ).rowcount
            if taken:
                row = session.get(UndeliveredMessage, row_id)
                message = json.loads(row.message) if row.message else {"text": row.text}
                claimed.append(Pending(row.id, row.channel, row.recipient_id, message))
    return claimed


def settle(url: str, pending: Pending, error: str | None) -> None:
    """After a later try: delivered, or the error kept for the next one."""
    with session_scope(url) as session:
        row = session.get(UndeliveredMessage, pending.id)
        if row is None:  # erased meanwhile (erase-customer)
            return
        if error is None:
            row.delivered_at = datetime.now(timezone.utc)
        else:
            row.error = error[:2000]


def _next_attempt(now: datetime, tries_so_far: int, base_seconds: float) -> datetime | None:
    """When to try again after `tries_so_far` later tries: None once they are all spent."""
    if tries_so_far >= MAX_ATTEMPTS:
        return None
    return now + min(timedelta(seconds=base_seconds * 2**tries_so_far), LONGEST_PAUSE)


def _claim(url: str, channel: str, update_id: str) -> bool:
    try:
        with session_scope(url) as session:
            session.add(ChannelUpdate(channel=channel, update_id=update_id, received_at=datetime.now(timezone.utc)))
        return True
    except IntegrityError:
        return False


def _forget(url: str, channel: str, update_id: str) -> None:
    with session_scope(url) as session:
        session.execute(sa.delete(ChannelUpdate).where(ChannelUpdate.channel == channel,
                                                       ChannelUpdate.update_id == update_id))


def _record(url: str, channel: str, recipient_id: str, message: dict[str, Any], error: str,
            base_seconds: float) -> None:
    now = datetime.now(timezone.utc)
    with session_scope(url) as session:
        session.add(UndeliveredMessage(
            channel=channel, recipient_id=recipient_id, text=str(message.get("text") or ""),
            message=json.dumps(message, ensure_ascii=False, default=str), error=error[:2000], created_at=now,
            attempts=0, next_attempt_at=_next_attempt(now, 0, base_seconds)))
