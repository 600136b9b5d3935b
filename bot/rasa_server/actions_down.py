"""When the action server is down, the Rasa server answers for it: an apology and a person.

Why: nearly every reply of this bot comes from a custom action, and when the action server
cannot be reached Rasa 3.6 logs the failure of `RemoteAction.run`, drops the action's events
and carries on: the customer hears nothing (and the language, the session start and the
handoff, which are custom actions too, silently do not happen). `install()`, called by
bot/rasa_server/__main__.py, wraps `RemoteAction.run`. When a call fails because the action server is
unreachable, hung (no answer within BOT_ACTION_TIMEOUT seconds, not Rasa's 5 minutes) or answered
5xx, the action's events are replaced by what this
process can do on its own:

- `action_request_human`: the handoff itself, through bot/domain/handoff/service.py in the same
  database: queued for a person (the conversation pauses), or, when nobody is available,
  the customer's words filed as a ticket. Told with the same domain responses as normally.
- `action_reset_human_offer`: forget the offer.
- any other action: "I can't look that up right now" in the customer's language with a
  button to talk to a person (once per turn); an active form ends and the bot listens.

The events go back to Rasa as the action's own, so the processor logs them as usual and the
tracker store records the replies. A rejection (400) and invalid responses raise as before.

The FAQ turn's own actions (session start, language, the FAQ answer) never need a stand-in:
they run in this process (bot/rasa_server/actions_in_process.py), so FAQ answers go on while
the action server is down.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from aiohttp import ClientConnectionError, ClientResponseError
from rasa.core.actions.action import RemoteAction, create_bot_utterance
from rasa.core.channels.channel import OutputChannel
from rasa.core.nlg import NaturalLanguageGenerator
from rasa.shared.core.constants import ACTION_LISTEN_NAME, REQUESTED_SLOT
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
from sqlalchemy.exc import SQLAlchemyError

from bot.config import load_settings
from bot.domain.handoff import replies, service
from faq_index.language import CHINESE, ENGLISH, LANGUAGES

logger = logging.getLogger(__name__)

# Metadata on the apology: one per customer turn, and the offer it makes is told apart.
MARK = "action_server_down"
OFFER_PAYLOAD = "/request_human"
_APOLOGY = {
    ENGLISH: ("Sorry, I can't look that up right now: part of our system is not responding. "
              "Would you like to talk to a person from our team?", "Yes, talk to a person"),
    CHINESE: ("抱歉，我现在无法为您查询：我们的系统有一部分暂时没有响应。您想和我们团队的工作人员沟通吗？",
              "好的，转人工客服"),
}
# A ticket keeps the customer's latest words (the normal path asks for a message first).
TICKET_WORDS = 3
_NO_WORDS = "(The customer asked for a person while the assistant's action server was down.)"


def install() -> None:
    """Make every custom action call fall back to `stand_in` when the action server is down."""
    original = RemoteAction.run
    if getattr(original, "stands_in_when_down", False):
        return
    # Rasa waits 5 minutes for an action server that accepted the call and hangs; the customer
    # should hear the apology within seconds. Every action of this bot answers in well under a
    # second (a FAQ search that must load its encoder first: about 3 s).
    hung = _HungServer(load_settings().action_timeout)

    async def run(self: RemoteAction, output_channel: OutputChannel, nlg: NaturalLanguageGenerator,
                  tracker: DialogueStateTracker, domain: Domain) -> list[Event]:
        try:
            events = await asyncio.wait_for(original(self, output_channel, nlg, tracker, domain), hung.timeout())
        except Exception as error:
            hung.failed(error)
            if not unavailable(error):
                raise
            logger.error("action server unavailable for %s (%r): the Rasa server stands in", self.name(), error)
            return await stand_in(self.name(), output_channel, nlg, tracker, domain)
        hung.answered()
        return events

    run.stands_in_when_down = True  # type: ignore[attr-defined]
    RemoteAction.run = run  # type: ignore[method-assign]


class _HungServer:
    """How long to wait for the action server: `full` seconds, but only `RETRY_SECONDS` right
    after a call timed out, until one answers again. A turn runs several actions (session start,
    language, the reply): against a hung server it costs one timeout, not one per action."""

    RETRY_SECONDS = 1.0

    def __init__(self, full: float) -> None:
        self.full = full
        self._timed_out = False

    def timeout(self) -> float:
        return min(self.RETRY_SECONDS, self.full) if self._timed_out else self.full

    def failed(self, error: BaseException) -> None:
        if isinstance(error, asyncio.TimeoutError):
            self._timed_out = True

    def answered(self) -> None:
        self._timed_out = False


def unavailable(error: BaseException) -> bool:
    """Whether an error from `RemoteAction.run` means the action server could not answer:
    refused or dropped connection, timeout, or a 5xx (Rasa wraps the first and last)."""
    for cause in (error, error.__cause__, error.__context__):
        if isinstance(cause, (asyncio.TimeoutError, TimeoutError, ClientConnectionError)):
            return True
        if isinstance(cause, ClientResponseError) and cause.status >= 500:
            return True
    return False


async def stand_in(name: str, output_channel: OutputChannel, nlg: NaturalLanguageGenerator,
                   tracker: DialogueStateTracker, domain: Domain) -> list[Event]:
    """The events this process returns in place of action `name`'s."""
    if _is_slot_mapping(name, domain):
        return []  # the slot stays unfilled; the action that replies apologises
    if name == "action_request_human":
        return await hand_over(output_channel, nlg, tracker)
    if name == "action_reset_human_offer":
        return [SlotSet("offered_human", False)]
    return apologise(tracker)


def apologise(tracker: DialogueStateTracker) -> list[Event]:
    """Can't look that up now; a person? Ends a form and waits for the customer."""
    events: list[Event] = []
    if not _apologised_this_turn(tracker):
        text, button = _APOLOGY[language(tracker)]
        events.append(create_bot_utterance({"text": text, "buttons": [{"title": button, "payload": OFFER_PAYLOAD}],
                                            MARK: True}))
    events.append(SlotSet("offered_human", True))  # a typed "yes" accepts too (rules.yml)
    if tracker.active_loop_name:
        events += [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None)]
    return [*events, FollowupAction(ACTION_LISTEN_NAME)]


async def hand_over(output_channel: OutputChannel, nlg: NaturalLanguageGenerator,
                    tracker: DialogueStateTracker) -> list[Event]:
    """Queue the conversation for a person, or file a ticket when nobody is available."""
    settings = load_settings()
    customer = _latest_customer_message(tracker)
    wanted = service.Request(
        conversation_id=tracker.sender_id,
        customer_id=str((customer.metadata if customer else {}).get("customer_id") or tracker.sender_id),
        channel=(customer.input_channel if customer else None) or "unknown",
        reason=_reason(tracker, customer), skill=tracker.get_slot("handoff_skill"), language=language(tracker))
    outcome: list[Event] = []
    try:
        if await asyncio.to_thread(replies.someone_available, settings):
            handoff = await asyncio.to_thread(service.request, settings.database_url, wanted)
            said = [replies.queued(handoff)]
            outcome.append(ConversationPaused())  # from now on the agent answers
        else:
            ticket = await asyncio.to_thread(service.leave_ticket, settings.database_url,
                                             replace(wanted, message=_customer_words(tracker)))
            said = [replies.nobody_available(settings), {"response": "utter_ticket_filed", "ticket_id": ticket.id}]
    except SQLAlchemyError:
        logger.exception("handing over without the action server failed")
        said = [{"response": "utter_handoff_failed"}]
    uttered = await RemoteAction._utter_responses(said, output_channel, nlg, tracker)
    slots = [SlotSet(slot, value) for slot, value in replies.SLOTS_AFTER_HANDOFF.items()]
    return [*uttered, *slots, *outcome, FollowupAction(ACTION_LISTEN_NAME)]


def language(tracker: DialogueStateTracker) -> str:
    chosen = tracker.get_slot("language")
    return chosen if chosen in LANGUAGES else ENGLISH


def _is_slot_mapping(name: str, domain: Domain) -> bool:
    return any(mapping.get("action") == name for slot in domain.slots for mapping in slot.mappings)


def _apologised_this_turn(tracker: DialogueStateTracker) -> bool:
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, BotUttered) and (event.metadata or {}).get(MARK):
            return True
    return False


def _latest_customer_message(tracker: DialogueStateTracker) -> UserUttered | None:
    """The newest message the customer sent (not one Rasa's API injected)."""
    return next((event for event in reversed(tracker.events)
                 if isinstance(event, UserUttered) and not (event.metadata or {}).get("is_external")), None)


def _reason(tracker: DialogueStateTracker, customer: UserUttered | None) -> str:
    """As actions/handoff.py: a reason chosen by a slot or button, an accepted offer after an
    unknown FAQ answer, else the customer asked (which includes accepting this module's offer)."""
    entities = customer.entities if customer else []
    button = next((e.get("value") for e in entities if e.get("entity") == "handoff_reason"), None)
    for chosen in (tracker.get_slot("handoff_reason"), button):
        if chosen in service.REASONS:
            return chosen
    last_bot = next((e for e in reversed(tracker.events) if isinstance(e, BotUttered)), None)
    offer_was_ours = last_bot is not None and (last_bot.metadata or {}).get(MARK)
    if customer and customer.intent_name == "affirm" and tracker.get_slot("offered_human") and not offer_was_ours:
        return "faq_unknown"
    return "customer_asked"


def _customer_words(tracker: DialogueStateTracker) -> str:
    """The customer's last typed messages of this session, for the ticket."""
    words: list[str] = []
    for event in reversed(tracker.events):
        if isinstance(event, SessionStarted) or len(words) == TICKET_WORDS:
            break
        if (isinstance(event, UserUttered) and event.text and not event.text.startswith("/")
                and not (event.metadata or {}).get("is_external")):
            words.append(event.text)
    return "\n".join(reversed(words)) or _NO_WORDS
