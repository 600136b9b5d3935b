"""The Rasa server's FAQ search, offered to the console: one copy of the encoders on the machine.

Why: the console's search box and its grouping of unanswered questions need the same encoders
the Rasa server already holds for every customer message (bot/domain/knowledge.py). Loading a
second copy cost the console about 1 GB. These two routes sit on Rasa's HTTP API, behind its
token like the rest of it (only this project's processes hold the token, bot/rasa_api.py):

- `POST /faq/search` {"text", "k"}: the candidates, best first, as the customer's search sees them;
- `POST /faq/encode` {"texts"}: the vectors of a few texts, in the index's space, and its version.

Both cut what they are given as the console does (500 characters, 16 texts a call), so a caller
cannot make the Rasa server encode more than a customer's message at a time.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rasa.server import requires_auth
from sanic import Blueprint, Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, json

from bot.domain import knowledge
from bot.rasa_server import extra_routes

MAX_TEXT_CHARS = 500
MAX_TEXTS = 16
MAX_K = 20


def install() -> None:
    """Add the routes to the Rasa server's app (called before Rasa starts)."""
    extra_routes.add("faq", _routes)


def _routes(app: Sanic, auth_token: str | None) -> Blueprint:
    routes = Blueprint("faq_api")

    @routes.post("/faq/search")
    @requires_auth(app, auth_token)
    async def search(request: Request) -> HTTPResponse:
        body = request.json if isinstance(request.json, dict) else {}
        text, k = body.get("text"), body.get("k", 5)
        if not isinstance(text, str) or not text.strip() or not isinstance(k, int) or not 1 <= k <= MAX_K:
            return json({"error": f'expected {{"text": non-empty string, "k": 1..{MAX_K}}}'}, status=400)
        result = await asyncio.to_thread(knowledge.search, text[:MAX_TEXT_CHARS], k)
        return json({"decision": result.decision, "version": result.version,
                     "candidates": [candidate.__dict__ for candidate in result.candidates]})

    @routes.post("/faq/encode")
    @requires_auth(app, auth_token)
    async def encode(request: Request) -> HTTPResponse:
        body = request.json if isinstance(request.json, dict) else {}
        texts = body.get("texts")
        if not isinstance(texts, list) or not 1 <= len(texts) <= MAX_TEXTS or \
                not all(isinstance(t, str) for t in texts):
            return json({"error": f'expected {{"texts": 1..{MAX_TEXTS} strings}}'}, status=400)
        return json(await asyncio.to_thread(_encode, [t[:MAX_TEXT_CHARS] for t in texts]))

    return routes


def _encode(texts: list[str]) -> dict[str, Any]:
    snapshot = knowledge.faq_index().snapshot  # one version for the vectors and the name given
    return {"vectors": [[round(float(x), 6) for x in row] for row in snapshot.encoder.encode(texts)],
            "version": snapshot.version}
