"""A photo or PDF from a widget customer: `POST /webhooks/widget/attachments` (multipart:
`session_id`, `file`), kept and recorded through the channels' one path for files
(attachment_turn.py).

Only once the customer's "[photo: name]" message is committed does every tab of the
conversation see it (`customer_uttered`) and the widget hear "recorded"; a refused file gets the
reason in words for the customer (400), a turn that could not be recorded 503: nothing half-done.
"""

from __future__ import annotations

import time
from typing import Any

from sanic.request import Request
from sanic.response import HTTPResponse, json

from bot.domain import attachments
from bot.domain.identity.channel_ids import widget_customer
from bot.rasa_server.channels import attachment_turn


async def receive(request: Request, sio: Any, session_id: str, message_id: str,
                  headers: dict[str, str]) -> HTTPResponse:
    """Keep the file, record it as the customer's message, show it in every tab."""
    upload = request.files.get("file") if request.files else None
    if upload is None:
        return json({"error": "Choose a photo or a PDF to send."}, status=400, headers=headers)
    try:
        saved = await attachment_turn.keep(session_id, upload.name or "", upload.body)
    except attachments.Refused as error:
        return json({"error": str(error)}, status=400, headers=headers)
    metadata = {"customer_id": widget_customer(session_id)}
    if not await attachment_turn.record(request.app.ctx.agent, session_id, saved, "widget", metadata, message_id):
        return json({"error": attachment_turn.NOT_RECORDED}, status=503, headers=headers)
    await sio.emit("customer_uttered", {"text": saved.label, "id": message_id, "at": time.time()}, room=session_id)
    return json({"status": "recorded", "text": saved.label}, headers=headers)
