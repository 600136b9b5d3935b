"""One customer across channels, through the real stack: the same email verified on the REST
channel and on the callback channel links them, and the agent's screen pop shows both.
The verification email goes to a local fake SMTP server (mail leaves this machine in production)."""

from __future__ import annotations

import re
import socketserver
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.domain.handoff import service
from bot.domain.identity import verification
from tests.conftest import ConsoleClient, RunningBot, add_agent, sqlite_url, start_bot

pytestmark = pytest.mark.integration


class FakeSmtp:
    """Accepts mail like an SMTP server and keeps each message's text."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        outbox = self.messages

        class Session(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self.wfile.write(b"220 fake smtp\r\n")
                while line := self.rfile.readline():
                    verb = line.decode(errors="replace").strip().upper()
                    if verb.startswith(("EHLO", "HELO")):
                        self.wfile.write(b"250 fake\r\n")
                    elif verb == "DATA":
                        self.wfile.write(b"354 go on\r\n")
                        body = []
                        while (data := self.rfile.readline()) not in (b".\r\n", b".\n", b""):
                            body.append(data.decode(errors="replace"))
                        outbox.append("".join(body))
                        self.wfile.write(b"250 queued\r\n")
                    elif verb == "QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:
                        self.wfile.write(b"250 ok\r\n")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Session)
        self.url = f"smtp://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def code_for(self, email: str) -> str:
        mail = next(m for m in reversed(self.messages) if f"To: {email}" in m)
        return re.search(r"code: (\d{6})", mail).group(1)


@pytest.fixture(scope="module")
def smtp() -> Iterator[FakeSmtp]:
    fake = FakeSmtp()
    yield fake
    fake.server.shutdown()


@pytest.fixture(scope="module")
def mail_bot(prepared_model: Path, smtp: FakeSmtp,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBot]:
    tmp = tmp_path_factory.mktemp("idstack")
    yield from start_bot(tmp, sqlite_url(tmp), prepared_model, smtp_url=smtp.url)


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


def verify(say: object, smtp: FakeSmtp, email: str) -> str:
    assert "email" in texts(say("can you link my chats?")).lower()
    assert email in texts(say(f"it's {email}"))
    return texts(say(f"the code is {smtp.code_for(email)}"))


def test_the_same_verified_email_on_two_channels_links_the_histories(mail_bot: RunningBot, smtp: FakeSmtp) -> None:
    email = f"jane.{uuid.uuid4().hex[:6]}@example.com"
    on_rest, on_callback = f"rest-{uuid.uuid4().hex[:8]}", f"cb-{uuid.uuid4().hex[:8]}"
    mail_bot.say(on_rest, "how do I return an item?")
    assert "verified" in verify(lambda text: mail_bot.say(on_rest, text), smtp, email)

    def say(text: str) -> list[dict]:
        return mail_bot.say_via_callback(on_callback, text)

    assert "verified" in verify(say, smtp, email)

    add_agent(mail_bot, "lena", "correct horse battery")
    lena = ConsoleClient(mail_bot, "lena")
    assert lena.login("correct horse battery").status_code == 200
    say("I want to talk to a person")
    handoff = service.open_for_conversation(mail_bot.settings.database_url, on_callback)
    pop = lena.get(f"/api/handoffs/{handoff.id}").json()
    assert pop["verified_emails"] == [email] and pop["linked_customers"] == [on_rest]
    earlier = {c["conversation_id"]: c for c in pop["earlier_conversations"]}
    assert earlier[on_rest]["channel"] == "rest" and earlier[on_rest]["opening"] == "how do I return an item?"


def test_a_wrong_code_links_nothing(mail_bot: RunningBot, smtp: FakeSmtp) -> None:
    conversation, email = f"rest-{uuid.uuid4().hex[:8]}", f"sam.{uuid.uuid4().hex[:6]}@example.com"
    mail_bot.say(conversation, "verify my email")
    mail_bot.say(conversation, email)
    code = smtp.code_for(email)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert "not right" in texts(mail_bot.say(conversation, wrong))
    assert "haven't linked" in texts(mail_bot.say(conversation, "cancel"))
    assert verification.verified_emails(mail_bot.settings.database_url, conversation) == []
