"""Email verification codes and linked identities, on a SQLite file and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from bot.domain.identity import verification
from bot.domain.identity.verification import VerificationError
from bot.domain.storage.db import session_scope
from bot.domain.storage.migrate import upgrade
from bot.domain.storage.models import CustomerEmail


def ids() -> tuple[str, str, str]:
    tag = uuid.uuid4().hex[:8]
    return f"telegram:{tag}", f"widget:{tag}", f"jane.{tag}@example.com"


def test_the_same_verified_email_links_two_channels(database_url: str) -> None:
    upgrade(database_url)
    telegram, widget, email = ids()
    verification.confirm(database_url, telegram, verification.start(database_url, telegram, email))
    assert verification.linked_customers(database_url, telegram) == [telegram]
    verification.confirm(database_url, widget, verification.start(database_url, widget, email))
    assert verification.linked_customers(database_url, telegram) == [telegram, widget]
    assert verification.linked_customers(database_url, widget) == [widget, telegram]
    assert verification.verified_emails(database_url, widget) == [email]


def test_unconfirmed_or_wrong_codes_link_nothing(database_url: str) -> None:
    upgrade(database_url)
    telegram, widget, email = ids()
    verification.confirm(database_url, telegram, verification.start(database_url, telegram, email))
    code = verification.start(database_url, widget, email)
    assert verification.linked_customers(database_url, telegram) == [telegram]  # only asked, not proven
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    with pytest.raises(VerificationError, match="4 tries left"):
        verification.confirm(database_url, widget, wrong)
    with session_scope(database_url) as session:
        stored = session.execute(sa.select(CustomerEmail.code_hash).where(CustomerEmail.customer_id == widget)
                                 ).scalar_one()
    assert code not in stored  # only a hash
    for _ in range(4):
        with pytest.raises(VerificationError):
            verification.confirm(database_url, widget, wrong)
    with pytest.raises(VerificationError, match="expired"):
        verification.confirm(database_url, widget, code)  # used up: even the right code no longer works
    assert verification.linked_customers(database_url, telegram) == [telegram]


def test_expired_codes_and_no_code(database_url: str) -> None:
    upgrade(database_url)
    telegram, _, email = ids()
    with pytest.raises(VerificationError, match="no code"):
        verification.confirm(database_url, telegram, "123456")
    code = verification.start(database_url, telegram, email)
    with session_scope(database_url) as session:
        session.execute(sa.update(CustomerEmail).where(CustomerEmail.customer_id == telegram)
                        .values(code_expires_at=sa.func.current_timestamp()))
    with pytest.raises(VerificationError, match="expired"):
        verification.confirm(database_url, telegram, code)


def test_emails_are_found_in_text() -> None:
    assert verification.normalise_email("it's Jane.Doe@Example.com thanks") == "jane.doe@example.com"
    assert verification.normalise_email("jane at example dot com") is None


def test_an_email_customer_is_the_same_person_as_a_chat_that_verified_that_address(database_url: str) -> None:
    from datetime import datetime, timezone

    from bot.domain.storage.models import InteractionRecord

    upgrade(database_url)
    telegram, _, email = ids()
    writer = f"email:{email}"
    assert verification.linked_customers(database_url, writer) == [writer]  # nobody else has that address
    assert verification.verified_emails(database_url, writer) == [email]  # theirs: answers go to it
    verification.confirm(database_url, telegram, verification.start(database_url, telegram, email))
    assert verification.linked_customers(database_url, telegram) == [telegram]  # the address never wrote to us
    with session_scope(database_url) as session:
        session.add(InteractionRecord(conversation_id=f"email-{uuid.uuid4().hex[:8]}", customer_id=writer,
                                      channel="email", actor="customer", text="hello",
                                      created_at=datetime.now(timezone.utc)))
    assert verification.linked_customers(database_url, telegram) == [telegram, writer]
    assert verification.linked_customers(database_url, writer) == [writer, telegram]
