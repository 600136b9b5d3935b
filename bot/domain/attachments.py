"""Files customers send: a photo of the broken item, a PDF receipt.

Checked by their content, never by their name: the first bytes must be a PNG, JPEG, WebP or
PDF signature (an HTML page called photo.png is refused), at most MAX_BYTES. The bytes are kept
under their sha256 in the file store (bot/domain/attachment_files.py: BOT_ATTACHMENTS_DIR outside
any web root, or an S3-compatible bucket; the same file twice is stored once), the row says
which conversation sent it. Agents open them behind the console's login,
served with the type found here, `nosniff` and a sandbox CSP: nothing a customer sends runs in
an agent's browser (bot/console/routes/handoffs.py). The conversation records a customer
message "[photo: name]" with the attachment's id (bot/rasa_server/channels/widget.py), so it is
in the transcript, the export and the complaint's conversation. A file belongs to a complaint
when it is sent within LINK_HOURS before or after that complaint is filed in the same
conversation (`link_to_complaint` at filing, `store` afterwards): the photo of the broken item
comes just before or just after the complaint about it. Erased with the customer:
`erase-customer` and `purge` remove the rows, then `remove_orphans` the files no row names.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.domain.attachment_files import FileStore
from bot.domain.storage.db import as_utc, session_scope
from bot.domain.storage.models import Attachment, Complaint

MAX_BYTES = 5 * 1024 * 1024
MEDIA_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp", "pdf": "application/pdf"}
REFUSED_TYPE = "Only photos (PNG, JPEG, WebP) and PDF files can be sent."
REFUSED_SIZE = f"The file is too large: at most {MAX_BYTES // (1024 * 1024)} MB."
LINK_HOURS = 24


class Refused(ValueError):
    """A file we do not take; the message is for the customer."""


@dataclass(frozen=True)
class AttachmentView:
    id: int
    conversation_id: str
    name: str
    kind: str
    size: int
    sha256: str
    created_at: datetime
    complaint_ref: str | None

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.kind]

    @property
    def label(self) -> str:
        """How the customer's message reads in the transcript: "[photo: broken.jpg]"."""
        return f"[{'document' if self.kind == 'pdf' else 'photo'}: {self.name}]"


def reference(attachment_id: int) -> str:
    """How a record names the attachment: "att-12" (a bare number would be redacted as a phone)."""
    return f"att-{attachment_id}"


def id_of(reference_text: str) -> int | None:
    match = re.fullmatch(r"att-(\d{1,9})", reference_text or "")
    return int(match.group(1)) if match else None


def kind_of(data: bytes) -> str | None:
    """png, jpeg, webp or pdf from the file's first bytes; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith(b"%PDF-"):
        return "pdf"
    return None


def store(url: str, files: FileStore, conversation_id: str, name: str, data: bytes) -> AttachmentView:
    """Check and keep a file; Refused (with words for the customer) when it is not one we take."""
    if len(data) > MAX_BYTES:
        raise Refused(REFUSED_SIZE)
    kind = kind_of(data)
    if kind is None:
        raise Refused(REFUSED_TYPE)
    digest = hashlib.sha256(data).hexdigest()
    files.put(digest, data)
    now = datetime.now(timezone.utc)
    with session_scope(url) as session:
        row = Attachment(conversation_id=conversation_id[:255], sha256=digest, kind=kind, size=len(data),
                         name=_clean_name(name, kind), created_at=now,
                         complaint_ref=_complaint_just_filed(session, conversation_id, now))
        session.add(row)
        session.flush()
        return _view(row)


def get(url: str, attachment_id: int) -> AttachmentView | None:
    with session_scope(url) as session:
        row = session.get(Attachment, attachment_id)
        return _view(row) if row is not None else None


def for_conversation(url: str, conversation_id: str) -> list[AttachmentView]:
    with session_scope(url) as session:
        rows = session.execute(sa.select(Attachment).where(Attachment.conversation_id == conversation_id)
                               .order_by(Attachment.id)).scalars()
        return [_view(row) for row in rows]


def for_complaint(url: str, reference: str) -> list[AttachmentView]:
    with session_scope(url) as session:
        rows = session.execute(sa.select(Attachment).where(Attachment.complaint_ref == reference)
                               .order_by(Attachment.id)).scalars()
        return [_view(row) for row in rows]


def link_to_complaint(session: Session, conversation_id: str, reference: str, filed_at: datetime) -> int:
    """At filing: the conversation's files of the last LINK_HOURS that belong to no complaint yet
    become this complaint's (in the filing's own transaction); how many."""
    return session.execute(
        sa.update(Attachment).where(Attachment.conversation_id == conversation_id, Attachment.complaint_ref.is_(None),
                                    Attachment.created_at >= filed_at - timedelta(hours=LINK_HOURS))
        .values(complaint_ref=reference)).rowcount


def read(files: FileStore, attachment: AttachmentView) -> bytes | None:
    """The file's bytes; None when the store no longer has them."""
    return files.read(attachment.sha256)


def remove_orphans(url: str, files: FileStore) -> int:
    """Delete the files no attachment row names any more (after an erasure or a purge)."""
    with session_scope(url) as session:
        kept = set(session.execute(sa.select(Attachment.sha256).distinct()).scalars())
    orphans = [digest for digest in files.digests() if digest not in kept]
    for digest in orphans:
        files.delete(digest)
    return len(orphans)


def _complaint_just_filed(session: Session, conversation_id: str, now: datetime) -> str | None:
    """The conversation's newest complaint still being handled, if filed within LINK_HOURS."""
    return session.execute(
        sa.select(Complaint.reference).where(Complaint.conversation_id == conversation_id,
                                             Complaint.status.in_(("open", "in_progress")),
                                             Complaint.created_at >= now - timedelta(hours=LINK_HOURS))
        .order_by(Complaint.id.desc()).limit(1)).scalar()


def _clean_name(name: str, kind: str) -> str:
    """The file's name as the customer had it, without paths or odd characters."""
    base = re.sub(r"[^\w.\- ]", "_", Path(name or "").name).strip(" .")[:120]
    return base or f"file.{kind}"


def _view(row: Attachment) -> AttachmentView:
    return AttachmentView(id=row.id, conversation_id=row.conversation_id, name=row.name, kind=row.kind,
                          size=row.size, sha256=row.sha256, created_at=as_utc(row.created_at),
                          complaint_ref=row.complaint_ref)
