"""The Rasa graph component that decides what a customer's message means (config.yml).

Runs last in the NLU pipeline, in the Rasa server, on every customer message: searches the
FAQ once (bot/domain/knowledge.py), reads what the bot last asked from the tracker, and lets
bot/rasa_server/understanding/turn.py choose the intent the rules act on. It adds two parse-data fields
the turn keeps in its event and record:

- `faq`: the search's decision, space, index version and candidates (id, score), which
  action_answer_faq answers from instead of searching again;
- `understanding`: DIET's intent and confidence and the reason for the final intent.

Button payloads ("/intent{...}") are left alone: they say exactly what they mean.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.core.events import BotUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.training_data.message import Message

from bot.domain import knowledge
from bot.rasa_server.understanding import turn
from faq_index import SearchResult

logger = logging.getLogger(__name__)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class TurnUnderstanding(GraphComponent, IntentClassifier):
    """DIET's intent, the FAQ search and the conversation's context, decided together."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [IntentClassifier]

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> TurnUnderstanding:
        if not execution_context.is_finetuning and execution_context.model_id:
            # The encoders take seconds to load: paid while the model loads, so the server is
            # healthy only once it answers at full speed (and its memory no longer grows).
            _warm_up()
        return cls()

    def process(self, messages: list[Message],
                tracker: DialogueStateTracker | list[DialogueStateTracker | None] | None = None) -> list[Message]:
        """Search the FAQ for the messages and set the intent the rules act on. `tracker` is a
        list, one per message, when the NLU thread parses several together (hot_path/nlu_in_thread.py)."""
        trackers = tracker if isinstance(tracker, list) else [tracker] * len(messages)
        asked = [(message, own) for message, own in zip(messages, trackers)
                 if (message.get("text") or "").strip() and not message.get("text").startswith("/")]
        for (message, own), result in zip(asked, _searched([m.get("text") for m, _ in asked])):
            if result is None:  # no index or a broken one: DIET's reading stands, the action searches
                continue
            understood = message.get("intent") or {}
            intent, confidence = understood.get("name") or "nlu_fallback", float(understood.get("confidence") or 0)
            decision = turn.decide(message.get("text"), intent, confidence, turn.Faq(result.decision),
                                   context_of(own))
            message.set("faq", parse_data(result), add_to_output=True)
            message.set("understanding", {"nlu_intent": intent, "nlu_confidence": round(confidence, 4),
                                          "reason": decision.reason}, add_to_output=True)
            if decision.intent != intent:
                message.set("intent", {"name": decision.intent, "confidence": confidence}, add_to_output=True)
        return messages


def _searched(texts: list[str]) -> list[SearchResult | None]:
    """Each text's FAQ search, in one pass when they are several; None where it failed."""
    if not texts:
        return []
    try:
        return list(knowledge.search_many(texts))
    except Exception:
        if len(texts) == 1:
            logger.exception("FAQ search failed; the turn goes on without it")
            return [None]
        return [_searched([text])[0] for text in texts]  # so a failure stays with its own message


def _warm_up() -> None:
    try:
        knowledge.warm_up()
    except Exception:  # no index yet: the first message will say so in the log
        logger.exception("FAQ warm-up failed")


def context_of(tracker: DialogueStateTracker | None) -> turn.Context:
    """What the bot's last message asked for, and whether a form is active."""
    if tracker is None:
        return turn.Context()
    last = tracker.get_last_event_for(BotUttered)
    payloads = [str(b.get("payload") or "") for b in ((last.data or {}).get("buttons") or [])] if last else []
    return turn.Context(
        active_loop=tracker.active_loop_name,
        expects_yes_no=bool(tracker.get_slot("offered_human"))
        or any(p.startswith(("/affirm", "/deny")) for p in payloads),
        expects_rating=any(p.startswith("/rate") for p in payloads),
    )


def parse_data(result: SearchResult) -> dict[str, Any]:
    """The search result as the turn keeps it: ids and scores, no texts."""
    return {"decision": result.decision, "space": result.space, "version": result.version,
            "candidates": [{"id": c.id, "score": c.score} for c in result.candidates]}
