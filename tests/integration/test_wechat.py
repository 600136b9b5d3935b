"""The WeChat Official Account channel through the real stack, against a local fake of WeChat's
API (access_token and the customer-service message API on loopback): the server URL check,
signatures, passive replies in Chinese, retries, numbered choices, events, and an agent's
reply through the API within WeChat's 48 hours."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import threading
import time
import uuid
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import sqlalchemy as sa

from bot.domain.storage.db import session_scope
from bot.domain.storage.models import InteractionRecord
from bot.domain.storage.records import iter_records
from faq_index import LiveIndex
from tests.conftest import ConsoleClient, RunningBot, add_agent, sqlite_url, start_bot

pytestmark = pytest.mark.integration
TOKEN = "wechat-server-token"
APP_ID, APP_SECRET = "wx0123456789abcdef", "wechat-app-secret"
ACCOUNT = "gh_brightcart"
message_ids = itertools.count(int(time.time() * 1000))
VAGUE = ("my account", "returns", "refund question", "issue with payment", "account help", "payment question")


class FakeWeChatApi:
    """WeChat's API as far as the channel uses it: cgi-bin/token and cgi-bin/message/custom/send."""

    def __init__(self) -> None:
        self.sent: list[dict] = []
        self.token_calls = 0
        self._lock = threading.Condition()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, body: dict) -> None:
                data = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                query = parse_qs(urlsplit(self.path).query)
                if query.get("secret") != [APP_SECRET] or query.get("appid") != [APP_ID]:
                    self._answer({"errcode": 40125, "errmsg": "invalid appsecret"})
                    return
                with fake._lock:
                    fake.token_calls += 1
                self._answer({"access_token": "ACCESS-TOKEN-1", "expires_in": 7200})

            def do_POST(self) -> None:  # noqa: N802
                query = parse_qs(urlsplit(self.path).query)
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                if query.get("access_token") != ["ACCESS-TOKEN-1"]:
                    self._answer({"errcode": 40001, "errmsg": "invalid credential"})
                    return
                with fake._lock:
                    fake.sent.append(body)
                    fake._lock.notify_all()
                self._answer({"errcode": 0, "errmsg": "ok"})

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def sent_to(self, openid: str) -> list[str]:
        with self._lock:
            return [m["text"]["content"] for m in self.sent if m["touser"] == openid]

    def wait_sent(self, openid: str, count: int, timeout: float = 30) -> list[str]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while len([m for m in self.sent if m["touser"] == openid]) < count:
                assert time.monotonic() < deadline, f"only {self.sent_to(openid)} sent to {openid}"
                self._lock.wait(0.2)
        return self.sent_to(openid)


@pytest.fixture(scope="module")
def wechat_api() -> Iterator[FakeWeChatApi]:
    fake = FakeWeChatApi()
    yield fake
    fake.server.shutdown()


@pytest.fixture(scope="module")
def bot(prepared_model: Path, wechat_api: FakeWeChatApi,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBot]:
    """A stack of its own (its agent takes chats) with WeChat against the fake API."""
    tmp = tmp_path_factory.mktemp("wechat")
    yield from start_bot(tmp, sqlite_url(tmp), prepared_model, wechat_app_id=APP_ID, wechat_app_secret=APP_SECRET,
                         wechat_token=TOKEN, wechat_api_url=wechat_api.url)


def signed(token: str = TOKEN) -> dict[str, str]:
    """The query string WeChat adds to every call: signature = SHA1 of the sorted token, timestamp, nonce."""
    timestamp, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
    return {"timestamp": timestamp, "nonce": nonce,
            "signature": hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()}


def follower() -> str:
    return "oBrightcart" + uuid.uuid4().hex[:16]


def xml_message(openid: str, kind: str = "text", msg_id: int | None = None, **fields: str) -> bytes:
    parts = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items())
    message_id = f"<MsgId>{msg_id if msg_id is not None else next(message_ids)}</MsgId>" if kind != "event" else ""
    return (f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[{kind}]]></MsgType>{parts}{message_id}"
            "</xml>").encode()


def post(bot: RunningBot, body: bytes, query: dict[str, str] | None = None) -> requests.Response:
    return requests.post(f"{bot.settings.rasa_url}/webhooks/wechat/webhook",
                         params=signed() if query is None else query, data=body,
                         headers={"Content-Type": "text/xml"}, timeout=30)


def passive(reply: requests.Response, openid: str) -> str:
    """The text of a passive reply, checked to go from the account to the customer."""
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("application/xml"), reply.text
    root = ElementTree.fromstring(reply.content)
    assert (root.findtext("ToUserName"), root.findtext("FromUserName"), root.findtext("MsgType")) == (
        openid, ACCOUNT, "text")
    return root.findtext("Content")


def test_the_server_url_check_answers_only_a_right_signature(bot: RunningBot) -> None:
    url = f"{bot.settings.rasa_url}/webhooks/wechat/webhook"
    ours = requests.get(url, params=signed() | {"echostr": "7421935512"}, timeout=10)
    assert (ours.status_code, ours.text) == (200, "7421935512")
    forged = requests.get(url, params=signed("another-token") | {"echostr": "7421935512"}, timeout=10)
    assert forged.status_code == 403 and "7421935512" not in forged.text


def test_an_unsigned_or_forged_message_is_refused_and_nothing_processed(bot: RunningBot,
                                                                         wechat_api: FakeWeChatApi) -> None:
    openid = follower()
    body = xml_message(openid, Content="运费是多少？")
    assert post(bot, body, query={}).status_code == 403
    assert post(bot, body, query=signed("another-token")).status_code == 403
    time.sleep(1)
    assert list(iter_records(bot.settings.database_url, conversation_id=openid)) == []
    assert wechat_api.sent_to(openid) == []


def test_a_chinese_question_is_answered_in_the_reply_and_a_retry_changes_nothing(bot: RunningBot,
                                                                                  wechat_api: FakeWeChatApi) -> None:
    openid = follower()
    body = xml_message(openid, msg_id=next(message_ids), Content="快递一般几天能到？")
    answer = passive(post(bot, body), openid)
    assert re.search(r"[\u4e00-\u9fff]", answer) and "工作日" in answer  # in Chinese, about delivery days
    again = post(bot, body)  # WeChat sends it again when it heard nothing within 5 s
    assert (again.status_code, again.text) == (200, "success")
    records = list(iter_records(bot.settings.database_url, conversation_id=openid))
    assert [(r["actor"], r["channel"]) for r in records] == [("customer", "wechat"), ("bot", "wechat")]
    assert records[0]["customer_id"] == f"wechat:{openid}" and records[1]["text"] == answer
    assert wechat_api.sent_to(openid) == []  # all within the reply, nothing through the API


def test_choices_are_numbered_and_a_number_chooses(bot: RunningBot) -> None:
    index = LiveIndex(bot.settings.index_dir, poll_seconds=60)
    vague = next(q for q in VAGUE if index.search(q).decision == "suggest")
    openid = follower()
    offered = passive(post(bot, xml_message(openid, Content=vague)), openid)
    first = index.entry(index.search(vague).candidates[0].id)
    assert f"1. {first['question']}" in offered and "回复数字" in offered
    assert passive(post(bot, xml_message(openid, Content="1")), openid) == first["answer"]


def test_a_new_follower_is_greeted_and_a_photo_is_answered_through_the_api(bot: RunningBot,
                                                                           wechat_api: FakeWeChatApi) -> None:
    openid = follower()
    greeted = post(bot, xml_message(openid, "event", Event="subscribe"))
    said = passive(greeted, openid) if greeted.headers["content-type"].startswith("application/xml") \
        else " ".join(wechat_api.wait_sent(openid, 1))
    assert said.strip()
    photo = post(bot, xml_message(openid, "image", PicUrl="http://mmbiz.example/x.jpg", MediaId="media-1"))
    assert (photo.status_code, photo.text) == (200, "success")
    assert "文字" in wechat_api.wait_sent(openid, 1)[-1]  # "we read text" in Chinese, through the API


def test_an_agent_answers_through_the_api_within_48_hours_and_is_refused_after(bot: RunningBot,
                                                                               wechat_api: FakeWeChatApi) -> None:
    add_agent(bot, "wei", "correct horse battery", "--capacity", "3")
    wei = ConsoleClient(bot, "wei")
    wei.login("correct horse battery")
    openid = follower()
    post(bot, xml_message(openid, Content="我要人工客服"))
    handoff = next(h for h in wei.get("/api/handoffs", status="ticket,waiting,active").json()["handoffs"]
                   if h["conversation_id"] == openid)
    if handoff["status"] != "active":
        assert wei.post(f"/api/handoffs/{handoff['id']}/claim").status_code == 200
    answered = wei.post(f"/api/handoffs/{handoff['id']}/messages", {"text": "您好，我是客服小魏。"})
    assert answered.status_code == 200 and answered.json()["sent"] is True
    deadline = time.monotonic() + 30
    while "您好，我是客服小魏。" not in wechat_api.sent_to(openid):  # after "wei from our team has joined"
        assert time.monotonic() < deadline, wechat_api.sent_to(openid)
        time.sleep(0.2)
    assert wechat_api.token_calls == 1  # the access_token is fetched once and kept

    with session_scope(bot.settings.database_url) as session:  # the customer wrote last 49 hours ago
        session.execute(sa.update(InteractionRecord).where(InteractionRecord.conversation_id == openid)
                        .values(created_at=datetime.now(timezone.utc) - timedelta(hours=49)))
    late = wei.post(f"/api/handoffs/{handoff['id']}/messages", {"text": "还在吗？"})
    assert late.status_code == 409 and "WeChat lets a business answer only within 48 hours" in late.json()["detail"]
