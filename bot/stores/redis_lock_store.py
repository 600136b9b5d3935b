"""Rasa's Redis lock store, with its read-modify-write steps made atomic.

Configured by the production stack (bot/runner.py writes it into endpoints.yml):

    lock_store:
      type: bot.stores.redis_lock_store.AtomicRedisLockStore
      url: 127.0.0.1
      port: 6379

Why: Rasa 3.6's RedisLockStore keeps one conversation's ticket queue as one Redis value and
changes it by GET, change in Python, SET. Two replicas receiving the same customer's messages
at the same moment both GET the empty queue, both take ticket 0, and both process at once: one
message's events are then lost in the tracker store (found by tests/resilience, which sends
one conversation's messages to both replicas at once). Here every change runs in a Redis
optimistic transaction (WATCH the key, change, MULTI/SET/EXEC, retry if another replica wrote
in between), so tickets are issued and returned one at a time across all replicas.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

T = TypeVar("T")


class AtomicRedisLockStore(RedisLockStore):
    """RedisLockStore whose ticket queue changes are atomic across processes."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, **kwargs: Any) -> None:
        if endpoint_config is not None:  # Rasa builds custom lock stores from their endpoint config
            kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def take(lock: TicketLock | None) -> tuple[TicketLock | None, int]:
            lock = lock or self.create_lock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        return self._change(conversation_id, take)

    def update_lock(self, conversation_id: str) -> None:
        def drop_expired(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, None

        self._change(conversation_id, drop_expired)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        self._change(conversation_id, lambda lock: (_without(lock, ticket_number), None))

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Return the ticket; delete the lock if nobody else holds one (in one step)."""
        def release(lock: TicketLock | None) -> tuple[TicketLock | None, None]:
            lock = _without(lock, ticket_number)
            return (lock if lock is not None and lock.is_someone_waiting() else None), None

        self._change(conversation_id, release)

    def _change(self, conversation_id: str, change: Callable[[TicketLock | None], tuple[TicketLock | None, T]]) -> T:
        """Apply `change` to the stored lock atomically; None as the new lock deletes it."""
        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    stored = pipe.get(key)
                    lock, result = change(TicketLock.from_dict(_loads(stored)) if stored else None)
                    pipe.multi()
                    if lock is None:
                        pipe.delete(key)
                    else:
                        pipe.set(key, lock.dumps())
                    pipe.execute()
                    return result
                except redis.WatchError:  # another replica changed the queue meanwhile: read it again
                    continue


def _without(lock: TicketLock | None, ticket_number: int) -> TicketLock | None:
    if lock is not None:
        lock.remove_ticket_for(ticket_number)
    return lock


def _loads(stored: bytes) -> dict[str, Any]:
    return json.loads(stored)
