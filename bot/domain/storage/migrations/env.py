"""Alembic environment: the URL comes from the caller (bot.domain.storage.migrate), not a file."""

from __future__ import annotations

from alembic import context

from bot.domain.storage.db import get_engine
from bot.domain.storage.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url")

if context.is_offline_mode():
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    with get_engine(url).connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
