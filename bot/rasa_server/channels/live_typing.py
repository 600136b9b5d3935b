"""Who is typing, both ways, between the web widget and the agent's console. Never recorded.

- The customer's draft: the widget sends what is in its text box as they type (`typing`
  events, debounced); the agent's console shows it beside the chat ("visitor message preview")
  so the answer can be on its way before the question is sent. A draft lives 30 seconds and is
  gone once the message is sent; it is not a record, and it is not in any log.
- The agent typing: the console says so every few seconds while the agent types; the widget
  shows "<name> is typing…".

Two routes on Rasa's HTTP API, behind its token (only this project's processes hold it,
bot/rasa_api.py), installed like bot/rasa_server/faq_api.py (by bot/rasa_server/__main__.py):

- `POST /live/draft` {"conversation_id"} → {"draft": "..."}
- `POST /live/agent-typing` {"conversation_id", "agent"} → {"ok": true}

With several Rasa replicas (BOT_REDIS_URL), drafts are kept in Redis, so any replica can
answer the console, and the widget's emits go through Redis to whichever replica holds the
customer's socket (bot/rasa_server/channels/widget.py).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from rasa.server import requires_auth
from sanic import Blueprint, Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, json

from bot.config import load_settings
from bot.rasa_server import extra_routes

DRAFT_SECONDS = 30
MAX_DRAFT_CHARS = 500
_server: Any = None  # the widget channel's socket.io server, once Rasa has built it


def attach(sio: Any) -> None:
    """The widget channel's socket.io server: where an agent's typing is emitted."""
    global _server
    _server = sio


class Drafts:
    """The customers' drafts: in this process, or in Redis when the replicas share one."""

    def __init__(self, redis_url: str, prefix: str) -> None:
        self._local: dict[str, tuple[str, float]] = {}
        self._prefix = f"{prefix}:draft:"
        self._redis = None
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url)

    def put(self, conversation_id: str, text: str) -> None:
        text = text[:MAX_DRAFT_CHARS]
        if self._redis is not None:
            if text:
                self._redis.set(self._prefix + conversation_id, text.encode(), ex=DRAFT_SECONDS)
            else:
                self._redis.delete(self._prefix + conversation_id)
            return
        self._forget_old()
        if text:
            self._local[conversation_id] = (text, time.monotonic())
        else:
            self._local.pop(conversation_id, None)

    def get(self, conversation_id: str) -> str:
        if self._redis is not None:
            value = self._redis.get(self._prefix + conversation_id)
            return value.decode() if value else ""
        text, at = self._local.get(conversation_id, ("", 0.0))
        return text if time.monotonic() - at < DRAFT_SECONDS else ""

    def _forget_old(self) -> None:
        cutoff = time.monotonic() - DRAFT_SECONDS
        for key in [k for k, (_, at) in self._local.items() if at < cutoff]:
            self._local.pop(key, None)


_drafts: Drafts | None = None


def drafts() -> Drafts:
    global _drafts
    if _drafts is None:
        settings = load_settings()
        _drafts = Drafts(settings.redis_url, settings.events_queue)
    return _drafts


def install() -> None:
    """Add the routes to the Rasa server's app (called before Rasa starts)."""
    extra_routes.add("typing", _routes)


def _routes(app: Sanic, auth_token: str | None) -> Blueprint:
    routes = Blueprint("typing_api")

    @routes.post("/live/draft")
    @requires_auth(app, auth_token)
    async def draft(request: Request) -> HTTPResponse:
        conversation_id = _conversation(request)
        if conversation_id is None:
            return json({"error": 'expected {"conversation_id": "..."}'}, status=400)
        return json({"draft": await asyncio.to_thread(drafts().get, conversation_id)})

    @routes.post("/live/agent-typing")
    @requires_auth(app, auth_token)
    async def agent_typing(request: Request) -> HTTPResponse:
        conversation_id, body = _conversation(request), request.json
        agent = body.get("agent") if isinstance(body, dict) else None
        if conversation_id is None or not isinstance(agent, str) or not agent.strip():
            return json({"error": 'expected {"conversation_id": "...", "agent": "..."}'}, status=400)
        if _server is not None:
            await _server.emit("agent_typing", {"agent": agent[:64]}, room=conversation_id)
        return json({"ok": True})

    return routes


def _conversation(request: Request) -> str | None:
    body = request.json
    conversation_id = body.get("conversation_id") if isinstance(body, dict) else None
    return conversation_id if isinstance(conversation_id, str) and 0 < len(conversation_id) <= 255 else None
