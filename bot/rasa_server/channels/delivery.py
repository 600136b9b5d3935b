"""What channels keep about delivery: updates already processed, replies not delivered."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bot.config import load_settings
from bot.domain.storage.db import session_scope
from bot.domain.storage.models import ChannelUpdate, UndeliveredMessage


async def first_delivery(channel: str, update_id: int | str) -> bool:
    """True the first time this update arrives; False for a redelivery (already taken)."""
    return await asyncio.to_thread(_claim, load_settings().database_url, channel, str(update_id))


async def forget_delivery(channel: str, update_id: int | str) -> None:
    """Processing failed: let a redelivery of the update be processed."""
    await asyncio.to_thread(_forget, load_settings().database_url, channel, str(update_id))


async def record_undelivered(channel: str, recipient_id: str, text: str, error: str) -> None:
    await asyncio.to_thread(_record, load_settings().database_url, channel, recipient_id, text, error)


def undelivered(url: str, recipient_id: str | None = None) -> list[dict[str, str]]:
    query = sa.select(UndeliveredMessage).order_by(UndeliveredMessage.id)
    if recipient_id is not None:
        query = query.where(UndeliveredMessage.recipient_id == recipient_id)
    with session_scope(url) as session:
        return [{"channel": r.channel, "recipient_id": r.recipient_id, "text": r.text, "error": r.error}
                for r in session.execute(query).scalars()]


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


def _record(url: str, channel: str, recipient_id: str, text: str, error: str) -> None:
    with session_scope(url) as session:
        session.add(UndeliveredMessage(channel=channel, recipient_id=recipient_id, text=text, error=error[:2000],
                                       created_at=datetime.now(timezone.utc)))
