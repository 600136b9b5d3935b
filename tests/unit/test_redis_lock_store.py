"""The atomic Redis lock store against the machine's real Redis: two replicas (two store
objects, threads running at once) never hold one conversation's lock at the same time, and
tickets issued at the same moment are all distinct; a replica killed while holding a ticket
does not keep the conversation waiting for the ticket's whole lifetime."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from bot.config import ROOT
from bot.rasa_server.stores.redis_lock_store import AtomicRedisLockStore
from tests.conftest import missing

REDIS = {"host": "127.0.0.1", "port": 6379, "db": 3}


@pytest.fixture
def prefix() -> str:
    """A key prefix of this test's own on the machine's Redis."""
    try:
        redis.Redis(**REDIS).ping()
    except redis.RedisError as error:
        missing(f"Redis not reachable: {error}")
    return f"test{uuid.uuid4().hex[:8]}"


@pytest.fixture
def replicas(prefix: str) -> list[AtomicRedisLockStore]:
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


def _holding_process(prefix: str, conversation: str) -> subprocess.Popen:
    """Another replica: a process that takes a ticket for `conversation` and then hangs on to it."""
    code = (
        "import sys, time\n"
        "from bot.rasa_server.stores.redis_lock_store import AtomicRedisLockStore\n"
        f"store = AtomicRedisLockStore(key_prefix={prefix!r}, holder_ttl=1, **{REDIS!r})\n"
        f"print(store.issue_ticket({conversation!r}), flush=True)\n"
        "time.sleep(600)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline().strip() == "0", "the other replica holds ticket 0"
    return process


async def _acquire(store: AtomicRedisLockStore, conversation: str, within: float) -> None:
    async def take() -> None:
        async with store.lock(conversation, wait_time_in_seconds=0.1):
            pass

    await asyncio.wait_for(take(), within)


def test_the_ticket_of_a_replica_killed_mid_turn_is_dropped_once_its_heartbeat_lapses(prefix: str) -> None:
    conversation = uuid.uuid4().hex
    other = _holding_process(prefix, conversation)
    survivor = AtomicRedisLockStore(key_prefix=prefix, holder_ttl=1, **REDIS)
    try:
        with pytest.raises(asyncio.TimeoutError):  # alive: its ticket is respected
            asyncio.run(_acquire(survivor, conversation, within=3))
        other.send_signal(signal.SIGKILL)
        other.wait(10)
        # Rasa alone would wait for the ticket's 60 s lifetime; the heartbeat lapses after 1 s.
        asyncio.run(_acquire(survivor, conversation, within=15))
    finally:
        other.kill()
        survivor.heartbeat.stop()
    assert survivor.get_lock(conversation) is None


def test_tickets_of_live_replicas_are_kept_beyond_the_heartbeat_ttl(prefix: str) -> None:
    conversation = uuid.uuid4().hex
    holder, waiter = (AtomicRedisLockStore(key_prefix=prefix, holder_ttl=0.5, **REDIS) for _ in range(2))
    ticket = holder.issue_ticket(conversation)
    with pytest.raises(asyncio.TimeoutError):  # 4 times the heartbeat's ttl: a beating holder keeps its turn
        asyncio.run(_acquire(waiter, conversation, within=2))
    holder.cleanup(conversation, ticket)
    asyncio.run(_acquire(waiter, conversation, within=5))
    for store in (holder, waiter):
        store.heartbeat.stop()
