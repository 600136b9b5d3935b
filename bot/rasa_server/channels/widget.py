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

Events: the widget emits `session_request {session_id}` and `user_uttered {message,
session_id}`; the server emits `session_confirm <id>`, `bot_uttered {text, buttons?, agent?}`
and `error_message {error}`.

credentials.yml:

    bot.rasa_server.channels.widget.WidgetInput:
      allowed_origins: "*"     # or a list of the shop's origins
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncRedisManager, AsyncServer

from bot.config import load_settings
from bot.rasa_server.channels import outbox, rate_limit
from bot.rasa_server.channels.rest import MAX_MESSAGE_CHARS, clean_text

logger = logging.getLogger(__name__)
SOCKETIO_PATH = "/socket.io"
MAX_SESSION_ID_CHARS = 64


class WidgetOutput(OutputChannel):
    """Emits the bot's and agents' messages to the browser tabs of one conversation."""

    @classmethod
    def name(cls) -> str:
        return "widget"

    def __init__(self, sio: AsyncServer) -> None:
        self.sio = sio

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """One `bot_uttered` per message: text, buttons, and the agent's name for agent messages."""
        text = message.get("text") or ""
        buttons = message.get("buttons") or message.get("quick_replies") or []
        if not text and not buttons:
            return
        out: dict[str, Any] = {"text": text}
        if buttons:
            out["buttons"] = [{"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
                              for b in buttons]
        if message.get("agent"):
            out["agent"] = str(message["agent"])
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
        return cls((credentials or {}).get("allowed_origins") or "*")

    def __init__(self, allowed_origins: str | list[str] = "*") -> None:
        self.allowed_origins = allowed_origins
        self.sio: AsyncServer | None = None
        self.limiter = rate_limit.for_settings(load_settings())

    def get_output_channel(self) -> OutputChannel | None:
        """Where pushed messages (agents, status updates) go for a widget conversation."""
        return WidgetOutput(self.sio) if self.sio is not None else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=self.allowed_origins,
                          client_manager=_client_manager())
        self.sio = sio
        webhook = SocketBlueprint(sio, SOCKETIO_PATH, "widget_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("session_request")
        async def session_request(sid: str, data: Any) -> None:
            """Continue the browser's conversation (or start one) and join its room."""
            session_id = data.get("session_id") if isinstance(data, dict) else None
            if not _valid_session_id(session_id):
                session_id = uuid.uuid4().hex
            await sio.enter_room(sid, session_id)
            await sio.save_session(sid, {"session_id": session_id})
            await sio.emit("session_confirm", session_id, room=sid)

        @sio.on("user_uttered")
        async def user_uttered(sid: str, data: Any) -> None:
            """Check the message, then hand it to Rasa as the session's conversation."""
            session_id = (await sio.get_session(sid) or {}).get("session_id")
            problem = _problem(data, session_id)
            if problem is None and self.limiter is not None:
                decision = self.limiter.check(session_id)
                problem = None if decision.allowed else rate_limit.slow_down(decision.retry_after)
            if problem:
                await sio.emit("error_message", {"error": problem}, room=sid)
                return
            output = WidgetOutput(sio)
            message = UserMessage(clean_text(data["message"]), output, session_id,
                                  input_channel=self.name(), metadata={"customer_id": f"widget:{session_id}"})
            try:
                await outbox.run_turn(message, output, on_new_message)  # replies sent once recorded
            except Exception as error:  # no reply the records do not back (bot/rasa_server/channels/outbox.py)
                if not isinstance(error, outbox.Unrecorded):
                    logger.exception("processing a widget message failed")
                await sio.emit("error_message", {"error": "Sorry, I couldn't process that just now. Please send "
                                                          "it again."}, room=sid)

        return webhook


def _valid_session_id(session_id: Any) -> bool:
    return isinstance(session_id, str) and 0 < len(session_id) <= MAX_SESSION_ID_CHARS and \
        all(ch.isalnum() or ch in "-_" for ch in session_id)


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
