"""Email as a Rasa custom channel: a mailbox polled over IMAP, answers sent over SMTP in the thread.

Every `poll_seconds` the Rasa server reads the mailbox's unseen messages (IMAP, in a thread so
turns go on). Each message:
- is processed once (its Message-ID claimed in `channel_updates`) and marked seen only once it
  is recorded, so a crash loses nothing and a restart repeats nothing;
- is dropped, recorded as a notice and never answered when a robot sent it (RFC 3834
  `Auto-Submitted`, `X-Autoreply`, `Precedence: bulk/junk/list/auto_reply`, a `List-Id`,
  delivery reports and bounces, mailer-daemon and no-reply senders, and our own address): two
  auto-responders cannot start a loop;
- belongs to the conversation of its thread: the first Message-ID in References (or
  In-Reply-To, or its own), so a reply continues the same conversation;
- is read without the quoted history ("> …", "On … wrote:") and signature, and handed to Rasa
  as any channel's message, from the customer `email:<address>`.
The bot's answers go back as one email in the thread (In-Reply-To, References, "Re: subject",
`Auto-Submitted: auto-replied`) through BOT_SMTP_URL. An email cannot carry buttons, and a
customer who wrote an email expects an answer, not a quiz: when the bot is unsure (a
did-you-mean) the message is left for a person as a ticket and the customer is told so. Agents
answer from the console; the customer gets their answer by email, in the thread.

    bot.rasa_server.channels.email_channel.EmailInput:
      imap_url: "imaps://help%40shop.example:password@imap.shop.example:993/INBOX"
      address: "Brightcart <help@shop.example>"   # From: of the answers; mail from it is never answered
      poll_seconds: 30

(or BOT_EMAIL_IMAP_URL, BOT_EMAIL_ADDRESS; SMTP is BOT_SMTP_URL, as for verification codes).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import hashlib
import imaplib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any
from urllib.parse import unquote, urlparse

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.config import load_settings
from bot.domain.handoff import service as handoffs
from bot.domain.identity import mailer
from bot.domain.identity.channel_ids import email_customer, email_of
from bot.domain.storage import records
from bot.rasa_server.channels import delivery, outbox
from bot.rasa_server.channels.rest import MAX_MESSAGE_CHARS, clean_text

logger = logging.getLogger(__name__)

ROBOT_SENDERS = re.compile(r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?)[+@]", re.IGNORECASE)
BULK = {"bulk", "junk", "list", "auto_reply"}
UNSURE = ("Thank you for your email. A person from our team will read it and answer you by email; "
          "there is nothing more you need to do.")
CLOSING = re.compile(r"^(thanks|thank you|many thanks|best|regards|kind regards|cheers|br|谢谢|此致)\b", re.IGNORECASE)
QUOTE_HEADER = re.compile(r"^(On .+ wrote:|-----Original Message-----|From: .+|在.+写道：)\s*$", re.IGNORECASE)


@dataclass
class Email:
    """One received message, as the channel needs it."""

    message_id: str
    sender: str
    subject: str
    text: str
    thread: list[str] = field(default_factory=list)  # the Message-IDs of the thread, oldest first, then this one

    @property
    def conversation_id(self) -> str:
        return "email-" + hashlib.sha256(self.thread[0].encode()).hexdigest()[:24]


class EmailInput(InputChannel):
    """Polls a mailbox and hands each customer email to Rasa; answers by SMTP."""

    @classmethod
    def name(cls) -> str:
        return "email"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> EmailInput:
        if not credentials or not credentials.get("imap_url") or not credentials.get("address"):
            cls.raise_missing_credentials_exception()
        return cls(str(credentials["imap_url"]), str(credentials["address"]),
                   float(credentials.get("poll_seconds") or 30))

    def __init__(self, imap_url: str, address: str, poll_seconds: float = 30) -> None:
        self.imap_url, self.address, self.poll_seconds = imap_url, address, max(0.5, poll_seconds)
        self.own = parseaddr(address)[1].lower()
        self.output = EmailOutput(address)
        self._poller: asyncio.Task | None = None

    def get_output_channel(self) -> OutputChannel:
        """Where pushed messages (agents, complaint updates) go: an email in the customer's thread."""
        return self.output

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("email_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok", "polling": self._poller is not None and not self._poller.done()})

        @webhook.listener("after_server_start")
        async def start_polling(app: Sanic, _: Any) -> None:
            self._poller = asyncio.create_task(self._poll_forever(on_new_message))

        @webhook.listener("before_server_stop")
        async def stop_polling(app: Sanic, _: Any) -> None:
            if self._poller is not None:
                self._poller.cancel()

        return webhook

    async def _poll_forever(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        while True:
            try:
                await self.poll_once(on_new_message)
            except Exception:  # the mail server away: try again next round
                logger.warning("reading the mailbox failed", exc_info=True)
            await asyncio.sleep(self.poll_seconds)

    async def poll_once(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> int:
        """Process the unseen messages; how many were processed."""
        done = 0
        for uid, raw in await asyncio.to_thread(_unseen, self.imap_url):
            message = email.message_from_bytes(raw, policy=email.policy.default)
            if await self._process(message, on_new_message):
                await asyncio.to_thread(_mark_seen, self.imap_url, uid)
                done += 1
        return done

    async def _process(self, message: Any, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> bool:
        """True once the message is handled (or was before); False to leave it for the next round."""
        received = _read(message)
        if not await delivery.first_delivery(self.name(), received.message_id):
            return True
        try:
            if self._from_a_robot(message, received.sender):
                await asyncio.to_thread(records.record_exchange, load_settings().database_url,
                                        received.conversation_id, email_customer(received.sender), self.name(),
                                        f"[{received.subject}]", "(not answered: sent by a robot)", "notice:auto_reply")
                return True
            self.output.remember(received)
            await self._answer(received, on_new_message)
            return True
        except Exception:
            logger.exception("processing the email %s failed", received.message_id)
            await delivery.forget_delivery(self.name(), received.message_id)
            return False

    async def _answer(self, received: Email, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        collector = CollectingOutputChannel()
        turn = UserMessage(clean_text(received.text)[:MAX_MESSAGE_CHARS], CollectingOutputChannel(),
                           received.conversation_id, input_channel=self.name(),
                           metadata={"customer_id": email_customer(received.sender), "email_subject": received.subject})
        await outbox.run_turn(turn, collector, on_new_message)
        replies = outbox.said(collector)
        if any(_did_you_mean(m) for m in replies):  # unsure: a person answers, not three guesses by email
            await asyncio.to_thread(handoffs.leave_ticket, load_settings().database_url, handoffs.Request(
                received.conversation_id, email_customer(received.sender), self.name(), "faq_unknown",
                message=received.text[:2000], contact_email=received.sender))
            body = UNSURE
        else:  # one email for the whole answer; a form's buttons as lines, to answer in words
            body = "\n\n".join(_as_text(m) for m in replies)
        if body:
            await outbox.Outbox(self.output, messages=[(received.conversation_id, {"text": body})],
                                recorded=True).deliver()

    def _from_a_robot(self, message: Any, sender: str) -> bool:
        auto = (message.get("Auto-Submitted") or "no").strip().lower()
        precedence = (message.get("Precedence") or "").strip().lower()
        return (auto != "no" or precedence in BULK or message.get("X-Autoreply") is not None
                or message.get("X-Autorespond") is not None or message.get("List-Id") is not None
                or message.get_content_type() == "multipart/report" or (message.get("Return-Path") or "") == "<>"
                or bool(ROBOT_SENDERS.match(sender)) or sender == self.own or not sender)


class EmailOutput(OutputChannel):
    """Sends answers as emails in the customer's thread (the recipient is the conversation id)."""

    retries_on_its_own = False

    @classmethod
    def name(cls) -> str:
        return "email"

    def __init__(self, address: str) -> None:
        self.address = address
        self._threads: dict[str, Email] = {}  # conversation -> its latest received message

    def remember(self, received: Email) -> None:
        self._threads[received.conversation_id] = received

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        latest = self._threads.get(recipient_id)
        if latest is not None:
            to, subject, thread = latest.sender, latest.subject, latest.thread
        else:  # after a restart: the customer's address from the records, a new subject line
            to = await asyncio.to_thread(_address_of, recipient_id)
            subject, thread = "Your message to Brightcart", []
        reply_subject = subject if subject.lower().startswith("re:") else f"Re: {subject or 'your message'}"
        sent = await asyncio.to_thread(mailer.send_in_thread, load_settings(), self.address, to, reply_subject,
                                       text, thread)
        if latest is not None:
            latest.thread.append(sent)

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list[dict[str, Any]],
                                     **kwargs: Any) -> None:
        lines = [f"- {b.get('title', '')}" for b in buttons]  # an email has no buttons: the choices as lines
        await self.send_text_message(recipient_id, "\n".join([text, *lines]))

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        if json_message.get("text"):
            await self.send_text_message(recipient_id, str(json_message["text"]))


def _as_text(message: dict[str, Any]) -> str:
    return "\n".join([message.get("text") or "", *(f"- {b.get('title', '')}" for b in message.get("buttons") or [])]
                     ).strip()


def _did_you_mean(message: dict[str, Any]) -> bool:
    """The FAQ's "did you mean one of these?" (other buttons, such as a form's, are sent as lines)."""
    return any(str(b.get("payload", "")).startswith("/ask_question") for b in message.get("buttons") or [])


def _address_of(conversation_id: str) -> str:
    found = [email_of(str(r["customer_id"])) for r in records.iter_records(load_settings().database_url,
                                                                           conversation_id=conversation_id)]
    addresses = [address for address in found if address]
    if not addresses:
        raise mailer.MailUnavailable(f"no email address known for {conversation_id}")
    return addresses[-1]


def _read(message: Any) -> Email:
    sender = parseaddr(str(message.get("From") or ""))[1].lower()
    own_id = str(message.get("Message-ID") or "").strip() or f"<no-id-{hashlib.sha256(bytes(message)).hexdigest()}>"
    references = re.findall(r"<[^<>\s]+>", str(message.get("References") or ""))
    replying_to = re.findall(r"<[^<>\s]+>", str(message.get("In-Reply-To") or ""))
    thread = references or replying_to
    subject = " ".join(str(message.get("Subject") or "").split())[:200]
    body = message.get_body(preferencelist=("plain", "html"))
    text = body.get_content() if body is not None else ""
    if body is not None and body.get_content_type() == "text/html":
        text = re.sub(r"<[^>]+>", " ", text)
    text = _without_quotes(text) or subject
    return Email(own_id, sender, subject, text, [*thread, own_id])


def _without_quotes(text: str) -> str:
    """The new part of a reply: before the quoted history, without the signature or a closing
    ("Thanks,\nJane") that would only blur what the customer asks."""
    kept = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.startswith(">") or QUOTE_HEADER.match(line.strip()) or line.rstrip() == "--":
            break
        kept.append(line)
    paragraphs = [p for p in "\n".join(kept).split("\n\n") if p.strip()]
    if len(paragraphs) > 1 and len(paragraphs[-1]) <= 60 and CLOSING.match(paragraphs[-1].strip()):
        paragraphs.pop()
    return " ".join(" ".join(paragraphs).split())


def _connect(imap_url: str) -> tuple[imaplib.IMAP4, str]:
    server = urlparse(imap_url)
    client = imaplib.IMAP4_SSL if server.scheme == "imaps" else imaplib.IMAP4
    connection = client(server.hostname or "127.0.0.1", server.port or (993 if server.scheme == "imaps" else 143))
    connection.login(unquote(server.username or ""), unquote(server.password or ""))
    return connection, (server.path.strip("/") or "INBOX")


def _unseen(imap_url: str) -> list[tuple[bytes, bytes]]:
    """(UID, raw message) of every unseen message, oldest first (left unseen until processed)."""
    connection, mailbox = _connect(imap_url)
    try:
        connection.select(mailbox)
        _, found = connection.uid("SEARCH", None, "UNSEEN")
        messages = []
        for uid in (found[0] or b"").split():
            _, data = connection.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((part[1] for part in data if isinstance(part, tuple)), None)
            if raw:
                messages.append((uid, raw))
        return messages
    finally:
        connection.logout()


def _mark_seen(imap_url: str, uid: bytes) -> None:
    connection, mailbox = _connect(imap_url)
    try:
        connection.select(mailbox)
        connection.uid("STORE", uid, "+FLAGS", "(\\Seen)")
    finally:
        connection.logout()

