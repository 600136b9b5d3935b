"""The actions of a FAQ turn run inside the Rasa server, through rasa_sdk's own executor.

Why: a FAQ turn runs `action_detect_language` (the language slot's mapping, every message) and
`action_answer_faq` (plus `action_session_start` on a conversation's first message). Through
the action server each is an HTTP round trip carrying the whole tracker and the domain as
JSON both ways, while the FAQ search they need has already run in this process
(bot/rasa_server/understanding/). These actions have no side effects outside the
conversation, so the Rasa server runs them itself: the same classes from `actions/` (one
implementation; the action server still serves them to a plain `rasa` CLI), called with the
same payload and through the same `ActionExecutor` as the action server would, their
responses uttered as Rasa utters an action server's. Actions with side effects (handoffs,
complaints, tickets, email) stay on the action server.

`install()` (bot/rasa_server/__main__.py) routes these names around the HTTP call; everything
else goes to the action server as before.
"""

from __future__ import annotations

from typing import Any

from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.channels.channel import OutputChannel
from rasa.core.nlg import NaturalLanguageGenerator
from rasa.shared.core import events
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk import ActionExecutionRejection as SdkRejection
from rasa_sdk.executor import ActionExecutor

from actions.faq import ActionAnswerFaq
from actions.language import ActionDetectLanguage
from actions.session import ActionSessionStart

# Side-effect free, and reading only slots and the latest message (see _run_here).
IN_PROCESS = (ActionSessionStart, ActionDetectLanguage, ActionAnswerFaq)


def install() -> None:
    """Run the FAQ turn's actions in this process (called before Rasa starts)."""
    over_http = RemoteAction.run
    if getattr(over_http, "runs_in_process", False):
        return
    executor = ActionExecutor()
    for action in IN_PROCESS:
        executor.register_action(action)
    names = frozenset(executor.actions)

    async def run(self: RemoteAction, output_channel: OutputChannel, nlg: NaturalLanguageGenerator,
                  tracker: DialogueStateTracker, domain: Domain) -> list[Event]:
        if self.name() not in names:
            return await over_http(self, output_channel, nlg, tracker, domain)
        return await _run_here(executor, self, output_channel, nlg, tracker, domain)

    run.runs_in_process = True  # type: ignore[attr-defined]
    RemoteAction.run = run  # type: ignore[method-assign]


async def _run_here(executor: ActionExecutor, action: RemoteAction, output_channel: OutputChannel,
                    nlg: NaturalLanguageGenerator, tracker: DialogueStateTracker, domain: Domain) -> list[Event]:
    """What RemoteAction.run does with the action server's answer, without the HTTP."""
    # These actions read slots and the latest message, never the event history: the state
    # without events keeps each call O(1) in the conversation's length (the action server gets
    # every event of the session, serialised, on every call).
    state = {**tracker.current_state(), "events": []}
    call = {"next_action": action.name(), "sender_id": tracker.sender_id, "tracker": state,
            "domain": _domain_dict(domain)}
    try:
        response: dict[str, Any] = await executor.run(call) or {}
    except SdkRejection as rejection:  # "let another action run": the processor's own exception
        raise ActionExecutionRejection(rejection.action_name, rejection.message) from rejection
    uttered = await RemoteAction._utter_responses(response.get("responses") or [], output_channel, nlg, tracker)
    return [*uttered, *events.deserialise_events(response.get("events") or [])]


def _domain_dict(domain: Domain) -> dict[str, Any]:
    """The domain as the action server receives it, built once per loaded model (27 KB)."""
    cached = getattr(domain, "_as_dict_for_actions", None)
    if cached is None:
        cached = domain.as_dict()
        domain._as_dict_for_actions = cached  # type: ignore[attr-defined]
    return cached
