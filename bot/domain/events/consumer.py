"""The event consumer: reads Rasa's events from RabbitMQ into the live activity feed.

    python -m bot.domain.events.consumer        (the production stack starts it; BOT_RABBITMQ_URL)

Every Rasa replica publishes each committed event to a fanout exchange (Rasa's Pika event
broker, endpoints.yml); a durable queue keeps them while this consumer is down. A message is
acknowledged only after its row is committed, so killing the consumer loses nothing (RabbitMQ
redelivers what was not acknowledged) and the feed's keys make the redelivery harmless. When
the database is down, messages go back to the queue and the consumer waits and retries; when
RabbitMQ is down or drops the connection, the consumer connects afresh and consumes again (an
acknowledgement lost with the old connection only means a redelivery). A message that is not a
Rasa event is logged and dropped, never retried forever. Every BOT_EVENTS_BACKFILL_SECONDS
the consumer also adds, from the tracker store's rows, recent events that never reached the
queue (a Rasa replica killed between its commit and its publish): see `feed.backfill`.

GET /health on BOT_EVENTS_HEALTH_PORT answers 200 once connected (the runner's health check).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os

import aio_pika
from aio_pika.abc import AbstractIncomingMessage
from aiohttp import web

from bot.config import Settings, load_settings
from bot.domain.events import feed

logger = logging.getLogger("bot.domain.events.consumer")
PREFETCH = 200
RETRY_SECONDS = 2.0
BACKFILL_WINDOW_SECONDS = 600.0
# What RabbitMQ going away looks like: socket errors, AMQP errors, a channel closed under us.
BROKER_GONE = (OSError, aio_pika.exceptions.AMQPError, aio_pika.exceptions.ChannelInvalidStateError)


class Consumer:
    """One connection, one queue; `run` until cancelled."""

    def __init__(self, settings: Settings, backfill_every: float) -> None:
        self.settings = settings
        self.backfill_every = backfill_every
        self.connected = False
        self.stored = 0
        self.backfilled = 0

    async def backfill_forever(self) -> None:
        """Close the gaps Rasa's in-memory publishing can leave; a database outage just skips a round."""
        while True:
            await asyncio.sleep(self.backfill_every)
            try:
                added = await asyncio.to_thread(feed.backfill, self.settings.database_url, BACKFILL_WINDOW_SECONDS)
            except Exception as error:  # the database is down: try again next round
                logger.warning("backfill skipped: %s", error)
                continue
            if added:
                logger.info("backfilled %d events that never reached the queue", added)
                self.backfilled += added

    async def run(self) -> None:
        """Consume until cancelled; whenever RabbitMQ is unreachable or drops the connection,
        connect afresh. (aio-pika's robust connection restores channels by itself, but after a
        forced close it was seen to leave the consumer waiting forever with the queue unread.)"""
        while True:
            try:
                connection = await aio_pika.connect(self.settings.rabbitmq_url)
            except BROKER_GONE as error:
                logger.warning("RabbitMQ not reachable (%s); retrying in %.0fs", error, RETRY_SECONDS)
                await asyncio.sleep(RETRY_SECONDS)
                continue
            try:
                await self._consume(connection)
            except BROKER_GONE as error:
                # What was not acknowledged comes again on the next connection (and is stored once).
                logger.warning("lost RabbitMQ (%s)", error)
            finally:
                self.connected = False
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(connection.close(), RETRY_SECONDS)
            await asyncio.sleep(RETRY_SECONDS)

    async def _consume(self, connection: aio_pika.abc.AbstractConnection) -> None:
        """Consume on one connection until RabbitMQ closes it (or a message's handling fails)."""
        lost = asyncio.Event()
        connection.close_callbacks.add(lambda *_: lost.set())
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=PREFETCH)
        # The same exchange and queue Rasa's broker declares (bot.ops.runner endpoints), so either may start first.
        exchange = await channel.declare_exchange(self.settings.events_queue, aio_pika.ExchangeType.FANOUT)
        queue = await channel.declare_queue(self.settings.events_queue, durable=True)
        await queue.bind(exchange, "")
        self.connected = True
        consuming = asyncio.create_task(self._drain(queue))
        closed = asyncio.create_task(lost.wait())
        try:
            done, _ = await asyncio.wait({consuming, closed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (consuming, closed):
                task.cancel()
            # A cancelled handler's message is simply not acknowledged: RabbitMQ delivers it again.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.gather(consuming, closed, return_exceptions=True), RETRY_SECONDS)
        if consuming in done:
            consuming.result()  # its error, if it had one
        logger.warning("RabbitMQ closed the connection; reconnecting in %.0fs", RETRY_SECONDS)

    async def _drain(self, queue: aio_pika.abc.AbstractQueue) -> None:
        async with queue.iterator() as messages:
            async for message in messages:
                await self._handle(message)

    async def _handle(self, message: AbstractIncomingMessage) -> None:
        """Store, then acknowledge; a database failure puts the message back for a retry."""
        try:
            row = feed.event_row(message.body)
        except feed.BadEvent as problem:
            logger.error("dropping a message that is not a Rasa event: %s", problem)
            await message.reject(requeue=False)
            return
        try:
            if row is not None:
                await asyncio.to_thread(feed.store, self.settings.database_url, [row])
                self.stored += 1
        except Exception as error:  # the database is down or refusing: keep the message
            logger.warning("could not store an event (%s); it stays queued, retrying in %.0fs", error, RETRY_SECONDS)
            await asyncio.sleep(RETRY_SECONDS)
            await message.nack(requeue=True)
            return
        await message.ack()


async def delete_queue(url: str, name: str) -> None:
    """Remove a stack's queue and exchange (named BOT_EVENTS_QUEUE) once nothing will read them:
    a test or benchmark run's, which would otherwise keep collecting Rasa's events."""
    connection = await aio_pika.connect_robust(url)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(name)
        await channel.exchange_delete(name)


async def serve(settings: Settings, health_port: int) -> None:
    """Consume until cancelled, with GET /health on `health_port`."""
    consumer = Consumer(settings, float(os.environ.get("BOT_EVENTS_BACKFILL_SECONDS", "30")))

    async def health(_: web.Request) -> web.Response:
        status = 200 if consumer.connected else 503
        body = {"connected": consumer.connected, "stored": consumer.stored, "backfilled": consumer.backfilled}
        return web.json_response(body, status=status)

    app = web.Application()
    app.router.add_get("/health", health)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", health_port).start()
    backfill = asyncio.create_task(consumer.backfill_forever())
    try:
        await consumer.run()
    finally:
        backfill.cancel()
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--health-port", type=int, default=int(os.environ.get("BOT_EVENTS_HEALTH_PORT", "5090")))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = load_settings()
    if not settings.rabbitmq_url:
        raise SystemExit("BOT_RABBITMQ_URL is not set: the event consumer has nothing to read")
    from bot.domain.storage.migrate import SchemaOutOfDate, require_current

    try:
        require_current(settings.database_url)
    except SchemaOutOfDate as error:
        raise SystemExit(f"event consumer: {error}") from None
    asyncio.run(serve(settings, args.health_port))


if __name__ == "__main__":
    main()
