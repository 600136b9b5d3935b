"""What a channel hands out with one message and must find again with the customer's answer, with
several Rasa replicas (bot/rasa_server/channels/replica_memory.py): long button payloads that
travel as a key (Telegram, WhatsApp) and WeChat's numbered choices are understood by another
replica through the machine's real Redis; without Redis, by the replica that sent them. The
widget customer's draft, which the console may ask any replica for, is kept the same way."""

from __future__ import annotations

import time
import uuid

import pytest
import redis
from telegram import Bot

from bot.rasa_server.channels.live_typing import Drafts
from bot.rasa_server.channels.replica_memory import ReplicaMemory
from bot.rasa_server.channels.telegram import TelegramOutput
from bot.rasa_server.channels.wechat import WeChatOutput
from bot.rasa_server.channels.whatsapp import WhatsAppOutput
from tests.conftest import missing

REDIS_URL = "redis://127.0.0.1:6379/3"
CHOICES = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]


def use_shared_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replicas made from here on share the machine's Redis."""
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as error:
        missing(f"Redis not reachable at {REDIS_URL}: {error}")
    monkeypatch.setenv("BOT_REDIS_URL", REDIS_URL)


@pytest.fixture
def shared_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    use_shared_redis(monkeypatch)


def long_payload() -> str:
    return '/choose_faq{"faq_id": "' + "returns-" * 40 + uuid.uuid4().hex + '"}'


def wechat() -> WeChatOutput:
    return WeChatOutput("app", "secret", "http://127.0.0.1:1")


def test_a_long_telegram_payload_from_one_replica_is_resolved_by_another(shared_redis: None) -> None:
    first, second = TelegramOutput(Bot("123:abc")), TelegramOutput(Bot("123:abc"))
    payload = long_payload()
    key = first._callback_data(payload)
    assert key.startswith("#") and len(key.encode()) <= 64
    assert second.payload_for(key) == payload
    assert second.payload_for("#" + "0" * 32) is None  # an unknown key: no payload, no error


def test_short_telegram_payloads_travel_as_they_are(shared_redis: None) -> None:
    first, second = TelegramOutput(Bot("123:abc")), TelegramOutput(Bot("123:abc"))
    assert first._callback_data("/affirm") == "/affirm"
    assert second.payload_for("/affirm") == "/affirm"


def test_a_long_whatsapp_reply_id_from_one_replica_is_resolved_by_another(shared_redis: None) -> None:
    first, second = (WhatsAppOutput("token", "100", "http://127.0.0.1:1") for _ in range(2))
    payload = long_payload()
    reply_id = first._reply_id(payload)
    assert reply_id.startswith("#") and len(reply_id) <= 256
    assert second.payload_for(reply_id) == payload


def test_a_wechat_number_is_read_against_the_newest_choices_whichever_replica_offered_them(shared_redis: None) -> None:
    first, second, openid = wechat(), wechat(), f"o-{uuid.uuid4().hex}"
    first.remember_choices(openid, CHOICES)
    assert second.choice(openid, " 2 ") == "/deny"
    second.remember_choices(openid, [{"title": "Talk to a person", "payload": "/human_handoff"}])
    assert first.choice(openid, "1") == "/human_handoff"  # not the choices it offered itself before
    assert first.choice(openid, "2") is None  # a number not offered: read as text
    assert first.choice(openid, "hello") is None


def test_without_redis_the_replica_that_offered_the_choice_understands_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOT_REDIS_URL", raising=False)
    only, openid = wechat(), f"o-{uuid.uuid4().hex}"
    only.remember_choices(openid, CHOICES)
    assert only.choice(openid, "1") == "/affirm"
    telegram = TelegramOutput(Bot("123:abc"))
    payload = long_payload()
    assert telegram.payload_for(telegram._callback_data(payload)) == payload


def test_an_unreachable_redis_falls_back_to_what_this_replica_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_REDIS_URL", "redis://127.0.0.1:1/0")
    only, openid = wechat(), f"o-{uuid.uuid4().hex}"
    only.remember_choices(openid, CHOICES)  # logged, not raised
    assert only.choice(openid, "2") == "/deny"


def test_a_widget_draft_typed_on_one_replica_is_read_on_another_until_sent(shared_redis: None) -> None:
    namespace, conversation = f"test-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    first, second = Drafts(namespace), Drafts(namespace)
    first.put(conversation, "where is my par")
    assert second.get(conversation) == "where is my par"
    first.put(conversation, "")  # sent
    assert second.get(conversation) == ""


@pytest.mark.parametrize("with_redis", [True, False], ids=["in Redis", "in the process"])
def test_a_value_is_forgotten_once_its_time_is_up(with_redis: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if with_redis:
        use_shared_redis(monkeypatch)
    else:
        monkeypatch.delenv("BOT_REDIS_URL", raising=False)
    memory, key = ReplicaMemory("short-lived", ttl_seconds=1), uuid.uuid4().hex
    memory.put(key, "soon gone")
    assert memory.get(key) == "soon gone"
    time.sleep(1.5)
    assert memory.get(key) is None


def test_what_is_over_its_time_leaves_the_process_at_the_next_put(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOT_REDIS_URL", raising=False)
    memory = ReplicaMemory("draft", ttl_seconds=1)
    memory.put("old", "a draft nobody sent")
    time.sleep(1.5)
    memory.put("new", "another")
    assert list(memory._here) == ["new"]  # the old draft's text is no longer held
