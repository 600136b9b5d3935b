"""What the Rasa server loads at start is left out of full garbage collections
(bot/rasa_server/hot_path/frozen_heap.py); what turns create later is still collected."""

from __future__ import annotations

import asyncio
import gc
import weakref

import rasa.server

from bot.rasa_server.hot_path import frozen_heap


class Node:
    """An object the collector tracks, that can sit in a reference cycle."""

    def __init__(self) -> None:
        self.other: Node | None = None


def test_rasas_app_freezes_the_heap_once_started_and_later_cycles_are_still_collected() -> None:
    original = rasa.server.create_app
    try:
        frozen_heap.install()
        frozen_heap.install()  # twice is once
        app = rasa.server.create_app(agent=None, auth_token=None)
        loaded = [Node() for _ in range(1000)]  # what a start loads

        async def start() -> int:
            """Sanic's own start on a free port, as `rasa run` starts it; the frozen count before it is up."""
            server = await app.create_server(host="127.0.0.1", port=0, return_asyncio_server=True)
            await server.startup()
            await server.before_start()
            before = gc.get_freeze_count()
            await server.after_start()
            server.close()
            await server.wait_closed()
            return before

        assert asyncio.run(start()) == 0
        assert gc.get_freeze_count() >= len(loaded)
        swept = {id(tracked) for tracked in gc.get_objects(generation=2)}
        assert not any(id(node) in swept for node in loaded)  # out of full collections

        later = Node()  # a turn's garbage: a reference cycle, unreachable once dropped
        later.other = Node()
        later.other.other = later
        gone = weakref.ref(later)
        del later
        gc.collect()
        assert gone() is None
    finally:
        gc.unfreeze()
        rasa.server.create_app = original
