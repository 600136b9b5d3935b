"""The per-sender rate limit through the real stack, started with BOT_RATE_LIMIT=4/60: a burst
over REST gets 429 with a message and Retry-After while another sender goes on; a burst on
Telegram is answered 200 with one polite "slow down"; the widget says so too. Refused messages
never reach Rasa, so they leave no interaction record."""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import socketio

from bot.domain.storage.records import iter_records
from tests.conftest import (
    FakeBotApi,
    RunningBot,
    new_chat,
    post_telegram,
    sqlite_url,
    start_bot,
    telegram_settings,
    telegram_update,
)

pytestmark = pytest.mark.integration
BURST = 4
# Widget pacing waits for a reply to each; the model's own greet examples, not "hi number 2"
# (DIET read that as a question in one fresh-clone training: "I don't know" twice, then a handoff).
GREETINGS = ["hi", "hello", "hey there", "good morning"]
WINDOW_SECONDS = 60


@pytest.fixture(scope="module")
def limited_bot(prepared_model: Path, fake_api: FakeBotApi,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBot]:
    tmp = tmp_path_factory.mktemp("limitedstack")
    yield from start_bot(tmp, sqlite_url(tmp), prepared_model, rate_limit=f"{BURST}/{WINDOW_SECONDS}",
                         **telegram_settings(fake_api))


def customer_texts(bot: RunningBot, conversation: str) -> list[str]:
    return [r["text"] for r in iter_records(bot.settings.database_url, conversation_id=conversation)
            if r["actor"] == "customer"]


def test_a_rest_burst_is_refused_with_429_and_when_to_retry(limited_bot: RunningBot) -> None:
    busy, other = f"busy-{uuid.uuid4().hex[:8]}", f"calm-{uuid.uuid4().hex[:8]}"
    for i in range(BURST):
        assert limited_bot.post({"sender": busy, "message": f"hello {i}"}).status_code == 200
    for i in range(2):
        refused = limited_bot.post({"sender": busy, "message": f"refused {i}"})
        assert refused.status_code == 429, refused.text
        retry_after = int(refused.headers["Retry-After"])
        assert 1 <= retry_after <= WINDOW_SECONDS  # when the window that began with the first message ends
        error = refused.json()["error"]
        assert "slow down" in error and re.search(rf"\b{retry_after} seconds?\b", error), error
    assert limited_bot.say(other, "how long does delivery take?")  # someone else is not held up
    assert customer_texts(limited_bot, busy) == [f"hello {i}" for i in range(BURST)]  # nothing refused recorded
    assert limited_bot.post({"sender": busy, "message": ""}).status_code == 400  # bad input is still told why


def test_a_telegram_burst_is_answered_200_and_told_to_slow_down_once(limited_bot: RunningBot,
                                                                      fake_api: FakeBotApi) -> None:
    chat = new_chat()
    replies = [post_telegram(limited_bot, telegram_update(chat, f"hi number {i}")) for i in range(BURST + 3)]
    assert [r.status_code for r in replies] == [200] * (BURST + 3)  # anything else and Telegram redelivers
    notices = [m for m in fake_api.sent_to(chat) if "too quickly" in m["text"]]
    assert len(notices) == 1 and "slow down" in notices[0]["text"]
    # the message that brought the notice is recorded with it; the later refused ones are not
    assert customer_texts(limited_bot, str(chat)) == [f"hi number {i}" for i in range(BURST + 1)]
    records = list(iter_records(limited_bot.settings.database_url, conversation_id=str(chat)))
    assert [(r["actor"], r["text"]) for r in records if r["action"] == "notice:rate_limited"] == [
        ("customer", f"hi number {BURST}"), ("bot", notices[0]["text"])]


def test_the_widget_says_slow_down_and_does_not_process(limited_bot: RunningBot) -> None:
    session = f"limit{uuid.uuid4().hex[:12]}"
    confirmed, replied, refused = threading.Event(), threading.Semaphore(0), threading.Event()
    errors: list[str] = []
    client = socketio.Client()
    client.on("session_confirm", lambda _id: confirmed.set())
    client.on("bot_uttered", lambda _message: replied.release())
    client.on("error_message", lambda message: (errors.append(message["error"]), refused.set()))
    client.connect(limited_bot.settings.rasa_url, transports=["polling"], socketio_path="socket.io")
    try:
        client.emit("session_request", {"session_id": session})
        assert confirmed.wait(30)
        for greeting in GREETINGS:  # small talk the model was trained on: one reply each
            client.emit("user_uttered", {"message": greeting, "session_id": session})
            assert replied.acquire(timeout=60), f"no reply to {greeting!r}"
        client.emit("user_uttered", {"message": "one too many", "session_id": session})
        assert refused.wait(30)
    finally:
        client.disconnect()
    assert len(errors) == 1 and "slow down" in errors[0], errors
    deadline = time.monotonic() + 30  # a turn still running when its first reply arrived is recorded by now
    while len(customer_texts(limited_bot, session)) < BURST and time.monotonic() < deadline:
        time.sleep(0.2)
    assert customer_texts(limited_bot, session) == GREETINGS  # "one too many" was not processed
