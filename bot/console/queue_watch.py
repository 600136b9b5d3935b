"""One watcher of the queue per console process, shared by every open console.

Routing (`assign_waiting`) and the question "did anything an agent sees change?" run once per
tick for the whole process, not once per open console: with 30 agents online the live stream
used to route the queue and build 30 snapshots every second. Now each console's stream sleeps
until the watcher says something changed (a handoff opened, moved or closed; a message in an
open chat; an agent came, went or switched availability), then builds its own snapshot once.
A change made in this process (a claim, a close, a transfer, an availability switch) wakes the
watcher at once (`nudge`); changes from the Rasa and action servers (a customer asking for a
person, a message) are seen within a tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from bot.config import Settings
from bot.domain.handoff import agents
from bot.domain.handoff import service as handoffs
from bot.domain.storage.db import session_scope
from bot.domain.storage.models import Handoff, InteractionRecord

logger = logging.getLogger(__name__)
TICK_SECONDS = 1.0


class QueueWatch:
    """Routes the queue and notices changes once per tick; consoles wait on `changed_since`."""

    def __init__(self, settings: Settings, on_assigned: Callable[[Settings, list[tuple[int, int]]], None]) -> None:
        self.settings = settings
        self.on_assigned = on_assigned  # tells the customers who joined (bot/console/routes/handoffs.py)
        self.generation = 0
        self._fingerprint: Any = None
        self._changed: asyncio.Condition | None = None
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None

    def nudge(self) -> None:
        """Something changed here: look now rather than at the next tick (safe from any thread)."""
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def changed_since(self, generation: int, timeout: float) -> int:
        """The generation after `generation` once there is one, or the same after `timeout` seconds."""
        self._start()
        assert self._changed is not None
        async with self._changed:
            if self.generation == generation:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._changed.wait_for(lambda: self.generation != generation), timeout)
            return self.generation

    def _start(self) -> None:
        if self._task is not None and not self._task.done():
            return
        self._loop = asyncio.get_running_loop()
        self._changed, self._wake = asyncio.Condition(), asyncio.Event()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        assert self._changed is not None and self._wake is not None
        while True:
            try:
                assigned = await asyncio.to_thread(handoffs.assign_waiting, self.settings.database_url)
                await asyncio.to_thread(self.on_assigned, self.settings, assigned)
                fingerprint = await asyncio.to_thread(_fingerprint, self.settings.database_url)
                if fingerprint != self._fingerprint:
                    self._fingerprint = fingerprint
                    async with self._changed:
                        self.generation += 1
                        self._changed.notify_all()
            except Exception:  # the database away for a moment: the next tick tries again
                logger.warning("watching the queue failed", exc_info=True)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), TICK_SECONDS)
            self._wake.clear()


def _fingerprint(url: str) -> tuple:
    """What every console's snapshot is made of, in a few small queries: the open handoffs, the
    newest message in their conversations, and who takes chats with what load."""
    with session_scope(url) as session:
        open_handoffs = tuple(session.execute(
            sa.select(Handoff.id, Handoff.status, Handoff.agent_id, Handoff.skill)
            .where(Handoff.status.in_(handoffs.OPEN_STATUSES)).order_by(Handoff.id)).all())
        conversations = sa.select(Handoff.conversation_id).where(Handoff.status.in_(handoffs.OPEN_STATUSES))
        newest = session.execute(sa.select(sa.func.max(InteractionRecord.id))
                                 .where(InteractionRecord.conversation_id.in_(conversations))).scalar()
    team = tuple(tuple(sorted(agent.items())) for agent in agents.team(url))  # as supervisors see it
    return open_handoffs, newest, team
