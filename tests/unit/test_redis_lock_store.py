"""The atomic Redis lock store against the machine's real Redis: two replicas (two store
objects, threads running at once) never hold one conversation's lock at the same time, and
tickets issued at the same moment are all distinct."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from bot.stores.redis_lock_store import AtomicRedisLockStore

REDIS = {"host": "127.0.0.1", "port": 6379, "db": 3}


@pytest.fixture
def replicas() -> list[AtomicRedisLockStore]:
    try:
        redis.Redis(**REDIS).ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis not reachable: {error}")
    prefix = f"test{uuid.uuid4().hex[:8]}"
    return [AtomicRedisLockStore(key_prefix=prefix, **REDIS) for _ in range(2)]


def test_tickets_issued_at_once_from_two_replicas_are_distinct(replicas: list[AtomicRedisLockStore]) -> None:
    conversation = uuid.uuid4().hex
    with ThreadPoolExecutor(16) as pool:
        tickets = list(pool.map(lambda i: replicas[i % 2].issue_ticket(conversation), range(64)))
    assert sorted(tickets) == list(range(64))
    lock = replicas[0].get_lock(conversation)
    assert lock is not None and len(lock.tickets) == 64
    for i, ticket in enumerate(tickets):
        replicas[i % 2].cleanup(conversation, ticket)
    assert replicas[0].get_lock(conversation) is None, "the last cleanup deletes the lock"


def test_two_replicas_never_hold_one_conversation_at_the_same_time(replicas: list[AtomicRedisLockStore]) -> None:
    conversation = uuid.uuid4().hex
    inside: list[int] = []
    overlaps: list[tuple[int, int]] = []
    guard = threading.Lock()

    async def turn(store: AtomicRedisLockStore, number: int) -> None:
        async with store.lock(conversation, wait_time_in_seconds=0.01):
            with guard:
                if inside:
                    overlaps.append((inside[0], number))
                inside.append(number)
            await asyncio.sleep(0.02)
            with guard:
                inside.remove(number)

    def replica(index: int) -> None:
        async def many() -> None:
            await asyncio.gather(*[turn(replicas[index], index * 100 + n) for n in range(10)])

        asyncio.run(many())

    started = time.perf_counter()
    threads = [threading.Thread(target=replica, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert overlaps == []
    assert time.perf_counter() - started >= 20 * 0.02, "the 20 turns ran one after another"
    assert replicas[0].get_lock(conversation) is None
