"""Per-sender rate limit for the customer channels (REST, Telegram, the web widget).

`BOT_RATE_LIMIT`, e.g. "30/60": at most 30 messages per sender in a 60-second window that starts
with the sender's first message (a fixed window, counted by the `limits` library). A message
over the limit is refused before Rasa sees it: it is not processed, and not recorded unless it
brought the Telegram notice below (then both are). The channels answer a refusal their own way:
REST with 429, a JSON `error` and `Retry-After`; Telegram with 200 (anything else makes Telegram
deliver the update again) and, at most once per window, a polite "slow down" in the chat; the
widget with an `error_message` event.

Where the counts live: with BOT_REDIS_URL set (the production stack), in Redis, so every Rasa
replica counts against the same limit (nginx spreads one customer's messages over replicas);
otherwise in this process's memory, where a window's count is dropped when it expires. If Redis
cannot be reached, messages are let through (with a warning in the log): an outage of the
limit's store must not silence the bot.

It counts senders, which a REST client chooses itself; a client that invents a new sender id
for every message is stopped by the per-client-IP limit of the production nginx in front
(bot/ops/production/nginx.py), not here.
"""

from __future__ import annotations

import logging
import math
import re
import time
from dataclasses import dataclass

from limits import RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from redis.exceptions import RedisError

from bot.config import Settings

logger = logging.getLogger(__name__)
_SETTING = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
KEY = "brightcart-rate"  # namespace of the counts in a shared Redis


@dataclass(frozen=True)
class Limit:
    """`messages` per `seconds` for one sender."""

    messages: int
    seconds: int

    @classmethod
    def parse(cls, setting: str) -> Limit | None:
        """"30/60" -> Limit(30, 60); "off", "none", "0" or "" -> None (no limit)."""
        if setting.strip().lower() in ("", "off", "none", "0"):
            return None
        found = _SETTING.match(setting)
        if not found or int(found.group(1)) < 1 or int(found.group(2)) < 1:
            raise ValueError(f"BOT_RATE_LIMIT must look like 30/60 (messages/whole seconds) or 'off', not {setting!r}")
        return cls(int(found.group(1)), int(found.group(2)))


@dataclass(frozen=True)
class Decision:
    """Whether a message may go on; if not, when to retry and whether to tell the sender now."""

    allowed: bool
    retry_after: int = 0  # whole seconds until the next message would be accepted
    notify: bool = False  # first refusal in this window: worth telling the customer (Telegram)


class RateLimiter:
    """Fixed windows per sender in `storage` ("memory://", or a redis:// URL to share them)."""

    def __init__(self, limit: Limit, storage: str = "memory://") -> None:
        self.limit = limit
        self.messages = RateLimitItemPerSecond(limit.messages, limit.seconds)
        self.notices = RateLimitItemPerSecond(1, limit.seconds)  # one "slow down" per window
        self.store = storage_from_string(storage)  # held here: the strategy keeps only a weak reference
        self.windows = FixedWindowRateLimiter(self.store)

    def check(self, sender: str) -> Decision:
        """Count a message of `sender`; whether it may go on."""
        try:
            if self.windows.hit(self.messages, KEY, "message", sender):
                return Decision(allowed=True)
            reset, _ = self.windows.get_window_stats(self.messages, KEY, "message", sender)
            notify = self.windows.hit(self.notices, KEY, "notice", sender)
        except (RedisError, OSError) as error:  # the limit's store is down: let the customer through
            logger.warning("rate limit not applied, its store is unreachable: %s", error)
            return Decision(allowed=True)
        return Decision(allowed=False, retry_after=max(1, math.ceil(reset - time.time())), notify=notify)


def for_settings(settings: Settings) -> RateLimiter | None:
    """The channels' limiter: BOT_RATE_LIMIT, shared through BOT_REDIS_URL when set."""
    return from_setting(settings.rate_limit, settings.redis_url)


def from_setting(setting: str, redis_url: str = "") -> RateLimiter | None:
    """The limiter for a BOT_RATE_LIMIT value (shared through Redis when `redis_url` is set), or
    None when the limit is off."""
    limit = Limit.parse(setting)
    if limit is None:
        return None
    return RateLimiter(limit, redis_url or "memory://")


def slow_down(retry_after: int) -> str:
    """What a refused customer is told."""
    unit = "second" if retry_after == 1 else "seconds"
    return (f"You are sending messages too quickly, so I did not read the last one. Please slow down and "
            f"send it again in {retry_after} {unit}.")
