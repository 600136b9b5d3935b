"""What the web widget shows when it (re)connects: the conversation read back from its records.

A browser tab that was offline, a second tab, a reload: each asks for the conversation and is
shown what the records hold (the customer's messages, the bot's and agents' replies, with their
times), not what that tab happened to receive. The widget then sends only what the records do
not have yet (its outbox), each message once: a message id the records already hold is not run
again (`already_recorded`).

Read from the stored Rasa events (bot/rasa_server/stores/recording_tracker_store.py), which keep
what the widget needs and the interaction records do not: the buttons the bot offered and the
message id the widget gave each customer message. Texts are stored redacted; the widget shows a
customer's own wording from its own memory where it has it (by message id).
"""

from __future__ import annotations

import json
from typing import Any

from bot.domain.storage.db import session_scope
from bot.domain.storage.models import ConversationEvent
from bot.rasa_server.stores.record_mapping import is_external

MAX_MESSAGES = 200  # the widget keeps no more than this on screen either


def conversation(url: str, conversation_id: str, limit: int = MAX_MESSAGES) -> list[dict[str, Any]]:
    """The conversation's last `limit` messages, oldest first: {who, text, at, id?, agent?, buttons?}."""
    with session_scope(url) as session:
        rows = (session.query(ConversationEvent.data)
                .filter(ConversationEvent.sender_id == conversation_id,
                        ConversationEvent.type_name.in_(("user", "bot")))
                .order_by(ConversationEvent.id.desc()).limit(limit * 2).all())
    messages: list[dict[str, Any]] = []
    offered: dict[str, str] = {}  # button payload -> title, from the bot's earlier messages
    for (data,) in reversed(rows):
        event = json.loads(data)
        message = _customer_message(event, offered) if event["event"] == "user" else _reply(event, offered)
        if message is not None:
            messages.append(message)
    return messages[-limit:]


def already_recorded(url: str, conversation_id: str, message_id: str) -> bool:
    """Whether the conversation holds a customer message with this id (the widget sent it before
    it lost its connection, and never heard back)."""
    needle = json.dumps({"message_id": message_id})[1:-1]  # "message_id": "<id>", as events are stored
    with session_scope(url) as session:
        return session.query(ConversationEvent.id).filter(
            ConversationEvent.sender_id == conversation_id, ConversationEvent.type_name == "user",
            ConversationEvent.data.contains(needle, autoescape=True)).first() is not None


def _customer_message(event: dict[str, Any], offered: dict[str, str]) -> dict[str, Any] | None:
    text = event.get("text") or ""
    if not text or is_external(event):
        return None
    # A clicked button is stored as its payload (`/ask_question{...}`): show its title.
    return {"who": "customer", "text": offered.get(text, text), "at": event.get("timestamp"),
            "id": event.get("message_id")}


def _reply(event: dict[str, Any], offered: dict[str, str]) -> dict[str, Any] | None:
    data = event.get("data") or {}
    buttons = [{"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
               for b in data.get("buttons") or data.get("quick_replies") or []]
    offered.update((b["payload"], b["title"]) for b in buttons)
    if not event.get("text") and not buttons:
        return None
    who = "notice" if data.get("notice") else "agent" if data.get("agent") else "bot"
    message: dict[str, Any] = {"who": who, "text": event.get("text") or "", "at": event.get("timestamp")}
    if data.get("agent"):
        message["agent"] = str(data["agent"])
    if buttons:
        message["buttons"] = buttons
    return message
