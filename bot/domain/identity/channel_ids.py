"""How the records name the customers of two channels whose identity is not an account id.

- The web widget: "widget:" + the widget's conversation id. The widget has no account behind
  it: the browser's conversation is the customer. Read by the channel that records the
  customer's messages (bot/rasa_server/channels/widget.py, attachment uploads) and by erasure,
  which must find a widget customer's conversation even when it has no message yet
  (bot/domain/privacy/erase.py).
- Email: "email:" + the address the customer writes from, which is also where every answer
  goes; so it counts as that address verified when identities are linked across channels
  (bot/domain/identity/verification.py).
"""

from __future__ import annotations

WIDGET_PREFIX = "widget:"
EMAIL_PREFIX = "email:"


def widget_customer(conversation_id: str) -> str:
    """The customer id of the browser holding this widget conversation."""
    return WIDGET_PREFIX + conversation_id


def widget_conversation(customer_id: str) -> str | None:
    """The widget conversation a customer id stands for; None for a customer of another channel."""
    return customer_id.removeprefix(WIDGET_PREFIX) if customer_id.startswith(WIDGET_PREFIX) else None


def email_customer(address: str) -> str:
    """The customer id of whoever writes from this address."""
    return EMAIL_PREFIX + address.strip().lower()


def email_of(customer_id: str) -> str | None:
    """The address an email customer writes from; None for a customer of another channel."""
    return customer_id.removeprefix(EMAIL_PREFIX) if customer_id.startswith(EMAIL_PREFIX) else None
