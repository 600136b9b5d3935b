"""Long Telegram button payloads (> 64 bytes travel as a key) with several Rasa replicas: the
key one replica hands out is understood by another through the machine's real Redis."""

from __future__ import annotations

import uuid

import pytest
import redis
from telegram import Bot

from bot.rasa_server.channels.telegram import TelegramOutput
from tests.conftest import missing

REDIS_URL = "redis://127.0.0.1:6379/3"


@pytest.fixture
def replicas(monkeypatch: pytest.MonkeyPatch) -> tuple[TelegramOutput, TelegramOutput]:
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as error:
        missing(f"Redis not reachable at {REDIS_URL}: {error}")
    monkeypatch.setenv("BOT_REDIS_URL", REDIS_URL)
    return TelegramOutput(Bot("123:abc")), TelegramOutput(Bot("123:abc"))


def test_a_long_payload_from_one_replica_is_resolved_by_another(replicas: tuple[TelegramOutput, ...]) -> None:
    first, second = replicas
    payload = '/choose_faq{"faq_id": "' + "returns-" * 10 + uuid.uuid4().hex + '"}'
    key = first._callback_data(payload)
    assert key.startswith("#") and len(key.encode()) <= 64
    assert second.payload_for(key) == payload
    assert second.payload_for("#" + "0" * 32) is None  # an unknown key: no payload, no error


def test_short_payloads_travel_as_they_are(replicas: tuple[TelegramOutput, ...]) -> None:
    first, second = replicas
    assert first._callback_data("/affirm") == "/affirm"
    assert second.payload_for("/affirm") == "/affirm"
