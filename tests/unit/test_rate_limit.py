"""The per-sender limit (bot/rasa_server/channels/rate_limit.py): in memory on hand-made timelines
(a fake clock, no sleeps), and shared through the machine's real Redis by two limiters, as two
Rasa replicas would share it."""

from __future__ import annotations

import uuid

import pytest
import redis

from bot.rasa_server.channels import rate_limit
from bot.rasa_server.channels.rate_limit import Limit, RateLimiter, from_setting, slow_down
from tests.conftest import missing

REDIS_URL = "redis://127.0.0.1:6379/4"


class Clock:
    """Seconds that move only when the test says so (stands in for the `time` module)."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    import limits.storage.memory

    fake = Clock()
    monkeypatch.setattr(limits.storage.memory, "time", fake)
    monkeypatch.setattr(rate_limit, "time", fake)
    return fake


def test_a_burst_up_to_the_limit_passes_then_the_next_is_refused_with_when_to_retry(clock: Clock) -> None:
    limiter = RateLimiter(Limit(3, 60))
    assert [limiter.check("s").allowed for _ in range(3)] == [True, True, True]
    clock.advance(20)
    refused = limiter.check("s")
    assert not refused.allowed and refused.retry_after == 40  # the window began with the first message


def test_the_next_window_starts_afresh(clock: Clock) -> None:
    limiter = RateLimiter(Limit(2, 10))
    assert [limiter.check("s").allowed for _ in range(3)] == [True, True, False]
    clock.advance(10.5)
    assert [limiter.check("s").allowed for _ in range(3)] == [True, True, False]


def test_senders_do_not_share_a_window(clock: Clock) -> None:
    limiter = RateLimiter(Limit(1, 60))
    assert limiter.check("a").allowed and limiter.check("b").allowed
    assert not limiter.check("a").allowed


def test_the_sender_is_told_once_per_window(clock: Clock) -> None:
    limiter = RateLimiter(Limit(1, 10))
    limiter.check("s")
    assert [limiter.check("s").notify for _ in range(3)] == [True, False, False]
    clock.advance(11)
    limiter.check("s")
    assert limiter.check("s").notify


def test_two_replicas_share_one_limit_through_redis() -> None:
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as error:
        missing(f"Redis not reachable at {REDIS_URL}: {error}")
    first, second = from_setting("3/60", REDIS_URL), from_setting("3/60", REDIS_URL)
    assert first is not None and second is not None
    sender = f"s-{uuid.uuid4().hex}"
    taken = [replica.check(sender).allowed for replica in (first, second, first, second)]
    assert taken == [True, True, True, False]  # three in all, whichever replica took them
    assert RateLimiter(Limit(3, 60)).check(sender).allowed  # a limiter of its own counts apart


def test_an_unreachable_redis_lets_messages_through() -> None:
    limiter = from_setting("1/60", "redis://127.0.0.1:1/0")
    assert limiter is not None
    assert [limiter.check("s").allowed for _ in range(3)] == [True, True, True]


def test_the_setting() -> None:
    assert Limit.parse("30/60") == Limit(30, 60)
    assert Limit.parse(" 5 / 2 ") == Limit(5, 2)
    for off in ("off", "OFF", "none", "0", ""):
        assert Limit.parse(off) is None
        assert from_setting(off) is None
    for bad in ("30", "30/0", "0/60", "-1/60", "a/b", "30/60/90", "5/1.5"):
        with pytest.raises(ValueError, match="BOT_RATE_LIMIT"):
            Limit.parse(bad)
    assert isinstance(from_setting("30/60"), RateLimiter)


def test_the_message_says_to_slow_down_and_when_to_retry() -> None:
    assert "slow down" in slow_down(7) and "7 seconds" in slow_down(7)
    assert "1 second." in slow_down(1)
