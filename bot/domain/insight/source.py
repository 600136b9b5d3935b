"""Rows for the metrics: records, handoffs and complaints in [since, until), optionally one channel."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from bot.domain.insight.metrics import Rows
from bot.domain.storage.db import as_utc, session_scope
from bot.domain.storage.models import Complaint, ComplaintStatusChange, Handoff
from bot.domain.storage.records import iter_records


def load(url: str, since: datetime, until: datetime, channel: str | None = None) -> Rows:
    end = as_utc(until)
    records = [r for r in iter_records(url, since=since)
               if datetime.fromisoformat(r["created_at"]) < end and (channel is None or r["channel"] == channel)]
    with session_scope(url) as session:
        handoffs = [
            {"conversation_id": h.conversation_id, "reason": h.reason, "status": h.status, "rating": h.rating,
             "created_at": as_utc(h.created_at)}
            for h in session.execute(sa.select(Handoff).where(Handoff.created_at >= since,
                                                              Handoff.created_at < until)).scalars()
            if channel is None or h.channel == channel
        ]
        resolved = dict(session.execute(
            sa.select(ComplaintStatusChange.complaint_id, sa.func.min(ComplaintStatusChange.changed_at))
            .where(ComplaintStatusChange.to_status == "resolved").group_by(ComplaintStatusChange.complaint_id)
        ).all())
        complaints = [
            {"category": c.category, "status": c.status, "created_at": as_utc(c.created_at),
             "resolved_at": as_utc(resolved.get(c.id))}
            for c in session.execute(sa.select(Complaint).where(Complaint.created_at >= since,
                                                                Complaint.created_at < until)).scalars()
            if channel is None or c.channel == channel
        ]
    return Rows(records=records, handoffs=handoffs, complaints=complaints)
