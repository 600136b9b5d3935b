"""The email channel through the real stack: a mailbox on a small local IMAP server (the fake
below speaks as much of IMAP4rev1 as Python's imaplib uses) and answers caught by a local SMTP
server: a thread of three messages, an agent's answer by email, unsure → a person, a message
in the mailbox twice, and an auto-reply that must not start a loop."""

from __future__ import annotations

import email
import email.policy
import re
import socketserver
import threading
import time
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from bot.domain.handoff import service as handoffs
from bot.domain.storage.records import iter_records
from faq_index import LiveIndex
from tests.conftest import ConsoleClient, FakeSmtp, RunningBot, add_agent, sqlite_url, start_bot

pytestmark = pytest.mark.integration
SHOP = "help@shop.example"
VAGUE = ("my account", "returns", "refund question", "issue with payment", "account help", "payment question")


class FakeImap:
    """One mailbox (INBOX) behind LOGIN: UID SEARCH UNSEEN, UID FETCH (BODY.PEEK[]), UID STORE +FLAGS."""

    def __init__(self) -> None:
        self.messages: list[dict] = []  # {"uid", "raw", "seen"}
        self._lock = threading.Lock()
        fake = self

        class Session(socketserver.StreamRequestHandler):
            def say(self, line: str | bytes) -> None:
                self.wfile.write((line.encode() if isinstance(line, str) else line) + b"\r\n")

            def handle(self) -> None:
                self.say("* OK [CAPABILITY IMAP4rev1] fake imap ready")
                while line := self.rfile.readline():
                    tag, _, rest = line.decode().strip().partition(" ")
                    command = rest.upper()
                    if command.startswith("CAPABILITY"):
                        self.say("* CAPABILITY IMAP4rev1")
                    elif command.startswith("SELECT"):
                        with fake._lock:
                            self.say(f"* {len(fake.messages)} EXISTS")
                        self.say("* FLAGS (\\Seen)")
                        self.say(f"{tag} OK [READ-WRITE] SELECT done")
                        continue
                    elif command.startswith("UID SEARCH"):
                        with fake._lock:
                            self.say("* SEARCH " + " ".join(str(m["uid"]) for m in fake.messages if not m["seen"]))
                    elif command.startswith("UID FETCH"):
                        uid = int(rest.split()[2])
                        with fake._lock:
                            position, found = next((n, m) for n, m in enumerate(fake.messages, 1) if m["uid"] == uid)
                        self.say(f"* {position} FETCH (UID {uid} BODY[] {{{len(found['raw'])}}}")
                        self.wfile.write(found["raw"])
                        self.say(")")
                    elif command.startswith("UID STORE"):
                        uid = int(rest.split()[2])
                        with fake._lock:
                            for message in fake.messages:
                                message["seen"] = message["seen"] or message["uid"] == uid
                    elif command.startswith("LOGOUT"):
                        self.say("* BYE")
                        self.say(f"{tag} OK LOGOUT done")
                        return
                    self.say(f"{tag} OK done")

            def log_message(self, *_: object) -> None:
                pass

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Session)
        self.server.daemon_threads = True
        self.url = f"imap://help%40shop.example:mailbox-password@127.0.0.1:{self.server.server_address[1]}/INBOX"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def deliver(self, message: EmailMessage) -> None:
        with self._lock:
            self.messages.append({"uid": len(self.messages) + 101, "raw": bytes(message), "seen": False})

    def all_seen(self) -> bool:
        with self._lock:
            return all(m["seen"] for m in self.messages)


@pytest.fixture(scope="module")
def imap() -> Iterator[FakeImap]:
    fake = FakeImap()
    yield fake
    fake.server.shutdown()


@pytest.fixture(scope="module")
def bot(prepared_model: Path, smtp: FakeSmtp, imap: FakeImap,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBot]:
    """A stack of its own with the email channel reading the fake mailbox every half second."""
    tmp = tmp_path_factory.mktemp("email")
    yield from start_bot(tmp, sqlite_url(tmp), prepared_model, smtp_url=smtp.url, email_imap_url=imap.url,
                         email_address=f"Brightcart <{SHOP}>", email_poll_seconds=0.5)


def customer() -> str:
    return f"jane.{uuid.uuid4().hex[:8]}@example.net"


def mail(sender: str, subject: str, body: str, replying_to: list[str] | None = None, **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"Jane <{sender}>"
    message["To"] = SHOP
    message["Subject"] = subject
    message["Message-ID"] = f"<{uuid.uuid4().hex}@example.net>"
    if replying_to:
        message["In-Reply-To"] = replying_to[-1]
        message["References"] = " ".join(replying_to)
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def answers_to(smtp: FakeSmtp, address: str, count: int, timeout: float = 40) -> list[EmailMessage]:
    """The first `count` emails sent to `address`, parsed, waiting for them."""
    deadline = time.monotonic() + timeout
    while True:
        found = [email.message_from_string(m, policy=email.policy.default) for m in smtp.messages
                 if re.search(rf"^To: {re.escape(address)}\s*$", m, re.MULTILINE)]
        if len(found) >= count:
            return found
        assert time.monotonic() < deadline, f"{len(found)} email(s) to {address}"
        time.sleep(0.2)


def test_a_thread_of_three_is_one_conversation_answered_in_its_thread_and_an_agent_answers_by_email(
        bot: RunningBot, smtp: FakeSmtp, imap: FakeImap) -> None:
    jane = customer()
    first = mail(jane, "Delivery question", "Hi, how long does delivery take?\n\nThanks,\nJane")
    imap.deliver(first)
    [answer] = answers_to(smtp, jane, 1)
    assert "working days" in answer.get_content()
    assert answer["Subject"] == "Re: Delivery question" and answer["In-Reply-To"] == first["Message-ID"]
    assert answer["Auto-Submitted"] == "auto-replied"  # other robots must not answer it

    quoted = "\n".join(f"> {line}" for line in answer.get_content().splitlines())
    second = mail(jane, "Re: Delivery question",
                  f"And can I pay with PayPal?\n\nOn Monday, Brightcart wrote:\n{quoted}",
                  [first["Message-ID"], answer["Message-ID"]])
    imap.deliver(second)
    replies = answers_to(smtp, jane, 2)
    assert "PayPal" in replies[1].get_content()
    assert replies[1]["In-Reply-To"] == second["Message-ID"] and first["Message-ID"] in replies[1]["References"]

    add_agent(bot, "emma", "correct horse battery", "--capacity", "3")
    emma = ConsoleClient(bot, "emma")
    emma.login("correct horse battery")  # online: the chat goes to her
    third = mail(jane, "Re: Delivery question", "I would like to talk to a person please.",
                 [first["Message-ID"], answer["Message-ID"], second["Message-ID"], replies[1]["Message-ID"]])
    imap.deliver(third)
    conversation = None
    deadline = time.monotonic() + 40
    while conversation is None:
        found = [h for h in handoffs.listing(bot.settings.database_url, ("ticket", "waiting", "active"))
                 if h.customer_id == f"email:{jane}"]
        conversation = found[0] if found else None
        assert conversation is not None or time.monotonic() < deadline, "no handoff for the third email"
        time.sleep(0.3)
    customer_lines = [r["text"] for r in iter_records(bot.settings.database_url,
                                                      conversation_id=conversation.conversation_id)
                      if r["actor"] == "customer"]
    assert customer_lines[:2] == ["Hi, how long does delivery take?", "And can I pay with PayPal?"]  # no quotes
    assert len(customer_lines) == 3  # one conversation for the thread

    if handoffs.get(bot.settings.database_url, conversation.id).status != "active":
        assert emma.post(f"/api/handoffs/{conversation.id}/claim").status_code == 200
    sent_before = len(answers_to(smtp, jane, 3))
    answered = emma.post(f"/api/handoffs/{conversation.id}/messages", {"text": "Emma here: I'll call you today."})
    assert answered.status_code == 200 and answered.json()["sent"] is True
    by_agent = answers_to(smtp, jane, sent_before + 1)[-1]
    assert by_agent.get_content().strip() == "Emma here: I'll call you today."
    assert third["Message-ID"] in by_agent["References"] and by_agent["Subject"] == "Re: Delivery question"
    assert imap.all_seen()


def test_an_unsure_answer_becomes_a_ticket_and_a_message_seen_twice_is_answered_once(
        bot: RunningBot, smtp: FakeSmtp, imap: FakeImap) -> None:
    index = LiveIndex(bot.settings.index_dir, poll_seconds=60)
    vague = next(q for q in VAGUE if index.search(q).decision == "suggest")
    sam = customer()
    question = mail(sam, "Question", vague)
    imap.deliver(question)
    imap.deliver(question)  # the same message twice in the mailbox (a copy, a retried delivery)
    [told] = answers_to(smtp, sam, 1)
    assert "A person from our team will read it and answer you by email" in told.get_content()
    time.sleep(2)
    assert len(answers_to(smtp, sam, 1)) == 1
    [ticket] = [h for h in handoffs.listing(bot.settings.database_url, ("ticket", "waiting", "active"))
                if h.customer_id == f"email:{sam}"]
    assert ticket.contact_email == sam and vague in (ticket.message or "")


def test_an_auto_reply_is_recorded_and_never_answered(bot: RunningBot, smtp: FakeSmtp, imap: FakeImap) -> None:
    away = customer()
    imap.deliver(mail(away, "Out of office", "I am away until Monday.", Auto_Submitted="auto-replied"))
    bounce = mail("mailer-daemon@example.net", "Undelivered Mail Returned to Sender",
                  "The mail could not be delivered.")
    imap.deliver(bounce)
    deadline = time.monotonic() + 20
    while not imap.all_seen():
        assert time.monotonic() < deadline, "the auto-replies were not taken from the mailbox"
        time.sleep(0.2)
    time.sleep(1)
    assert not [m for m in smtp.messages if away in m or "mailer-daemon@example.net" in m.split("\n\n")[0]]
    notices = [r for r in iter_records(bot.settings.database_url) if r["customer_id"] == f"email:{away}"]
    assert [r["action"] for r in notices] == ["notice:auto_reply", "notice:auto_reply"]


def test_a_complaint_by_email_is_filed_in_its_thread_and_gets_its_reference(bot: RunningBot, smtp: FakeSmtp,
                                                                            imap: FakeImap) -> None:
    kim = customer()
    thread: list[str] = []
    steps = ["I want to make a complaint about my order", "delivery", "BC-123456",
             "The parcel was left in the rain and everything inside is soaked", kim, "yes"]
    for number, said in enumerate(steps, start=1):
        message = mail(kim, "Complaint" if number == 1 else "Re: Complaint", said, thread or None)
        imap.deliver(message)
        answer = answers_to(smtp, kim, number)[-1]
        thread += [message["Message-ID"], answer["Message-ID"]]
    assert re.search(r"C-\d{4}-\d{6}", answer.get_content()), answer.get_content()  # the reference, by email

