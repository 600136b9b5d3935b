"""What an agent does to a conversation, carried out through Rasa's HTTP API.

- An agent's message is a bot event with metadata `actor: agent`: the tracker store records it
  with actor `agent`, then Rasa sends it to the customer's latest channel (bot/rasa_server/channels/outbox.py).
- When an agent takes a chat from the queue, the customer is told who joined (`announce_agent`).
- Handing back resumes the paused conversation and triggers `EXTERNAL_handback`, whose rule
  runs the satisfaction question: the bot has the last word, with 1-5 buttons.
"""

from __future__ import annotations

import time

from bot.config import Settings
from bot.rasa_api import append_events, trigger_intent

MAX_MESSAGE_CHARS = 4000
JOINED = {"en": "{agent} from our team has joined the chat.", "zh": "客服 {agent} 已加入对话。"}


def send_agent_message(settings: Settings, conversation_id: str, text: str, agent: str) -> str:
    """Record the agent's text, then deliver it to the customer; how that went (bot.rasa_api)."""
    return append_events(settings, conversation_id, [{
        "event": "bot", "text": text, "timestamp": time.time(),
        "data": {"agent": agent},  # channels that can show who is talking (the widget) read it
        "metadata": {"actor": "agent", "agent": agent},
    }])


def announce_agent(settings: Settings, conversation_id: str, agent: str, language: str | None) -> str:
    """Tell the customer a person has taken their chat: a notice from the bot (not the agent's
    first reply, which the response-time figures wait for), recorded, then sent."""
    text = JOINED.get(language or "en", JOINED["en"]).format(agent=agent)
    return append_events(settings, conversation_id, [{
        "event": "bot", "text": text, "timestamp": time.time(),
        "data": {"notice": "joined", "agent_name": agent},  # the widget shows it as a notice
    }])


def pause(settings: Settings, conversation_id: str) -> None:
    """Silence the bot in the conversation: an agent took it over (e.g. from a ticket)."""
    append_events(settings, conversation_id, [{"event": "pause", "timestamp": time.time()}])


def hand_back(settings: Settings, conversation_id: str, mode: str) -> str:
    """Resume the bot in the conversation; it thanks the customer and asks for a rating."""
    # While paused, Rasa logged the customer's messages without listening turns in between;
    # `action_listen` puts the tracker back in the state the rules expect before a user turn.
    now = time.time()
    append_events(settings, conversation_id, [{"event": "resume", "timestamp": now},
                                              {"event": "action", "name": "action_listen", "timestamp": now}])
    return trigger_intent(settings, conversation_id, "EXTERNAL_handback", {"close_mode": mode})
