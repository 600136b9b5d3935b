"""The web widget's channel: socket.io on the Rasa server, for `/widget.js` on any web page.

Built on Rasa's socketio channel, with what the widget needs that the stock one lacks:
- sessions that survive page reloads: the browser keeps its session id and asks for it again;
  the socket joins a room named after it, and replies (and agents' pushed messages) go to that
  room (Rasa 3.6 calls python-socketio 5's `enter_room` without awaiting it, so its own
  `session_persistence` never joins the room);
- input checks: a message that is not a non-empty string of at most 4000 characters is
  answered with an `error_message` event and not processed; so is a message over the
  per-session rate limit (BOT_RATE_LIMIT, bot/rasa_server/channels/rate_limit.py);
- several Rasa replicas (the production stack): emits go through Redis, so a message pushed
  on any replica reaches the browser connected to another;
- agent messages carry the agent's name, so the widget can show who is talking;
- replies are emitted once the turn is recorded; when it could not be, the customer gets an
  `error_message` asking to send it again instead of replies the records do not back.

- nothing lost either way (bot/rasa_server/channels/widget_history.py): a (re)connecting tab
  is given the conversation as recorded, and a message is acknowledged only once recorded; the
  widget keeps what was not acknowledged and sends it again with the same id, which is never
  run twice;
- every tab of the conversation sees the customer's message too (`customer_uttered`);
- photos and PDFs (`POST /webhooks/widget/attachments`, widget_attachments.py);
- before the first message: the shop's invitation, a greeting, the most asked topics and
  whether people are online (`GET /webhooks/widget/welcome`, widget_welcome.py).

Events: the widget emits `session_request {session_id}` (acknowledged with {session_id,
messages}: the recorded conversation), `user_uttered {message, session_id, id}` (acknowledged
with {status: recorded | refused | retry, error?}) and `typing {draft}` (what the customer is
typing, for the agent: live_typing.py) and `page_view {url, title, referrer, device}` (the
customer's path, for the agent: bot/domain/visitors.py); the server emits `session_confirm <id>`,
`customer_uttered {text, id, at}`, `bot_uttered {text, buttons?, agent?, notice?, at}`,
`agent_typing {agent}` and `error_message {error}` (the reason of a refused message, for
clients without acknowledgements).

credentials.yml:

    bot.rasa_server.channels.widget.WidgetInput:
      allowed_origins: "*"     # or a list of the shop's origins
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncRedisManager, AsyncServer

from bot.config import load_settings
from bot.domain import visitors
from bot.domain.identity.channel_ids import widget_customer
from bot.rasa_server.channels import live_typing, outbox, rate_limit, widget_attachments, widget_history
from bot.rasa_server.channels.rest import MAX_MESSAGE_CHARS, clean_text
from bot.rasa_server.channels.widget_welcome import Welcome, WelcomeConfig

logger = logging.getLogger(__name__)
SOCKETIO_PATH = "/socket.io"
MAX_SESSION_ID_CHARS = 64
NOT_RECORDED = "Your message hasn't reached us yet: it will be sent again in a moment."


class WidgetOutput(OutputChannel):
    """Emits the bot's and agents' messages to the browser tabs of one conversation."""

    @classmethod
    def name(cls) -> str:
        return "widget"

    def __init__(self, sio: AsyncServer, said: dict[str, Any] | None = None) -> None:
        self.sio = sio
        self.said = said  # the customer's message of this turn, shown in every tab before its replies

    async def show_customer_message(self, recipient_id: str) -> None:
        """`customer_uttered` to the conversation's tabs, once (the sending tab marks it sent)."""
        said, self.said = self.said, None
        if said is not None:
            await self.sio.emit("customer_uttered", said, room=recipient_id)

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """One `bot_uttered` per message: text, buttons, and the agent's name for agent messages."""
        await self.show_customer_message(recipient_id)
        text = message.get("text") or ""
        buttons = message.get("buttons") or message.get("quick_replies") or []
        if not text and not buttons:
            return
        out: dict[str, Any] = {"text": text, "at": time.time()}
        if buttons:
            out["buttons"] = [{"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
                              for b in buttons]
        if message.get("agent"):
            out["agent"] = str(message["agent"])
        if message.get("notice"):
            out["notice"] = str(message["notice"])  # e.g. "joined": shown apart from the conversation
        await self.sio.emit("bot_uttered", out, room=recipient_id)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})


def _client_manager() -> AsyncRedisManager | None:
    """With several Rasa replicas (BOT_REDIS_URL set), emits go through Redis: a reply or an
    agent's message handled by one replica reaches the browser connected to another."""
    settings = load_settings()
    if not settings.redis_url:
        return None
    return AsyncRedisManager(settings.redis_url, channel=f"{settings.events_queue}-widget")


class WidgetInput(InputChannel):
    """socket.io endpoint at /socket.io for the web widget."""

    @classmethod
    def name(cls) -> str:
        return "widget"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WidgetInput:
        credentials = credentials or {}
        welcome = WelcomeConfig.from_credentials(credentials.get("welcome"))
        return cls(credentials.get("allowed_origins") or "*", welcome)

    def __init__(self, allowed_origins: str | list[str] = "*", welcome: WelcomeConfig | None = None) -> None:
        self.allowed_origins = allowed_origins
        self.welcome = Welcome(welcome or WelcomeConfig(), load_settings())
        self.sio: AsyncServer | None = None
        self.limiter = rate_limit.for_settings(load_settings())
        self.in_flight: set[str] = set()  # message ids being handled here: a resend waits for the records

    def get_output_channel(self) -> OutputChannel | None:
        """Where pushed messages (agents, status updates) go for a widget conversation."""
        return WidgetOutput(self.sio) if self.sio is not None else None

    def _cors(self, origin: str | None) -> dict[str, str]:
        """The shop's pages (another origin than the Rasa server) may read the welcome."""
        if self.allowed_origins == "*":
            return {"Access-Control-Allow-Origin": "*"}
        if origin and origin in self.allowed_origins:
            return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
        return {}

    async def _join(self, sid: str, session_id: str) -> str:
        """Attach the socket to the conversation: its room, and its session for later events."""
        assert self.sio is not None
        await self.sio.enter_room(sid, session_id)
        await self.sio.save_session(sid, {"session_id": session_id})
        return session_id

    @asynccontextmanager
    async def _first_time(self, session_id: str, message_id: str) -> AsyncIterator[bool]:
        """False for a resent message or file (the widget lost its connection before the answer):
        being handled here, or already recorded; acknowledged, not run again. True otherwise, and
        the id counts as being handled here until the block ends. The id is taken before the
        database is asked, so two resends arriving together cannot both pass."""
        if message_id in self.in_flight:
            yield False
            return
        self.in_flight.add(message_id)
        try:
            recorded = await asyncio.to_thread(widget_history.already_recorded, load_settings().database_url,
                                               session_id, message_id)
            yield not recorded
        finally:
            self.in_flight.discard(message_id)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=self.allowed_origins,
                          client_manager=_client_manager())
        self.sio = sio
        live_typing.attach(sio)
        webhook = SocketBlueprint(sio, SOCKETIO_PATH, "widget_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/welcome", methods=["GET"])
        async def welcome(request: Request) -> HTTPResponse:
            """The greeting, topics, availability and invitation (bot/rasa_server/channels/widget_welcome.py)."""
            language, returning = request.args.get("language", "en"), request.args.get("returning") == "1"
            body = await asyncio.to_thread(self.welcome.for_language, language, returning)
            return response.json(body, headers=self._cors(request.headers.get("origin")))

        @webhook.route("/attachments", methods=["POST"])
        async def attachment(request: Request) -> HTTPResponse:
            """A photo or PDF from the customer (widget_attachments.py)."""
            headers = self._cors(request.headers.get("origin"))
            session_id = request.form.get("session_id") if request.form else None
            if not _valid_id(session_id):
                return response.json({"error": "Open the chat first, then send the file."}, status=400,
                                     headers=headers)
            if self.limiter is not None and not (decision := self.limiter.check(session_id)).allowed:
                return response.json({"error": rate_limit.slow_down(decision.retry_after)}, status=429,
                                     headers=headers)
            file_id = request.form.get("id")  # the widget's own id: sent again after a lost answer
            message_id = file_id if _valid_id(file_id) else uuid.uuid4().hex
            async with self._first_time(session_id, message_id) as new:
                if not new:
                    return response.json({"status": "duplicate"}, headers=headers)
                return await widget_attachments.receive(request, sio, session_id, message_id, headers)

        @sio.on("session_request")
        async def session_request(sid: str, data: Any) -> dict[str, Any]:
            """Continue the browser's conversation (or start one), join its room, and answer with
            the conversation as recorded."""
            session_id = data.get("session_id") if isinstance(data, dict) else None
            session_id = await self._join(sid, session_id if _valid_id(session_id) else uuid.uuid4().hex)
            await sio.emit("session_confirm", session_id, room=sid)
            messages = await asyncio.to_thread(widget_history.conversation, load_settings().database_url, session_id)
            return {"session_id": session_id, "messages": messages}

        @sio.on("typing")
        async def typing(sid: str, data: Any) -> None:
            """The customer's draft, for the agent's preview (bot/rasa_server/channels/live_typing.py)."""
            session_id = (await sio.get_session(sid) or {}).get("session_id")
            draft = data.get("draft") if isinstance(data, dict) else None
            if session_id is not None and isinstance(draft, str):
                await asyncio.to_thread(live_typing.drafts().put, session_id, clean_text(draft))

        @sio.on("page_view")
        async def page_view(sid: str, data: Any) -> dict[str, Any]:
            """A page of the shop the customer opened, for the agent (bot/domain/visitors.py)."""
            session_id = (await sio.get_session(sid) or {}).get("session_id")
            fields = [data.get(k) if isinstance(data, dict) else None for k in ("url", "title", "referrer", "device")]
            if session_id is None or not all(isinstance(f, str) for f in fields):
                return {"status": "refused", "error": "a page view is {url, title, referrer, device}, in a session"}
            try:
                await asyncio.to_thread(visitors.record_view, load_settings().database_url, session_id, *fields)
            except visitors.BadPageView as error:
                return {"status": "refused", "error": str(error)}
            return {"status": "recorded"}

        @sio.on("user_uttered")
        async def user_uttered(sid: str, data: Any) -> dict[str, Any]:
            """Check the message, then hand it to Rasa as the session's conversation, once."""
            session_id = (await sio.get_session(sid) or {}).get("session_id")
            if session_id is None and isinstance(data, dict) and _valid_id(data.get("session_id")):
                session_id = await self._join(sid, data["session_id"])  # sent before session_request
            problem = _problem(data, session_id)
            if problem is None and self.limiter is not None:
                decision = self.limiter.check(session_id)
                problem = None if decision.allowed else rate_limit.slow_down(decision.retry_after)
            if problem:
                await sio.emit("error_message", {"error": problem}, room=sid)
                return {"status": "refused", "error": problem}
            message_id = data.get("id") if _valid_id(data.get("id")) else uuid.uuid4().hex
            async with self._first_time(session_id, message_id) as new:
                if not new:
                    return {"status": "recorded", "duplicate": True}
                text = clean_text(data["message"])
                await asyncio.to_thread(live_typing.drafts().put, session_id, "")  # sent: no longer a draft
                output = WidgetOutput(sio, said={"text": text, "id": message_id, "at": time.time()})
                message = UserMessage(text, output, session_id, input_channel=self.name(), message_id=message_id,
                                      metadata={"customer_id": widget_customer(session_id)})
                try:
                    await outbox.run_turn(message, output, on_new_message)  # replies sent once recorded
                except Exception as error:  # no reply the records do not back (bot/rasa_server/channels/outbox.py)
                    if not isinstance(error, outbox.Unrecorded):
                        logger.exception("processing a widget message failed")
                    return {"status": "retry", "error": NOT_RECORDED}
            await output.show_customer_message(session_id)  # a turn with no reply (an agent has it)
            return {"status": "recorded"}

        return webhook


def _valid_id(value: Any) -> bool:
    """A session or message id the widget made: letters, digits, '-' and '_', at most 64."""
    return isinstance(value, str) and 0 < len(value) <= MAX_SESSION_ID_CHARS and \
        all(ch.isalnum() or ch in "-_" for ch in value)


def _problem(data: Any, session_id: str | None) -> str | None:
    """Why a user_uttered event cannot be processed, or None."""
    if session_id is None:
        return "no session: send session_request first"
    if not isinstance(data, dict) or not isinstance(data.get("message"), str):
        return "a message must be {\"message\": \"...\"}"
    text = clean_text(data["message"])
    if not text.strip():
        return "the message is empty: please type a question"
    if len(text) > MAX_MESSAGE_CHARS:
        return f"the message is too long ({len(text)} characters, at most {MAX_MESSAGE_CHARS}): please shorten it"
    return None
