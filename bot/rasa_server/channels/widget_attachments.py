"""A photo or PDF from a widget customer: `POST /webhooks/widget/attachments` (multipart:
`session_id`, `file`), the customer-facing half of bot/domain/attachments.py.

The file is checked by its content and kept (attachments.store), then recorded in the
conversation as the customer's message "[photo: name]" with the attachment's id as an entity,
without Rasa predicting anything (a file is not a question; the agent or the complaint it belongs
to reads it). Only once that is committed does every tab of the conversation see it
(`customer_uttered`) and the widget hear "recorded"; a refused file gets the reason in words for
the customer (400), a turn that could not be recorded 503: nothing half-done.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from rasa.shared.core.events import ActionExecuted, UserUttered
from sanic.request import Request
from sanic.response import HTTPResponse, json

from bot.config import load_settings
from bot.domain import attachments
from bot.rasa_server.channels import outbox

ATTACHMENT_INTENT = "send_attachment"  # in domain.yml; no rule answers it
NOT_RECORDED = "Your file hasn't reached us yet: please send it again."


async def receive(request: Request, sio: Any, session_id: str, headers: dict[str, str]) -> HTTPResponse:
    """Keep the file, record it as the customer's message, show it in every tab."""
    upload = request.files.get("file") if request.files else None
    if upload is None:
        return json({"error": "Choose a photo or a PDF to send."}, status=400, headers=headers)
    settings = load_settings()
    try:
        saved = await asyncio.to_thread(attachments.store, settings.database_url, settings.attachments_dir,
                                        session_id, upload.name or "", upload.body)
    except attachments.Refused as error:
        return json({"error": str(error)}, status=400, headers=headers)
    if not await _record(request.app.ctx.agent, session_id, saved):
        return json({"error": NOT_RECORDED}, status=503, headers=headers)
    await sio.emit("customer_uttered", {"text": saved.label, "id": f"attachment-{saved.id}", "at": time.time()},
                   room=session_id)
    return json({"status": "recorded", "text": saved.label}, headers=headers)


async def _record(agent: Any, session_id: str, saved: attachments.AttachmentView) -> bool:
    """Append the customer's message (and Rasa's listening step after it) under the
    conversation's lock; True once the tracker store committed it."""
    metadata = {"customer_id": f"widget:{session_id}"}
    sent = {"entity": "attachment", "value": attachments.reference(saved.id), "start": 0, "end": 0}
    event = UserUttered(saved.label, intent={"name": ATTACHMENT_INTENT, "confidence": 1.0}, entities=[sent],
                        input_channel="widget", metadata=metadata)
    with outbox.opened(None) as box:
        async with agent.lock_store.lock(session_id):
            tracker = await agent.processor.fetch_tracker_and_update_session(
                session_id, outbox.DeferredOutput(box), metadata)
            tracker.update(event)
            tracker.update(ActionExecuted("action_listen"))
            await agent.processor.save_tracker(tracker)
    return box.recorded is True
