"""Talking to the running Rasa server's HTTP API: push a message into a conversation, and
search the FAQ with the Rasa server's encoders (bot/rasa_server/faq_api.py: no second copy).

The API is enabled with a token (`rasa run --enable-api --auth-token ...`), so only this
project's processes can use it. The token comes from BOT_RASA_TOKEN, or else is generated
once into `<run_dir>/rasa-token` (readable by the owner only) and shared through that file:
there is no secret in the repository.

Pushes use `trigger_intent` with `output_channel=latest`: Rasa runs the action for the
intent, the tracker store records its messages like any other bot message, and then they go
to the channel the customer last wrote on (callback, Telegram, the widget; see
bot/rasa_server/channels/outbox.py); the answer's X-Delivery header says whether they got there.
"""

from __future__ import annotations

import os
import secrets
from typing import Any
from urllib.parse import quote

import requests

from bot.config import Settings

# How a push went, in the Rasa server's answer (bot/rasa_server/channels/outbox.py): delivered, undelivered
# (recorded, the channel failed: kept), no-channel (recorded; a REST customer cannot receive it).
DELIVERY_HEADER = "X-Delivery"


class RasaUnavailable(RuntimeError):
    """The Rasa server could not be reached or refused the request."""


def api_token(settings: Settings) -> str:
    """The token for Rasa's HTTP API (from the environment, else from the run directory)."""
    if settings.rasa_token:
        return settings.rasa_token
    path = settings.run_dir / "rasa-token"
    if not path.exists():
        settings.run_dir.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_hex(32))  # hex: never starts with "-" (an option to argparse)
    return path.read_text().strip()


def append_events(settings: Settings, conversation_id: str, events: list[dict[str, Any]],
                  timeout: float = 30) -> str:
    """Append events to the conversation; bot messages among them are recorded, then sent to the
    customer's latest channel (`execute_side_effects`). Returns how that went (DELIVERY_HEADER);
    raises RasaUnavailable when they could not be recorded (then nothing was sent)."""
    reply = _post(settings, f"/conversations/{quote(conversation_id, safe='')}/tracker/events", events,
                  {"output_channel": "latest", "execute_side_effects": "true"}, timeout)
    return reply.headers.get(DELIVERY_HEADER, "nothing")


def trigger_intent(settings: Settings, conversation_id: str, intent: str, entities: dict[str, Any],
                   timeout: float = 30) -> str:
    """Make Rasa handle `intent` in the conversation as if it had arrived; its messages are
    recorded, then delivered. Returns how that went, as `append_events`."""
    reply = _post(settings, f"/conversations/{quote(conversation_id, safe='')}/trigger_intent",
                  {"name": intent, "entities": entities}, {"output_channel": "latest"}, timeout)
    return reply.headers.get(DELIVERY_HEADER, "nothing")


def customer_draft(settings: Settings, conversation_id: str, timeout: float = 5) -> str:
    """What a widget customer is typing right now ("" if nothing; bot/rasa_server/channels/live_typing.py)."""
    return _post(settings, "/live/draft", {"conversation_id": conversation_id}, {}, timeout).json()["draft"]


def agent_typing(settings: Settings, conversation_id: str, agent: str, timeout: float = 5) -> None:
    """Show the widget customer that `agent` is typing."""
    _post(settings, "/live/agent-typing", {"conversation_id": conversation_id, "agent": agent}, {}, timeout)


def faq_search(settings: Settings, text: str, k: int = 5, timeout: float = 30) -> dict[str, Any]:
    """The running bot's FAQ search: {"decision", "version", "candidates": [{id, question, answer, score, ...}]}."""
    return _post(settings, "/faq/search", {"text": text, "k": k}, {}, timeout).json()


def faq_encode(settings: Settings, texts: list[str], timeout: float = 60) -> dict[str, Any]:
    """The running bot's vectors of (at most 16) texts in the FAQ index's space: {"vectors", "version"}."""
    return _post(settings, "/faq/encode", {"texts": texts}, {}, timeout).json()


def _post(settings: Settings, path: str, body: Any, params: dict[str, str], timeout: float) -> requests.Response:
    try:
        reply = requests.post(f"{settings.rasa_url}{path}", params=params | {"token": api_token(settings)},
                              json=body, timeout=timeout)
    except requests.RequestException as error:
        raise RasaUnavailable(f"Rasa server at {settings.rasa_url} unreachable: {error}") from error
    if reply.status_code != 200:
        raise RasaUnavailable(f"Rasa refused {path.rsplit('/', 1)[-1]} ({reply.status_code}): {reply.text[:200]}")
    return reply
