"""A file a customer sent, kept and recorded as their message: the one path every channel that
takes files goes through (the widget's upload: widget_attachments.py; Telegram's photos and
documents: telegram.py).

The file is checked by its content and kept (bot/domain/attachments.py), then recorded in the
conversation as the customer's message "[photo: name]" with the attachment's reference as an
entity, without Rasa predicting anything: a file is not a question; the agent, or the
complaint it is linked to, reads it. `record` is True only once the tracker store committed
the message, so a channel tells the customer it arrived only then.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rasa.shared.core.events import ActionExecuted, UserUttered

from bot.config import load_settings
from bot.domain import attachment_files, attachments
from bot.rasa_server.channels import outbox

ATTACHMENT_INTENT = "send_attachment"  # in domain.yml; no rule answers it
NOT_RECORDED = "Your file hasn't reached us yet: please send it again."


async def keep(conversation_id: str, name: str, data: bytes) -> attachments.AttachmentView:
    """Check and store the bytes; attachments.Refused (words for the customer) when we do not take them."""
    settings = load_settings()
    return await asyncio.to_thread(attachments.store, settings.database_url, attachment_files.for_settings(settings),
                                   conversation_id, name, data)


async def record(agent: Any, conversation_id: str, saved: attachments.AttachmentView, channel: str,
                 metadata: dict[str, Any], message_id: str | None = None) -> bool:
    """Append the customer's message (and Rasa's listening step after it) under the
    conversation's lock; True once the tracker store committed it."""
    sent = {"entity": "attachment", "value": attachments.reference(saved.id), "start": 0, "end": 0}
    event = UserUttered(saved.label, intent={"name": ATTACHMENT_INTENT, "confidence": 1.0}, entities=[sent],
                        input_channel=channel, metadata=metadata, message_id=message_id)
    with outbox.opened(None) as box:
        async with agent.lock_store.lock(conversation_id):
            tracker = await agent.processor.fetch_tracker_and_update_session(
                conversation_id, outbox.DeferredOutput(box), metadata)
            tracker.update(event)
            tracker.update(ActionExecuted("action_listen"))
            await agent.processor.save_tracker(tracker)
    return box.recorded is True
