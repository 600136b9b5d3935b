"""Small values a channel hands out with one message and must find again with the customer's answer,
on whichever Rasa replica that answer reaches.

Used for button payloads longer than a channel allows (Telegram's 64-byte callback data,
WhatsApp's 256-character reply ids: the button carries a key), for the choices WeChat offers as
numbered lines (the reply is a bare number) and for the widget customer's draft, which the
console asks any replica for (live_typing.py). Behind nginx the answer may reach another
replica than the one that sent the buttons, so with BOT_REDIS_URL set (the production stack)
the values live in Redis, read there first: what one replica kept may have been replaced by
another since. This process keeps its own copy too, for a single replica without Redis and for
when Redis cannot be reached (then a choice offered by another replica is not found, and the
customer's answer is read as text: nothing is lost, a button press may be misunderstood).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from typing import Any

import redis

from bot.config import load_settings

logger = logging.getLogger(__name__)
NAMESPACE = "brightcart"
KEPT_HERE = 10_000  # values this process keeps, the oldest leaving first
TTL_SECONDS = 30 * 24 * 3600  # a button may be pressed weeks later; Redis forgets it after 30 days


class ReplicaMemory:
    """Values by key for one use (`kind`), each for `ttl_seconds`, shared by the replicas through
    Redis when configured (keys "<namespace>:<kind>:<key>")."""

    def __init__(self, kind: str, ttl_seconds: int = TTL_SECONDS, namespace: str = NAMESPACE) -> None:
        self.kind, self.ttl_seconds, self._prefix = kind, ttl_seconds, f"{namespace}:{kind}:"
        self._here: OrderedDict[str, tuple[str, float]] = OrderedDict()  # key -> (value, forgotten at)
        self._lock = threading.Lock()  # drafts are put from worker threads (asyncio.to_thread)
        redis_url = load_settings().redis_url
        self._redis = redis.Redis.from_url(redis_url, socket_timeout=2) if redis_url else None

    def put(self, key: str, value: str) -> None:
        """Keep `value` under `key`, here and for the other replicas."""
        now = time.monotonic()
        with self._lock:
            self._here[key] = (value, now + self.ttl_seconds)
            self._here.move_to_end(key)
            # Oldest first, and all live as long: what is over its time or its number leaves now (a
            # draft is personal text and is not kept in memory after its 30 seconds either).
            while self._here and (len(self._here) > KEPT_HERE or next(iter(self._here.values()))[1] <= now):
                self._here.popitem(last=False)
        self._in_redis("set", key, value, ex=self.ttl_seconds)

    def forget(self, key: str) -> None:
        """No value under `key` any more, here or on the other replicas."""
        with self._lock:
            self._here.pop(key, None)
        self._in_redis("delete", key)

    def get(self, key: str) -> str | None:
        """The value kept under `key` by any replica (None if none, or forgotten)."""
        if self._redis is not None:
            try:
                shared = self._redis.get(self._prefix + key)
            except redis.RedisError:
                logger.warning("Redis unreachable: a %s is looked up on this replica only", self.kind)
            else:
                return shared.decode() if shared is not None else None
        with self._lock:
            value, until = self._here.get(key, (None, 0.0))
        return value if time.monotonic() < until else None

    def _in_redis(self, command: str, key: str, *args: Any, **kwargs: Any) -> None:
        if self._redis is not None:
            try:
                getattr(self._redis, command)(self._prefix + key, *args, **kwargs)
            except redis.RedisError:
                logger.warning("Redis unreachable: a %s is known to this replica only", self.kind)


def payload_key(payload: str) -> str:
    """The short key a long button payload travels as: "#" and 32 hex digits of its hash (the
    same payload, the same key, on every replica)."""
    return "#" + hashlib.sha256(payload.encode()).hexdigest()[:32]
