"""`python -m bot records export`: interaction records as JSON lines or CSV on stdout."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from typing import TextIO

from bot.config import load_settings
from bot.domain.storage.migrate import require_current
from bot.domain.storage.models import RECORD_FIELDS
from bot.domain.storage.records import iter_records
from bot.tabular import write_rows


def parse_since(value: str) -> datetime:
    """An ISO-8601 date or time; without a zone it means UTC."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise ValueError(
            f"--since must be an ISO-8601 date or time, e.g. 2026-11-25T10:00:00Z (got {value!r})"
        ) from error
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def export(fmt: str, conversation: str | None, since: str | None, out: TextIO = sys.stdout) -> int:
    """Write matching records to `out`; return how many were written."""
    url = load_settings().database_url
    require_current(url)
    records = iter_records(url, conversation_id=conversation, since=parse_since(since) if since else None)
    return write_rows(records, RECORD_FIELDS, fmt, out)
