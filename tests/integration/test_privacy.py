"""Privacy through the real stack: personal data never reaches the stored text, and
`erase-customer` leaves no trace of the customer in any table (every table is scanned) while
the metrics stay the same. `purge` forgets only what is older than the retention period."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from bot.domain.events import feed
from bot.domain.insight import metrics, source
from bot.domain.storage.db import get_engine
from tests.conftest import RunningBot

pytestmark = pytest.mark.integration
EMAIL, PHONE, CARD = "priya.secret@example.com", "07700 900456", "4111 1111 1111 1111"


def cli(bot: RunningBot, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", *args], env=bot.env(), capture_output=True, text=True,
                          timeout=120)


def every_stored_value(url: str) -> str:
    """Every cell of every table, as one text to search."""
    engine = get_engine(url)
    cells = []
    with engine.connect() as connection:
        for table in sa.inspect(engine).get_table_names():
            for row in connection.execute(sa.text(f'SELECT * FROM "{table}"')):
                cells.extend(str(value) for value in row)
    return "\n".join(cells)


def figures(bot: RunningBot) -> dict:
    now = datetime.now(timezone.utc)
    totals = metrics.compute(source.load(bot.settings.database_url, now - timedelta(days=1), now))["totals"]
    return {k: totals[k] for k in ("conversations", "containment_rate", "handoff_rate", "faq_answer_rate",
                                   "fallback_rate", "customer_turns", "handoff_rate_by_reason")}


def test_stored_text_is_redacted_and_erase_leaves_no_trace(bot: RunningBot) -> None:
    customer = f"priya-{uuid.uuid4().hex[:8]}"
    bot.say(customer, "how long does delivery take?")
    bot.say(customer, f"my card {CARD} was charged twice, call me on {PHONE}")
    bot.say(customer, "I want to complain, my order BC-246810 never arrived")
    for answer in ("it never arrived at all", EMAIL, "/affirm"):
        bot.say(customer, answer)
    bot.say(customer, "I need to talk to a person")
    bot.say(customer, f"Please email me at {EMAIL} about the refund")  # the ticket message

    stored = every_stored_value(bot.settings.database_url)
    texts = " ".join(r["text"] or "" for r in map(json.loads, cli(bot, "records", "export", "--conversation",
                                                                   customer).stdout.splitlines()))
    assert CARD not in texts and PHONE not in texts and EMAIL not in texts
    assert "[card]" in texts and "[phone]" in texts and "BC-246810" in texts
    assert CARD not in stored and PHONE not in stored  # nowhere, not even in Rasa's event log
    assert EMAIL in stored  # kept where it is needed: the complaint's contact, the ticket message
    logs = "".join(path.read_text(errors="replace") for path in bot.settings.run_dir.glob("*.log"))
    assert CARD not in logs and PHONE not in logs and EMAIL not in logs  # nor in the servers' logs

    assert feed.backfill(bot.settings.database_url, 3600) > 0  # the live feed holds the sender id too
    before = figures(bot)
    erased = cli(bot, "erase-customer", customer)
    assert erased.returncode == 0, erased.stderr
    removed = json.loads(erased.stdout)
    assert removed["conversations"] == 1 and removed["interaction_records"] > 10
    assert removed["conversation_events"] > 10 and removed["live_events"] > 10
    assert removed["complaints"] == 1 and removed["handoffs"] == 1

    stored = every_stored_value(bot.settings.database_url)
    for trace in (customer, EMAIL, "priya.secret", "never arrived at all", "about the refund"):
        assert trace not in stored, trace
    assert figures(bot) == before  # the aggregates do not change
    assert cli(bot, "records", "export", "--conversation", customer).stdout == ""


def test_purge_forgets_only_old_conversations(bot: RunningBot) -> None:
    old, recent = f"old-{uuid.uuid4().hex[:8]}", f"new-{uuid.uuid4().hex[:8]}"
    bot.say(old, "can I pay with paypal?")
    bot.say(recent, "can I pay with paypal?")
    engine = get_engine(bot.settings.database_url)
    long_ago = datetime.now(timezone.utc) - timedelta(days=400)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE interaction_records SET created_at = :t WHERE conversation_id = :c"),
                           {"t": long_ago, "c": old})
    purged = cli(bot, "purge", "--days", "365")
    assert purged.returncode == 0, purged.stderr
    assert json.loads(purged.stdout)["conversations"] >= 1
    stored = every_stored_value(bot.settings.database_url)
    assert old not in stored and recent in stored
    assert "paypal" in cli(bot, "records", "export", "--conversation", recent).stdout
    assert cli(bot, "purge", "--days", "0").returncode == 2  # a clear error, nothing done
