"""The per-sender token bucket (bot/rasa_server/channels/rate_limit.py) on hand-made timelines: a fake clock,
no sleeps."""

from __future__ import annotations

import pytest

from bot.rasa_server.channels.rate_limit import Limit, RateLimiter, from_setting, slow_down


class Clock:
    """Seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def limiter(messages: int = 3, seconds: float = 6.0, max_senders: int = 100) -> tuple[RateLimiter, Clock]:
    clock = Clock()
    return RateLimiter(Limit(messages, seconds), max_senders=max_senders, clock=clock), clock


def test_a_burst_up_to_the_limit_passes_then_the_next_is_refused_with_when_to_retry() -> None:
    limit, _ = limiter(3, 6.0)  # one token back every 2 s
    assert [limit.check("a").allowed for _ in range(3)] == [True, True, True]
    refused = limit.check("a")
    assert not refused.allowed and refused.retry_after == 2


def test_tokens_come_back_at_the_configured_rate() -> None:
    limit, clock = limiter(3, 6.0)
    for _ in range(3):
        limit.check("a")
    clock.advance(1.0)  # half a token
    assert limit.check("a").retry_after == 1
    clock.advance(1.0)
    assert limit.check("a").allowed
    assert not limit.check("a").allowed
    clock.advance(60.0)  # never more than a full bucket
    assert [limit.check("a").allowed for _ in range(4)] == [True, True, True, False]


def test_senders_do_not_share_a_bucket() -> None:
    limit, _ = limiter(2, 10.0)
    assert [limit.check("a").allowed for _ in range(3)] == [True, True, False]
    assert [limit.check("b").allowed for _ in range(2)] == [True, True]


def test_refused_messages_take_no_token() -> None:
    limit, clock = limiter(1, 4.0)
    limit.check("a")
    for _ in range(10):
        assert not limit.check("a").allowed  # hammering does not push the next slot further out
    clock.advance(4.0)
    assert limit.check("a").allowed


def test_notify_once_per_window() -> None:
    limit, clock = limiter(1, 10.0)
    limit.check("a")
    assert limit.check("a").notify
    clock.advance(2.0)
    assert not limit.check("a").notify
    clock.advance(9.0)  # 11 s after the last notice; the refill allowed one message
    assert limit.check("a").allowed
    refused = limit.check("a")
    assert not refused.allowed and refused.notify


def test_idle_senders_are_forgotten() -> None:
    limit, clock = limiter(2, 5.0)
    for sender in ("a", "b", "c"):
        limit.check(sender)
    assert len(limit) == 3
    clock.advance(3.0)
    limit.check("c")
    assert len(limit) == 3  # nobody idle for a whole window yet
    clock.advance(2.5)  # a and b: idle 5.5 s, their buckets full again
    limit.check("d")
    assert len(limit) == 2  # c and d
    assert [limit.check("a").allowed for _ in range(3)] == [True, True, False]  # a starts afresh, rightly


def test_the_number_of_tracked_senders_is_capped() -> None:
    limit, clock = limiter(1, 60.0, max_senders=3)
    for i in range(10):
        limit.check(f"s{i}")
        clock.advance(0.01)
        assert len(limit) <= 3
    assert not limit.check("s9").allowed  # the most recent are still tracked
    assert limit.check("s0").allowed  # the least recently seen was forgotten


def test_the_setting() -> None:
    assert Limit.parse("30/60") == Limit(30, 60.0)
    assert Limit.parse(" 5 / 1.5 ") == Limit(5, 1.5)
    for off in ("off", "OFF", "none", "0", ""):
        assert Limit.parse(off) is None
        assert from_setting(off) is None
    for bad in ("30", "30/0", "0/60", "-1/60", "a/b", "30/60/90"):
        with pytest.raises(ValueError, match="BOT_RATE_LIMIT"):
            Limit.parse(bad)
    assert isinstance(from_setting("30/60"), RateLimiter)


def test_the_message_says_to_slow_down_and_when_to_retry() -> None:
    assert "slow down" in slow_down(7) and "7 seconds" in slow_down(7)
    assert "1 second." in slow_down(1)
