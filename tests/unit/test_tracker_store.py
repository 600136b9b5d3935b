"""The recording tracker store on a real SQLite file and the real PostgreSQL: events and
interaction records are written together or not at all."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.config import ROOT
from bot.domain.storage.migrate import SchemaOutOfDate, upgrade
from bot.domain.storage.records import iter_records
from bot.rasa_server.channels import outbox
from bot.rasa_server.stores import recording_tracker_store
from bot.rasa_server.stores.recording_tracker_store import RecordingTrackerStore
from tests.conftest import sqlite_url

DOMAIN = Domain.load(str(ROOT / "domain.yml"))


def test_the_store_refuses_a_database_without_the_newest_schema(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)  # a new database: no schema at all
    with pytest.raises(SchemaOutOfDate, match="python -m bot db upgrade"):
        RecordingTrackerStore(DOMAIN, url=url)
    upgrade(url)
    assert RecordingTrackerStore(DOMAIN, url=url).url == url


def turn(question: str, answer: str, faq_id: str) -> list:
    return [
        UserUttered(question, intent={"name": "ask_question", "confidence": 0.9}, input_channel="rest",
                    parse_data={"intent": {"name": "ask_question", "confidence": 0.9}, "entities": [],
                                "text": question}),
        ActionExecuted("action_answer_faq"),
        BotUttered(answer, metadata={"faq": {"faq_id": faq_id, "faq_score": 0.88, "faq_candidates": []}}),
        ActionExecuted("action_listen"),
    ]


def test_save_writes_events_and_records_and_retrieve_restores_the_tracker(migrated: str) -> None:
    store = RecordingTrackerStore(DOMAIN, url=migrated)
    sender = f"c-{uuid.uuid4().hex[:8]}"
    tracker = DialogueStateTracker.from_events(sender, turn("delivery time?", "2-4 days.", "delivery-time"),
                                               DOMAIN.slots)
    asyncio.run(store.save(tracker))
    for event in turn("can I pay with paypal", "Yes.", "payment-paypal"):
        tracker.update(event)
    asyncio.run(store.save(tracker))

    records = list(iter_records(migrated, conversation_id=sender))
    assert [(r["actor"], r["text"]) for r in records] == [
        ("customer", "delivery time?"), ("bot", "2-4 days."), ("customer", "can I pay with paypal"), ("bot", "Yes."),
    ]
    assert records[3]["faq_id"] == "payment-paypal" and records[3]["action"] == "action_answer_faq"
    restored = asyncio.run(store.retrieve(sender))
    assert [e.as_dict()["event"] for e in restored.events] == [e.as_dict()["event"] for e in tracker.events]
    assert sender in asyncio.run(store.keys())


def test_a_failed_save_stores_neither_events_nor_records(migrated: str, monkeypatch: pytest.MonkeyPatch) -> None:
    store = RecordingTrackerStore(DOMAIN, url=migrated)
    sender = f"c-{uuid.uuid4().hex[:8]}"
    tracker = DialogueStateTracker.from_events(sender, turn("hello?", "Hi.", "x"), DOMAIN.slots)

    def broken(*_args: object) -> list:
        raise RuntimeError("simulated failure while mapping records")

    monkeypatch.setattr(recording_tracker_store, "records_from_events", broken)
    with pytest.raises(RuntimeError):
        asyncio.run(store.save(tracker))
    assert asyncio.run(store.retrieve(sender)) is None
    assert list(iter_records(migrated, conversation_id=sender)) == []


def test_retrieve_returns_only_the_latest_session(migrated: str) -> None:
    store = RecordingTrackerStore(DOMAIN, url=migrated)
    sender = f"c-{uuid.uuid4().hex[:8]}"
    events = [SessionStarted(), *turn("old", "old answer", "x"), ActionExecuted("action_session_start"),
              SessionStarted(), *turn("new", "new answer", "y")]
    asyncio.run(store.save(DialogueStateTracker.from_events(sender, events, DOMAIN.slots)))
    latest = asyncio.run(store.retrieve(sender))
    assert [e.text for e in latest.events if isinstance(e, UserUttered)] == ["new"]
    full = asyncio.run(store.retrieve_full_tracker(sender))
    assert [e.text for e in full.events if isinstance(e, UserUttered)] == ["old", "new"]


def test_a_turn_run_on_a_fresh_tracker_after_a_failed_load_is_refused(migrated: str,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The database drops out while a conversation is loaded and is back for the save: Rasa's
    fail-safe wrapper has meanwhile started a new tracker, whose save must fail (so the
    channel answers 503) instead of silently dropping the turn while the customer gets a reply."""
    from rasa.core.tracker_store import FailSafeTrackerStore

    store = RecordingTrackerStore(DOMAIN, url=migrated)
    sender = f"c-{uuid.uuid4().hex[:8]}"
    asyncio.run(store.save(DialogueStateTracker.from_events(sender, turn("hello?", "Hi.", "x"), DOMAIN.slots)))
    safe = FailSafeTrackerStore(store)

    def unreachable(*_args: object) -> None:
        raise sa.exc.OperationalError("SELECT", {}, ConnectionError("the database is restarting"))

    monkeypatch.setattr(store, "_retrieve", unreachable)
    assert asyncio.run(safe.retrieve(sender)) is None  # Rasa goes on with a new conversation
    monkeypatch.undo()
    fresh = DialogueStateTracker.from_events(sender, [ActionExecuted("action_listen")], DOMAIN.slots)
    with outbox.opened() as refused:  # the turn's replies wait in its outbox for the save's word
        asyncio.run(safe.save(fresh))  # Rasa saves the tracker it creates, then again after the turn
        for event in turn("and delivery?", "2-4 days.", "delivery-time"):
            fresh.update(event)
        asyncio.run(safe.save(fresh))
    assert refused.recorded is False
    texts = [r["text"] for r in iter_records(migrated, conversation_id=sender)]
    assert texts == ["hello?", "Hi."]
    with outbox.opened() as next_turn:
        asyncio.run(safe.save(asyncio.run(store.retrieve(sender))))  # the next turn is saved normally
    assert next_turn.recorded is True



def test_a_save_serialises_only_the_new_turn_however_long_the_conversation(migrated: str,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The 200th turn's save serialises what the first one's does (it used to serialise the
    whole session: 800 events); its records still know the customer and the reply's action."""
    store = RecordingTrackerStore(DOMAIN, url=migrated)
    sender = f"c-{uuid.uuid4().hex[:8]}"
    tracker = DialogueStateTracker.from_events(sender, [], DOMAIN.slots)
    serialised = 0
    for kind in (UserUttered, BotUttered, ActionExecuted):
        def counted(self: object, _original: object = kind.as_dict) -> dict:
            nonlocal serialised
            serialised += 1
            return _original(self)  # type: ignore[operator]

        monkeypatch.setattr(kind, "as_dict", counted)
    per_save = []
    for number in range(200):
        for event in turn(f"question {number}", f"answer {number}", "x"):
            tracker.update(event)
        before = serialised
        asyncio.run(store.save(tracker))
        per_save.append(serialised - before)
    # A turn is 4 events; the save also reads the turn before (back to the customer's last message,
    # for the records' context): the same work at turn 200 as at turn 2.
    assert per_save[1] <= 10 and per_save[-1] == per_save[1], per_save
    records = list(iter_records(migrated, conversation_id=sender))
    assert len(records) == 400 and records[-1]["action"] == "action_answer_faq"
    assert (records[-2]["text"], records[-1]["text"]) == ("question 199", "answer 199")
    assert records[-1]["latency_ms"] is not None  # timed from the customer's message, found before the new events


def two_turns(store: RecordingTrackerStore, sender: str) -> DialogueStateTracker:
    """A conversation of two saved turns, the second on the tracker the store handed back."""
    asyncio.run(store.save(DialogueStateTracker.from_events(
        sender, [SessionStarted(), *turn("delivery time?", "2-4 days.", "delivery-time")], DOMAIN.slots)))
    tracker = asyncio.run(store.retrieve(sender))
    for event in turn("and paypal?", "Yes.", "payment-paypal"):
        tracker.update(event)
    asyncio.run(store.save(tracker))
    return tracker


def unread(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("the session's events were read again")


def test_the_next_turn_gets_the_tracker_this_process_saved_without_reading_the_session(
        migrated: str, monkeypatch: pytest.MonkeyPatch) -> None:
    store = RecordingTrackerStore(DOMAIN, url=migrated)
    sender = f"c-{uuid.uuid4().hex[:8]}"
    saved = two_turns(store, sender)

    monkeypatch.setattr(store, "_session_events", unread)
    assert asyncio.run(store.retrieve(sender)) is saved
    monkeypatch.undo()
    # Handed out once: a second load (no save between) reads the database, with the same events.
    again = asyncio.run(store.retrieve(sender))
    assert again is not saved
    assert [e.as_dict() for e in again.events] == [e.as_dict() for e in saved.events]


def test_a_turn_another_replica_saved_is_loaded_from_the_database(migrated: str) -> None:
    here, there = RecordingTrackerStore(DOMAIN, url=migrated), RecordingTrackerStore(DOMAIN, url=migrated)
    sender = f"c-{uuid.uuid4().hex[:8]}"
    two_turns(here, sender)
    elsewhere = asyncio.run(there.retrieve(sender))
    for event in turn("returns?", "30 days.", "returns"):
        elsewhere.update(event)
    asyncio.run(there.save(elsewhere))
    loaded = asyncio.run(here.retrieve(sender))
    assert [e.text for e in loaded.events if isinstance(e, UserUttered)] == ["delivery time?", "and paypal?",
                                                                            "returns?"]


def test_a_tracker_changed_after_its_save_is_not_handed_out(migrated: str) -> None:
    store = RecordingTrackerStore(DOMAIN, url=migrated)
    sender = f"c-{uuid.uuid4().hex[:8]}"
    tracker = two_turns(store, sender)  # kept by the store
    tracker.update(UserUttered("never saved"))  # e.g. a turn that failed before its save
    loaded = asyncio.run(store.retrieve(sender))
    assert loaded is not tracker
    assert "never saved" not in [e.text for e in loaded.events if isinstance(e, UserUttered)]


def loaded_elsewhere(store: RecordingTrackerStore, sender: str) -> list[dict]:
    """The conversation's events as another process would load them from the database."""
    other = RecordingTrackerStore(DOMAIN, url=store.url)
    return [e.as_dict() for e in asyncio.run(other.retrieve(sender)).events]


def test_a_turn_with_redacted_text_is_kept_with_the_text_as_stored(migrated: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The stored text is redacted: the next turn must see what a load gives, not the original,
    and still without reading the session (the bot's answers often carry the shop's address)."""
    store = RecordingTrackerStore(DOMAIN, url=migrated)
    sender = f"c-{uuid.uuid4().hex[:8]}"
    tracker = two_turns(store, sender)
    for event in turn("write to jane@example.com", "Mail support@brightcart.example.", "contact"):
        tracker.update(event)
    asyncio.run(store.save(tracker))
    monkeypatch.setattr(store, "_session_events", unread)
    loaded = asyncio.run(store.retrieve(sender))
    monkeypatch.undo()
    assert loaded is tracker
    texts = " ".join(e.text or "" for e in loaded.events if isinstance(e, (UserUttered, BotUttered)))
    assert "jane@example.com" not in texts and "support@brightcart.example" not in texts
    assert "jane@example.com" not in loaded.latest_message.text + str(loaded.latest_message.parse_data)
    assert [e.as_dict() for e in loaded.events] == loaded_elsewhere(store, sender)


def test_the_turn_after_a_new_session_gets_that_session_as_a_load_would(migrated: str,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A conversation's first turn also starts its session (Rasa's `action_session_start` comes
    before `session_started`, and a load begins at the latter): the next turn gets the session's
    events, without reading them."""
    store = RecordingTrackerStore(DOMAIN, url=migrated)
    sender = f"c-{uuid.uuid4().hex[:8]}"
    first = DialogueStateTracker.from_events(sender, [ActionExecuted("action_session_start"), SessionStarted(),
                                                      ActionExecuted("action_listen"),
                                                      *turn("hello?", "Hi.", "x")], DOMAIN.slots)
    asyncio.run(store.save(first))
    monkeypatch.setattr(store, "_session_events", unread)
    second = asyncio.run(store.retrieve(sender))
    monkeypatch.undo()
    assert [e.as_dict() for e in second.events] == loaded_elsewhere(store, sender)
    assert second.events[0].as_dict()["event"] == "session_started"


def test_the_turn_on_a_handed_out_tracker_is_saved_without_counting_the_stored_events(
        migrated: str, monkeypatch: pytest.MonkeyPatch) -> None:
    store = RecordingTrackerStore(DOMAIN, url=migrated)
    sender = f"c-{uuid.uuid4().hex[:8]}"
    tracker = two_turns(store, sender)
    assert asyncio.run(store.retrieve(sender)) is tracker
    monkeypatch.setattr(store, "_stored_before", unread)
    for event in turn("returns?", "30 days.", "returns"):
        tracker.update(event)
    asyncio.run(store.save(tracker))
    monkeypatch.undo()
    assert [r["text"] for r in iter_records(migrated, conversation_id=sender)][-2:] == ["returns?", "30 days."]
    assert [e.as_dict() for e in tracker.events] == loaded_elsewhere(store, sender)
    # A tracker the store did not hand out is still checked against what is stored.
    stranger = DialogueStateTracker.from_events(sender, turn("again?", "Yes.", "x"), DOMAIN.slots)
    with pytest.raises(recording_tracker_store.NotAContinuation):
        asyncio.run(store.save(stranger))
