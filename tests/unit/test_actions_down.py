"""The Rasa server's stand-in for a down action server (bot/rasa_server/actions_down.py), in process: Rasa's
own RemoteAction calls a port nobody listens on, and gets the fallback's events instead of an
exception. The full stack over REST is tests/integration/test_action_server_down.py."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import ClientConnectorError, ClientResponseError
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActiveLoop,
    BotUttered,
    ConversationPaused,
    Event,
    FollowupAction,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import EndpointConfig

from bot.config import ROOT
from bot.domain.handoff import agents, service
from bot.domain.knowledge import faq_index
from bot.domain.storage.migrate import upgrade
from bot.ops.runner import free_port
from bot.rasa_server import actions_down, actions_in_process
from tests.conftest import sqlite_url

DOMAIN = Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture(autouse=True)
def installed() -> Iterator[None]:
    """The fallback around RemoteAction.run, for this module only."""
    original = RemoteAction.run
    actions_down.install()
    actions_down.install()  # a second install does not wrap twice
    yield
    RemoteAction.run = original  # type: ignore[method-assign]


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = sqlite_url(tmp_path)
    upgrade(url)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("BOT_OPENING_HOURS", "")
    return url


def said(text: str, intent: str = "ask_question", **slots: object) -> DialogueStateTracker:
    events: list[Event] = [SessionStarted(), *[SlotSet(k, v) for k, v in slots.items()],
                           UserUttered(text, intent={"name": intent, "confidence": 0.9}, input_channel="rest",
                                       metadata={"customer_id": "jane"})]
    return DialogueStateTracker.from_events("c-1", events, DOMAIN.slots)


def run(action: str, tracker: DialogueStateTracker) -> list[Event]:
    """Run a custom action the way Rasa does, against an action server that is not there."""
    endpoint = EndpointConfig(url=f"http://127.0.0.1:{free_port()}/webhook")
    nlg = TemplatedNaturalLanguageGenerator(DOMAIN.responses)
    return asyncio.run(RemoteAction(action, endpoint).run(CollectingOutputChannel(), nlg, tracker, DOMAIN))


def bot_texts(events: list[Event]) -> list[str]:
    return [e.text for e in events if isinstance(e, BotUttered)]


def raised_in(context: BaseException, error: Exception) -> Exception:
    """`error` as raised inside an `except` for `context` (Rasa's way of wrapping)."""
    try:
        raise context
    except BaseException:
        try:
            raise error
        except Exception as wrapped:
            return wrapped


def test_unavailable_means_refused_timed_out_or_5xx_not_a_rejection_or_a_bad_response() -> None:
    refused = ClientConnectorError(None, OSError(111, "Connection refused"))  # type: ignore[arg-type]
    assert actions_down.unavailable(raised_in(refused, RasaException("Couldn't connect")))
    assert actions_down.unavailable(asyncio.TimeoutError())
    server_error = ClientResponseError(None, (), status=502)  # type: ignore[arg-type]
    assert actions_down.unavailable(raised_in(server_error, RasaException("non 200")))
    rejected = ClientResponseError(None, (), status=400)  # type: ignore[arg-type]
    assert not actions_down.unavailable(raised_in(rejected, ActionExecutionRejection("action_x")))
    assert not actions_down.unavailable(ValueError("not a valid response"))


def test_a_failed_action_apologises_once_per_turn_in_the_customers_language_and_offers_a_person() -> None:
    events = run("action_answer_faq", said("退货的运费是谁出？", language="zh"))
    [apology] = [e for e in events if isinstance(e, BotUttered)]
    assert apology.text.startswith("抱歉") and apology.data["buttons"][0]["payload"] == "/request_human"
    assert SlotSet("offered_human", True) in events and isinstance(events[-1], FollowupAction)

    tracker = said("how long does delivery take?")
    tracker.update_with_events(run("action_answer_faq", tracker), DOMAIN)
    assert bot_texts(run("action_complaint_status", tracker)) == []  # the same turn: said already


def test_a_failed_form_validation_ends_the_form() -> None:
    tracker = said("jane at example dot com", intent="inform")
    tracker.update(ActiveLoop("complaint_form"))
    events = run("validate_complaint_form", tracker)
    assert ActiveLoop(None) in events and bot_texts(events)


def test_the_faq_turns_own_actions_run_in_the_rasa_server_and_need_no_stand_in() -> None:
    actions_in_process.install()  # as bot/rasa_server/__main__.py does; undone by `installed`
    tracker = said("你好", language="zh")
    assert run("action_session_start", tracker)[:2] == [SessionStarted(), SlotSet("language", "zh")]
    assert run("action_detect_language", said("我的包裹在哪里")) == [SlotSet("language", "zh")]
    assert run("action_detect_language", said("/affirm", language="zh")) == []
    assert run("action_detect_language", said("where is my parcel", language="zh", language_chosen=True)) == []
    chosen = said("please reply in English", intent="choose_language", language="zh")  # the stand-in ignored this
    assert run("action_detect_language", chosen) == [SlotSet("language", "en"), SlotSet("language_chosen", True)]

    picked = said('/ask_question{"faq_id": "account-create"}')
    picked.latest_message.entities = [{"entity": "faq_id", "value": "account-create"}]
    [answer] = bot_texts(run("action_answer_faq", picked))  # answered, not the apology
    assert answer == faq_index().entry("account-create")["answer"]


def test_accepting_with_nobody_online_files_the_customers_words_as_a_ticket(database: str) -> None:
    events = run("action_request_human", said("where is my parcel?", intent="request_human"))
    ticket = service.open_for_conversation(database, "c-1")
    assert ticket is not None and (ticket.status, ticket.customer_id, ticket.channel) == ("ticket", "jane", "rest")
    assert ticket.message == "where is my parcel?" and ticket.reason == "customer_asked"
    assert f"#{ticket.id}" in " ".join(bot_texts(events)) and not any(isinstance(e, ConversationPaused) for e in events)


def test_accepting_with_an_agent_online_queues_and_pauses(database: str) -> None:
    agent = agents.add(database, "alice", "correct horse battery", [], 2)
    agents.mark_seen(database, agent.id)
    events = run("action_request_human", said("yes", intent="affirm", offered_human=True))
    handoff = service.open_for_conversation(database, "c-1")
    assert handoff is not None and (handoff.status, handoff.agent) == ("active", "alice")
    assert "alice" in " ".join(bot_texts(events)) and any(isinstance(e, ConversationPaused) for e in events)
    assert SlotSet("offered_human", False) in events
