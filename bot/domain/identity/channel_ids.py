"""How the records name a web-widget customer: "widget:" + the widget's conversation id.

The widget has no account behind it: the browser's conversation id is the customer. One rule,
read by the channel that records the customer's messages (bot/rasa_server/channels/widget.py,
attachment uploads) and by erasure, which must find a widget customer's conversation even when
it has no message yet (bot/domain/privacy/erase.py).
"""

from __future__ import annotations

WIDGET_PREFIX = "widget:"


def widget_customer(conversation_id: str) -> str:
    """The customer id of the browser holding this widget conversation."""
    return WIDGET_PREFIX + conversation_id


def widget_conversation(customer_id: str) -> str | None:
    """The widget conversation a customer id stands for; None for a customer of another channel."""
    return customer_id.removeprefix(WIDGET_PREFIX) if customer_id.startswith(WIDGET_PREFIX) else None
