"""Rasa's Redis lock store, with its read-modify-write steps made atomic.

Configured by the production stack (bot/ops/runner.py writes it into endpoints.yml):

    lock_store:
      type: bot.rasa_server.stores.redis_lock_store.AtomicRedisLockStore
      url: 127.0.0.1
      port: 6379

Why: Rasa 3.6's RedisLockStore keeps one conversation's ticket queue as one Redis value and
changes it by GET, change in Python, SET. Two replicas receiving the same customer's messages
at the same moment both GET the empty queue, both take ticket 0, and both process at once: one
message's events are then lost in the tracker store (found by tests/resilience, which sends
one conversation's messages to both replicas at once). Here every change runs in a Redis
optimistic transaction (WATCH the key, change, MULTI/SET/EXEC, retry if another replica wrote
in between), so tickets are issued and returned one at a time across all replicas.

Second: a replica that dies (kill -9, out of memory) never returns its tickets, and Rasa keeps
them until they expire (TICKET_LOCK_LIFETIME, 60 s): the customer whose message was inside the
dead replica waited a minute for the answer to their next one, and under load that minute plus
the turn itself reached nginx's timeout (a 504 in CI). Here each ticket remembers which process
holds it, every process keeps a heartbeat key alive in Redis, and a waiting replica drops the
tickets of holders whose heartbeat has lapsed (`holder_ttl`, 15 s): a crash costs the next
message at most that long. Should a live but starved process miss its heartbeat, two turns may
overlap; the tracker store then refuses the second save (503) rather than lose events.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

T = TypeVar("T")
logger = logging.getLogger(__name__)

HOLDER_TTL_SECONDS = 15.0  # a process whose heartbeat is this old is taken for dead


class AtomicRedisLockStore(RedisLockStore):
    """RedisLockStore whose ticket queue changes are atomic across processes."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, holder_ttl: float = HOLDER_TTL_SECONDS,
                 **kwargs: Any) -> None:
        if endpoint_config is not None:  # Rasa builds custom lock stores from their endpoint config
            kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs, **kwargs}
            holder_ttl = float(kwargs.pop("holder_ttl", holder_ttl))
        super().__init__(**kwargs)
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.heartbeat = Heartbeat(self.red, self._holder_key(self.holder), holder_ttl)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def take(lock: TicketLock | None, holders: dict[str, str]) -> tuple[TicketLock | None, int]:
            lock = lock or self.create_lock(conversation_id)
            number = lock.issue_ticket(lock_lifetime)
            holders[str(number)] = self.holder
            return lock, number

        return self._change(conversation_id, take)

    def update_lock(self, conversation_id: str) -> None:
        """Drop expired tickets, and the tickets of processes that have died (see the module's why)."""
        def drop_expired_and_orphaned(lock: TicketLock | None,
                                      holders: dict[str, str]) -> tuple[TicketLock | None, None]:
            if lock is not None:
                lock.remove_expired_tickets()
                dead = self._dead_holders(set(holders.values()))
                for ticket in [t for t in lock.tickets if holders.get(str(t.number)) in dead]:
                    logger.warning("conversation %s: dropping ticket %s of %s, which no longer runs",
                                   conversation_id, ticket.number, holders[str(ticket.number)])
                    lock.tickets.remove(ticket)
            return lock, None

        self._change(conversation_id, drop_expired_and_orphaned)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        self._change(conversation_id, lambda lock, _: (_without(lock, ticket_number), None))

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Return the ticket; delete the lock if nobody else holds one (in one step)."""
        def release(lock: TicketLock | None, _: dict[str, str]) -> tuple[TicketLock | None, None]:
            lock = _without(lock, ticket_number)
            return (lock if lock is not None and lock.is_someone_waiting() else None), None

        self._change(conversation_id, release)

    def _holder_key(self, holder: str) -> str:
        return f"{self.key_prefix}@holder:{holder}"

    def _dead_holders(self, holders: set[str]) -> set[str]:
        return {holder for holder in holders - {self.holder} if not self.red.exists(self._holder_key(holder))}

    def _change(self, conversation_id: str,
                change: Callable[[TicketLock | None, dict[str, str]], tuple[TicketLock | None, T]]) -> T:
        """Apply `change` to the stored lock and its tickets' holders atomically (stored beside the
        tickets, in a field Rasa's own reader ignores); None as the new lock deletes it."""
        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    stored = _loads(pipe.get(key))
                    holders: dict[str, str] = stored.get("holders", {})
                    lock, result = change(TicketLock.from_dict(stored) if stored else None, holders)
                    pipe.multi()
                    if lock is None:
                        pipe.delete(key)
                    else:
                        kept = {str(t.number): holders[str(t.number)] for t in lock.tickets if str(t.number) in holders}
                        pipe.set(key, json.dumps(json.loads(lock.dumps()) | {"holders": kept}))
                    pipe.execute()
                    return result
                except redis.WatchError:  # another replica changed the queue meanwhile: read it again
                    continue


class Heartbeat:
    """Keeps `key` alive in Redis for as long as this process runs (a daemon thread, so it also
    beats while the event loop is busy with a long turn)."""

    def __init__(self, red: redis.Redis, key: str, ttl: float) -> None:
        self.red, self.key, self.ttl = red, key, ttl
        self.stopped = threading.Event()
        self.beat()  # before the first ticket is issued
        threading.Thread(target=self._run, name="lock-store-heartbeat", daemon=True).start()

    def beat(self) -> None:
        self.red.set(self.key, "1", px=int(self.ttl * 1000))

    def stop(self) -> None:
        """Stop beating and say so at once (as a process that died would, `ttl` later)."""
        self.stopped.set()
        self.red.delete(self.key)

    def _run(self) -> None:
        while not self.stopped.wait(self.ttl / 5):
            try:
                self.beat()
            except redis.RedisError as error:  # Redis away: tickets cannot be issued either; keep trying
                logger.warning("lock store heartbeat: %s", error)


def _without(lock: TicketLock | None, ticket_number: int) -> TicketLock | None:
    if lock is not None:
        lock.remove_ticket_for(ticket_number)
    return lock


def _loads(stored: bytes | None) -> dict[str, Any]:
    return json.loads(stored) if stored else {}
