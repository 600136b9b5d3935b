"""Small values a channel hands out with one message and must find again with the customer's answer,
on whichever Rasa replica that answer reaches.

Used for button payloads longer than a channel allows (Telegram's 64-byte callback data,
WhatsApp's 256-character reply ids: the button carries a key) and for the choices WeChat offers as
numbered lines (the reply is a bare number). Behind nginx the answer may reach another replica
than the one that sent the buttons, so with BOT_REDIS_URL set (the production stack) the values
live in Redis, read there first: what one replica kept may have been replaced by another since.
This process keeps its own copy too, for a single replica without Redis and for when Redis
cannot be reached (then a choice offered by another replica is not found, and the customer's
answer is read as text: nothing is lost, a button press may be misunderstood).
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict

import redis

from bot.config import load_settings

logger = logging.getLogger(__name__)
KEY_PREFIX = "brightcart:"
KEPT_HERE = 10_000  # values this process keeps, the oldest leaving first
TTL_SECONDS = 30 * 24 * 3600  # a button may be pressed weeks later; Redis forgets it after 30 days


class ReplicaMemory:
    """Values by key for one use (`kind`), shared by the replicas through Redis when configured."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._here: OrderedDict[str, str] = OrderedDict()
        redis_url = load_settings().redis_url
        self._redis = redis.Redis.from_url(redis_url, socket_timeout=2) if redis_url else None

    def put(self, key: str, value: str) -> None:
        """Keep `value` under `key`, here and for the other replicas."""
        self._here[key] = value
        self._here.move_to_end(key)
        while len(self._here) > KEPT_HERE:
            self._here.popitem(last=False)
        if self._redis is not None:
            try:
                self._redis.set(self._shared_key(key), value, ex=TTL_SECONDS)
            except redis.RedisError:
                logger.warning("Redis unreachable: a %s is known to this replica only", self.kind)

    def get(self, key: str) -> str | None:
        """The value kept under `key` by any replica (None if none, or forgotten)."""
        if self._redis is not None:
            try:
                shared = self._redis.get(self._shared_key(key))
            except redis.RedisError:
                logger.warning("Redis unreachable: a %s is looked up on this replica only", self.kind)
            else:
                return shared.decode() if shared is not None else None
        return self._here.get(key)

    def _shared_key(self, key: str) -> str:
        return f"{KEY_PREFIX}{self.kind}:{key}"


def payload_key(payload: str) -> str:
    """The short key a long button payload travels as: "#" and 32 hex digits of its hash (the
    same payload, the same key, on every replica)."""
    return "#" + hashlib.sha256(payload.encode()).hexdigest()[:32]
