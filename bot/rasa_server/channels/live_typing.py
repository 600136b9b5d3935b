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
from typing import Any

from rasa.server import requires_auth
from sanic import Blueprint, Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, json

from bot.config import load_settings
from bot.rasa_server import extra_routes
from bot.rasa_server.channels.replica_memory import ReplicaMemory

DRAFT_SECONDS = 30
MAX_DRAFT_CHARS = 500
_server: Any = None  # the widget channel's socket.io server, once Rasa has built it


def attach(sio: Any) -> None:
    """The widget channel's socket.io server: where an agent's typing is emitted."""
    global _server
    _server = sio


class Drafts:
    """The customers' drafts, kept DRAFT_SECONDS for whichever replica the console asks
    (channels/replica_memory.py: in Redis when the replicas share one)."""

    def __init__(self, namespace: str) -> None:
        self._kept = ReplicaMemory("draft", DRAFT_SECONDS, namespace)

    def put(self, conversation_id: str, text: str) -> None:
        """The customer's draft now; "" once sent or cleared."""
        if text:
            self._kept.put(conversation_id, text[:MAX_DRAFT_CHARS])
        else:
            self._kept.forget(conversation_id)

    def get(self, conversation_id: str) -> str:
        return self._kept.get(conversation_id) or ""


_drafts: Drafts | None = None


def drafts() -> Drafts:
    global _drafts
    if _drafts is None:
        settings = load_settings()
        _drafts = Drafts(settings.events_queue)
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
