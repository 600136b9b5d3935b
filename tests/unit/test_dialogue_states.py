"""The incremental dialogue states give exactly what Rasa's replay gives, on every step of
generated conversations (undo events, restarts, loops, rule-only turns included)."""

from __future__ import annotations

import random

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    BotUttered,
    Event,
    FollowupAction,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.config import ROOT
from bot.rasa_server.hot_path import dialogue_states

DOMAIN = Domain.load(str(ROOT / "domain.yml"))
RULE_ONLY = {"slots": ["offered_human", "complaint_confirmed"], "active_loops": ["complaint_form"]}
SLOT_VALUES = {"offered_human": [True, False, None], "language": ["en", "zh", None],
               "complaint_confirmed": [True, None], "requested_slot": ["contact", None],
               "unknown_streak": [1.0, 2.0, None]}


def random_event(rng: random.Random) -> Event:
    kind = rng.choices(["user", "action", "slot", "loop", "bot", "followup", "undo", "restart"],
                       weights=[6, 8, 4, 2, 3, 1, 1, 0.3])[0]
    if kind == "user":
        intent = rng.choice(DOMAIN.intents)
        text = rng.choice([None, f"words {rng.randint(0, 9)}"])
        entities = rng.choice([[], [{"entity": "faq_id", "value": "x", "start": 0, "end": 1}]])
        return UserUttered(text, {"name": intent, "confidence": 0.9}, entities)
    if kind == "action":
        return ActionExecuted(rng.choice(DOMAIN.action_names_or_texts), hide_rule_turn=rng.random() < 0.3)
    if kind == "slot":
        name = rng.choice(list(SLOT_VALUES))
        return SlotSet(name, rng.choice(SLOT_VALUES[name]))
    if kind == "loop":
        return ActiveLoop(rng.choice([*DOMAIN.form_names, None]))
    if kind == "bot":
        return BotUttered("a reply")
    if kind == "followup":
        return FollowupAction(rng.choice(DOMAIN.action_names_or_texts))
    if kind == "undo":
        return rng.choice([ActionReverted(), UserUtteranceReverted()])
    return rng.choice([Restarted(), SessionStarted()])


@pytest.mark.parametrize("seed", range(12))
def test_every_step_of_a_conversation_has_the_states_rasa_computes(seed: int) -> None:
    rng = random.Random(seed)
    tracker = DialogueStateTracker.from_events(f"c-{seed}", [], DOMAIN.slots)
    for _ in range(120):
        tracker.update(random_event(rng))
        for omit in (False, True):
            for ignore, rule_only in ((False, None), (True, RULE_ONLY), (True, None)):
                expected = DOMAIN.states_for_tracker_history(tracker, omit, ignore, rule_only)
                got = dialogue_states.past_states(tracker, DOMAIN, omit, ignore, rule_only)
                assert got == expected
                for state in got:  # what a featurizer does to the list it gets must not reach the next call
                    state.get("user", {}).pop("text", None)
                    state.pop("prev_action", None)


def test_the_tracker_of_a_real_turn_is_replayed_only_from_its_new_events(monkeypatch: pytest.MonkeyPatch) -> None:
    tracker = DialogueStateTracker.from_events("c", [SessionStarted(), ActionExecuted("action_listen")], DOMAIN.slots)
    for number in range(30):
        for event in (UserUttered(f"q{number}", {"name": "ask_question", "confidence": 1.0}),
                      ActionExecuted("action_answer_faq"), BotUttered("a"), ActionExecuted("action_listen")):
            tracker.update(event)
        dialogue_states.past_states(tracker, DOMAIN)
    replayed = []
    replay = next(iter(tracker.__dict__[dialogue_states._MEMO].values())).tracker
    monkeypatch.setattr(replay, "update", lambda event, *_: replayed.append(event))
    tracker.update(UserUttered("q", {"name": "ask_question", "confidence": 1.0}))
    states = dialogue_states.past_states(tracker, DOMAIN)
    assert len(replayed) == 1 and states[-1]["user"]["intent"] == "ask_question"
