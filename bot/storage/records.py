"""Reading interaction records back: by conversation, by customer, since a time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from bot.storage.db import as_utc, session_scope
from bot.storage.models import RECORD_FIELDS, InteractionRecord


def iter_records(
    url: str,
    conversation_id: str | None = None,
    customer_id: str | None = None,
    since: datetime | None = None,
    batch: int = 1000,
) -> Iterator[dict[str, Any]]:
    """Records in the order they were written, as plain dicts with RECORD_FIELDS keys."""
    query = sa.select(InteractionRecord).order_by(InteractionRecord.id)
    if conversation_id is not None:
        query = query.where(InteractionRecord.conversation_id == conversation_id)
    if customer_id is not None:
        query = query.where(InteractionRecord.customer_id == customer_id)
    if since is not None:
        query = query.where(InteractionRecord.created_at >= since)
    with session_scope(url) as session:
        for row in session.execute(query.execution_options(yield_per=batch)).scalars():
            yield _as_dict(row)


def _as_dict(row: InteractionRecord) -> dict[str, Any]:
    record = {name: getattr(row, name) for name in RECORD_FIELDS}
    record["created_at"] = as_utc(record["created_at"]).isoformat()
    return record
