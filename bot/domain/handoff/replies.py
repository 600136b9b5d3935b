"""What the customer is told about a handoff request, as domain responses.

Two callers ask for a person on the customer's behalf: `action_request_human` in the action
server (actions/handoff.py) and, while the action server is down, the Rasa server itself
(bot/rasa_server/actions_down.py). Both decide here whether someone can take the chat and which response
says what happened, so the customer hears the same words either way. A reply is a dict in
the shape of the action server's `responses`: {"response": "utter_...", <template values>}.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.domain.handoff import agents, hours
from bot.domain.handoff.service import HandoffView

# Slot values once a handoff was asked for (queued, ticket or failed): the offer is used up.
SLOTS_AFTER_HANDOFF: dict[str, Any] = {"offered_human": False, "handoff_reason": None, "handoff_skill": None,
                                       "unknown_streak": 0}


def someone_available(settings: Settings) -> bool:
    """Within opening hours and an agent has the console open."""
    now = datetime.now(ZoneInfo(settings.timezone))
    return hours.is_open(settings.opening_hours, now) and agents.any_online(settings.database_url)


def nobody_available(settings: Settings) -> dict[str, Any]:
    if settings.opening_hours:
        return {"response": "utter_nobody_available_hours", "opening_hours": settings.opening_hours,
                "timezone": settings.timezone}
    return {"response": "utter_nobody_available"}


def queued(handoff: HandoffView) -> dict[str, Any]:
    """Put through to a named agent, next in line, or the place in the queue."""
    if handoff.status == "active" and handoff.agent:
        # Not `agent=`: channels read that key as "an agent wrote this" (bot/rasa_server/channels/widget.py).
        return {"response": "utter_handoff_to_agent", "agent_name": handoff.agent}
    if (handoff.queue_position or 1) <= 1:
        return {"response": "utter_handoff_queued_next"}
    return {"response": "utter_handoff_queued", "position": handoff.queue_position}
