"""Tell the customer, on the channel they used, that their complaint's status changed.

The message is sent by the bot itself: Rasa's `trigger_intent` API runs
`action_notify_complaint_update` in the complaint's conversation, so the update reaches the
customer's own channel and is an interaction record (with the complaint reference) like
every other bot message. A change that could not be delivered (Rasa down) stays marked as
not notified; `python -m bot complaints notify` sends those later.
"""

from __future__ import annotations

import logging

from bot.config import Settings
from bot.domain.complaints import service
from bot.rasa_api import RasaUnavailable, trigger_intent

logger = logging.getLogger(__name__)
UPDATE_INTENT = "EXTERNAL_complaint_update"


def notify_change(settings: Settings, change_id: int, reference: str, conversation_id: str) -> bool:
    """Push the update for one status change; True when Rasa took it."""
    try:
        trigger_intent(settings, conversation_id, UPDATE_INTENT, {"complaint_ref": reference})
    except RasaUnavailable as error:
        logger.warning("customer not yet told about %s: %s", reference, error)
        return False
    service.mark_notified(settings.database_url, change_id)
    return True


def notify_pending(settings: Settings) -> tuple[int, int]:
    """Retry every status change the customer was not told about: (sent, still pending)."""
    sent = pending = 0
    for change_id, reference, conversation_id in service.unnotified_changes(settings.database_url):
        if notify_change(settings, change_id, reference, conversation_id):
            sent += 1
        else:
            pending += 1
    return sent, pending
