"""`python -m bot bench long-conversation`: a turn's tracker-store work at turn 1 and at turn 200.

Drives the Rasa server's tracker store (bot/rasa_server/stores/recording_tracker_store.py) as
Rasa does for each message: load the conversation, add the turn's events (the customer's
question, the FAQ answer, action_listen), save events and records in one transaction. On a
fresh SQLite database, 200 turns in one session; each turn timed, load and save apart. Then the
last turn again as another replica would take it (loading the whole session from the database,
nothing kept in memory), which is what every turn cost before the store kept its last tracker.

    python -m bot bench long-conversation [--turns 200]
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from tqdm import tqdm

from bot.config import ROOT
from bot.domain.storage.migrate import upgrade
from bot.rasa_server.stores.recording_tracker_store import RecordingTrackerStore


def _turn(number: int) -> list[Any]:
    question = f"question {number}: how long does delivery take?"
    parse = {"intent": {"name": "ask_question", "confidence": 0.9}, "entities": [], "text": question}
    return [UserUttered(question, intent=parse["intent"], parse_data=parse, input_channel="rest"),
            ActionExecuted("action_answer_faq"),
            BotUttered("2-4 working days.", metadata={"faq": {"faq_id": "delivery-time", "faq_score": 0.9}}),
            ActionExecuted("action_listen")]


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000


def run(turns: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="bench-long-"))
    url = f"sqlite:///{work / 'records.sqlite3'}"
    upgrade(url)
    domain = Domain.load(str(ROOT / "domain.yml"))
    store = RecordingTrackerStore(domain, url=url)
    sender = "long-conversation"
    asyncio.run(store.save(DialogueStateTracker.from_events(
        sender, [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")],
        domain.slots)))
    loads, saves = [], []
    for number in tqdm(range(turns), desc="turns", unit="turn"):
        started = time.perf_counter()
        tracker = asyncio.run(store.retrieve(sender))
        loads.append(_ms(started))
        for event in _turn(number):
            tracker.update(event)
        started = time.perf_counter()
        asyncio.run(store.save(tracker))
        saves.append(_ms(started))
    store.recent.forget(sender)  # as another replica: nothing of this conversation in memory
    started = time.perf_counter()
    reloaded = asyncio.run(store.retrieve(sender))
    from_database = _ms(started)
    first, last = slice(0, 10), slice(turns - 10, turns)
    return {
        "turns": turns,
        "events_at_the_end": len(reloaded.events),
        "first_10_turns_ms": {"load": round(statistics.median(loads[first]), 2),
                              "save": round(statistics.median(saves[first]), 2)},
        "last_10_turns_ms": {"load": round(statistics.median(loads[last]), 2),
                             "save": round(statistics.median(saves[last]), 2)},
        "last_turn_loaded_from_the_database_ms": round(from_database, 2),
    }


def main(turns: int) -> int:
    report = run(turns)
    print(json.dumps(report, indent=2))
    first, last = report["first_10_turns_ms"], report["last_10_turns_ms"]
    print(f"load + save, median of the first 10 turns: {first['load'] + first['save']:.1f} ms; of the last 10: "
          f"{last['load'] + last['save']:.1f} ms; turn {turns} loaded from the database instead: "
          f"{report['last_turn_loaded_from_the_database_ms']} ms", file=sys.stderr)
    return 0
