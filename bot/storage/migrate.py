"""Bring a database to the newest schema (Alembic `upgrade head`), from code or the CLI."""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config

_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_done: set[str] = set()
_lock = threading.Lock()


def upgrade(url: str) -> None:
    """Apply every pending migration to the database at `url` (once per process)."""
    with _lock:
        if url in _done:
            return
        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
        command.upgrade(config, "head")
        _done.add(url)
