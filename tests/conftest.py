"""Shared fixtures: free ports, databases (SQLite file and the machine's PostgreSQL), and the
real stack (Rasa server + action server) started through the same code as `make run`."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from bot.config import ROOT, Settings, load_settings
from bot.runner import Stack, free_port

os.environ.setdefault("HF_HUB_OFFLINE", "1")
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'records.sqlite3'}"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"bot_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as error:
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {error.orig}")
    url = sa.engine.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    from bot.storage.db import get_engine

    get_engine(url).dispose()
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using this runs once on a SQLite file and once on PostgreSQL."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    return request.getfixturevalue("postgres_url")


@pytest.fixture(scope="session")
def prepared_model() -> Path:
    """Fine-tuned encoder, FAQ index and Rasa model for the repo's data (cached by input hash)."""
    from bot.runner import Stack

    return Stack(load_settings()).prepare(progress=False)


class CallbackListener:
    """A local HTTP server standing in for a customer's device on Rasa's `callback` channel:
    it collects every message the bot (or an agent) pushes, per recipient."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self._condition = threading.Condition()
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with listener._condition:
                    listener.received.append(json.loads(body))
                    listener._condition.notify_all()
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/bot"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def messages_for(self, recipient: str) -> list[dict]:
        with self._condition:
            return [m for m in self.received if m.get("recipient_id") == recipient]

    def wait_for(self, recipient: str, count: int, timeout: float = 30) -> list[dict]:
        """The first `count` messages pushed to `recipient`, waiting for them to arrive."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while len([m for m in self.received if m.get("recipient_id") == recipient]) < count:
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"only {self.messages_for(recipient)} arrived for {recipient}"
                self._condition.wait(remaining)
        return self.messages_for(recipient)[:count]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class RunningBot:
    """A started stack and how to talk to it."""

    def __init__(self, settings: Settings, callback: CallbackListener, stack: Stack | None = None) -> None:
        self.settings = settings
        self.callback = callback
        self.stack = stack  # its services, to stop or restart one (tests/integration/test_action_server_down.py)
        self.webhook = f"{settings.rasa_url}/webhooks/rest/webhook"

    def say_via_callback(self, sender: str, message: str) -> list[dict]:
        """Send on the callback channel; return the replies pushed to `self.callback` meanwhile
        (Rasa's callback channel pushes them before it answers the request)."""
        before = len(self.callback.messages_for(sender))
        reply = requests.post(f"{self.settings.rasa_url}/webhooks/callback/webhook",
                              json={"sender": sender, "message": message}, timeout=60)
        assert reply.status_code == 200, reply.text
        return self.callback.messages_for(sender)[before:]

    def say(self, sender: str, message: str) -> list[dict]:
        reply = requests.post(self.webhook, json={"sender": sender, "message": message}, timeout=60)
        assert reply.status_code == 200, reply.text
        return reply.json()

    def post(self, body: object = None, data: str | bytes | None = None) -> requests.Response:
        if data is not None:
            return requests.post(self.webhook, data=data, headers={"Content-Type": "application/json"}, timeout=60)
        return requests.post(self.webhook, json=body, timeout=60)

    def env(self) -> dict[str, str]:
        return os.environ | self.settings.as_env()


class ConsoleClient:
    """An agent using the console's JSON API (a requests session keeps the cookie)."""

    def __init__(self, bot: RunningBot, username: str) -> None:
        self.base = bot.settings.console_url
        self.http = requests.Session()
        self.username = username
        self.csrf = ""

    def login(self, password: str) -> requests.Response:
        reply = self.http.post(f"{self.base}/api/login", json={"username": self.username, "password": password},
                               timeout=30)
        if reply.status_code == 200:
            self.csrf = reply.json()["csrf_token"]
        return reply

    def get(self, path: str, **params: str) -> requests.Response:
        return self.http.get(f"{self.base}{path}", params=params, timeout=30)

    def post(self, path: str, body: object = None) -> requests.Response:
        return self.http.post(f"{self.base}{path}", json=body or {}, headers={"X-CSRF-Token": self.csrf}, timeout=60)


def add_agent(bot: RunningBot, username: str, password: str, *options: str) -> None:
    """`python -m bot agents add` against the running stack's database, password on stdin."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "bot", "agents", "add", username, *options], input=password + "\n",
                          capture_output=True, text=True, env=bot.env(), timeout=120)
    assert done.returncode == 0, done.stderr


def start_bot(tmp: Path, database_url: str, model: Path, **overrides: object) -> Iterator[RunningBot]:
    """Start the stack on free ports with its own KB copy, index and database."""
    from faq_index.build import build

    base = load_settings()
    kb_dir = tmp / "kb"
    shutil.copytree(ROOT / "data" / "faq", kb_dir)
    callback = CallbackListener()
    settings = replace(
        base,
        callback_url=callback.url,
        database_url=database_url,
        rasa_port=free_port(),
        actions_port=free_port(),
        console_port=free_port(),
        kb_dir=kb_dir,
        index_dir=tmp / "index",
        run_dir=tmp / "run",
        index_poll_seconds=0.5,
        **overrides,
    )
    from faq_index.train import current_model

    build(kb_dir, settings.index_dir, english_model=current_model(settings.encoders_dir)[0], progress=False)
    stack = Stack(settings)
    stack.start(model)
    try:
        yield RunningBot(settings, callback, stack)
    finally:
        stack.stop()
        callback.close()


@pytest.fixture(scope="module")
def bot(prepared_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBot]:
    """The real stack on a SQLite file."""
    tmp = tmp_path_factory.mktemp("stack")
    yield from start_bot(tmp, sqlite_url(tmp), prepared_model)


@pytest.fixture(scope="module")
def pg_bot(prepared_model: Path, postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBot]:
    """The real stack on PostgreSQL."""
    yield from start_bot(tmp_path_factory.mktemp("pgstack"), postgres_url, prepared_model)
