"""Email through the SMTP server in BOT_SMTP_URL (smtp://[user:password@]host:port, or
smtps://... for TLS from the start): verification codes, an agent's answer to a ticket whose
customer gave an address, and the email channel's replies in their thread
(bot/rasa_server/channels/email_channel.py)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import unquote, urlparse

from bot.config import Settings


class MailUnavailable(RuntimeError):
    """No SMTP server is configured, or it refused the message."""


def send_code(settings: Settings, email: str, code: str) -> None:
    _send(settings, email, f"Your Brightcart verification code: {code}",
          f"Your code is {code}. Type it in the chat within 15 minutes to link your chats.\n\n"
          "If you did not ask for it, ignore this email.")


def send_ticket_answer(settings: Settings, email: str, ticket_id: int, agent: str, text: str) -> None:
    """An agent's answer to the message the customer left (ticket #id), as it appears in the chat."""
    _send(settings, email, f"Re: your message to Brightcart (ticket #{ticket_id})",
          f"{text}\n\n{agent}, Brightcart customer service\n\n"
          "The answer is in your chat with us as well. Replies to this email are not read.")


def send_in_thread(settings: Settings, sender: str, email: str, subject: str, body: str,
                   replying_to: list[str]) -> str:
    """A reply in the customer's thread (In-Reply-To and References name the messages it answers),
    marked Auto-Submitted so that other robots do not answer it; its Message-ID."""
    message_id = make_msgid(domain=(sender.rpartition("@")[2].strip("> ") or "brightcart.example"))
    headers = {"Message-ID": message_id, "Auto-Submitted": "auto-replied"}
    if replying_to:
        headers |= {"In-Reply-To": replying_to[-1], "References": " ".join(replying_to[-20:])}
    _send(settings, email, subject, body, headers, sender)
    return message_id


def _send(settings: Settings, email: str, subject: str, body: str, headers: dict[str, str] | None = None,
          sender: str | None = None) -> None:
    if not settings.smtp_url:
        raise MailUnavailable("no SMTP server configured (BOT_SMTP_URL)")
    server = urlparse(settings.smtp_url)
    message = EmailMessage()
    message["From"] = sender or settings.mail_from
    message["To"] = email
    message["Subject"] = subject
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    client = smtplib.SMTP_SSL if server.scheme == "smtps" else smtplib.SMTP
    try:
        with client(server.hostname or "127.0.0.1", server.port or 25, timeout=20) as smtp:
            if server.username:
                smtp.login(unquote(server.username), unquote(server.password or ""))
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        raise MailUnavailable(f"the SMTP server did not take the message: {error}") from error
