"""Undelivered messages: each later try is claimed by one replica, pauses grow, and a message
tried for about a day is given up and kept (bot/rasa_server/channels/delivery.py)."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from bot.domain.storage.db import session_scope
from bot.domain.storage.models import UndeliveredMessage
from bot.rasa_server.channels import delivery


def keep(url: str, monkeypatch: pytest.MonkeyPatch, recipient: str, message: dict) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("BOT_REDELIVERY_SECONDS", "0")
    asyncio.run(delivery.record_undelivered("callback", recipient, message, "ConnectionRefusedError()"))


def test_a_kept_message_is_claimed_whole_and_by_one_replica_only(migrated: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    message = {"recipient_id": "c1", "text": "Your refund is on its way",
               "buttons": [{"title": "OK", "payload": "/ok"}]}
    keep(migrated, monkeypatch, "c1", message)
    keep(migrated, monkeypatch, "c2", {"recipient_id": "c2", "text": "Hello"})

    claims: list[list[delivery.Pending]] = []
    replicas = [threading.Thread(target=lambda: claims.append(delivery.claim_due(migrated, 30))) for _ in range(4)]
    for replica in replicas:
        replica.start()
    for replica in replicas:
        replica.join()
    taken = [p for claim in claims for p in claim]
    assert sorted(p.recipient_id for p in taken) == ["c1", "c2"]  # each once, whichever replica
    assert next(p for p in taken if p.recipient_id == "c1").message == message

    first = next(p for p in taken if p.recipient_id == "c1")
    delivery.settle(migrated, first, None)
    delivery.settle(migrated, next(p for p in taken if p.recipient_id == "c2"), "HTTP 503")
    assert delivery.undelivered(migrated, "c1") == []
    [left] = delivery.undelivered(migrated, "c2")
    assert left["attempts"] == 1 and left["error"] == "HTTP 503" and not left["given_up"]


def test_pauses_double_up_to_an_hour_and_a_message_is_given_up_after_about_a_day(
        migrated: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", migrated)
    monkeypatch.setenv("BOT_REDELIVERY_SECONDS", "30")
    asyncio.run(delivery.record_undelivered("callback", "c3", {"recipient_id": "c3", "text": "Hello"}, "refused"))
    pauses = []
    for _ in range(delivery.MAX_ATTEMPTS):  # the first pause (30 s) was set when it was kept
        with session_scope(migrated) as session:  # due now, whatever the pause was
            session.execute(sa.update(UndeliveredMessage).where(UndeliveredMessage.recipient_id == "c3")
                            .values(next_attempt_at=datetime.now(timezone.utc)))
        before = datetime.now(timezone.utc)
        [pending] = [p for p in delivery.claim_due(migrated, 30) if p.recipient_id == "c3"]
        delivery.settle(migrated, pending, "still refused")
        with session_scope(migrated) as session:
            due = session.execute(sa.select(UndeliveredMessage.next_attempt_at)
                                  .where(UndeliveredMessage.recipient_id == "c3")).scalar_one()
        pauses.append(None if due is None else _aware(due) - before)
    assert pauses[0].total_seconds() == pytest.approx(60, abs=2)
    assert pauses[1].total_seconds() == pytest.approx(120, abs=2)
    assert max(p for p in pauses if p is not None) <= timedelta(hours=1, seconds=2)
    assert pauses[-1] is None  # given up
    assert sum((p for p in pauses if p is not None), timedelta()) > timedelta(hours=20)
    [kept] = delivery.undelivered(migrated, "c3")
    assert kept["given_up"] and kept["attempts"] == delivery.MAX_ATTEMPTS
    assert [p for p in delivery.claim_due(migrated, 30) if p.recipient_id == "c3"] == []


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # SQLite drops the zone
