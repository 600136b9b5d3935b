"""Per-sender rate limit for the customer channels (REST, Telegram, the web widget).

A token bucket per sender: `messages` tokens, refilled evenly over `seconds` (the setting
`BOT_RATE_LIMIT`, e.g. "30/60": bursts of up to 30 messages, then one every 2 seconds on
average). A message takes a token; with none left it is refused before Rasa sees it: it is not
processed, and not recorded unless it brought the Telegram notice below (then both are). The
channels answer a refusal their own way: REST with 429, a JSON `error` and `Retry-After`;
Telegram with 200 (anything else makes Telegram deliver the update again) and, at most once per
window, a polite "slow down" in the chat; the widget with an `error_message` event.

Memory stays bounded: a sender idle long enough for the bucket to be full again is forgotten
(a new bucket would be identical), and at most `max_senders` are tracked (beyond that the least
recently seen are forgotten, i.e. start again with a full bucket).

The limit is per process: with several Rasa server replicas each counts separately. It counts
senders, which a REST client chooses itself; a client that invents a new sender id for every
message is stopped by the per-client-IP limit of the production nginx in front
(bot/ops/production/nginx.py), not here.
"""

from __future__ import annotations

import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

MAX_SENDERS = 100_000
_SETTING = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*$")


@dataclass(frozen=True)
class Limit:
    """`messages` per `seconds` for one sender."""

    messages: int
    seconds: float

    @classmethod
    def parse(cls, setting: str) -> Limit | None:
        """"30/60" -> Limit(30, 60.0); "off", "none", "0" or "" -> None (no limit)."""
        if setting.strip().lower() in ("", "off", "none", "0"):
            return None
        found = _SETTING.match(setting)
        if not found or int(found.group(1)) < 1 or float(found.group(2)) <= 0:
            raise ValueError(f"BOT_RATE_LIMIT must look like 30/60 (messages/seconds) or 'off', not {setting!r}")
        return cls(int(found.group(1)), float(found.group(2)))

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds


@dataclass(frozen=True)
class Decision:
    """Whether a message may go on; if not, when to retry and whether to tell the sender now."""

    allowed: bool
    retry_after: int = 0  # whole seconds until the next message would be accepted
    notify: bool = False  # first refusal in this window: worth telling the customer (Telegram)


@dataclass
class _Bucket:
    tokens: float
    updated: float
    notified_at: float | None = None


class RateLimiter:
    """Token buckets per sender, with an injectable clock (monotonic seconds) for tests."""

    def __init__(self, limit: Limit, max_senders: int = MAX_SENDERS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if max_senders < 1:
            raise ValueError("max_senders must be at least 1")
        self.limit = limit
        self.max_senders = max_senders
        self.clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()  # least recently seen first

    def __len__(self) -> int:
        """How many senders are tracked now."""
        return len(self._buckets)

    def check(self, sender: str) -> Decision:
        """Take a token for `sender` if there is one."""
        now = self.clock()
        self._forget_idle(now)
        bucket = self._buckets.pop(sender, None)
        if bucket is None:
            bucket = _Bucket(tokens=float(self.limit.messages), updated=now)
        else:
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(float(self.limit.messages), bucket.tokens + elapsed * self.limit.per_second)
            bucket.updated = now
        self._buckets[sender] = bucket  # most recently seen last
        while len(self._buckets) > self.max_senders:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return Decision(allowed=True)
        retry_after = max(1, math.ceil((1.0 - bucket.tokens) / self.limit.per_second))
        notify = bucket.notified_at is None or now - bucket.notified_at >= self.limit.seconds
        if notify:
            bucket.notified_at = now
        return Decision(allowed=False, retry_after=retry_after, notify=notify)

    def _forget_idle(self, now: float) -> None:
        """Drop senders whose bucket has refilled completely (and whose notice window is over):
        they are indistinguishable from new ones. The oldest come first, so this stops early."""
        while self._buckets:
            sender, bucket = next(iter(self._buckets.items()))
            if now - bucket.updated < self.limit.seconds:
                return
            del self._buckets[sender]


def from_setting(setting: str) -> RateLimiter | None:
    """The limiter for a BOT_RATE_LIMIT value, or None when the limit is off."""
    limit = Limit.parse(setting)
    return None if limit is None else RateLimiter(limit)


def slow_down(retry_after: int) -> str:
    """What a refused customer is told."""
    unit = "second" if retry_after == 1 else "seconds"
    return (f"You are sending messages too quickly, so I did not read the last one. Please slow down and "
            f"send it again in {retry_after} {unit}.")
