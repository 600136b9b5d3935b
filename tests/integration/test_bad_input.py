"""Bad input over REST: a clear reply or a 4xx with a message, never a 5xx; every accepted
message is recorded."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest

from bot.rasa_server.channels.rest import MAX_MESSAGE_CHARS
from tests.conftest import RunningBot

pytestmark = pytest.mark.integration

ACCEPTED = [
    "😀😀 where is my parcel 📦",
    "我的包裹什么时候到？",
    "متى يصل طلبي؟",
    "שלום, איפה ההזמנה שלי",
    "how\x00 long\x07 does delivery\x1b take?",
    "x" * MAX_MESSAGE_CHARS,
    "'; DROP TABLE interaction_records; --",
    "where is \ud83d my parcel\udfff?",  # unpaired surrogates (found by tests/fuzz: they used to fail the save)
]


@pytest.mark.parametrize("message", ACCEPTED, ids=["emoji", "chinese", "arabic", "hebrew", "control", "max", "sql",
                                                   "surrogates"])
def test_unusual_but_valid_messages_get_a_reply_and_are_recorded(bot: RunningBot, message: str) -> None:
    conversation = f"bad-{uuid.uuid4().hex[:8]}"
    reply = bot.post({"sender": conversation, "message": message})
    assert reply.status_code == 200, reply.text
    assert reply.json() and all(r.get("text") for r in reply.json())
    done = subprocess.run([sys.executable, "-m", "bot", "records", "export", "--conversation", conversation],
                          env=bot.env(), capture_output=True, text=True, check=True, timeout=120)
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert records[0]["actor"] == "customer"
    assert records[0]["text"] == "".join(c for c in message if (c >= " " or c in "\n\t") and not
                                         "\ud800" <= c <= "\udfff")
    assert len(records) == 1 + len(reply.json())


@pytest.mark.parametrize(
    ("body", "raw", "status", "says"),
    [
        ({"sender": "s", "message": ""}, None, 400, "empty"),
        ({"sender": "s", "message": "   \n\t "}, None, 400, "empty"),
        ({"sender": "s", "message": "x" * 20_000}, None, 413, "too long"),
        (None, '{"sender": "s", "message": ', 400, "JSON"),
        (None, "not json at all", 400, "JSON"),
        ({"message": "hello"}, None, 400, "sender"),
        ({"sender": "", "message": "hello"}, None, 400, "sender"),
        ({"sender": 42, "message": "hello"}, None, 400, "sender"),
        ({"sender": "s", "message": 42}, None, 400, "message"),
        ({"sender": "s", "message": ["a"]}, None, 400, "message"),
        ({"sender": "s", "message": "hi", "metadata": "x"}, None, 400, "metadata"),
        (["sender", "message"], None, 400, "object"),
        # found by tests/fuzz: ids that no database could store used to fail after processing (503)
        ({"sender": "s\ud800", "message": "hello"}, None, 400, "surrogates"),
        ({"sender": "s\x00", "message": "hello"}, None, 400, "control characters"),
        ({"sender": "s", "message": "hi", "metadata": {"customer_id": "\ud800"}}, None, 400, "customer_id"),
        ({"sender": "s", "message": "hi", "metadata": {"customer_id": "c" * 300}}, None, 400, "customer_id"),
        ({"sender": "s", "message": "hi", "metadata": {"customer_id": 42}}, None, 400, "customer_id"),
    ],
    ids=["empty", "blank", "20k", "truncated-json", "not-json", "no-sender", "empty-sender", "int-sender",
         "int-message", "list-message", "bad-metadata", "array-body", "surrogate-sender", "nul-sender",
         "surrogate-customer", "long-customer", "int-customer"],
)
def test_bad_requests_get_a_4xx_with_a_message(bot: RunningBot, body: object, raw: str | None,
                                               status: int, says: str) -> None:
    reply = bot.post(body, data=raw)
    assert reply.status_code == status, reply.text
    assert says.lower() in reply.json()["error"].lower()
    assert bot.say(f"after-{uuid.uuid4().hex[:6]}", "hello")  # the server is still fine
