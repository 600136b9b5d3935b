"""The database schema: brought to the newest version in one explicit step, checked by the rest.

    python -m bot db upgrade        (`make run` and `make run-prod` do it through `bot prepare`)

`upgrade` applies every pending Alembic migration. The servers (Rasa's tracker store, the
console, the event consumer) and the CLI commands that read or write records only
`require_current`: on a database whose schema is older (or newer) than this code's, they refuse
to start with a message naming the command, instead of each migrating on its own (six entry
points racing to migrate one PostgreSQL database when the production stack starts).
"""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from bot.domain.storage.db import get_engine

_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_current: set[str] = set()  # databases found (or made) up to date by this process
_lock = threading.Lock()


class SchemaOutOfDate(ValueError):
    """The database's schema is not the one this code was written for (a ValueError: the CLI
    answers it with its message and exit status 2, as any other bad input)."""


def upgrade(url: str) -> None:
    """Apply every pending migration to the database at `url`."""
    with _lock:
        command.upgrade(_config(url), "head")
        _current.add(url)


def require_current(url: str) -> None:
    """Raise SchemaOutOfDate unless the database at `url` has the newest schema (checked once
    per process: the schema does not change under a running server)."""
    with _lock:
        if url in _current:
            return
        head = ScriptDirectory.from_config(_config(url)).get_current_head()
        with get_engine(url).connect() as connection:
            found = MigrationContext.configure(connection).get_current_revision()
        if found != head:
            raise SchemaOutOfDate(
                f"the database schema is at {found or 'nothing (an empty database)'}, this code needs {head}: "
                "run `python -m bot db upgrade` (make run does) and start again")
        _current.add(url)


def _config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config
