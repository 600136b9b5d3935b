"""Shared fixtures: free ports, databases (SQLite file and the machine's PostgreSQL), the real
stack (Rasa server + action server) started through the same code as `make run`, and a local
fake of Telegram's Bot API with helpers that post updates as Telegram does."""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import socketserver
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import NoReturn
from urllib.parse import parse_qs

import pytest
import requests
import sqlalchemy as sa

from bot.config import ROOT, Settings, load_settings
from bot.ops.runner import Stack, free_port

os.environ.setdefault("HF_HUB_OFFLINE", "1")
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")
# CI (.ci/run sets CI=true) runs on a machine with PostgreSQL, Redis, RabbitMQ and root: a test
# that needs one of them fails there instead of passing the run by skipping.
IN_CI = os.environ.get("CI", "").lower() == "true"


def missing(reason: str) -> NoReturn:
    """A service the test needs is not there: skip on a developer's machine, fail in CI."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: every test must run)")
    pytest.skip(reason)


def needs(available: bool, reason: str) -> pytest.MarkDecorator:
    """Mark for tests that need something of the machine (root, a tool): skipped without it on a
    developer's machine; in CI its absence fails the collection."""
    if not available and IN_CI:
        pytest.fail(f"{reason} (CI=true: every test must run)", pytrace=False)
    return pytest.mark.skipif(not available, reason=reason)


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'records.sqlite3'}"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)  # survives restarts
    name = f"bot_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as error:
        missing(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {error.orig}")
    url = sa.engine.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    from bot.domain.storage.db import get_engine

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


@pytest.fixture
def migrated(database_url: str) -> str:
    """`database_url` after the explicit schema step (`python -m bot db upgrade`)."""
    from bot.domain.storage.migrate import upgrade

    upgrade(database_url)
    return database_url


@pytest.fixture(scope="session")
def prepared_model() -> Path:
    """Fine-tuned encoder, FAQ index and Rasa model for the repo's data (cached by input hash)."""
    from bot.ops.runner import Stack

    return Stack(load_settings()).prepare(progress=False)


class CallbackListener:
    """A local HTTP server standing in for a customer's device on Rasa's `callback` channel:
    it collects every message the bot (or an agent) pushes, per recipient."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.refuse = 0  # how many of the next POSTs to answer 503 (the device unreachable)
        self._condition = threading.Condition()
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with listener._condition:
                    refused = listener.refuse > 0
                    listener.refuse -= refused
                    if not refused:
                        listener.received.append(json.loads(body))
                        listener._condition.notify_all()
                self.send_response(503 if refused else 200)
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


@contextmanager
def records_unwritable(bot: RunningBot) -> Iterator[None]:
    """Inside the block, no turn or push of the stack can be recorded: the interaction records'
    table is renamed away (a real failure at the save; reading the rest still works)."""
    engine = sa.create_engine(bot.settings.database_url)
    with engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE interaction_records RENAME TO interaction_records_away"))
    try:
        yield
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text("ALTER TABLE interaction_records_away RENAME TO interaction_records"))
        engine.dispose()


def add_agent(bot: RunningBot, username: str, password: str, *options: str) -> None:
    """`python -m bot agents add` against the running stack's database, password on stdin."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "bot", "agents", "add", username, *options], input=password + "\n",
                          capture_output=True, text=True, env=bot.env(), timeout=120)
    assert done.returncode == 0, done.stderr


def start_bot(tmp: Path, database_url: str, model: Path, **overrides: object) -> Iterator[RunningBot]:
    """Start the stack on free ports with its own KB copy, index and database."""
    from bot.domain.storage.migrate import upgrade
    from faq_index.build import build, seed_cache

    base = load_settings()
    kb_dir = tmp / "kb"
    shutil.copytree(ROOT / "data" / "faq", kb_dir)
    shutil.copy(ROOT / "data" / "canned_replies.yml", tmp / "canned_replies.yml")  # supervisors may edit it
    callback = CallbackListener()
    settings = replace(
        base,
        callback_url=callback.url,
        database_url=database_url,
        rasa_port=free_port(),
        actions_port=free_port(),
        console_port=free_port(),
        kb_dir=kb_dir,
        canned_replies=tmp / "canned_replies.yml",
        index_dir=tmp / "index",
        run_dir=tmp / "run",
        index_poll_seconds=0.5,
        redelivery_seconds=2.0,  # undelivered messages are tried again within seconds, not 30 s
        attachments_dir=tmp / "attachments",
        **overrides,
    )
    from faq_index.train import current_model

    seed_cache(base.index_dir, settings.index_dir)  # the index `bot prepare` built: nothing to build again
    build(kb_dir, settings.index_dir, english_model=current_model(settings.encoders_dir)[0], progress=False,
          calibration_dir=settings.calibration_dir)
    upgrade(database_url)  # the explicit step `bot prepare` takes: the servers only check the schema
    stack = Stack(settings)
    stack.start(model)
    try:
        yield RunningBot(settings, callback, stack)
    finally:
        stack.stop()
        callback.close()


@pytest.fixture(scope="session")
def bot(prepared_model: Path, fake_api: FakeBotApi, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBot]:
    """The real stack on a SQLite file, with Telegram against the local fake: one for the whole
    run, shared by every module that talks to it as customers do (each test in conversations of
    its own). A module that changes what the others would see (agents and who is online, a
    stopped server, the KB) starts its own with `bot = own_stack()`."""
    tmp = tmp_path_factory.mktemp("stack")
    yield from start_bot(tmp, sqlite_url(tmp), prepared_model, **telegram_settings(fake_api))


def own_stack() -> Callable[..., Iterator[RunningBot]]:
    """A module's own stack on a SQLite file, used in place of the shared one:
    `bot = own_stack()` at the top of the module."""

    @pytest.fixture(scope="module")
    def bot(prepared_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBot]:
        tmp = tmp_path_factory.mktemp("ownstack")
        yield from start_bot(tmp, sqlite_url(tmp), prepared_model)

    return bot


@pytest.fixture(scope="module")
def pg_bot(prepared_model: Path, postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBot]:
    """The real stack on PostgreSQL."""
    yield from start_bot(tmp_path_factory.mktemp("pgstack"), postgres_url, prepared_model)


# --- Telegram: a local fake of the Bot API, and updates as Telegram sends them ----------------

TELEGRAM_TOKEN = "123456:TEST-token"
TELEGRAM_SECRET = "s3cret-for-the-webhook"
telegram_ids = itertools.count(int(time.time()))


class FakeBotApi:
    """Telegram's Bot API as far as the channel uses it: getMe, sendMessage, answerCallbackQuery,
    getFile and the file server (`files`: file id -> bytes a customer "sent").
    `fail_next` makes the next sendMessage calls answer with given errors (429, 5xx)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []
        self.files: dict[str, bytes] = {}
        self.failures: list[tuple[int, dict]] = []
        self.pending_updates: list[dict] = []  # what getUpdates hands out (polling mode)
        self._lock = threading.Condition()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                method = self.path.rsplit("/", 1)[-1]
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                params = fake._params(raw, self.headers.get("Content-Type", ""))
                status, body = fake._answer(method, params)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 - the file server: /file/bot<token>/files/<file id>
                file_id = self.path.rsplit("/", 1)[-1]
                with fake._lock:
                    fake.calls.append(("download", {"file_id": file_id}))
                    data = fake.files.get(file_id)
                self.send_response(200 if data is not None else 404)
                self.send_header("Content-Length", str(len(data or b"")))
                self.end_headers()
                self.wfile.write(data or b"")

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def fail_next(self, *failures: tuple[int, dict]) -> None:
        with self._lock:
            self.failures.extend(failures)

    def sent_to(self, chat_id: int) -> list[dict]:
        with self._lock:
            return [p for m, p in self.calls if m == "sendMessage" and str(p.get("chat_id")) == str(chat_id)]

    def calls_of(self, method: str) -> list[dict]:
        with self._lock:
            return [p for m, p in self.calls if m == method]

    def wait_sent(self, chat_id: int, count: int, timeout: float = 30) -> list[dict]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.sent_to(chat_id)) < count:
                assert time.monotonic() < deadline, f"only {self.sent_to(chat_id)} sent to {chat_id}"
                self._lock.wait(0.2)
        return self.sent_to(chat_id)

    def _params(self, raw: str, content_type: str) -> dict:
        if "json" in content_type:
            return json.loads(raw or "{}")
        params = {k: v[0] for k, v in parse_qs(raw).items()}
        for key in ("reply_markup",):
            if key in params:
                params[key] = json.loads(params[key])
        return params

    def _answer(self, method: str, params: dict) -> tuple[int, dict]:
        with self._lock:
            self.calls.append((method, params))
            self._lock.notify_all()
            if method == "sendMessage" and self.failures:
                status, body = self.failures.pop(0)
                self.calls[-1] = ("sendMessage:failed", params)
                return status, body
        if method == "getMe":
            return 200, {"ok": True, "result": {"id": 42, "is_bot": True, "first_name": "Brightcart",
                                                "username": "brightcart_test_bot"}}
        if method == "getUpdates":
            with self._lock:
                offset = int(params.get("offset") or 0)
                updates = [u for u in self.pending_updates if u["update_id"] >= offset]
            if not updates:
                time.sleep(0.3)  # a short "long poll"
            return 200, {"ok": True, "result": updates}
        if method == "getFile":
            file_id = str(params.get("file_id"))
            if file_id not in self.files:
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"}
            return 200, {"ok": True, "result": {"file_id": file_id, "file_unique_id": file_id,
                                                "file_size": len(self.files[file_id]), "file_path": f"files/{file_id}"}}
        if method == "sendMessage":
            return 200, {"ok": True, "result": {"message_id": next(telegram_ids), "date": int(time.time()),
                                                "chat": {"id": int(params["chat_id"]), "type": "private"},
                                                "text": params.get("text", "")}}
        return 200, {"ok": True, "result": True}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def fake_api() -> Iterator[FakeBotApi]:
    fake = FakeBotApi()
    yield fake
    fake.close()


def telegram_settings(fake: FakeBotApi) -> dict[str, str]:
    """Settings overrides that run the stack's Telegram channel against `fake`."""
    return {"telegram_token": TELEGRAM_TOKEN, "telegram_secret": TELEGRAM_SECRET, "telegram_api_url": fake.url}


def new_chat() -> int:
    """A fresh Telegram chat id (also the conversation id in Rasa)."""
    return 10_000_000 + uuid.uuid4().int % 90_000_000


def telegram_update(chat_id: int, text: str | None = None, **extra: object) -> dict:
    """A Telegram update with a message from a private chat (`extra` adds or replaces message fields)."""
    message = {"message_id": next(telegram_ids), "date": int(time.time()), "chat": {"id": chat_id, "type": "private"},
               "from": {"id": chat_id, "is_bot": False, "first_name": "Jane"}}
    if text is not None:
        message["text"] = text
    return {"update_id": next(telegram_ids), "message": message | extra}


def post_telegram(bot: RunningBot, update: object, secret: str | None = TELEGRAM_SECRET) -> requests.Response:
    """POST an update to the stack's Telegram webhook, as Telegram would (with the secret header)."""
    from bot.rasa_server.channels.telegram import SECRET_HEADER  # imports Rasa: only where a test needs it

    headers = {SECRET_HEADER: secret} if secret is not None else {}
    return requests.post(f"{bot.settings.rasa_url}/webhooks/telegram/webhook", json=update, headers=headers,
                         timeout=60)


# --- Email: a local SMTP server (mail leaves this machine in production) ------------------------


class FakeSmtp:
    """Accepts mail like an SMTP server and keeps each message's text."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        outbox = self.messages

        class Session(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self.wfile.write(b"220 fake smtp\r\n")
                while line := self.rfile.readline():
                    verb = line.decode(errors="replace").strip().upper()
                    if verb.startswith(("EHLO", "HELO")):
                        self.wfile.write(b"250 fake\r\n")
                    elif verb == "DATA":
                        self.wfile.write(b"354 go on\r\n")
                        body = []
                        while (data := self.rfile.readline()) not in (b".\r\n", b".\n", b""):
                            body.append(data.decode(errors="replace"))
                        outbox.append("".join(body))
                        self.wfile.write(b"250 queued\r\n")
                    elif verb == "QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:
                        self.wfile.write(b"250 ok\r\n")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Session)
        self.url = f"smtp://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def code_for(self, email: str) -> str:
        mail = next(m for m in reversed(self.messages) if f"To: {email}" in m)
        return re.search(r"code: (\d{6})", mail).group(1)


@pytest.fixture(scope="module")
def smtp() -> Iterator[FakeSmtp]:
    fake = FakeSmtp()
    yield fake
    fake.server.shutdown()
