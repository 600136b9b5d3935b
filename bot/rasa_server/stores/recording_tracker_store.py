"""A Rasa tracker store that writes interaction records in the same transaction as events.

Configured in endpoints.yml:

    tracker_store:
      type: bot.rasa_server.stores.recording_tracker_store.RecordingTrackerStore

Why a tracker store (and not an event-broker consumer): Rasa saves the tracker before the
REST channel returns the replies, so when the save commits events *and* records together,
"the customer received a reply" implies "that reply and the customer's message are
recorded". A broker consumer would record them some time later, and could lose them.

Rasa wraps every tracker store in a FailSafeTrackerStore that, when a save raises, logs the
error, keeps the tracker in memory and lets the replies go out anyway. So every save also
tells the outbox of the request being handled whether it committed (bot/rasa_server/channels/outbox.py):
a turn's replies and a push through Rasa's HTTP API are delivered only after the commit, and a
failed save answers 503 (or fails the Telegram update) instead of sending what the records do
not back: the customer retries, nothing is silently unrecorded.

The same wrapper turns a failed *retrieve* into "no tracker yet", and Rasa then runs the
message on a brand-new conversation. If the database is back by the time of the save, that
fresh tracker's events would be compared with the stored ones and the new turn dropped while
the customer gets a reply (found by restarting PostgreSQL under load, tests/resilience). So a
save first checks that the tracker continues what is stored (its event at the stored count
has the stored last event's timestamp) and refuses otherwise: 503, the customer retries.

A turn's load is O(1) in the conversation's length too: the tracker this process saved last
for a conversation is kept (`_Recent`) and handed back to the next turn when the database's
newest event for the conversation is still the one it saved, one indexed query instead of
reading and replaying the whole session (under 40 concurrent conversations that replay was
the Rasa server's largest cost: docs/benchmarks.md). A turn that began a new session is kept as
the session a load would give, and redacted text as stored (`_keep`); the save of a tracker
handed out this way skips counting the stored events (`handed`). Anything else (another
replica wrote, a turn failed after changing the tracker) loads from the database as before.

The database is the project's one storage layer (`bot.domain.storage`, DATABASE_URL).
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SerializedTrackerAsText, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.orm import Session

from bot.config import load_settings
from bot.domain.privacy.redaction import parse_kinds, redactor
from bot.domain.storage.db import get_engine, session_scope
from bot.domain.storage.migrate import require_current
from bot.domain.storage.models import ConversationEvent, InteractionRecord
from bot.rasa_server.channels.outbox import current as current_outbox
from bot.rasa_server.hot_path import workers
from bot.rasa_server.stores.record_mapping import is_external, records_from_events

logger = logging.getLogger(__name__)

# One statement object, so SQLAlchemy finds its compiled form without walking it each turn.
_NEWEST_EVENT = (sa.select(sa.func.max(ConversationEvent.id))
                 .where(ConversationEvent.sender_id == sa.bindparam("sender_id")))


def _tell_outbox(saved: bool) -> None:
    """An API push waits for this word before it is delivered (bot/rasa_server/channels/outbox.py)."""
    outbox = current_outbox()
    if outbox is not None:
        outbox.saved(saved)


@dataclass
class _Saved:
    tracker: DialogueStateTracker
    last_event_id: int  # the newest stored event of the conversation when it was saved
    events: int  # how many events the tracker had then: more means a turn changed it unsaved
    domain: Domain


class _Recent:
    """The trackers this process saved last, by conversation; each handed out once.

    Handing out (not copying) is safe because one turn holds a conversation at a time (Rasa's
    lock store): the turn that takes a tracker either saves it back or leaves nothing here."""

    LIMIT = 2000  # conversations; a tracker of a short conversation is a few KB

    def __init__(self) -> None:
        self._saved: OrderedDict[str, _Saved] = OrderedDict()
        self._lock = threading.Lock()

    def keep(self, sender_id: str, saved: _Saved) -> None:
        with self._lock:
            self._saved[sender_id] = saved
            self._saved.move_to_end(sender_id)
            while len(self._saved) > self.LIMIT:
                self._saved.popitem(last=False)

    def take(self, sender_id: str) -> _Saved | None:
        with self._lock:
            return self._saved.pop(sender_id, None)

    def forget(self, sender_id: str) -> None:
        self.take(sender_id)


class NotAContinuation(RuntimeError):
    """The tracker being saved does not continue the stored conversation (loading it had failed)."""


class RecordingTrackerStore(TrackerStore, SerializedTrackerAsText):
    """Events and interaction records in one SQL database, one transaction per save."""

    def __init__(
        self,
        domain: Domain | None = None,
        host: str | None = None,
        event_broker: EventBroker | None = None,
        url: str | None = None,
        **kwargs: Any,
    ) -> None:
        # The broker is kept to ourselves: Rasa's fail-safe wrapper saves a tracker whose save
        # failed into an in-memory store built with `self.event_broker`, which would publish the
        # events of a turn the records do not have (found by restarting PostgreSQL under load).
        super().__init__(domain, None, **kwargs)
        self.broker = event_broker
        settings = load_settings()
        self.url = url or settings.database_url
        self.redact = redactor(parse_kinds(settings.redact))
        require_current(self.url)  # Rasa refuses to start on an out-of-date schema (bot db upgrade)
        self.recent = _Recent()
        self.handed = _Recent()  # the trackers `retrieve` handed out from `recent`, until their save

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Append the tracker's new events and their records, atomically."""
        try:
            # In a worker thread: a commit waits for the disk, and Rasa's event loop should
            # meanwhile serve other conversations (Rasa's lock store keeps one conversation's
            # turns in order).
            new_events = await workers.run("store", self._save, tracker)
        except Exception:
            _tell_outbox(False)
            raise
        _tell_outbox(True)
        self._publish(tracker.sender_id, new_events)

    def _save(self, tracker: DialogueStateTracker) -> list[dict[str, Any]]:
        """Commit the events not stored yet and their records; return those events as stored.

        Only the new events are serialised, with the few before them that the records need
        (back to the customer's last message): the work grows with the turn, not with the
        conversation (`python -m bot bench long-conversation`, docs/benchmarks.md)."""
        events = tracker.events
        handed = self.handed.take(tracker.sender_id)
        self.recent.forget(tracker.sender_id)  # whatever happens below, an older copy is stale
        with get_engine(self.url).begin() as connection:
            if handed is not None and handed.tracker is tracker:
                # The tracker the load checked against the database a moment ago, under this
                # conversation's lock: what is stored is what it held then.
                stored, last_event_id = handed.events, handed.last_event_id
            else:
                stored, last_event_id = self._stored_before(connection, tracker)
            context = _back_to_last_customer_message(events, stored)
            window = [*context, *(event.as_dict() for event in itertools.islice(events, stored, None))]
            new_events = [self._redacted_event(data) for data in window[len(context):]]
            if new_events:
                connection.execute(sa.insert(ConversationEvent),
                                   [_event_row(tracker.sender_id, data) for data in new_events])
                last_event_id = connection.execute(_NEWEST_EVENT, {"sender_id": tracker.sender_id}).scalar()
            records = records_from_events(tracker.sender_id, window, len(context))
            if records:
                connection.execute(sa.insert(InteractionRecord), [self._redacted_record(r) for r in records])
        if last_event_id is not None:
            self._keep(tracker, last_event_id, window[len(context):], new_events)
        return new_events

    def _stored_before(self, connection: sa.engine.Connection, tracker: DialogueStateTracker) -> tuple[int, int | None]:
        """How many events of the tracker's session are stored, and the newest one's id; refuses
        a tracker that does not continue them (it was started anew after a failed load)."""
        with Session(bind=connection) as session:
            stored_events = self._session_events(session, tracker.sender_id)
            stored = stored_events.count()
            if not stored:
                return 0, None
            last = stored_events.order_by(None).order_by(ConversationEvent.id.desc()).first()
        if stored > len(tracker.events) or tracker.events[stored - 1].timestamp != last.timestamp:
            raise NotAContinuation(f"conversation {tracker.sender_id!r}: the tracker does not continue "
                                   f"the {stored} stored events (it was started anew)")
        return stored, last.id

    def _keep(self, tracker: DialogueStateTracker, last_event_id: int, serialised: list[dict[str, Any]],
              stored: list[dict[str, Any]]) -> None:
        """Keep for the next turn what loading the conversation would give back: the tracker itself,
        its new events' text as stored (redacted), or, when this turn began a new session (a load
        starts at the latest session's start), a tracker of that session's events as stored."""
        starts = [i for i, data in enumerate(stored) if data.get("event") == SessionStarted.type_name]
        if starts:
            tracker = DialogueStateTracker.from_dict(tracker.sender_id, stored[starts[-1]:], self.domain.slots)
        else:
            _as_stored(itertools.islice(tracker.events, len(tracker.events) - len(stored), None), serialised, stored)
        self.recent.keep(tracker.sender_id, _Saved(tracker, last_event_id, len(tracker.events), self.domain))

    def _publish(self, sender_id: str, events: list[dict[str, Any]]) -> None:
        """Hand the committed events to the event broker (endpoints.yml `event_broker`), if any.

        Rasa's own `stream_events` diffs the stored tracker against the new one, which finds
        nothing once this store has committed; so the events just written go out instead,
        redacted as stored, and only after the commit: a consumer never sees an event the
        records do not have."""
        if self.broker is None:
            return
        for data in events:
            self.broker.publish({"sender_id": sender_id} | data)

    def _redacted_event(self, data: dict[str, Any]) -> dict[str, Any]:
        """Message text without personal data (slots keep theirs: forms need them, erase removes them)."""
        if data.get("event") not in ("user", "bot") or not data.get("text"):
            return data
        data = data | {"text": self.redact(data["text"])}
        if isinstance(data.get("parse_data"), dict):
            data["parse_data"] = data["parse_data"] | {"text": data["text"]}
        return data

    def _redacted_record(self, record: dict[str, Any]) -> dict[str, Any]:
        entities = [e | {"value": self.redact(str(e["value"]))} if isinstance(e.get("value"), str) else e
                    for e in record.get("entities") or []]
        return record | {"text": self.redact(record["text"]), "entities": entities or record.get("entities")}

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The tracker of the latest conversation session."""
        return await workers.run("store", self._retrieve, sender_id, False)

    async def retrieve_full_tracker(self, conversation_id: str) -> DialogueStateTracker | None:
        """The tracker with the events of every session."""
        return await workers.run("store", self._retrieve, conversation_id, True)

    async def keys(self) -> Iterable[str]:
        with session_scope(self.url) as session:
            rows = session.query(ConversationEvent.sender_id).distinct().all()
            return [sender_id for (sender_id,) in rows]

    def _retrieve(self, sender_id: str, all_sessions: bool) -> DialogueStateTracker | None:
        saved = None if all_sessions else self.recent.take(sender_id)
        if saved is not None and self._still_current(sender_id, saved):
            self.handed.keep(sender_id, saved)  # its save need not count what is stored again
            return saved.tracker
        with session_scope(self.url) as session:
            query = self._session_events(session, sender_id, all_sessions)
            events = [json.loads(row.data) for row in query]
        if not events:
            return None
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)

    def _still_current(self, sender_id: str, saved: _Saved) -> bool:
        """The kept tracker is what loading would give: nothing stored since, nothing added unsaved."""
        if saved.domain is not self.domain or len(saved.tracker.events) != saved.events:
            return False
        with get_engine(self.url).connect() as connection:  # one query: no ORM session needed
            return connection.execute(_NEWEST_EVENT, {"sender_id": sender_id}).scalar() == saved.last_event_id

    @staticmethod
    def _session_events(session: Session, sender_id: str, all_sessions: bool = False) -> sa.orm.Query:
        """Events of `sender_id` since its last session start (or all), in insertion order."""
        query = session.query(ConversationEvent).filter(ConversationEvent.sender_id == sender_id)
        if not all_sessions:
            last_start = (
                session.query(sa.func.max(ConversationEvent.id))
                .filter(
                    ConversationEvent.sender_id == sender_id,
                    ConversationEvent.type_name == SessionStarted.type_name,
                )
                .scalar_subquery()
            )
            query = query.filter(sa.or_(last_start.is_(None), ConversationEvent.id >= last_start))
        return query.order_by(ConversationEvent.id)


def _back_to_last_customer_message(events: Sequence[Event], before: int) -> list[dict[str, Any]]:
    """The stored events the records of the events from `before` on need, serialised: back to
    the customer's last message (record_mapping takes the customer, channel and timing from
    it), or all of them when there is none."""
    context: list[dict[str, Any]] = []
    for position in range(min(before, len(events)) - 1, -1, -1):
        context.append(events[position].as_dict())
        if context[-1].get("event") == "user" and not is_external(context[-1]):
            break
    return context[::-1]


def _as_stored(events: Iterable[Event], serialised: list[dict[str, Any]], stored: list[dict[str, Any]]) -> None:
    """Give the tracker's new events the text they were stored with (redaction may have changed
    it; the replies already sent keep their own copy of the text)."""
    for event, original, kept in zip(events, serialised, stored):
        if original.get("text") != kept.get("text"):
            event.text = kept["text"]  # type: ignore[attr-defined]
            if isinstance(getattr(event, "parse_data", None), dict):
                event.parse_data["text"] = kept["text"]  # type: ignore[attr-defined]


def _event_row(sender_id: str, data: dict[str, Any]) -> dict[str, Any]:
    intent = (data.get("parse_data") or {}).get("intent") or {}
    return {"sender_id": sender_id, "type_name": data["event"], "timestamp": data.get("timestamp"),
            "intent_name": intent.get("name"), "action_name": data.get("name"), "data": json.dumps(data)}
