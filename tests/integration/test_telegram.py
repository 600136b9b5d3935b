"""The Telegram channel through the real stack, against a local fake of Telegram's Bot API
(an HTTP server in this test that implements the few methods used and records the calls)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import requests

from bot.channels.delivery import undelivered
from bot.channels.telegram import SECRET_HEADER, split_text
from bot.handoff import rasa_push
from bot.storage.records import iter_records
from tests.conftest import RunningBot, sqlite_url, start_bot

pytestmark = pytest.mark.integration
TOKEN = "123456:TEST-token"
SECRET = "s3cret-for-the-webhook"
_ids = itertools.count(int(time.time()))


class FakeBotApi:
    """Telegram's Bot API as far as the channel uses it: getMe, sendMessage, answerCallbackQuery.
    `fail_next` makes the next sendMessage calls answer with given errors (429, 5xx)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []
        self.failures: list[tuple[int, dict]] = []
        self.pending_updates: list[dict] = []  # what getUpdates hands out (polling mode)
        self._lock = threading.Condition()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                method = self.path.rsplit("/", 1)[-1]
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                params = fake._params(raw, self.headers.get("Content-Type", ""))
                status, body = fake._answer(method, params)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def fail_next(self, *failures: tuple[int, dict]) -> None:
        with self._lock:
            self.failures.extend(failures)

    def sent_to(self, chat_id: int) -> list[dict]:
        with self._lock:
            return [p for m, p in self.calls if m == "sendMessage" and str(p.get("chat_id")) == str(chat_id)]

    def calls_of(self, method: str) -> list[dict]:
        with self._lock:
            return [p for m, p in self.calls if m == method]

    def wait_sent(self, chat_id: int, count: int, timeout: float = 30) -> list[dict]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.sent_to(chat_id)) < count:
                assert time.monotonic() < deadline, f"only {self.sent_to(chat_id)} sent to {chat_id}"
                self._lock.wait(0.2)
        return self.sent_to(chat_id)

    def _params(self, raw: str, content_type: str) -> dict:
        if "json" in content_type:
            return json.loads(raw or "{}")
        params = {k: v[0] for k, v in parse_qs(raw).items()}
        for key in ("reply_markup",):
            if key in params:
                params[key] = json.loads(params[key])
        return params

    def _answer(self, method: str, params: dict) -> tuple[int, dict]:
        with self._lock:
            self.calls.append((method, params))
            self._lock.notify_all()
            if method == "sendMessage" and self.failures:
                status, body = self.failures.pop(0)
                self.calls[-1] = ("sendMessage:failed", params)
                return status, body
        if method == "getMe":
            return 200, {"ok": True, "result": {"id": 42, "is_bot": True, "first_name": "Brightcart",
                                                "username": "brightcart_test_bot"}}
        if method == "getUpdates":
            with self._lock:
                offset = int(params.get("offset") or 0)
                updates = [u for u in self.pending_updates if u["update_id"] >= offset]
            if not updates:
                time.sleep(0.3)  # a short "long poll"
            return 200, {"ok": True, "result": updates}
        if method == "sendMessage":
            return 200, {"ok": True, "result": {"message_id": next(_ids), "date": int(time.time()),
                                                "chat": {"id": int(params["chat_id"]), "type": "private"},
                                                "text": params.get("text", "")}}
        return 200, {"ok": True, "result": True}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def fake_api() -> Iterator[FakeBotApi]:
    fake = FakeBotApi()
    yield fake
    fake.close()


@pytest.fixture(scope="module")
def tg_bot(prepared_model: Path, fake_api: FakeBotApi,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBot]:
    tmp = tmp_path_factory.mktemp("tgstack")
    yield from start_bot(tmp, sqlite_url(tmp), prepared_model, telegram_token=TOKEN, telegram_secret=SECRET,
                         telegram_api_url=fake_api.url)


def new_chat() -> int:
    return 10_000_000 + uuid.uuid4().int % 90_000_000


def message_update(chat_id: int, text: str | None = None, **extra: object) -> dict:
    message = {"message_id": next(_ids), "date": int(time.time()), "chat": {"id": chat_id, "type": "private"},
               "from": {"id": chat_id, "is_bot": False, "first_name": "Jane"}}
    if text is not None:
        message["text"] = text
    return {"update_id": next(_ids), "message": message | extra}


def post(bot: RunningBot, update: dict, secret: str | None = SECRET) -> requests.Response:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    return requests.post(f"{bot.settings.rasa_url}/webhooks/telegram/webhook", json=update, headers=headers,
                         timeout=60)


def test_a_question_is_answered_in_the_chat(tg_bot: RunningBot, fake_api: FakeBotApi) -> None:
    chat = new_chat()
    assert post(tg_bot, message_update(chat, "how long does delivery take?")).status_code == 200
    answer = fake_api.wait_sent(chat, 1)[0]["text"]
    assert "deliver" in answer.lower() and "working days" in answer.lower()
    records = list(iter_records(tg_bot.settings.database_url, conversation_id=str(chat)))
    assert [(r["actor"], r["channel"]) for r in records] == [("customer", "telegram"), ("bot", "telegram")]
    assert records[0]["customer_id"] == f"telegram:{chat}"


def test_buttons_are_an_inline_keyboard_and_a_press_sends_its_payload(tg_bot: RunningBot,
                                                                       fake_api: FakeBotApi) -> None:
    chat = new_chat()
    post(tg_bot, message_update(chat, "I want to make a complaint"))
    asked = fake_api.wait_sent(chat, 1)[-1]
    keyboard = asked["reply_markup"]["inline_keyboard"]
    billing = next(row[0] for row in keyboard if row[0]["text"] == "Billing")
    press = {"update_id": next(_ids), "callback_query": {
        "id": str(next(_ids)), "chat_instance": "ci", "data": billing["callback_data"],
        "from": {"id": chat, "is_bot": False, "first_name": "Jane"},
        "message": {"message_id": next(_ids), "date": int(time.time()), "chat": {"id": chat, "type": "private"},
                    "text": asked["text"]}}}
    assert post(tg_bot, press).status_code == 200
    assert "order reference" in fake_api.wait_sent(chat, 2)[-1]["text"]
    answered = [c["callback_query_id"] for c in fake_api.calls_of("answerCallbackQuery")]
    assert press["callback_query"]["id"] in answered
    customer = [r for r in iter_records(tg_bot.settings.database_url, conversation_id=str(chat))
                if r["actor"] == "customer"]
    assert customer[-1]["text"] == billing["callback_data"]  # the payload, e.g. /inform{"complaint_category": ...}


def test_a_redelivered_update_is_processed_once(tg_bot: RunningBot, fake_api: FakeBotApi) -> None:
    chat = new_chat()
    update = message_update(chat, "can I pay with paypal?")
    assert post(tg_bot, update).status_code == 200
    assert post(tg_bot, update).status_code == 200
    fake_api.wait_sent(chat, 1)
    time.sleep(1)
    assert len(fake_api.sent_to(chat)) == 1
    customer = [r for r in iter_records(tg_bot.settings.database_url, conversation_id=str(chat))
                if r["actor"] == "customer"]
    assert len(customer) == 1


def test_a_wrong_or_missing_secret_is_refused_and_nothing_processed(tg_bot: RunningBot, fake_api: FakeBotApi) -> None:
    chat = new_chat()
    assert post(tg_bot, message_update(chat, "hello"), secret="guess").status_code == 403
    assert post(tg_bot, message_update(chat, "hello"), secret=None).status_code == 403
    time.sleep(1)
    assert fake_api.sent_to(chat) == []
    assert list(iter_records(tg_bot.settings.database_url, conversation_id=str(chat))) == []


def test_stickers_photos_and_edits_get_a_polite_answer(tg_bot: RunningBot, fake_api: FakeBotApi) -> None:
    chat = new_chat()
    sticker = message_update(chat, None, sticker={"file_id": "f", "file_unique_id": "u", "type": "regular",
                                                  "width": 512, "height": 512, "is_animated": False,
                                                  "is_video": False})
    assert post(tg_bot, sticker).status_code == 200
    assert "only read text" in fake_api.wait_sent(chat, 1)[-1]["text"]
    edited = message_update(chat, "edited text")
    edited["edited_message"] = edited.pop("message") | {"edit_date": int(time.time())}
    assert post(tg_bot, edited).status_code == 200
    assert "edited" in fake_api.wait_sent(chat, 2)[-1]["text"]
    assert post(tg_bot, {"update_id": next(_ids)}).status_code == 200  # an update kind we don't use
    assert post(tg_bot, ["not", "an", "update"]).status_code == 400


def test_429_and_5xx_are_retried_until_delivered(tg_bot: RunningBot, fake_api: FakeBotApi) -> None:
    chat = new_chat()
    fake_api.fail_next(
        (429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
               "parameters": {"retry_after": 1}}),
        (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}),
    )
    post(tg_bot, message_update(chat, "hi"))
    assert fake_api.wait_sent(chat, 1)[0]["text"].startswith("Hi!")
    failed = [p for m, p in fake_api.calls if m == "sendMessage:failed" and str(p["chat_id"]) == str(chat)]
    assert len(failed) == 2


def test_a_reply_that_cannot_be_delivered_is_recorded(tg_bot: RunningBot, fake_api: FakeBotApi) -> None:
    chat = new_chat()
    fake_api.fail_next(*[(500, {"ok": False, "error_code": 500, "description": "Internal Server Error"})] * 5)
    post(tg_bot, message_update(chat, "hello there"))
    deadline = time.monotonic() + 30
    while not undelivered(tg_bot.settings.database_url, str(chat)) and time.monotonic() < deadline:
        time.sleep(0.5)
    lost = undelivered(tg_bot.settings.database_url, str(chat))
    assert len(lost) == 1 and lost[0]["channel"] == "telegram" and lost[0]["text"].startswith("Hi!")


def test_an_agent_message_reaches_the_telegram_chat(tg_bot: RunningBot, fake_api: FakeBotApi) -> None:
    chat = new_chat()
    post(tg_bot, message_update(chat, "hi"))
    fake_api.wait_sent(chat, 1)
    rasa_push.send_agent_message(tg_bot.settings, str(chat), "Hello from Alice at Brightcart", "alice")
    assert fake_api.wait_sent(chat, 2)[-1]["text"] == "Hello from Alice at Brightcart"
    records = list(iter_records(tg_bot.settings.database_url, conversation_id=str(chat)))
    assert (records[-1]["actor"], records[-1]["channel"]) == ("agent", "telegram")


def test_polling_mode_feeds_updates_to_the_running_bot(tg_bot: RunningBot, fake_api: FakeBotApi) -> None:
    chat = new_chat()
    with fake_api._lock:
        fake_api.pending_updates.append(message_update(chat, "do you ship to Ireland?"))
    poller = subprocess.Popen([sys.executable, "-m", "bot", "telegram", "--polling"], env=tg_bot.env(),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        answer = fake_api.wait_sent(chat, 1, timeout=60)[0]["text"]
    finally:
        poller.terminate()
        output = poller.communicate(timeout=30)[0]
    assert answer and "polling Telegram as @brightcart_test_bot" in output
    assert fake_api.calls_of("deleteWebhook")  # getUpdates only works without a webhook
    assert len(fake_api.sent_to(chat)) == 1  # the update was handed over once


def test_a_turn_that_cannot_be_recorded_sends_nothing_and_is_processed_on_redelivery(
        tg_bot: RunningBot, fake_api: FakeBotApi) -> None:
    import sqlalchemy as sa

    chat = new_chat()
    update = message_update(chat, "how long does delivery take?")
    engine = sa.create_engine(tg_bot.settings.database_url)
    with engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE interaction_records RENAME TO interaction_records_away"))
    try:
        failed = post(tg_bot, update)
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text("ALTER TABLE interaction_records_away RENAME TO interaction_records"))
        engine.dispose()
    assert failed.status_code == 500  # Telegram will deliver it again
    time.sleep(1)
    assert fake_api.sent_to(chat) == []  # no reply that the records do not back
    assert post(tg_bot, update).status_code == 200  # the redelivery
    assert "deliver" in fake_api.wait_sent(chat, 1)[0]["text"].lower()
    records = list(iter_records(tg_bot.settings.database_url, conversation_id=str(chat)))
    assert [r["actor"] for r in records] == ["customer", "bot"]


def test_long_text_is_split_at_telegrams_limit() -> None:
    text = ("A sentence about delivery times and returns. " * 200).strip()
    parts = split_text(text)
    assert len(parts) == 3 and all(len(p) <= 4096 for p in parts)
    assert " ".join(parts) == text
    assert split_text("x" * 5000) == ["x" * 4096, "x" * 904]
