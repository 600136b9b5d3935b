"""One customer across channels, through the real stack: the same email verified on the REST
channel and on the callback channel links them, and the agent's screen pop shows both.
The verification email goes to a local fake SMTP server (mail leaves this machine in production)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.domain.handoff import agents, service
from bot.domain.identity import verification
from tests.conftest import ConsoleClient, FakeSmtp, RunningBot, add_agent, sqlite_url, start_bot

pytestmark = pytest.mark.integration


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


def test_a_message_left_with_an_email_address_is_answered_in_the_chat_and_by_email(mail_bot: RunningBot,
                                                                                   smtp: FakeSmtp) -> None:
    url = mail_bot.settings.database_url
    for agent in agents.all_agents(url):
        agents.mark_away(url, agent.id)  # nobody online: the bot takes a message
    customer, email = f"cb-{uuid.uuid4().hex[:8]}", f"jo.{uuid.uuid4().hex[:6]}@example.com"
    offer = texts(mail_bot.say_via_callback(customer, "I need to speak to a human"))
    assert "leave a message" in offer and "email address" in offer
    filed = texts(mail_bot.say_via_callback(customer, f"My kettle from BC-555555 leaks. Write to me at {email} please"))
    assert "ticket #" in filed and f"by email to {email}" in filed

    add_agent(mail_bot, "milo", "correct horse battery")
    milo = ConsoleClient(mail_bot, "milo")
    assert milo.login("correct horse battery").status_code == 200
    ticket = service.open_for_conversation(url, customer)
    assert (ticket.status, ticket.contact_email) == ("ticket", email)
    assert milo.post(f"/api/handoffs/{ticket.id}/claim").status_code == 200
    answer = "Hi, Milo here: a new kettle is on its way, no need to send the old one back."
    sent = milo.post(f"/api/handoffs/{ticket.id}/messages", {"text": answer}).json()
    assert sent["sent"] and sent["detail"] == f"sent, and emailed to {email}"
    assert mail_bot.callback.messages_for(customer)[-1]["text"] == answer  # in the chat
    [mail] = [m for m in smtp.messages if f"To: {email}" in m]  # and by email, once
    assert answer in mail and f"ticket #{ticket.id}" in mail

    erased = subprocess.run([sys.executable, "-m", "bot", "erase-customer", ticket.customer_id],
                            env=mail_bot.env(), capture_output=True, text=True, timeout=120)
    assert erased.returncode == 0, erased.stderr
    assert service.get(url, ticket.id).contact_email is None  # the address goes with the customer


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
