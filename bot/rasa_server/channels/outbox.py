"""One outbound path: a message leaves the bot only once it is recorded.

Every way a message reaches a customer goes through here: a customer's turn on any channel
(`run_turn`: REST, callback, Telegram, the widget), a push through Rasa's HTTP API (`install`),
and a channel's own notice about something that never becomes a turn (`send_notice`). The
outbox holds the messages Rasa would send; the tracker store tells it whether the conversation
was committed (`saved`); only then are the messages delivered on the customer's channel, in
order; a delivery that fails after the commit is tried again twice, then kept in
`undelivered_messages` (the Telegram channel retries on its own first), from where
bot/rasa_server/channels/redelivery.py tries it again later. A turn that could not
be recorded sends nothing: the channel answers so (503, or a failed Telegram update that
Telegram delivers again). The signal is per outbox, i.e. per request, not per sender.

Why the API pushes needed it:

Rasa 3.6 sends the messages of `POST /conversations/<id>/tracker/events` (an agent's message)
and of `trigger_intent` (the rating question after a hand-back, a complaint update) to the
customer's channel *while* it handles the request, and saves the conversation afterwards; when
that save fails, its fail-safe tracker store logs the error and the API still answers 200. The
customer could get a message the records never had, and the console said "sent".

Here each API push request gets an `Outbox` (a context variable, set by a request middleware). The
output channel Rasa picks for the request (`_get_output_channel`, patched by `install`) is
wrapped so that it only puts messages into the outbox; the tracker store marks the outbox
recorded when its save commits (or unrecorded when it fails); a response middleware then
delivers the messages on the customer's channel, in order, and says what happened in the
`X-Delivery` header, which bot/rasa_api.py reads:

- `delivered`: recorded, then sent on the customer's channel;
- `undelivered`: recorded, but the channel failed (kept in `undelivered_messages`);
- `no-channel`: recorded, but the customer's channel cannot receive pushes (REST: the client
  asks, Rasa answers; nothing reaches it later);
- a failed save answers 503 instead and sends nothing: the caller may try again.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel, UserMessage
from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, json

from bot.config import load_settings
from bot.domain.privacy.redaction import parse_kinds, redactor
from bot.domain.storage.records import record_exchange
from bot.rasa_api import DELIVERY_HEADER
from bot.rasa_server import extra_routes
from bot.rasa_server.channels import redelivery
from bot.rasa_server.channels.delivery import record_undelivered

logger = logging.getLogger(__name__)
DELIVERY_ATTEMPTS = 3  # a refused delivery is tried again after 0.5 s and 1 s, then kept
RETRY_DELAY_SECONDS = 0.5
# The API routes whose messages go through the outbox.
PUSH_ROUTES = ("/tracker/events", "/trigger_intent")


@dataclass
class Outbox:
    """What one customer turn or API push would send, and whether the conversation was saved."""

    channel: OutputChannel | None = None  # the customer's channel; None or collecting: no pushes
    api: bool = False  # opened for an API push (delivered by the response middleware)
    messages: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    recorded: bool | None = None  # None: nothing saved (yet)

    def saved(self, ok: bool) -> None:
        """The tracker store's word: the conversation (with these messages) was committed, or not."""
        self.recorded = ok if self.recorded is not False else False  # one failed save spoils the request

    async def deliver(self) -> str:
        """Send the messages on the customer's channel; the X-Delivery value."""
        if self.channel is None or (self.api and type(self.channel) is CollectingOutputChannel):
            # Rasa's stand-in when the customer's channel has no output of its own (REST): an
            # API push would be collected into the HTTP answer of a request nobody waits for.
            return "no-channel"
        state = "delivered"
        for recipient, message in self.messages:
            if not await self._send(recipient, message):
                state = "undelivered"
        return state

    async def _send(self, recipient: str, message: dict[str, Any]) -> bool:
        """Send one message, trying again after 0.5 s and 1 s (once only for a channel that
        retries on its own, Telegram); keep it in `undelivered_messages`, to be tried again
        later (bot/rasa_server/channels/redelivery.py), if it still fails."""
        assert self.channel is not None
        attempts = 1 if getattr(self.channel, "retries_on_its_own", False) else DELIVERY_ATTEMPTS
        for attempt in range(attempts):
            try:
                await self.channel.send_response(recipient, copy.deepcopy(message))  # Rasa pops its keys
                return True
            except Exception as error:
                problem = error
                await asyncio.sleep(RETRY_DELAY_SECONDS * 2**attempt if attempt + 1 < attempts else 0)
        logger.warning("a recorded message to %s could not be delivered on %s: %r", recipient, self.channel.name(),
                       problem)
        await record_undelivered(self.channel.name(), recipient, message, repr(problem))
        return False


_current: ContextVar[Outbox | None] = ContextVar("outbox", default=None)


@contextmanager
def opened(channel: OutputChannel | None = None) -> Iterator[Outbox]:
    """An outbox for the work done inside the block (the tracker store reports its saves to it)."""
    box = Outbox(channel)
    token = _current.set(box)
    try:
        yield box
    finally:
        _current.reset(token)


def current() -> Outbox | None:
    """The outbox of the turn or API push being handled, if any (the tracker store reports to it)."""
    return _current.get()


class DeferredOutput(OutputChannel):
    """Stands in for the customer's channel during an API request: keeps messages in the outbox."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    def name(self) -> str:  # type: ignore[override] - the real channel's name, as Rasa would see it
        return self.outbox.channel.name() if self.outbox.channel is not None else "collector"

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.outbox.messages.append((recipient_id, message))


class Unrecorded(RuntimeError):
    """The turn could not be recorded, so none of its replies were sent."""


async def run_turn(message: UserMessage, channel: OutputChannel,
                   on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Outbox:
    """Let Rasa handle a customer's message with its replies held back; deliver them on
    `channel` once the turn is recorded, else raise Unrecorded (nothing was sent)."""
    with opened(channel) as box:
        message.output_channel = DeferredOutput(box)
        await on_new_message(message)
    if box.recorded is False or (box.messages and not box.recorded):
        raise Unrecorded(f"the turn of {message.sender_id!r} could not be recorded")
    await box.deliver()
    return box


def said(collector: CollectingOutputChannel) -> list[dict[str, Any]]:
    """What a turn run with a collecting channel says: its messages with text or buttons (the
    channels that answer in their own form, WeChat's passive reply and email, read it)."""
    return [m for m in collector.messages if m.get("text") or m.get("buttons")]


async def send_notice(channel: OutputChannel, recipient: str, customer_id: str, said: str | None, notice: str,
                      kind: str) -> None:
    """A channel's own answer to something that never becomes a Rasa turn (a photo, an edited
    message, a message over a limit): both sides are recorded (action `notice:<kind>`, text
    redacted as every record's), then the notice is sent as any message is. Recording raises:
    nothing is sent."""
    settings = load_settings()
    redact = redactor(parse_kinds(settings.redact))
    await asyncio.to_thread(record_exchange, settings.database_url, recipient, customer_id, channel.name(),
                            redact(said), notice, f"notice:{kind}")
    await Outbox(channel, messages=[(recipient, {"text": notice})], recorded=True).deliver()


def install() -> None:
    """Route every API push through an outbox, and run the later tries of undelivered messages
    (called by bot/rasa_server/__main__.py before Rasa starts)."""
    import rasa.server

    original_output_channel = rasa.server._get_output_channel
    if getattr(original_output_channel, "deferred", False):
        return

    def deferred_output_channel(request: Request, tracker: Any) -> OutputChannel:
        outbox = _current.get()
        real = original_output_channel(request, tracker)
        if outbox is None:
            return real
        outbox.channel = real
        return DeferredOutput(outbox)

    deferred_output_channel.deferred = True  # type: ignore[attr-defined]
    rasa.server._get_output_channel = deferred_output_channel

    extra_routes.configure("outbox", _deliver_through_outboxes)


def _deliver_through_outboxes(app: Sanic, _auth_token: str | None) -> None:
    app.register_middleware(_open_outbox, "request")
    app.register_middleware(_deliver_after_save, "response")
    app.register_listener(redelivery.start, "after_server_start")
    app.register_listener(redelivery.stop, "before_server_stop")


async def _open_outbox(request: Request) -> None:
    if request.method == "POST" and request.path.endswith(PUSH_ROUTES):
        _current.set(Outbox(api=True))


async def _deliver_after_save(request: Request, response: HTTPResponse) -> HTTPResponse | None:
    outbox = _current.get()
    if outbox is None or not outbox.api or response.status != 200:
        return None
    _current.set(None)
    if outbox.recorded is False:  # nothing the records do not have leaves
        return json({"error": "the conversation could not be recorded, so nothing was sent; try again"},
                    status=503, headers={DELIVERY_HEADER: "unrecorded"})
    state = await outbox.deliver() if outbox.messages else "nothing"
    response.headers[DELIVERY_HEADER] = state
    return None
