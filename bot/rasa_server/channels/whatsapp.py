"""WhatsApp Business Cloud API as a Rasa custom channel.

Meta calls `/webhooks/whatsapp/webhook`:
- GET `hub.mode=subscribe&hub.verify_token=…&hub.challenge=…` once, when the shop sets the
  callback URL: answered with the challenge when the token is ours, 403 otherwise;
- POST with batches of messages and status callbacks, each signed: `X-Hub-Signature-256` is
  "sha256=" + HMAC-SHA256(the app secret, the raw body). A missing or wrong signature is
  answered 403 and nothing is processed.
Each message is processed once (its `wamid` claimed in `channel_updates`, so Meta's retries
change nothing); text is a turn, a tapped reply button or list row sends its payload, other
kinds (photos, voice notes, stickers, locations) get a polite answer. Status callbacks (sent,
delivered, read) are acknowledged and dropped. A message that could not be processed answers
500, and Meta delivers the batch again.

Replies leave through the one outbound path (recorded, then sent; kept for later tries when
Meta refuses): text split at 4096 characters; up to 3 buttons whose titles fit 20 characters
as reply buttons, otherwise an interactive list (up to 10 rows: a title of 24 characters, the
whole choice as its description). An agent may answer only within 24 hours of the customer's
last message, WhatsApp's customer-service window (bot/domain/handoff/reply_windows.py).

Configure it in credentials.yml, or set BOT_WHATSAPP_TOKEN, BOT_WHATSAPP_APP_SECRET,
BOT_WHATSAPP_VERIFY_TOKEN and BOT_WHATSAPP_PHONE_NUMBER_ID and the runner adds this section:

    bot.rasa_server.channels.whatsapp.WhatsAppInput:
      access_token: "EAAG…"              # a system user's token with whatsapp_business_messaging
      app_secret: "…"                    # the Meta app's secret: it signs every webhook call
      verify_token: "a-long-random-string"   # yours; Meta sends it back once when you subscribe
      phone_number_id: "1234567890"      # the business number's id (WhatsApp Manager, API setup)
      api_url: "https://graph.facebook.com/v21.0"   # optional: another Graph API version, or a test fake
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.rasa_server.channels import delivery, outbox
from bot.rasa_server.channels.replica_memory import ReplicaMemory, payload_key
from bot.rasa_server.channels.rest import clean_text
from bot.rasa_server.channels.telegram import split_text

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hub-Signature-256"
GRAPH_API = "https://graph.facebook.com/v21.0"
MAX_TEXT_CHARS = 4096
MAX_BUTTONS, MAX_BUTTON_TITLE = 3, 20
MAX_ROWS, MAX_ROW_TITLE, MAX_ROW_DESCRIPTION, MAX_ID = 10, 24, 72, 200
LIST_BUTTON = "Choose"
SEND_ATTEMPTS = 4
ONLY_TEXT = "Sorry, I can only read text messages here. Please type your question, and I'll do my best."


class WhatsAppInput(InputChannel):
    """Receives WhatsApp Cloud API webhooks and hands the messages to Rasa."""

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WhatsAppInput:
        needed = ("access_token", "app_secret", "verify_token", "phone_number_id")
        if not credentials or not all(credentials.get(key) for key in needed):
            cls.raise_missing_credentials_exception()
        return cls(*(str(credentials[key]) for key in needed), credentials.get("api_url") or GRAPH_API)

    def __init__(self, access_token: str, app_secret: str, verify_token: str, phone_number_id: str,
                 api_url: str = GRAPH_API) -> None:
        self.app_secret = app_secret.encode()
        self.verify_token = verify_token
        self.output = WhatsAppOutput(access_token, phone_number_id, api_url)

    def get_output_channel(self) -> OutputChannel:
        """Where pushed messages (agents, status updates) go for a WhatsApp conversation."""
        return self.output

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("whatsapp_webhook", __name__)

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            """Meta's one-time check of the callback URL."""
            mode, token = request.args.get("hub.mode"), request.args.get("hub.verify_token") or ""
            if mode == "subscribe" and hmac.compare_digest(token, self.verify_token):
                return response.text(request.args.get("hub.challenge") or "")
            return response.json({"error": "wrong verify token"}, status=403)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            """Check the signature, then process each message of the batch once."""
            if not self._signed(request.body, request.headers.get(SIGNATURE_HEADER, "")):
                return response.json({"error": "missing or wrong X-Hub-Signature-256"}, status=403)
            try:
                messages = list(_messages(json.loads(request.body)))
            except (ValueError, TypeError, AttributeError):
                return response.json({"error": "the body is not a WhatsApp webhook"}, status=400)
            for message, name in messages:
                claim = str(message.get("id"))
                if not await delivery.first_delivery(self.name(), claim):
                    continue
                try:
                    await self._handle(message, name, on_new_message)
                except Exception:
                    logger.exception("processing WhatsApp message %s failed", message.get("id"))
                    await delivery.forget_delivery(self.name(), claim)  # Meta sends the batch again
                    return response.json({"error": "not processed, please retry"}, status=500)
            return response.json({"status": "ok"})

        return webhook

    def _signed(self, body: bytes, header: str) -> bool:
        expected = "sha256=" + hmac.new(self.app_secret, body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(header.encode(), expected.encode())

    async def _handle(self, message: dict[str, Any], name: str | None,
                      on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        sender = str(message.get("from") or "")
        if not sender:
            return
        customer_id = f"whatsapp:{sender}"
        text = _text_of(message, self.output)
        if text is None:
            await outbox.send_notice(self.output, sender, customer_id, None, ONLY_TEXT, "not_text")
            return
        metadata = {"customer_id": customer_id, "whatsapp_message_id": message.get("id"),
                    "whatsapp_name": name}
        turn = UserMessage(clean_text(text)[:MAX_TEXT_CHARS], CollectingOutputChannel(), sender,
                           input_channel=self.name(), metadata=metadata)
        await outbox.run_turn(turn, self.output, on_new_message)


def _messages(body: dict[str, Any]) -> Any:
    """(message, the sender's profile name) for every message of a webhook batch; statuses skipped."""
    for entry in body.get("entry") or []:
        for change in entry.get("changes") or []:
            value = change.get("value") or {}
            names = {c.get("wa_id"): (c.get("profile") or {}).get("name") for c in value.get("contacts") or []}
            for message in value.get("messages") or []:
                yield message, names.get(message.get("from"))


def _text_of(message: dict[str, Any], output: WhatsAppOutput) -> str | None:
    """What the customer said: their text, or the payload of the button or row they tapped."""
    kind = message.get("type")
    if kind == "text":
        return str((message.get("text") or {}).get("body") or "") or None
    if kind == "interactive":
        interactive = message.get("interactive") or {}
        chosen = interactive.get("button_reply") or interactive.get("list_reply") or {}
        return output.payload_for(str(chosen.get("id") or "")) or str(chosen.get("title") or "") or None
    if kind == "button":  # a quick-reply button of a template message
        return str((message.get("button") or {}).get("payload") or "") or None
    return None


class NotDelivered(RuntimeError):
    """The Graph API did not take a message, after the retries that could help."""


class WhatsAppOutput(OutputChannel):
    """Sends the bot's (and agents') messages through the Cloud API's /messages."""

    retries_on_its_own = True

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    def __init__(self, access_token: str, phone_number_id: str, api_url: str) -> None:
        self.url = f"{api_url.rstrip('/')}/{phone_number_id}/messages"
        self.headers = {"Authorization": f"Bearer {access_token}"}
        self._long_payloads = ReplicaMemory("whatsapp-payload")  # ids are limited; see _reply_id

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for part in split_text(text, MAX_TEXT_CHARS):
            await self._send(recipient_id, {"type": "text", "text": {"body": part, "preview_url": False}})

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list[dict[str, Any]],
                                     **kwargs: Any) -> None:
        choices = [(str(b.get("title", "")), self._reply_id(str(b["payload"]))) for b in buttons if b.get("payload")]
        parts = split_text(text or "Please choose:", 1024)  # an interactive message's body is at most 1024
        for part in parts[:-1]:
            await self._send(recipient_id, {"type": "text", "text": {"body": part}})
        if len(choices) <= MAX_BUTTONS and all(len(title) <= MAX_BUTTON_TITLE for title, _ in choices):
            action = {"buttons": [{"type": "reply", "reply": {"id": id_, "title": title}} for title, id_ in choices]}
            interactive = {"type": "button", "body": {"text": parts[-1]}, "action": action}
        else:
            rows = [{"id": id_, "title": _cut(title, MAX_ROW_TITLE), "description": _cut(title, MAX_ROW_DESCRIPTION)}
                    for title, id_ in choices[:MAX_ROWS]]
            interactive = {"type": "list", "body": {"text": parts[-1]},
                           "action": {"button": LIST_BUTTON, "sections": [{"title": "Options", "rows": rows}]}}
        await self._send(recipient_id, {"type": "interactive", "interactive": interactive})

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        if json_message.get("text"):
            await self.send_text_message(recipient_id, str(json_message["text"]))

    def payload_for(self, reply_id: str) -> str | None:
        """The payload a tapped button or row stands for."""
        return self._long_payloads.get(reply_id) if reply_id.startswith("#") else reply_id or None

    def _reply_id(self, payload: str) -> str:
        """A payload as a button id; a long one (ids are limited) as a key every replica can resolve."""
        if len(payload) <= MAX_ID and not payload.startswith("#"):
            return payload
        key = payload_key(payload)
        self._long_payloads.put(key, payload)
        return key

    async def _send(self, recipient_id: str, content: dict[str, Any]) -> None:
        """POST one message, retrying 429 and 5xx with back-off; NotDelivered when it still fails."""
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": recipient_id} | content
        delay, problem = 0.5, ""
        async with httpx.AsyncClient(timeout=15) as client:
            for _attempt in range(SEND_ATTEMPTS):
                try:
                    reply = await client.post(self.url, json=body, headers=self.headers)
                except httpx.HTTPError as error:
                    problem = repr(error)
                else:
                    if reply.status_code < 300:
                        return
                    problem = f"{reply.status_code} {reply.text[:200]}"
                    if reply.status_code != 429 and reply.status_code < 500:
                        break  # a bad request or token: trying again cannot help
                await asyncio.sleep(delay)
                delay *= 2
        raise NotDelivered(f"WhatsApp did not take a message to {recipient_id}: {problem}")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"
