"""The web widget on the production stack: socket.io through nginx (sticky to one Rasa replica),
everything else spread over both replicas and joined through Redis."""

from __future__ import annotations

import threading
import uuid

import pytest
import requests
import socketio

from bot import rasa_api
from bot.domain import attachments
from bot.domain.handoff import rasa_push
from bot.domain.storage.records import iter_records
from tests.resilience.conftest import ProductionRun

pytestmark = pytest.mark.integration


def test_the_widget_behind_nginx_loses_nothing_and_its_live_parts_reach_every_replica(prod: ProductionRun) -> None:
    settings = prod.settings
    session = f"prodw{uuid.uuid4().hex[:10]}"
    agent_said, file_shown = threading.Event(), threading.Event()
    received: list[dict] = []
    client = socketio.Client()
    client.on("customer_uttered", lambda message: message.get("id") == "file-1" and file_shown.set())
    client.on("bot_uttered", lambda message: (received.append(message), message.get("agent") and agent_said.set()))
    client.connect(settings.rasa_url, transports=["polling"], socketio_path="socket.io")  # sticky by address
    message = {"message": "how long does delivery take?", "session_id": session, "id": "p-1"}
    try:
        assert client.call("session_request", {"session_id": session}, timeout=30)["messages"] == []
        assert client.call("user_uttered", message, timeout=60) == {"status": "recorded"}
        assert client.call("user_uttered", message, timeout=60) == {"status": "recorded", "duplicate": True}

        client.call("typing", {"draft": "and can I pay by invoice"}, timeout=30)  # stored once acknowledged
        # Plain API calls go round-robin to both replicas: each must see the draft (kept in Redis).
        assert [rasa_api.customer_draft(settings, session) for _ in range(4)] == ["and can I pay by invoice"] * 4

        # Pushed through whichever replica nginx picks; reaches the socket on the sticky one (Redis).
        rasa_push.send_agent_message(settings, session, "Zoe here, checking your delivery.", "zoe")
        assert agent_said.wait(30)

        # A 4.5 MB receipt through nginx (its 1 MB default would refuse it), sent twice with one id.
        receipt = b"%PDF-1.7\n" + bytes(4_500_000)
        uploads = [requests.post(f"{settings.rasa_url}/webhooks/widget/attachments", timeout=60,
                                 data={"session_id": session, "id": "file-1"},
                                 files={"file": ("receipt.pdf", receipt)}).json()["status"] for _ in range(2)]
        assert uploads == ["recorded", "duplicate"]
        assert file_shown.wait(30)  # shown on the socket, whichever replica took the upload
        history = client.call("session_request", {"session_id": session}, timeout=30)["messages"]
    finally:
        client.disconnect()
    assert [(m["who"], m.get("id")) for m in history][0] == ("customer", "p-1")
    assert history[-2] == {"who": "agent", "agent": "zoe", "text": "Zoe here, checking your delivery.",
                           "at": history[-2]["at"]}
    assert (history[-1]["who"], history[-1]["text"], history[-1]["id"]) == ("customer", "[document: receipt.pdf]",
                                                                           "file-1")
    customer_texts = [r["text"] for r in iter_records(settings.database_url, conversation_id=session)
                      if r["actor"] == "customer"]
    assert customer_texts == ["how long does delivery take?", "[document: receipt.pdf]"]  # each sent twice, run once
    [kept] = attachments.for_conversation(settings.database_url, session)
    assert kept.size == len(receipt)
