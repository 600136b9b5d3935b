"""The live activity feed (bot/domain/events/feed.py) on a real SQLite file and the real PostgreSQL:
the tracker store hands each committed event to the broker once, a redelivered message is
stored once, and the backfill adds exactly what never reached the queue."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from typing import Any

import pytest
from rasa.core.brokers.broker import EventBroker
from rasa.shared.core.trackers import DialogueStateTracker

from bot.domain.events import feed
from bot.domain.privacy import erase
from bot.domain.storage.db import session_scope
from bot.domain.storage.models import ConversationEvent, LiveEvent
from bot.rasa_server.stores.recording_tracker_store import RecordingTrackerStore
from tests.unit.test_tracker_store import DOMAIN, turn


class CollectingBroker(EventBroker):
    """An in-process event broker: what the tracker store publishes, in order."""

    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(self, event: dict[str, Any]) -> None:
        self.published.append(event)


def saved_conversation(url: str, broker: EventBroker | None) -> tuple[str, RecordingTrackerStore]:
    store = RecordingTrackerStore(DOMAIN, url=url, event_broker=broker)
    sender = f"c-{uuid.uuid4().hex[:8]}"
    first_turn = turn("delivery time?", "2-4 days.", "delivery-time")
    tracker = DialogueStateTracker.from_events(sender, first_turn, DOMAIN.slots)
    asyncio.run(store.save(tracker))
    for event in turn("can I pay with paypal", "Yes.", "payment-paypal"):
        tracker.update(event)
    asyncio.run(store.save(tracker))
    return sender, store


def feed_rows(url: str, sender: str) -> list[tuple[str, str | None]]:
    with session_scope(url) as session:
        rows = session.query(LiveEvent.event, LiveEvent.name).filter(LiveEvent.sender_id == sender)
        return sorted(rows.order_by(LiveEvent.timestamp).all(), key=lambda r: r[0])


def test_each_committed_event_is_published_once_after_the_save(migrated: str) -> None:
    broker = CollectingBroker()
    sender, _ = saved_conversation(migrated, broker)
    kinds = [e["event"] for e in broker.published]
    assert kinds == ["user", "action", "bot", "action"] * 2
    assert {e["sender_id"] for e in broker.published} == {sender}
    assert [e["text"] for e in broker.published if e["event"] == "user"] == ["delivery time?", "can I pay with paypal"]


def test_a_redelivered_message_is_stored_once(migrated: str) -> None:
    broker = CollectingBroker()
    sender, _ = saved_conversation(migrated, broker)
    rows = [feed.event_row(json.dumps(e)) for e in broker.published]
    feed.store(migrated, [r for r in rows if r])
    feed.store(migrated, [r for r in rows[:3] if r])  # RabbitMQ redelivers what was not acknowledged
    stored = feed_rows(migrated, sender)
    assert len(stored) == 8
    assert ("user", "ask_question") in stored
    assert [c["sender_id"] for c in feed.active_conversations(migrated)].count(sender) == 1


def test_backfill_adds_only_the_events_the_queue_never_delivered(migrated: str) -> None:
    broker = CollectingBroker()
    sender, _ = saved_conversation(migrated, broker)
    delivered = [feed.event_row(json.dumps(e)) for e in broker.published[:5]]
    feed.store(migrated, [r for r in delivered if r])
    assert feed.backfill(migrated, seconds=600) >= 3
    assert len(feed_rows(migrated, sender)) == 8
    assert feed.backfill(migrated, seconds=600) == 0


@pytest.mark.parametrize("body", [b"\xff\xfe", b"not json", b"[1, 2]", b'{"event": "user"}',
                                  b'{"sender_id": "x", "event": "user", "timestamp": "soon"}'])
def test_a_message_that_is_not_a_rasa_event_is_refused_with_a_reason(body: bytes) -> None:
    with pytest.raises(feed.BadEvent):
        feed.event_row(body)


def test_bookkeeping_events_are_skipped() -> None:
    assert feed.event_row(json.dumps({"sender_id": "x", "event": "reset_slots", "timestamp": 1.0})) is None


def test_a_turn_whose_save_failed_is_not_published(migrated: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rasa's fail-safe wrapper keeps a failed save in memory; nothing of it may reach the broker."""
    from rasa.core.tracker_store import FailSafeTrackerStore

    from bot.rasa_server.channels import outbox
    from bot.rasa_server.stores import recording_tracker_store

    broker = CollectingBroker()
    safe = FailSafeTrackerStore(RecordingTrackerStore(DOMAIN, url=migrated, event_broker=broker))

    def broken(*_args: object) -> list:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(recording_tracker_store, "records_from_events", broken)
    tracker = DialogueStateTracker.from_events(f"c-{uuid.uuid4().hex[:8]}", turn("hi", "Hello.", "x"), DOMAIN.slots)
    with outbox.opened() as turn_outbox:
        asyncio.run(safe.save(tracker))
    assert turn_outbox.recorded is False
    assert broker.published == []


def test_a_conversation_erased_while_the_backfill_runs_does_not_come_back_into_the_feed(
        migrated: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The race a CI run of the resilience tests lost: the backfill read the tracker store's rows,
    the customer was erased, and the backfill then wrote the erased events into the feed."""
    sender, _ = saved_conversation(migrated, None)  # nothing reached the queue: all of it is backfill's
    read_them, erase_started = threading.Event(), threading.Event()
    row = feed._row

    def row_after_the_erase_started(data: Any) -> dict[str, Any] | None:
        if not read_them.is_set():
            read_them.set()
            erase_started.wait(timeout=10)
        return row(data)

    monkeypatch.setattr(feed, "_row", row_after_the_erase_started)
    added: list[int] = []
    backfilling = threading.Thread(target=lambda: added.append(feed.backfill(migrated, 600)))
    backfilling.start()
    assert read_them.wait(timeout=10)
    erasing = threading.Thread(target=erase.erase_customer, args=(migrated, sender))
    erasing.start()
    erasing.join(timeout=1.0)  # the erase waits for the backfill's transaction
    erase_started.set()
    backfilling.join(timeout=60)
    erasing.join(timeout=60)
    assert not backfilling.is_alive() and not erasing.is_alive()
    assert added and added[0] >= 8  # the backfill wrote the conversation's events, and the erase removed them
    assert feed_rows(migrated, sender) == []
    with session_scope(migrated) as session:
        assert session.query(ConversationEvent).filter(ConversationEvent.sender_id == sender).count() == 0
