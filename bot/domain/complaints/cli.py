"""`python -m bot complaints ...`: the operator's side of complaints.

    python -m bot complaints list [--status open] [--format jsonl|csv]
    python -m bot complaints show C-2026-000123
    python -m bot complaints set-status C-2026-000123 in_progress --note "Replacement on its way"
    python -m bot complaints notify          (re-send updates the customer has not received)
"""

from __future__ import annotations

import getpass
import json
import sys

from bot.config import load_settings
from bot.domain import attachments
from bot.domain.complaints import service
from bot.domain.complaints.notify import notify_change, notify_pending
from bot.domain.storage.migrate import require_current
from bot.tabular import write_rows


def list_complaints(status: str | None, fmt: str) -> int:
    settings = load_settings()
    require_current(settings.database_url)
    rows = (c.as_row() for c in service.iter_complaints(settings.database_url, status))
    write_rows(rows, service.FIELDS, fmt, sys.stdout)
    return 0


def show(reference: str) -> int:
    url = load_settings().database_url
    require_current(url)
    complaint = service.get(url, reference)
    files = [{"name": f.name, "kind": f.kind, "size": f.size, "sha256": f.sha256, "sent_at": f.created_at.isoformat()}
             for f in attachments.for_complaint(url, complaint.reference)]
    print(json.dumps(complaint.as_row() | {"history": service.history(url, reference), "files": files}, indent=2,
                     ensure_ascii=False))
    return 0


def set_status(reference: str, status: str, note: str | None, changed_by: str | None) -> int:
    """Change the status, then tell the customer on their channel (or say why not yet)."""
    settings = load_settings()
    require_current(settings.database_url)
    change = service.set_status(settings.database_url, reference, status, note, changed_by or getpass.getuser())
    print(f"{change.complaint.reference}: {change.from_status} -> {change.to_status}")
    if notify_change(settings, change.id, change.complaint.reference, change.complaint.conversation_id):
        print("customer notified")
        return 0
    print("customer NOT notified yet (Rasa unreachable); run `python -m bot complaints notify` when the bot is up",
          file=sys.stderr)
    return 3


def notify() -> int:
    settings = load_settings()
    require_current(settings.database_url)
    sent, pending = notify_pending(settings)
    print(f"{sent} update(s) sent, {pending} still pending")
    return 0 if pending == 0 else 3
