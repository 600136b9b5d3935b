"""The event consumer (`python -m bot.domain.events.consumer`) against the machine's RabbitMQ, in a
virtual host of its own: when RabbitMQ drops its connection mid-stream (a network blip, a
broker failover: `rabbitmqctl close_all_connections`), the same process reconnects and drains
the queue by itself, every event stored exactly once, without the periodic backfill's help."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import aio_pika
import pytest
import requests
import sqlalchemy as sa

from bot.config import ROOT
from bot.domain.storage.db import session_scope
from bot.domain.storage.migrate import upgrade
from bot.domain.storage.models import LiveEvent
from bot.ops.runner import free_port
from tests.conftest import needs

EVENTS = 1000

pytestmark = needs(os.geteuid() == 0 and bool(shutil.which("rabbitmqctl")),
                   "a RabbitMQ virtual host of its own needs root and rabbitmqctl")


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=120)


@pytest.fixture
def vhost() -> Iterator[str]:
    name = f"bot-test-{uuid.uuid4().hex[:8]}"
    rabbitmqctl("add_vhost", name)
    try:
        rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
        yield name
    finally:
        rabbitmqctl("delete_vhost", name)  # and its queue


def stored(database_url: str) -> int:
    with session_scope(database_url) as session:
        return session.query(sa.func.count()).select_from(LiveEvent).scalar()


def health(port: int) -> dict:
    try:
        return requests.get(f"http://127.0.0.1:{port}/health", timeout=3).json()
    except requests.RequestException:
        return {}


def wait_for(condition, timeout: float, what: str) -> None:  # noqa: ANN001 - a callable
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout:.0f}s: {what}"
        time.sleep(0.2)


async def publish(url: str, queue: str, events: list[dict]) -> None:
    """Publish as Rasa's broker does: persistent messages on the fanout exchange named after the queue."""
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()  # publisher confirms: returns once RabbitMQ has them
        exchange = await channel.declare_exchange(queue, aio_pika.ExchangeType.FANOUT)
        for event in events:
            await exchange.publish(aio_pika.Message(json.dumps(event).encode(), delivery_mode=2), routing_key="")


def test_the_consumer_drains_the_queue_after_rabbitmq_drops_its_connection(vhost: str, tmp_path: Path) -> None:
    url, queue, port = f"amqp://guest:guest@127.0.0.1:5672/{vhost}", "events", free_port()
    database_url = f"sqlite:///{tmp_path / 'feed.db'}"
    upgrade(database_url)
    env = os.environ | {"BOT_RABBITMQ_URL": url, "BOT_EVENTS_QUEUE": queue, "DATABASE_URL": database_url,
                        "BOT_EVENTS_BACKFILL_SECONDS": "3600"}  # the backfill must not be what fills the feed
    log = tmp_path / "consumer.log"
    with open(log, "wb") as out:
        consumer = subprocess.Popen([sys.executable, "-m", "bot.domain.events.consumer", "--health-port", str(port)],
                                    cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: health(port).get("connected"), 60, "the consumer connected")
        started = time.time()
        events = [{"sender_id": f"customer-{i % 20}", "event": "user", "timestamp": started + i / 1000,
                   "text": f"message {i}", "parse_data": {"intent": {"name": "greet"}}} for i in range(EVENTS)]
        asyncio.run(publish(url, queue, events))
        stored_before = stored(database_url)
        rabbitmqctl("close_all_connections", "--vhost", vhost, "connection dropped by a test")

        wait_for(lambda: stored(database_url) == EVENTS, 90,
                 f"all {EVENTS} events stored ({stored_before} before the drop)\n{log.read_text()[-3000:]}")
        assert stored_before < EVENTS, "the connection was dropped mid-stream"
        assert consumer.poll() is None, f"the consumer exited:\n{log.read_text()[-2000:]}"
        wait_for(lambda: health(port).get("connected"), 30, "the consumer reports itself connected again")
        assert health(port)["backfilled"] == 0
    finally:
        consumer.terminate()
        consumer.wait(30)
