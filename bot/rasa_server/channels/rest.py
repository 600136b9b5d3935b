"""The customer REST channel: `POST /webhooks/rest/webhook` with {"sender", "message"}.

Rasa's stock REST channel answers bad input with a 500 or an empty 200. This one checks the
request first and answers every problem with a 4xx and a JSON `error` message; a sender over
the rate limit (BOT_RATE_LIMIT, bot/rasa_server/channels/rate_limit.py) gets 429 with `Retry-After` and
nothing is processed or recorded; ids that could not be stored are refused; accepted messages
are cleaned of control characters and unpaired surrogates (PostgreSQL cannot store NUL, no
database an unpaired surrogate) and go to Rasa; the replies are returned once the turn is
recorded (bot/rasa_server/channels/outbox.py), and a turn that could not be recorded answers 503.

    curl -s localhost:5005/webhooks/rest/webhook -d '{"sender": "c1", "message": "hi"}'
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.config import load_settings
from bot.rasa_server.channels import outbox, rate_limit

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 4000
MAX_SENDER_CHARS = 200
UNSTORABLE = ("Cc", "Cs")  # control characters (NUL among them) and unpaired surrogates


class InvalidRequest(ValueError):
    """A request the channel refuses; the message is shown to the caller."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class CustomerRestInput(RestInput):
    """REST channel with input validation; same URL and reply format as Rasa's."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint(f"customer_{self.name()}_webhook", __name__)
        limiter = rate_limit.for_settings(load_settings())

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            """Validate, hand the message to Rasa, return the bot's replies."""
            try:
                sender, text, metadata = parse_request(request)
            except InvalidRequest as problem:
                return response.json({"error": str(problem)}, status=problem.status)
            if limiter is not None:
                decision = limiter.check(sender)
                if not decision.allowed:
                    return response.json({"error": rate_limit.slow_down(decision.retry_after)}, status=429,
                                         headers={"Retry-After": str(decision.retry_after)})
            channel = self.reply_channel()
            message = UserMessage(text, channel, sender, input_channel=self.name(), metadata=metadata)
            try:
                await outbox.run_turn(message, channel, on_new_message)
            except Exception as error:  # no reply the records do not back (bot/rasa_server/channels/outbox.py)
                if not isinstance(error, outbox.Unrecorded):
                    logger.exception("processing a %s message failed", self.name())
                return response.json(
                    {"error": "the assistant could not process this message; please try again"},
                    status=503,
                )
            return self.answer(channel)

        return webhook

    def reply_channel(self) -> OutputChannel:
        """Where the turn's replies go once recorded: collected, to be the HTTP answer."""
        return CollectingOutputChannel()

    def answer(self, channel: OutputChannel) -> HTTPResponse:
        """The HTTP answer once the replies were delivered on `channel`."""
        assert isinstance(channel, CollectingOutputChannel)
        return response.json(channel.messages)


def parse_request(request: Request) -> tuple[str, str, dict[str, Any] | None]:
    """The (sender, cleaned text, metadata) of a request, or InvalidRequest saying why not."""
    try:
        body = request.json
    except Exception as error:
        raise InvalidRequest("the body must be JSON: {\"sender\": \"...\", \"message\": \"...\"}") from error
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object with 'sender' and 'message'")
    sender = body.get("sender")
    if not isinstance(sender, str) or not sender.strip():
        raise InvalidRequest("'sender' is required and must be a non-empty string")
    check_identifier("sender", sender)
    text = body.get("message")
    if not isinstance(text, str):
        raise InvalidRequest("'message' is required and must be a string")
    text = clean_text(text)
    if not text.strip():
        raise InvalidRequest("'message' is empty: please type a question")
    if len(text) > MAX_MESSAGE_CHARS:
        raise InvalidRequest(
            f"'message' is too long ({len(text)} characters, at most {MAX_MESSAGE_CHARS}): "
            "please shorten it",
            status=413,
        )
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise InvalidRequest("'metadata' must be a JSON object when given")
    if metadata and metadata.get("customer_id") is not None:  # becomes the records' customer_id
        customer = metadata["customer_id"]
        if not isinstance(customer, str) or not customer.strip():
            raise InvalidRequest("'metadata.customer_id' must be a non-empty string when given")
        check_identifier("metadata.customer_id", customer)
    return sender.strip(), text, metadata


def check_identifier(name: str, value: str) -> None:
    """Ids are stored as they are (255 characters at most in the database, no NUL in PostgreSQL,
    valid UTF-8): refuse what could not be stored rather than fail after processing."""
    if len(value) > MAX_SENDER_CHARS:
        raise InvalidRequest(f"'{name}' must be at most {MAX_SENDER_CHARS} characters")
    if any(unicodedata.category(ch) in UNSTORABLE for ch in value):
        raise InvalidRequest(f"'{name}' must not contain control characters or unpaired surrogates")


def clean_text(text: str) -> str:
    """NFC-normalise and drop control characters other than newline and tab, and unpaired
    surrogates (a JSON "\\ud800" decodes to one; no database can store it as UTF-8)."""
    text = unicodedata.normalize("NFC", text)
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in UNSTORABLE)
