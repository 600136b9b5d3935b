"""The production stack as operators run it (`python -m bot run-prod`, a real supervisor with
nginx, two Rasa replicas, two action servers, the event consumer and the console) on the
machine's PostgreSQL, Redis and RabbitMQ, and a load of concurrent customer conversations.

These tests restart the local PostgreSQL and RabbitMQ and kill processes: `make test-resilience`
runs them on their own, after `make test`.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
import yaml

from bot.config import ROOT, load_settings
from bot.domain.events.consumer import delete_queue
from bot.domain.storage.db import session_scope
from bot.domain.storage.models import ConversationEvent, InteractionRecord, LiveEvent
from bot.ops.runner import free_port

HELD_OUT = yaml.safe_load((ROOT / "tests" / "data" / "heldout_questions.yml").read_text(encoding="utf-8"))
QUESTIONS = sorted({q["text"] for q in HELD_OUT["questions"]})  # distinct, so each turn's record is findable
START_TIMEOUT = 420


@dataclass
class ProductionRun:
    """A running `python -m bot run-prod` and how to reach, inspect and hurt its processes."""

    env: dict[str, str]
    supervisor: subprocess.Popen
    log: Path

    @property
    def settings(self):  # noqa: ANN201 - bot.config.Settings
        return load_settings(self.env)

    @property
    def webhook(self) -> str:
        return f"{self.settings.rasa_url}/webhooks/rest/webhook"

    def state(self) -> dict:
        path = self.settings.run_dir / f"prod-{self.settings.rasa_port}.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def process(self, name: str) -> dict:
        return next(p for p in self.state()["processes"] if p["name"] == name)

    def healthy(self, name: str) -> bool:
        try:
            return requests.get(self.process(name)["health"], timeout=3).status_code == 200
        except requests.RequestException:
            return False

    def wait(self, condition, timeout: float, what: str) -> None:  # noqa: ANN001 - a callable
        deadline = time.monotonic() + timeout
        while not condition():
            assert self.supervisor.poll() is None, f"the supervisor exited:\n{self.log_tail()}"
            assert time.monotonic() < deadline, f"{what} not within {timeout:.0f}s:\n{self.log_tail()}"
            time.sleep(0.5)

    def wait_all_healthy(self, timeout: float = 240) -> None:
        self.wait(lambda: self.state() and all(self.healthy(p["name"]) for p in self.state()["processes"]),
                  timeout, "every process healthy")

    def kill(self, name: str) -> int:
        """kill -9 one process; return its pid."""
        pid = self.process(name)["pid"]
        os.kill(pid, signal.SIGKILL)
        return pid

    def wait_restarted(self, name: str, old_pid: int, timeout: float = 240) -> None:
        self.wait(lambda: self.process(name)["pid"] != old_pid and self.healthy(name), timeout, f"{name} restarted")

    def nginx_problems(self) -> list[str]:
        """nginx's error-log lines about upstreams (timeouts, refused, reset): why a 5xx happened."""
        path = self.settings.run_dir / f"nginx-{self.settings.rasa_port}-error.log"
        lines = path.read_text(errors="replace").splitlines() if path.exists() else []
        return [line for line in lines if "upstream" in line]

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture(scope="session")
def prod(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProductionRun]:
    """`python -m bot run-prod` on free ports, with its own database, queue and run folder: one for
    the load and the fault tests (the stack supervises its own processes through every fault)."""
    tmp = tmp_path_factory.mktemp("prod")
    queue = f"brightcart-test-{uuid.uuid4().hex[:8]}"
    shutil.copytree(ROOT / "data" / "faq", tmp / "kb")
    env = os.environ | {
        "BOT_KB_DIR": str(tmp / "kb"), "BOT_INDEX_DIR": str(tmp / "index"), "BOT_INDEX_POLL_SECONDS": "0.5",
        "DATABASE_URL": postgres_url, "BOT_RASA_PORT": str(free_port()), "BOT_ACTIONS_PORT": str(free_port()),
        "BOT_CONSOLE_PORT": str(free_port()), "BOT_RUN_DIR": str(tmp / "run"), "BOT_EVENTS_QUEUE": queue,
        "BOT_REDIS_URL": "redis://127.0.0.1:6379/3", "BOT_RABBITMQ_URL": "amqp://guest:guest@127.0.0.1:5672/%2F",
        "BOT_EVENTS_BACKFILL_SECONDS": "5", "BOT_REDACT": "none", "BOT_CALLBACK_URL": "http://127.0.0.1:9/none",
        # The load's customers send a message a second for minutes, faster than anyone types: the
        # per-sender limit (tests/integration/test_rate_limit.py) would answer 429 after 30.
        "BOT_RATE_LIMIT": "off",
        "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1",
    }
    log = tmp / "supervisor.log"
    with open(log, "wb") as out:
        supervisor = subprocess.Popen([sys.executable, "-m", "bot", "run-prod"], cwd=ROOT, env=env, stdout=out,
                                      stderr=subprocess.STDOUT, start_new_session=True)
    run = ProductionRun(env, supervisor, log)
    try:
        run.wait(lambda: bool(run.state()), START_TIMEOUT, "the production stack")
        run.wait_all_healthy()
        yield run
    finally:
        os.killpg(supervisor.pid, signal.SIGTERM)
        try:
            supervisor.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(supervisor.pid, signal.SIGKILL)
        asyncio.run(delete_queue(env["BOT_RABBITMQ_URL"], queue))


# --- load: concurrent conversations and what they were told ----------------------------------

@dataclass
class Turn:
    sender: str
    text: str
    status: int | None  # None: no HTTP answer at all (connection broken)
    replies: int
    seconds: float
    finished: float  # time.time() when the answer came


@dataclass
class Load:
    """`conversations` customers, each sending turns one after another until `turns` or `stop`."""

    webhook: str
    conversations: int
    turns: int
    stop: threading.Event = field(default_factory=threading.Event)
    results: list[Turn] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self) -> list[Turn]:
        prefix = uuid.uuid4().hex[:6]
        with ThreadPoolExecutor(self.conversations) as pool:
            list(pool.map(self._conversation, [f"load-{prefix}-{i}" for i in range(self.conversations)]))
        return self.results

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, daemon=True)
        thread.start()
        return thread

    def _conversation(self, sender: str) -> None:
        http = requests.Session()
        for text in random.Random(sender).sample(QUESTIONS, min(self.turns, len(QUESTIONS))):
            if self.stop.is_set():
                return
            started = time.perf_counter()
            try:
                reply = http.post(self.webhook, json={"sender": sender, "message": text}, timeout=120)
                status, replies = reply.status_code, len(reply.json()) if reply.status_code == 200 else 0
            except requests.RequestException:
                status, replies = None, 0
            with self._lock:
                self.results.append(Turn(sender, text, status, replies, time.perf_counter() - started, time.time()))
            if status != 200:
                time.sleep(0.5)  # a customer waits a moment before trying the next thing

    def acknowledged(self) -> list[Turn]:
        return [t for t in self.results if t.status == 200]


def assert_records_match(database_url: str, turns: list[Turn]) -> None:
    """Every acknowledged turn has exactly one customer record and as many bot records as replies,
    in the order the customer sent them; an unacknowledged turn is recorded at most once."""
    senders = sorted({t.sender for t in turns})
    with session_scope(database_url) as session:
        rows = (session.query(InteractionRecord.conversation_id, InteractionRecord.actor, InteractionRecord.text)
                .filter(InteractionRecord.conversation_id.in_(senders)).order_by(InteractionRecord.id).all())
    by_sender: dict[str, list[tuple[str, str]]] = {s: [] for s in senders}
    for sender, actor, text in rows:
        by_sender[sender].append((actor, text))
    for sender in senders:
        sent = [t for t in turns if t.sender == sender]
        recorded = by_sender[sender]
        customer_texts = [text for actor, text in recorded if actor == "customer"]
        assert len(customer_texts) == len(set(customer_texts)), f"{sender}: a customer message recorded twice"
        acknowledged = [t.text for t in sent if t.status == 200]
        assert [t for t in customer_texts if t in acknowledged] == acknowledged, f"{sender}: missing or out of order"
        assert set(customer_texts) <= {t.text for t in sent}
        for turn in sent:
            if turn.status != 200:
                continue
            start = next(i for i, (actor, text) in enumerate(recorded) if actor == "customer" and text == turn.text)
            bots = 0
            for actor, _ in recorded[start + 1:]:
                if actor == "customer":
                    break
                bots += actor == "bot"
            assert bots == turn.replies, f"{sender}: {turn.replies} replies but {bots} bot records for {turn.text!r}"


def feed_complete(database_url: str, senders: list[str]) -> bool:
    """True when the live feed has each stored user event of these conversations exactly once."""
    with session_scope(database_url) as session:
        stored = session.query(sa.func.count()).select_from(ConversationEvent).filter(
            ConversationEvent.sender_id.in_(senders), ConversationEvent.type_name == "user").scalar()
        fed = session.query(sa.func.count()).select_from(LiveEvent).filter(
            LiveEvent.sender_id.in_(senders), LiveEvent.event == "user").scalar()
    return stored == fed
