"""The action server down entirely, on the real stack over REST: FAQ questions are still answered
(their actions run in the Rasa server, bot/rasa_server/actions_in_process.py); what needs the
action server gets, from the Rasa server in its place (bot/rasa_server/actions_down.py), a
polite message and the offer of a person, accepting the offer creates a real handoff, every
turn is recorded; an action server that accepts calls and never
answers turns into the same apology within seconds; once the action server is back the bot
answers normally without a Rasa restart.

The tests run in file order on one stack: the first stops the action server (the test Stack
does not supervise, so nothing restarts it), the last starts it again.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests

from bot.domain.handoff import agents, service
from bot.domain.storage.records import iter_records
from bot.ops.runner import Service
from faq_index.kb import load_kb
from tests.conftest import RunningBot, add_agent, own_stack
from tests.integration.test_handoff import PASSWORD, sender, texts

pytestmark = pytest.mark.integration
bot = own_stack()  # this module stops the action server and sets who is online: a stack of its own


@pytest.fixture(scope="module")
def action_server(bot: RunningBot) -> Service:
    assert bot.stack is not None
    return next(s for s in bot.stack.services if s.name == "action server")


@pytest.fixture(scope="module")
def down(bot: RunningBot, action_server: Service) -> Iterator[RunningBot]:
    """The stack with its action server stopped (test_recovery starts it again)."""
    action_server.stop()
    assert action_server.exited() and not action_server.healthy()
    yield bot


def conversation(bot: RunningBot, customer: str) -> list[tuple[str, str]]:
    """(actor, text) of every interaction record of the conversation, in order."""
    return [(r["actor"], r["text"]) for r in iter_records(bot.settings.database_url, conversation_id=customer)]


def set_online(bot: RunningBot, online: bool) -> None:
    """Every agent has the console open (or nobody has)."""
    for agent in agents.all_agents(bot.settings.database_url):
        (agents.mark_seen if online else agents.mark_away)(bot.settings.database_url, agent.id)


def kb_answer(bot: RunningBot, entry_id: str, language: str = "en") -> str:
    return {entry.id: entry for entry in load_kb(bot.settings.kb_dir)}[entry_id].answers[language]


def test_faq_questions_are_still_answered_and_the_rest_gets_an_apology_and_a_person(down: RunningBot) -> None:
    add_agent(down, "alice", PASSWORD, "--capacity", "2")
    set_online(down, True)
    customer, question, status = sender(), "how long does delivery take?", "what's the status of my complaint"
    assert texts(down.say(customer, question)) == kb_answer(down, "delivery-time")

    reply = down.post({"sender": customer, "message": status})  # action_complaint_status: the action server's
    assert reply.status_code == 200, reply.text
    [apology] = reply.json()
    assert "can't look that up right now" in apology["text"] and "person" in apology["text"]
    assert apology["buttons"] == [{"title": "Yes, talk to a person", "payload": "/request_human"}]

    told = down.say(customer, apology["buttons"][0]["payload"])
    assert "alice" in texts(told) and "person" in texts(told)
    handoff = service.open_for_conversation(down.settings.database_url, customer)
    assert handoff is not None
    assert (handoff.status, handoff.agent, handoff.reason) == ("active", "alice", "customer_asked")
    assert handoff.language == "en"
    assert down.say(customer, "hello? my parcel BC-123456 never arrived") == []  # paused: alice answers now

    assert conversation(down, customer) == [
        ("customer", question), ("bot", kb_answer(down, "delivery-time")),
        ("customer", status), ("bot", apology["text"]),
        ("customer", "/request_human"), *[("bot", t["text"]) for t in told],
        ("customer", "hello? my parcel BC-123456 never arrived"),
    ]


def test_in_chinese_with_nobody_online_accepting_files_a_ticket(down: RunningBot) -> None:
    set_online(down, False)
    customer, question = sender(), "退货的运费是谁出？"
    [answer] = down.say(customer, question)  # answered in Chinese without the action server
    assert answer["text"] != "" and not answer["text"].startswith("抱歉，我现在无法为您查询")

    [apology] = down.say(customer, "/complaint_status")  # needs the action server
    assert apology["text"].startswith("抱歉，我现在无法为您查询")
    assert [b["title"] for b in apology["buttons"]] == ["好的，转人工客服"]

    told = down.say(customer, "好的")  # typed, not the button: the offer stands either way
    handoff = service.open_for_conversation(down.settings.database_url, customer)
    assert handoff is not None
    assert (handoff.status, handoff.language) == ("ticket", "zh") and question in (handoff.message or "")
    assert "没有人在线" in texts(told) and f"#{handoff.id}" in texts(told)

    assert conversation(down, customer) == [
        ("customer", question), ("bot", answer["text"]), ("customer", "/complaint_status"),
        ("bot", apology["text"]), ("customer", "好的"), *[("bot", t["text"]) for t in told],
    ]


@contextmanager
def hung_server(port: int) -> Iterator[None]:
    """A server on `port` that accepts every connection and never answers (a hung action server)."""
    listener = socket.create_server(("127.0.0.1", port), reuse_port=False)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        listener.close()


def test_a_hung_action_server_turns_into_the_apology_within_seconds(down: RunningBot) -> None:
    customer, question = sender(), "any news on my complaint?"
    with hung_server(down.settings.actions_port):
        started = time.monotonic()
        reply = requests.post(down.webhook, json={"sender": customer, "message": question}, timeout=30)
        waited = time.monotonic() - started
    assert reply.status_code == 200, reply.text
    [apology] = reply.json()
    assert "can't look that up right now" in apology["text"]
    assert waited < 10, f"the customer waited {waited:.1f}s"  # Rasa's own timeout: 5 minutes per action
    assert conversation(down, customer) == [("customer", question), ("bot", apology["text"])]


def test_once_the_action_server_is_back_the_bot_answers_without_a_rasa_restart(
        down: RunningBot, action_server: Service) -> None:
    action_server.start()
    deadline = time.monotonic() + 180
    while not action_server.healthy():
        assert not action_server.exited(), action_server.log_tail()
        assert time.monotonic() < deadline, "the action server did not come back"
        time.sleep(0.5)

    said = texts(down.say(sender(), "what's the status of my complaint"))  # the action server's own answer
    assert said and "can't look that up" not in said
