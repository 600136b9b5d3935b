"""The WhatsApp channel through the real stack, against a local fake of Meta's Graph API (an HTTP
server on loopback that takes /messages and records what the bot sent): the webhook check,
signatures, a question answered, Meta's retries, buttons and lists, an agent's reply and the
24-hour window."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from bot.domain.storage.db import session_scope
from bot.domain.storage.models import InteractionRecord
from bot.domain.storage.records import iter_records
from faq_index import LiveIndex
from tests.conftest import ConsoleClient, RunningBot, add_agent, sqlite_url, start_bot

pytestmark = pytest.mark.integration
APP_SECRET = "whatsapp-app-secret-for-tests"
VERIFY_TOKEN = "verify-me-please"
PHONE_ID = "109876543210"
message_ids = itertools.count(int(time.time()))
VAGUE = ("my account", "returns", "refund question", "issue with payment", "account help", "payment question")


class FakeGraphApi:
    """Meta's Graph API as far as the channel uses it: POST /<phone number id>/messages."""

    def __init__(self) -> None:
        self.sent: list[dict] = []
        self.failures: list[int] = []
        self._lock = threading.Condition()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                with fake._lock:
                    status = fake.failures.pop(0) if fake.failures else 200
                    if status == 200 and self.path.endswith(f"/{PHONE_ID}/messages"):
                        fake.sent.append(body | {"authorization": self.headers.get("Authorization")})
                        fake._lock.notify_all()
                answer = {"messaging_product": "whatsapp", "messages": [{"id": f"wamid.out{next(message_ids)}"}]} \
                    if status == 200 else {"error": {"message": "try later", "code": 80007}}
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v21.0"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def sent_to(self, wa_id: str) -> list[dict]:
        with self._lock:
            return [m for m in self.sent if m["to"] == wa_id]

    def wait_sent(self, wa_id: str, count: int, timeout: float = 30) -> list[dict]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while len([m for m in self.sent if m["to"] == wa_id]) < count:
                assert time.monotonic() < deadline, f"only {self.sent_to(wa_id)} sent to {wa_id}"
                self._lock.wait(0.2)
        return self.sent_to(wa_id)


@pytest.fixture(scope="module")
def graph() -> Iterator[FakeGraphApi]:
    fake = FakeGraphApi()
    yield fake
    fake.server.shutdown()


@pytest.fixture(scope="module")
def bot(prepared_model: Path, graph: FakeGraphApi, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBot]:
    """A stack of its own (its agents take chats) with WhatsApp against the fake Graph API."""
    tmp = tmp_path_factory.mktemp("whatsapp")
    yield from start_bot(tmp, sqlite_url(tmp), prepared_model, whatsapp_token="EAAG-test-token",
                         whatsapp_app_secret=APP_SECRET, whatsapp_verify_token=VERIFY_TOKEN,
                         whatsapp_phone_number_id=PHONE_ID, whatsapp_api_url=graph.url)


def customer() -> str:
    return "316" + str(uuid.uuid4().int)[:8]


def webhook(wa_id: str, *messages: dict, statuses: list | None = None) -> dict:
    """A webhook batch as Meta sends it."""
    value = {"messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550001111",
                                                           "phone_number_id": PHONE_ID},
             "contacts": [{"profile": {"name": "Jane"}, "wa_id": wa_id}],
             "messages": [{"from": wa_id, "id": f"wamid.HBgL{uuid.uuid4().hex}{uuid.uuid4().hex}",
                           "timestamp": str(int(time.time()))} | m for m in messages]}
    if statuses is not None:
        value = {"messaging_product": "whatsapp", "metadata": value["metadata"], "statuses": statuses}
    return {"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages",
                                                                                        "value": value}]}]}


def text(body: str) -> dict:
    return {"type": "text", "text": {"body": body}}


def post(bot: RunningBot, batch: dict, secret: str | None = APP_SECRET) -> requests.Response:
    raw = json.dumps(batch).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Hub-Signature-256"] = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return requests.post(f"{bot.settings.rasa_url}/webhooks/whatsapp/webhook", data=raw, headers=headers, timeout=60)


def test_meta_s_webhook_check_is_answered_only_with_our_verify_token(bot: RunningBot) -> None:
    url = f"{bot.settings.rasa_url}/webhooks/whatsapp/webhook"
    ours = requests.get(url, params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN,
                                     "hub.challenge": "1158201444"}, timeout=10)
    assert (ours.status_code, ours.text) == (200, "1158201444")
    theirs = requests.get(url, params={"hub.mode": "subscribe", "hub.verify_token": "guess",
                                       "hub.challenge": "1158201444"}, timeout=10)
    assert theirs.status_code == 403 and "1158201444" not in theirs.text


def test_a_missing_or_wrong_signature_is_refused_and_nothing_processed(bot: RunningBot, graph: FakeGraphApi) -> None:
    wa_id = customer()
    batch = webhook(wa_id, text("how long does delivery take?"))
    assert post(bot, batch, secret=None).status_code == 403
    assert post(bot, batch, secret="not-the-app-secret").status_code == 403
    time.sleep(1)
    assert graph.sent_to(wa_id) == []
    assert list(iter_records(bot.settings.database_url, conversation_id=wa_id)) == []


def test_a_question_is_answered_once_however_often_meta_delivers_it(bot: RunningBot, graph: FakeGraphApi) -> None:
    wa_id = customer()
    batch = webhook(wa_id, text("how long does delivery take?"))
    assert post(bot, batch).status_code == 200
    assert post(bot, batch).status_code == 200  # Meta's retry
    [answer] = graph.wait_sent(wa_id, 1)
    assert answer["type"] == "text" and "working days" in answer["text"]["body"]
    assert answer["authorization"] == "Bearer EAAG-test-token"
    time.sleep(1)
    assert len(graph.sent_to(wa_id)) == 1
    records = list(iter_records(bot.settings.database_url, conversation_id=wa_id))
    assert [(r["actor"], r["channel"]) for r in records] == [("customer", "whatsapp"), ("bot", "whatsapp")]
    assert records[0]["customer_id"] == f"whatsapp:{wa_id}"
    statuses = [{"id": "wamid.out1", "status": "read", "timestamp": str(int(time.time())), "recipient_id": wa_id}]
    assert post(bot, webhook(wa_id, statuses=statuses)).status_code == 200  # acknowledged, nothing to do
    assert len(graph.sent_to(wa_id)) == 1
    photo = {"type": "image", "image": {"id": "media-1", "mime_type": "image/jpeg"}}
    assert post(bot, webhook(wa_id, photo)).status_code == 200
    assert "only read text" in graph.wait_sent(wa_id, 2)[-1]["text"]["body"]


def test_did_you_mean_comes_as_a_list_and_a_tapped_row_is_answered(bot: RunningBot, graph: FakeGraphApi) -> None:
    index = LiveIndex(bot.settings.index_dir, poll_seconds=60)
    vague = next(q for q in VAGUE if index.search(q).decision == "suggest")
    wa_id = customer()
    post(bot, webhook(wa_id, text(vague)))
    offered = graph.wait_sent(wa_id, 1)[-1]
    assert offered["type"] == "interactive"
    interactive = offered["interactive"]
    choices = (interactive["action"].get("buttons") or interactive["action"]["sections"][0]["rows"])
    assert 2 <= len(choices) <= 10
    if interactive["type"] == "button":  # titles that fit WhatsApp's 20 characters, at most 3
        assert len(choices) <= 3 and all(len(c["reply"]["title"]) <= 20 for c in choices)
        first = choices[0]["reply"]
    else:  # a list: the whole question as the row's description
        assert all(len(c["title"]) <= 24 and len(c["description"]) <= 72 for c in choices)
        first = choices[0]
    expected = index.entry(index.search(vague).candidates[0].id)["answer"]
    reply_kind = "list_reply" if interactive["type"] == "list" else "button_reply"
    tap = {"type": "interactive", "interactive": {"type": reply_kind,
                                                  reply_kind: {"id": first["id"], "title": first["title"]}}}
    assert post(bot, webhook(wa_id, tap)).status_code == 200
    assert graph.wait_sent(wa_id, 2)[-1]["text"]["body"] == expected


def test_an_agent_answers_within_24_hours_and_is_refused_with_the_reason_after(bot: RunningBot,
                                                                                graph: FakeGraphApi) -> None:
    add_agent(bot, "wanda", "correct horse battery", "--capacity", "3")
    wanda = ConsoleClient(bot, "wanda")
    wanda.login("correct horse battery")
    wa_id = customer()
    post(bot, webhook(wa_id, text("I want to talk to a person")))
    handoff = next(h for h in wanda.get("/api/handoffs", status="ticket,waiting,active").json()["handoffs"]
                   if h["conversation_id"] == wa_id)
    if handoff["status"] != "active":
        assert wanda.post(f"/api/handoffs/{handoff['id']}/claim").status_code == 200
    sent_before = len(graph.sent_to(wa_id))
    answered = wanda.post(f"/api/handoffs/{handoff['id']}/messages", {"text": "Hi, Wanda here. How can I help?"})
    assert answered.status_code == 200 and answered.json()["sent"] is True
    assert graph.wait_sent(wa_id, sent_before + 1)[-1]["text"]["body"] == "Hi, Wanda here. How can I help?"

    with session_scope(bot.settings.database_url) as session:  # the customer wrote last 25 hours ago
        session.execute(sa.update(InteractionRecord).where(InteractionRecord.conversation_id == wa_id)
                        .values(created_at=datetime.now(timezone.utc) - timedelta(hours=25)))
    late = wanda.post(f"/api/handoffs/{handoff['id']}/messages", {"text": "Are you still there?"})
    assert late.status_code == 409
    assert "only within 24 hours of the customer's last message" in late.json()["detail"]
    time.sleep(1)
    assert all(m.get("text", {}).get("body") != "Are you still there?" for m in graph.sent_to(wa_id))
    assert not any(r["text"] == "Are you still there?" for r in iter_records(bot.settings.database_url,
                                                                            conversation_id=wa_id))
