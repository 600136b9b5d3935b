"""Channels that let a business answer only for a while after the customer last wrote.

WhatsApp's customer-service window is 24 hours from the customer's last message (outside it
only pre-approved template messages may be sent, which this bot does not send); WeChat's
customer-service messages may be sent for 48 hours after the customer last wrote. An agent's
reply outside the window is refused in the console with the reason, before anything is
recorded or sent (bot/console/routes/handoffs.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.domain.handoff.service import HandoffView
from bot.domain.storage import records

WINDOWS = {"whatsapp": timedelta(hours=24), "wechat": timedelta(hours=48)}
NAMES = {"whatsapp": "WhatsApp", "wechat": "WeChat"}


def refusal(url: str, handoff: HandoffView, now: datetime | None = None) -> str | None:
    """Why an agent may not answer this customer now; None when they may."""
    window = WINDOWS.get(handoff.channel)
    if window is None:
        return None
    last = records.last_customer_message_at(url, handoff.conversation_id)
    if last is not None and (now or datetime.now(timezone.utc)) - last <= window:
        return None
    hours = int(window.total_seconds() // 3600)
    return (f"{NAMES[handoff.channel]} lets a business answer only within {hours} hours of the customer's "
            f"last message{f' (theirs came {last:%Y-%m-%d %H:%M} UTC)' if last else ''}: nothing was sent. "
            "Reach them another way (a complaint's contact), or answer when they write again.")
