"""Telegram as a Rasa custom channel, built on python-telegram-bot (async, v21+).

Webhook mode: Telegram POSTs each update to `/webhooks/telegram/webhook`. The channel
- refuses (403, nothing processed) a request without the right `X-Telegram-Bot-Api-Secret-Token`;
- processes an `update_id` once, even when Telegram delivers it again after a timeout;
- turns a button press (callback query) into its payload;
- takes photos and documents (PDF, PNG, JPEG, WebP, at most 5 MB) through the channels' one
  path for files (attachment_turn.py): kept, recorded as the customer's "[photo: name]", then a
  caption is handled as the customer's next message; a file we do not take is answered with the
  reason, and a download Telegram's file server refused fails the update so Telegram sends it again;
- answers stickers, voice notes and edited messages politely instead of failing;
- limits each chat to BOT_RATE_LIMIT (bot/rasa_server/channels/rate_limit.py): an update over the limit is
  answered 200 (Telegram would deliver it again otherwise) but not processed, and the chat is
  told to slow down, at most once per window.
Replies are sent once the turn is recorded (a turn that could not be recorded sends nothing
and is redelivered by Telegram), through `TelegramOutput`: buttons as inline keyboards, long text split at
Telegram's 4096-character limit, 429 and 5xx answers retried with back-off; a reply that
still could not be delivered raises `NotDelivered`, and the outbox keeps it in
`undelivered_messages` to be tried again later.

Configure it in credentials.yml (or set BOT_TELEGRAM_TOKEN and BOT_TELEGRAM_SECRET and the
runner adds this section):

    bot.rasa_server.channels.telegram.TelegramInput:
      access_token: "123456:ABC..."          # from @BotFather
      secret_token: "a-long-random-string"   # Telegram sends it back on every webhook call
      webhook_url: "https://shop.example/webhooks/telegram/webhook"   # optional: for --set-webhook
      base_url: "https://api.telegram.org"   # optional: a self-hosted Bot API server, or a test fake

Local development without a public URL: `python -m bot telegram --polling` (bot/rasa_server/channels/telegram_cli.py).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.config import load_settings
from bot.domain import attachments
from bot.rasa_server.channels import attachment_turn, delivery, outbox, rate_limit
from bot.rasa_server.channels.replica_memory import ReplicaMemory, payload_key
from bot.rasa_server.channels.rest import clean_text

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_MESSAGE_CHARS = 4096
MAX_CALLBACK_DATA_BYTES = 64
SEND_ATTEMPTS = 5
MAX_RETRY_AFTER_SECONDS = 30.0
ONLY_TEXT = ("Sorry, I can only read text messages, photos and PDF files. Please type your question, "
             "and I'll do my best.")
NO_EDITS = "I can't see edited messages. Please send the corrected text as a new message."
MAX_RECORDED_CHARS = 2 * MAX_MESSAGE_CHARS  # of a message answered with a notice: enough to see what it was
TOO_LONG = f"That message is too long for me (at most {MAX_MESSAGE_CHARS} characters). Please send a shorter one."


def make_bot(access_token: str, base_url: str | None) -> Bot:
    """A python-telegram-bot Bot talking to Telegram, or to `base_url` (self-hosted or a test fake)."""
    api = (base_url or "https://api.telegram.org").rstrip("/")
    return Bot(access_token, base_url=f"{api}/bot", base_file_url=f"{api}/file/bot")


class TelegramInput(InputChannel):
    """Receives Telegram updates on a webhook and hands their text to Rasa."""

    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TelegramInput:
        if not credentials or not credentials.get("access_token") or not credentials.get("secret_token"):
            cls.raise_missing_credentials_exception()
        return cls(str(credentials["access_token"]), str(credentials["secret_token"]),
                   credentials.get("webhook_url"), credentials.get("base_url"))

    def __init__(self, access_token: str, secret_token: str, webhook_url: str | None = None,
                 base_url: str | None = None) -> None:
        self.secret_token = secret_token
        self.webhook_url = webhook_url
        self.bot = make_bot(access_token, base_url)
        self.output = TelegramOutput(self.bot)
        self.limiter = rate_limit.for_settings(load_settings())

    def get_output_channel(self) -> OutputChannel:
        """Where pushed messages (agents, status updates) go for a Telegram conversation."""
        return self.output

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("telegram_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            """Check the secret, process each update once, answer Telegram with 200."""
            if not hmac.compare_digest(request.headers.get(SECRET_HEADER, ""), self.secret_token):
                return response.json({"error": "wrong or missing secret token"}, status=403)
            try:
                update = Update.de_json(request.json, self.bot)
            except Exception:
                update = None
            if update is not None and not well_formed(update):
                update = None
            if update is None:
                return response.json({"error": "the body is not a Telegram update"}, status=400)
            if not await delivery.first_delivery(self.name(), update.update_id):
                return response.json({"status": "already processed"})
            try:
                await self._handle(update, on_new_message, request.app.ctx.agent)
            except Exception:
                logger.exception("processing Telegram update %s failed", update.update_id)
                await delivery.forget_delivery(self.name(), update.update_id)  # let Telegram retry it
                return response.json({"error": "not processed, please retry"}, status=500)
            return response.json({"status": "ok"})

        return webhook

    async def _handle(self, update: Update, on_new_message: Callable[[UserMessage], Awaitable[Any]],
                      agent: Any) -> None:
        if await self._over_limit(update):
            return
        if update.callback_query is not None:
            await self._button_pressed(update, on_new_message)
            return
        message = update.message
        if update.edited_message is not None:
            await self._notice(update, update.edited_message.text, NO_EDITS, "edited")
            return
        if message is None:  # channel posts, membership changes, ...: nothing for the bot
            return
        chat_id = str(message.chat.id)
        if message.photo or message.document:
            await self._file_sent(update, chat_id, agent, on_new_message)
            return
        if not message.text:  # sticker, voice, location ...
            await self._notice(update, None, ONLY_TEXT, "not_text")
            return
        if len(message.text) > MAX_MESSAGE_CHARS:  # more than Telegram allows: not from Telegram, and
            await self._notice(update, message.text, TOO_LONG, "too_long")  # NLU's memory grows with its square
            return
        await self._process(self._user_message(message.text, chat_id, update), on_new_message)

    async def _file_sent(self, update: Update, chat_id: str, agent: Any,
                         on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        """Keep and record a photo or document, then handle its caption as the customer's next message."""
        message = update.message
        assert message is not None  # _handle checked
        name, file_id, size = _file_of(message)
        if size > attachments.MAX_BYTES:  # Telegram says how large it is: no need to fetch it to refuse it
            await self._notice(update, message.caption, attachments.REFUSED_SIZE, "file_refused")
            return
        data = await self.output.download(file_id)  # raises: the update fails and Telegram sends it again
        try:
            saved = await attachment_turn.keep(chat_id, name, data)
        except attachments.Refused as error:
            await self._notice(update, message.caption, str(error), "file_refused")
            return
        metadata = {"customer_id": _customer_id(update, chat_id), "telegram_update_id": update.update_id}
        if not await attachment_turn.record(agent, chat_id, saved, self.name(), metadata):
            raise outbox.Unrecorded(f"the file of Telegram update {update.update_id} was not recorded")
        if message.caption:
            await self._process(self._user_message(message.caption, chat_id, update), on_new_message)

    async def _over_limit(self, update: Update) -> bool:
        """True when the update's chat is over the rate limit (then it is told so, once per window)."""
        chat = update.effective_chat
        if self.limiter is None or chat is None:
            return False
        decision = self.limiter.check(str(chat.id))
        if decision.notify:
            said = update.effective_message.text if update.effective_message else None
            await self._notice(update, said, rate_limit.slow_down(decision.retry_after), "rate_limited")
        return not decision.allowed

    async def _notice(self, update: Update, said: str | None, notice: str, kind: str) -> None:
        """Answer something that is not a turn for Rasa; both sides are recorded first (what was
        said cleaned as a turn's text is: no database stores an unpaired surrogate)."""
        chat = update.effective_chat
        assert chat is not None  # every update answered with a notice has a chat
        said = clean_text(said)[:MAX_RECORDED_CHARS] if said else None
        await outbox.send_notice(self.output, str(chat.id), _customer_id(update, str(chat.id)), said, notice, kind)

    async def _process(self, message: UserMessage, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        """Let Rasa handle the message, then send its replies, only once the turn is recorded:
        when the records could not be written, nothing is sent and the update fails, so Telegram
        delivers it again (see RecordingTrackerStore)."""
        await outbox.run_turn(message, self.output, on_new_message)

    async def _button_pressed(self, update: Update, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        query = update.callback_query
        try:
            await query.answer()  # stops the button's loading spinner
        except TelegramError as error:
            logger.warning("answering callback query failed: %s", error)
        payload = self.output.payload_for(query.data or "")
        if query.message is None or not payload:
            return
        await self._process(self._user_message(payload, str(query.message.chat.id), update), on_new_message)

    def _user_message(self, text: str, chat_id: str, update: Update) -> UserMessage:
        metadata = {"customer_id": _customer_id(update, chat_id), "telegram_update_id": update.update_id}
        return UserMessage(clean_text(text), CollectingOutputChannel(), chat_id, input_channel=self.name(),
                           metadata=metadata)


def _file_of(message: Any) -> tuple[str, str, int]:
    """(name, Telegram file id, size) of a message's document, or of its largest photo that we take."""
    if message.document is not None:
        document = message.document
        return document.file_name or "document", document.file_id, document.file_size or 0
    sizes = sorted(message.photo, key=lambda p: p.file_size or 0)  # Telegram sends several sizes of a photo
    fitting = [p for p in sizes if (p.file_size or 0) <= attachments.MAX_BYTES] or sizes[:1]
    return "photo.jpg", fitting[-1].file_id, fitting[-1].file_size or 0


def _customer_id(update: Update, chat_id: str) -> str:
    """The customer behind an update, as the records name them."""
    user = update.effective_user
    return f"telegram:{user.id}" if user else f"telegram-chat:{chat_id}"


class NotDelivered(RuntimeError):
    """Telegram did not take a message, after the retries that could help."""


class TelegramOutput(OutputChannel):
    """Sends the bot's (and agents') messages to a Telegram chat."""

    retries_on_its_own = True  # _deliver waits as Telegram asks; the outbox need not retry at once

    @classmethod
    def name(cls) -> str:
        return "telegram"

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self._initialized = False
        # Telegram allows 64 bytes of callback data; longer payloads travel as a short key.
        self._long_payloads = ReplicaMemory("telegram-payload")

    async def download(self, file_id: str) -> bytes:
        """A file a customer sent, from Telegram's file server (getFile, then the file's URL)."""
        await self._ready()
        found = await self.bot.get_file(file_id)
        return bytes(await found.download_as_bytearray())

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for part in split_text(text):
            await self._deliver(recipient_id, part, None)

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list[dict[str, Any]],
                                     **kwargs: Any) -> None:
        keyboard = InlineKeyboardMarkup(
            [[InlineKeyboardButton(str(b.get("title", "")), callback_data=self._callback_data(str(b["payload"])))]
             for b in buttons if b.get("payload")]
        )
        parts = split_text(text)
        for part in parts[:-1]:
            await self._deliver(recipient_id, part, None)
        await self._deliver(recipient_id, parts[-1], keyboard)

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        text = json_message.get("text")
        if text:
            await self.send_text_message(recipient_id, str(text))

    def payload_for(self, callback_data: str) -> str | None:
        """The payload a pressed button stands for (None: a key from before a restart, or data longer
        than Telegram allows, which no button of ours has)."""
        if not callback_data.startswith("#"):
            fits = len(callback_data.encode("utf-8", "surrogatepass")) <= MAX_CALLBACK_DATA_BYTES
            return callback_data if fits else None
        return self._long_payloads.get(callback_data)

    def _callback_data(self, payload: str) -> str:
        if len(payload.encode()) <= MAX_CALLBACK_DATA_BYTES and not payload.startswith("#"):
            return payload
        key = payload_key(payload)
        self._long_payloads.put(key, payload)
        return key

    async def _ready(self) -> None:
        if not self._initialized:
            await self.bot.initialize()  # getMe: who we are, once per process
            self._initialized = True

    async def _deliver(self, chat_id: str, text: str, keyboard: InlineKeyboardMarkup | None) -> None:
        """Send, retrying 429 (after the time Telegram asks) and 5xx/network errors (with back-off)."""
        delay, problem = 0.5, None
        for _attempt in range(SEND_ATTEMPTS):
            try:
                await self._ready()
                await self.bot.send_message(chat_id=chat_id, text=text, reply_markup=keyboard)
                return
            except RetryAfter as error:
                problem = error
                wait = error.retry_after.total_seconds() if hasattr(error.retry_after, "total_seconds") \
                    else float(error.retry_after)
                await asyncio.sleep(min(wait, MAX_RETRY_AFTER_SECONDS))
            except (BadRequest, Forbidden) as error:  # retrying cannot help (blocked, bad chat id)
                problem = error
                break
            except NetworkError as error:  # 5xx, timeouts, connection errors
                problem = error
                await asyncio.sleep(delay)
                delay *= 2
        raise NotDelivered(f"Telegram did not take a message to chat {chat_id}: {problem}")


def well_formed(update: Update) -> bool:
    """Whether a parsed update is one Telegram could send: python-telegram-bot also parses a
    message without its chat, text that is a number or an update_id that is not one, which the
    channel could not answer (found by tests/fuzz: they used to fail the update with a 500)."""
    if not isinstance(update.update_id, int) or isinstance(update.update_id, bool):
        return False
    messages = [update.message, update.edited_message]
    query = update.callback_query
    if query is not None:
        if not isinstance(query.data, (str, type(None))):
            return False
        messages.append(query.message)
    return all(m is None or (m.chat is not None and isinstance(getattr(m, "text", None), (str, type(None))))
               for m in messages)


def split_text(text: str, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Parts of at most `limit` characters, cut at a paragraph, line or word break when there is one."""
    parts, rest = [], text
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"), window.rfind(" "))
        cut = cut if cut > limit // 2 else limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    parts.append(rest)
    return parts
