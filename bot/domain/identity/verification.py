"""Email verification codes and the identities they link (see bot/domain/identity/__init__.py)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from bot.domain.complaints.parsing import EMAIL_IN_TEXT
from bot.domain.identity.channel_ids import email_customer, email_of
from bot.domain.storage.db import as_utc, session_scope
from bot.domain.storage.models import CustomerEmail, InteractionRecord

CODE_LIFETIME = timedelta(minutes=15)
MAX_ATTEMPTS = 5


class VerificationError(ValueError):
    """The code is wrong, expired or used up; the message says which, for the customer."""


def normalise_email(text: str) -> str | None:
    """The email address in `text`, lower-cased, or None if there is none."""
    found = EMAIL_IN_TEXT.search(text)
    return found.group(0).lower() if found else None


def start(url: str, customer_id: str, email: str) -> str:
    """A new code for (customer, email); replaces an earlier unconfirmed one. Returns the code."""
    code = f"{secrets.randbelow(1_000_000):06d}"
    now = datetime.now(timezone.utc)
    with session_scope(url) as session:
        row = session.execute(sa.select(CustomerEmail).where(CustomerEmail.customer_id == customer_id,
                                                             CustomerEmail.email == email)).scalar_one_or_none()
        if row is None:
            row = CustomerEmail(customer_id=customer_id, email=email, created_at=now)
            session.add(row)
        row.code_hash, row.code_expires_at, row.attempts = _hash(code), now + CODE_LIFETIME, 0
    return code


def confirm(url: str, customer_id: str, code: str) -> str:
    """The email the code proves for this customer; VerificationError otherwise. A wrong try is
    counted (committed) before the error is raised, so tries cannot be replayed."""
    now = datetime.now(timezone.utc)
    with session_scope(url) as session:
        row = session.execute(
            sa.select(CustomerEmail).where(CustomerEmail.customer_id == customer_id,
                                           CustomerEmail.code_hash.is_not(None))
            .order_by(CustomerEmail.code_expires_at.desc()).limit(1)
        ).scalar_one_or_none()
        if row is None:
            problem = "There is no code waiting for this chat. Tell me your email to get one."
        elif as_utc(row.code_expires_at) < now or row.attempts >= MAX_ATTEMPTS:
            row.code_hash = None
            problem = "That code has expired. Tell me your email again for a new one."
        else:
            row.attempts += 1
            if hmac.compare_digest(row.code_hash, _hash(code.strip())):
                row.code_hash, row.verified_at = None, now
                return row.email
            problem = f"That code is not right ({MAX_ATTEMPTS - row.attempts} tries left). Please check the email."
    raise VerificationError(problem)


def linked_customers(url: str, customer_id: str) -> list[str]:
    """This customer and every identity sharing one of its verified emails (an email customer's
    own address counts: they write from it and every answer goes to it)."""
    emails = verified_emails(url, customer_id)
    with session_scope(url) as session:
        linked = set(session.execute(sa.select(CustomerEmail.customer_id).distinct().where(
            CustomerEmail.email.in_(emails), CustomerEmail.verified_at.is_not(None))).scalars().all())
        writers = [email_customer(e) for e in emails]  # those addresses' email customers, if they wrote
        linked |= set(session.execute(sa.select(InteractionRecord.customer_id).distinct().where(
            InteractionRecord.customer_id.in_(writers))).scalars().all())
    return [customer_id, *sorted(linked - {customer_id})]


def verified_emails(url: str, customer_id: str) -> list[str]:
    with session_scope(url) as session:
        proven = list(session.execute(sa.select(CustomerEmail.email).where(
            CustomerEmail.customer_id == customer_id, CustomerEmail.verified_at.is_not(None))).scalars())
    own = email_of(customer_id)
    return [own, *[e for e in proven if e != own]] if own else proven


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()
