"""Later tries of recorded messages their channel did not take (`undelivered_messages`).

The outbox (bot/rasa_server/channels/outbox.py) tries a message three times within two
seconds; a channel that is down for longer (a callback URL being deployed, Telegram answering
5xx for minutes) would otherwise leave the customer without a reply the records say they had.
Every Rasa server runs this loop: every BOT_REDELIVERY_SECONDS it claims the due messages (a
row is claimed by exactly one replica, bot/rasa_server/channels/delivery.py), sends each on its
channel's output, as pushes through the HTTP API are sent, and marks it delivered, or leaves it
for the next, longer pause. Messages go out oldest first; one conversation's messages keep their
order unless one of them is refused and a later one is not (the customer then gets the refused
one late, as a chat app shows a message that was stuck).
"""

from __future__ import annotations

import asyncio
import copy
import logging
from typing import Any

from rasa.core.channels.channel import InputChannel
from sanic import Sanic

from bot.config import load_settings
from bot.rasa_server.channels.delivery import Pending, claim_due, settle

logger = logging.getLogger(__name__)


async def start(app: Sanic, _loop: Any = None) -> None:
    """Sanic listener (after the server starts): run the loop for as long as the server runs."""
    app.ctx.redelivery = asyncio.create_task(_run_forever(app))


async def stop(app: Sanic, _loop: Any = None) -> None:
    """Sanic listener (before the server stops)."""
    task = getattr(app.ctx, "redelivery", None)
    if task is not None:
        task.cancel()


async def deliver_due(app: Sanic) -> int:
    """Try every due message once; how many were delivered."""
    settings = load_settings()
    delivered = 0
    for pending in await asyncio.to_thread(claim_due, settings.database_url, settings.redelivery_seconds):
        error = await _send(app, pending)
        await asyncio.to_thread(settle, settings.database_url, pending, error)
        delivered += error is None
    return delivered


async def _run_forever(app: Sanic) -> None:
    pause = max(0.2, load_settings().redelivery_seconds)
    while True:
        await asyncio.sleep(pause)
        try:
            delivered = await deliver_due(app)
            if delivered:
                logger.info("delivered %d message(s) their channel had refused before", delivered)
        except Exception:  # the database away: the rows wait for the next round
            logger.warning("could not try the undelivered messages again", exc_info=True)


async def _send(app: Sanic, pending: Pending) -> str | None:
    """None when the channel took the message, else what went wrong."""
    channel = _input_channel(app, pending.channel)
    output = channel.get_output_channel() if channel is not None else None
    if output is None:
        return f"the channel {pending.channel!r} cannot send from this server (not configured, or not started)"
    try:
        await output.send_response(pending.recipient_id, copy.deepcopy(pending.message))
        return None
    except Exception as error:
        return repr(error)


def _input_channel(app: Sanic, name: str) -> InputChannel | None:
    channels: list[InputChannel] = getattr(app.ctx, "input_channels", None) or []
    return next((channel for channel in channels if channel.name() == name), None)
