"""40 concurrent conversations on the production stack: every acknowledged turn recorded exactly
once, in order, whichever replica served it; and one conversation's messages arriving at both
replicas at once are processed one after another (Rasa's Redis lock store); erasing a customer
leaves nothing of theirs in any table or in the event queue."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import aio_pika
import requests

from bot.domain.storage.db import session_scope
from bot.domain.storage.models import ConversationEvent, InteractionRecord
from tests.integration.test_privacy import every_stored_value
from tests.resilience.conftest import Load, ProductionRun, assert_records_match, feed_complete


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks of 1/100 s


def test_forty_concurrent_conversations_are_each_recorded_exactly_once_in_order(prod: ProductionRun) -> None:
    replicas = [p["pid"] for p in prod.state()["processes"] if p["name"].startswith("rasa server")]
    before = [cpu_seconds(pid) for pid in replicas]
    load = Load(prod.webhook, conversations=40, turns=6)
    turns = load.run()

    assert len(turns) == 240
    assert [t for t in turns if t.status != 200] == []
    assert all(t.replies >= 1 for t in turns), "every question gets an answer"
    assert_records_match(prod.settings.database_url, turns)
    busy = [cpu_seconds(pid) - b for pid, b in zip(replicas, before)]
    assert min(busy) > 0.2 * max(busy), f"both replicas served (CPU seconds {busy})"
    senders = sorted({t.sender for t in turns})
    prod.wait(lambda: feed_complete(prod.settings.database_url, senders), 60, "the live feed")
    live = supervisor_session(prod).get(f"{prod.settings.console_url}/api/live", params={"minutes": 10}, timeout=30)
    assert live.status_code == 200, live.text
    shown = {c["sender_id"]: c["customer_messages"] for c in live.json()["conversations"]}
    assert all(shown.get(sender) == 6 for sender in senders), "the console's live view shows every conversation"


def supervisor_session(prod: ProductionRun) -> requests.Session:
    """A supervisor logged in to the production stack's console."""
    password = "resilient supervisor"
    added = subprocess.run([sys.executable, "-m", "bot", "agents", "add", "sup", "--role", "supervisor"],
                           input=password + "\n", capture_output=True, text=True, env=prod.env, timeout=120)
    assert added.returncode == 0, added.stderr
    http = requests.Session()
    login = http.post(f"{prod.settings.console_url}/api/login", json={"username": "sup", "password": password},
                      timeout=30)
    assert login.status_code == 200, login.text
    return http


def test_one_conversation_at_both_replicas_at_once_is_processed_one_message_at_a_time(prod: ProductionRun) -> None:
    replicas = [p["health"].rstrip("/") for p in prod.state()["processes"] if p["name"].startswith("rasa server")]
    senders = [f"lock-{uuid.uuid4().hex[:6]}-{i}" for i in range(10)]
    messages = ["hello", "how long does delivery take?", "can I pay with paypal?", "do you ship abroad?"]
    jobs = [(sender, text, replicas[i % len(replicas)]) for sender in senders for i, text in enumerate(messages)]

    def send(job: tuple[str, str, str]) -> int:
        sender, text, replica = job
        return requests.post(f"{replica}/webhooks/rest/webhook", json={"sender": sender, "message": text},
                             timeout=120).status_code

    with ThreadPoolExecutor(len(jobs)) as pool:  # all at once: 4 messages per conversation, 2 per replica
        assert list(pool.map(send, jobs)) == [200] * len(jobs)

    with session_scope(prod.settings.database_url) as session:
        for sender in senders:
            events = [(row.type_name, row.action_name) for row in session.query(ConversationEvent)
                      .filter(ConversationEvent.sender_id == sender).order_by(ConversationEvent.id)]
            turns = _turns(events)
            assert len(turns) == 4, f"{sender}: {events}"
            for turn in turns:  # each message's whole turn ends (action_listen) before the next begins
                assert turn[-1] == ("action", "action_listen"), f"{sender}: interleaved turns {events}"
                assert ("bot", None) in turn, f"{sender}: a message without a reply {events}"
            customer = session.query(InteractionRecord.text).filter(
                InteractionRecord.conversation_id == sender, InteractionRecord.actor == "customer").all()
            assert sorted(text for (text,) in customer) == sorted(messages)


def _turns(events: list[tuple[str, str | None]]) -> list[list[tuple[str, str | None]]]:
    """The events from each user message up to (not including) the next one."""
    turns: list[list[tuple[str, str | None]]] = []
    for event in events:
        if event[0] == "user":
            turns.append([])
        if turns:
            turns[-1].append(event)
    return turns


NEW_ENTRY = """entries:
  - id: bicycle-gift-wrap
    category: product
    question: Can you gift-wrap a bicycle?
    answer: Yes, bicycles can be gift-wrapped in recycled kraft paper for 12 euros; choose it at checkout.
    paraphrases:
      - do you wrap bikes as presents
      - gift wrapping for a bicycle
      - can my bike order come wrapped as a gift
      - is there a present wrap option for bicycles
"""


def test_a_knowledge_base_rebuild_reaches_every_rasa_replica(prod: ProductionRun) -> None:
    """Both Rasa replicas (which search and answer the FAQ in process) follow the one index's
    CURRENT pointer: no restart, no copy."""
    from faq_index.build import build
    from faq_index.train import current_model

    settings = prod.settings
    (settings.kb_dir / "zz-test-extra.yml").write_text(NEW_ENTRY, encoding="utf-8")
    build(settings.kb_dir, settings.index_dir, english_model=current_model(settings.encoders_dir)[0], progress=False,
          calibration_dir=settings.calibration_dir)
    time.sleep(3 * settings.index_poll_seconds + 2)
    replicas = [p["pid"] for p in prod.state()["processes"] if p["name"].startswith("rasa server")]
    assert len(replicas) == 2
    before = [cpu_seconds(pid) for pid in replicas]
    for i in range(8):  # nginx spreads the customers over both replicas
        reply = requests.post(prod.webhook, json={"sender": f"kb-{uuid.uuid4().hex[:6]}-{i}",
                                                  "message": "Do you offer gift wrapping for bicycles?"}, timeout=120)
        assert reply.status_code == 200
        assert "kraft paper" in " ".join(m.get("text", "") for m in reply.json()), reply.json()
    assert all(cpu_seconds(pid) > b for pid, b in zip(replicas, before)), "both replicas answered"


def test_erasing_a_customer_leaves_no_trace_in_any_table_or_the_event_queue(prod: ProductionRun) -> None:
    customer = f"erase-me-{uuid.uuid4().hex[:8]}"
    for question in ("how long does delivery take?", "can I pay with paypal?", "I want to talk to a person"):
        reply = requests.post(prod.webhook, json={"sender": customer, "message": question}, timeout=60)
        assert reply.status_code == 200, reply.text
    prod.wait(lambda: feed_complete(prod.settings.database_url, [customer]), 60, "the live feed")
    assert customer in every_stored_value(prod.settings.database_url)  # the feed and the records have it

    erased = subprocess.run([sys.executable, "-m", "bot", "erase-customer", customer], env=prod.env,
                            capture_output=True, text=True, timeout=120)
    assert erased.returncode == 0, erased.stderr
    assert customer not in every_stored_value(prod.settings.database_url)
    assert not [body for body in asyncio.run(queued_messages(prod)) if customer in body]


async def queued_messages(prod: ProductionRun) -> list[str]:
    """The bodies of the messages waiting in the event queue (read, then put back)."""
    connection = await aio_pika.connect_robust(prod.env["BOT_RABBITMQ_URL"])
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(prod.env["BOT_EVENTS_QUEUE"], passive=True)
        bodies, taken = [], []
        while (message := await queue.get(no_ack=False, fail=False)) is not None:
            bodies.append(message.body.decode("utf-8", "replace"))
            taken.append(message)
        for message in taken:
            await message.nack(requeue=True)
        return bodies
