"""The bot-plus-human loop through the real stack: Rasa, the action server and the console,
with a customer on Rasa's `callback` channel (a local HTTP listener receives what is pushed)."""

from __future__ import annotations

import time
import uuid

import pytest
import requests

from bot.domain.handoff import service
from bot.domain.storage.records import iter_records
from bot.rasa_api import api_token
from bot.rasa_server.channels.delivery import undelivered
from tests.conftest import ConsoleClient, RunningBot, add_agent, own_stack, records_unwritable

pytestmark = pytest.mark.integration
bot = own_stack()  # this module adds agents and sets who is online: a stack of its own
PASSWORD = "correct horse battery"


def sender() -> str:
    return f"cust-{uuid.uuid4().hex[:10]}"


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


def logged_in(bot: RunningBot, username: str, *options: str) -> ConsoleClient:
    add_agent(bot, username, PASSWORD, *options)
    agent = ConsoleClient(bot, username)
    assert agent.login(PASSWORD).status_code == 200
    return agent


def open_handoff(agent: ConsoleClient, conversation: str, status: str) -> dict:
    listed = agent.get("/api/handoffs", status=status)
    assert listed.status_code == 200, listed.text
    return next(h for h in listed.json()["handoffs"] if h["conversation_id"] == conversation)


def test_customer_asks_for_a_person_agent_replies_and_hands_back(bot: RunningBot) -> None:
    alice = logged_in(bot, "alice", "--skills", "delivery,returns", "--capacity", "2")
    customer, said = sender(), []

    def customer_says(text: str) -> list[dict]:
        replies = bot.say_via_callback(customer, text)
        said.append(("customer", text))
        said.extend(("bot", r["text"]) for r in replies)
        return replies

    customer_says("hi")
    put_through = texts(customer_says("can I talk to a real person please"))
    assert "alice" in put_through and "person" in put_through
    assert customer_says("hello? my parcel BC-123456 never arrived") == []  # the bot stays silent

    handoff = open_handoff(alice, customer, "active")
    assert (handoff["reason"], handoff["agent"], handoff["channel"]) == ("customer_asked", "alice", "callback")
    pop = alice.get(f"/api/handoffs/{handoff['id']}").json()
    assert [r["text"] for r in pop["transcript"] if r["actor"] == "customer"][-1] == \
        "hello? my parcel BC-123456 never arrived"  # the screen pop has the whole conversation

    pushed_before = len(bot.callback.messages_for(customer))
    answer = "Hi, I'm Alice from Brightcart. I can see the parcel: it is at the depot, out for delivery tomorrow."
    assert alice.post(f"/api/handoffs/{handoff['id']}/messages", {"text": answer}).status_code == 200
    assert bot.callback.wait_for(customer, pushed_before + 1)[-1]["text"] == answer
    said.append(("agent", answer))
    assert customer_says("great, thanks!") == []  # still the agent's conversation

    closed = alice.post(f"/api/handoffs/{handoff['id']}/handback", {"mode": "closed"})
    assert closed.status_code == 200 and closed.json()["handoff"]["status"] == "closed"
    question = bot.callback.wait_for(customer, pushed_before + 2)[-1]
    assert "1" in question["text"] and "5" in question["text"]
    said.append(("bot", question["text"]))
    rating = next(b["payload"] for b in question["buttons"] if '"rating": 4' in b["payload"])
    assert "Thank you" in texts(customer_says(rating))  # the bot talks again

    assert service.get(bot.settings.database_url, handoff["id"]).rating == 4
    records = list(iter_records(bot.settings.database_url, conversation_id=customer))
    assert [(r["actor"], r["text"]) for r in records] == said
    assert alice.post("/api/logout").status_code == 200


def test_an_agent_message_that_cannot_be_recorded_reaches_nobody_and_goes_once_when_sent_again(
        bot: RunningBot) -> None:
    bea = logged_in(bot, "bea", "--capacity", "1")  # alice logged out: bea is the one online
    customer = sender()
    bot.say_via_callback(customer, "can I talk to a real person please")
    handoff = open_handoff(bea, customer, "active")
    pushed = len(bot.callback.messages_for(customer))
    answer = "Bea here: your refund went out this morning."

    with records_unwritable(bot):
        refused = bea.post(f"/api/handoffs/{handoff['id']}/messages", {"text": answer})
    assert refused.status_code == 503 and "nothing was sent" in refused.json()["detail"], refused.text
    time.sleep(1)  # a push would have arrived by now
    assert len(bot.callback.messages_for(customer)) == pushed

    sent = bea.post(f"/api/handoffs/{handoff['id']}/messages", {"text": answer})
    assert sent.json() == {"sent": True, "delivery": "delivered", "detail": "sent"}
    assert [m["text"] for m in bot.callback.wait_for(customer, pushed + 1)[pushed:]] == [answer]
    records = iter_records(bot.settings.database_url, conversation_id=customer)
    assert [r["text"] for r in records if r["actor"] == "agent"] == [answer]  # recorded once, delivered once

    with records_unwritable(bot):  # the rating question after the hand-back cannot be recorded
        refused = bea.post(f"/api/handoffs/{handoff['id']}/handback", {"mode": "closed"})
    assert refused.status_code == 503 and "nothing was sent" in refused.json()["detail"], refused.text
    assert service.get(bot.settings.database_url, handoff["id"]).status == "active"  # nothing changed
    time.sleep(1)
    assert len(bot.callback.messages_for(customer)) == pushed + 1
    closed = bea.post(f"/api/handoffs/{handoff['id']}/handback", {"mode": "closed"})
    assert closed.json()["delivery"] == "delivered"
    [question] = bot.callback.wait_for(customer, pushed + 2)[pushed + 1:]
    assert "1" in question["text"] and "5" in question["text"]
    records = iter_records(bot.settings.database_url, conversation_id=customer)
    assert [r["text"] for r in records].count(question["text"]) == 1
    assert bea.post("/api/logout").status_code == 200


def test_a_message_the_customers_device_refuses_is_retried_kept_the_agent_told_and_delivered_later(
        bot: RunningBot) -> None:
    dan = logged_in(bot, "dan", "--capacity", "1")
    customer = sender()
    bot.say_via_callback(customer, "can I talk to a real person please")
    handoff = open_handoff(dan, customer, "active")
    pushed = len(bot.callback.messages_for(customer))

    bot.callback.refuse = 1  # refused once: the retry delivers it
    sent = dan.post(f"/api/handoffs/{handoff['id']}/messages", {"text": "Dan here, one moment"})
    assert sent.json()["delivery"] == "delivered"
    assert [m["text"] for m in bot.callback.wait_for(customer, pushed + 1)[pushed:]] == ["Dan here, one moment"]

    bot.callback.refuse = 10  # the device stays unreachable
    kept = dan.post(f"/api/handoffs/{handoff['id']}/messages", {"text": "Your refund is on its way"})
    bot.callback.refuse = 0
    assert kept.json() == {"sent": False, "delivery": "undelivered",
                           "detail": "recorded, but their channel did not take it: it will be tried again for a day"}
    assert [m["text"] for m in undelivered(bot.settings.database_url, customer)] == ["Your refund is on its way"]
    agent_said = [r["text"] for r in iter_records(bot.settings.database_url, conversation_id=customer)
                  if r["actor"] == "agent"]
    assert agent_said == ["Dan here, one moment", "Your refund is on its way"]  # both recorded, once each

    # The device is back: the kept message is tried again (BOT_REDELIVERY_SECONDS) and arrives once.
    arrived = bot.callback.wait_for(customer, pushed + 2)
    assert [m["text"] for m in arrived[pushed:]] == ["Dan here, one moment", "Your refund is on its way"]
    deadline = time.monotonic() + 10
    while undelivered(bot.settings.database_url, customer) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert undelivered(bot.settings.database_url, customer) == []
    time.sleep(3)  # a later round must not send it again
    assert len(bot.callback.messages_for(customer)) == pushed + 2
    assert dan.post(f"/api/handoffs/{handoff['id']}/handback", {"mode": "closed"}).status_code == 200
    assert dan.post("/api/logout").status_code == 200


def test_a_rest_customer_cannot_be_sent_a_message_and_the_agent_is_told_so(bot: RunningBot) -> None:
    cleo = logged_in(bot, "cleo", "--capacity", "1")
    customer = sender()
    bot.say(customer, "can I talk to a real person please")  # REST: the answer comes back in the request
    handoff = open_handoff(cleo, customer, "active")
    refused = cleo.post(f"/api/handoffs/{handoff['id']}/messages", {"text": "Hello from Cleo"})
    assert refused.status_code == 409 and "cannot receive messages" in refused.json()["detail"]
    records = iter_records(bot.settings.database_url, conversation_id=customer)
    assert "Hello from Cleo" not in [r["text"] for r in records]
    assert cleo.post(f"/api/handoffs/{handoff['id']}/handback", {"mode": "closed"}).json()["delivery"] == "no-channel"
    assert cleo.post("/api/logout").status_code == 200


def test_nobody_online_takes_a_message_that_an_agent_later_answers(bot: RunningBot) -> None:
    customer = sender()
    offer = texts(bot.say_via_callback(customer, "I need to speak to a human"))
    assert "nobody" in offer and "leave a message" in offer
    message = "Please call me about the broken blender from order BC-555555"
    assert "ticket #" in texts(bot.say_via_callback(customer, message))
    assert "deliver" in texts(bot.say_via_callback(customer, "how long does delivery take?")).lower()  # bot still on

    tom = logged_in(bot, "tom", "--capacity", "1")
    queue = tom.get("/api/handoffs", status="ticket,waiting").json()["handoffs"]
    ticket = next(h for h in queue if h["conversation_id"] == customer)
    assert queue[0]["status"] == "ticket" and ticket["message"] == message and ticket["reason"] == "customer_asked"

    assert tom.post(f"/api/handoffs/{ticket['id']}/claim").json()["handoff"]["agent"] == "tom"
    other = logged_in(bot, "uma")
    assert other.post(f"/api/handoffs/{ticket['id']}/claim").status_code == 409
    assert other.post(f"/api/handoffs/{ticket['id']}/messages", {"text": "me too"}).status_code == 409
    before = len(bot.callback.messages_for(customer))
    assert tom.post(f"/api/handoffs/{ticket['id']}/messages", {"text": "Hi, Tom here about your blender."}).ok
    assert bot.callback.wait_for(customer, before + 1)[-1]["text"] == "Hi, Tom here about your blender."
    assert bot.say_via_callback(customer, "thanks Tom") == []  # claiming the ticket silenced the bot
    assert tom.post(f"/api/handoffs/{ticket['id']}/handback", {"mode": "to_bot"}).status_code == 200
    for agent in (tom, other):
        agent.post("/api/logout")


def test_two_unanswerable_questions_in_a_row_hand_over_with_that_reason(bot: RunningBot) -> None:
    customer = sender()
    first = texts(bot.say_via_callback(customer, "what is the boiling point of mercury on mars"))
    assert "person" in first
    second = texts(bot.say_via_callback(customer, "who won the chess olympiad in 1927"))
    assert "still can't find" in second and "leave a message" in second  # nobody online: a message is offered
    assert "ticket #" in texts(bot.say_via_callback(customer, "I need the opening hours of your Paris store"))
    ticket = service.open_for_conversation(bot.settings.database_url, customer)
    assert (ticket.status, ticket.reason) == ("ticket", "not_understood")


def test_declining_to_leave_a_message_files_nothing(bot: RunningBot) -> None:
    customer = sender()
    bot.say_via_callback(customer, "get me an agent")
    assert "no message" in texts(bot.say_via_callback(customer, "/deny")).lower()
    assert service.open_for_conversation(bot.settings.database_url, customer) is None


def test_console_helpers_and_bad_input(bot: RunningBot) -> None:
    vera = logged_in(bot, "vera", "--role", "supervisor")
    assert vera.get("/api/canned-replies").json()["replies"][0]["text"]
    found = vera.get("/api/faq", q="how long will my parcel take to arrive").json()["results"]
    assert found and found[0]["category"] == "delivery" and found[0]["answer"]
    # The console asks the Rasa server's search (bot/rasa_server/faq_api.py): behind Rasa's token.
    rasa, token = bot.settings.rasa_url, {"token": api_token(bot.settings)}
    assert requests.post(f"{rasa}/faq/search", json={"text": "parcel"}, timeout=10).status_code in (401, 403)
    assert requests.post(f"{rasa}/faq/search", params=token, json={"text": " "}, timeout=10).status_code == 400
    assert requests.post(f"{rasa}/faq/encode", params=token, json={"texts": ["a"] * 17}, timeout=10).status_code == 400
    encoded = requests.post(f"{rasa}/faq/encode", params=token, json={"texts": ["parcel"]}, timeout=10)
    [vector] = encoded.json()["vectors"]
    assert encoded.json()["version"]  # the index version the vector comes from (kept by the console under it)
    assert abs(sum(x * x for x in vector) - 1) < 0.01  # a unit vector in the index's space
    assert vera.get("/api/handoffs/999999").status_code == 404
    assert vera.get(f"/api/handoffs/{2**63}").status_code == 422  # found by tests/fuzz: was a 500 from the database
    assert vera.post("/api/handoffs/999999/claim").status_code == 404
    assert vera.post("/api/handoffs/1/messages", {"text": ""}).status_code == 422
    assert vera.post("/api/handoffs/1/messages", {"text": "x" * 5000}).status_code == 422
    assert vera.post("/api/handoffs/1/handback", {"mode": "sideways"}).status_code == 400
    assert vera.get("/api/handoffs", status="lost").status_code == 400
    bad = vera.http.post(f"{vera.base}/api/login", data="{not json", headers={"Content-Type": "application/json"})
    assert bad.status_code == 422
    assert ConsoleClient(bot, "vera").login("wrong password").status_code == 401
    spec = vera.get("/api/openapi.json").json()
    assert {"/api/login", "/api/handoffs", "/api/handoffs/{handoff_id}/claim"} <= set(spec["paths"])
    vera.post("/api/logout")
    assert vera.get("/api/me").status_code == 401
