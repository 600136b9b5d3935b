"""Shared fixtures: free ports, databases (SQLite file and the machine's PostgreSQL), and the
real stack (Rasa server + action server) started through the same code as `make run`."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from bot.config import ROOT, Settings, load_settings
from bot.runner import free_port

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


class RunningBot:
    """A started stack and how to talk to it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.webhook = f"{settings.rasa_url}/webhooks/rest/webhook"

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


def start_bot(tmp: Path, database_url: str, model: Path) -> Iterator[RunningBot]:
    """Start the stack on free ports with its own KB copy, index and database."""
    from bot.runner import Stack
    from faq_index.build import build

    base = load_settings()
    kb_dir = tmp / "kb"
    shutil.copytree(ROOT / "data" / "faq", kb_dir)
    settings = replace(
        base,
        database_url=database_url,
        rasa_port=free_port(),
        actions_port=free_port(),
        kb_dir=kb_dir,
        index_dir=tmp / "index",
        run_dir=tmp / "run",
        index_poll_seconds=0.5,
    )
    from faq_index.train import current_model

    build(kb_dir, settings.index_dir, model=current_model(settings.encoders_dir)[0], progress=False)
    stack = Stack(settings)
    stack.start(model)
    try:
        yield RunningBot(settings)
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def bot(prepared_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBot]:
    """The real stack on a SQLite file."""
    tmp = tmp_path_factory.mktemp("stack")
    yield from start_bot(tmp, sqlite_url(tmp), prepared_model)


@pytest.fixture(scope="module")
def pg_bot(prepared_model: Path, postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBot]:
    """The real stack on PostgreSQL."""
    yield from start_bot(tmp_path_factory.mktemp("pgstack"), postgres_url, prepared_model)
