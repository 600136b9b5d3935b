"""A conversation's dialogue states, worked out once per event instead of once per prediction.

Rasa's rule and memoization policies read a tracker as the list of its dialogue states (one per
action taken: the intent, slots and previous action at that point), and Rasa computes that list
by replaying the whole session into a fresh tracker, for every policy, for every action the bot
predicts. Under 40 concurrent conversations that replay was a tenth of the Rasa server's GIL
time, and it grows with the conversation (docs/benchmarks.md, "Where a turn's time goes").

Here each tracker keeps its replay where the last call left it: a call replays only the events
added since, with Rasa's own steps (`Domain.get_active_state` and the rule-only clean-up), and
the list it returns is a copy the policies may change. When the events are not an extension of
what was replayed (an undo event, Rasa's `Restarted`, a trimmed history), it starts over, so the
states are always what Rasa's `Domain.states_for_tracker_history` gives
(tests/unit/test_dialogue_states.py compares both on every step of generated conversations).

Installed in the Rasa server by bot/rasa_server/__main__.py, which the bot's trackers reach
across turns through the tracker store's kept trackers (bot/rasa_server/stores/).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from rasa.shared.core.constants import PREVIOUS_ACTION, USER
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import ActionExecuted, Event
from rasa.shared.core.trackers import DialogueStateTracker

_MEMO = "_bot_dialogue_states"  # the attribute each tracker keeps its replays in


@dataclass
class _Replay:
    """Rasa's `states_for_tracker_history` loop, paused after the events it has seen."""

    domain: Domain
    tracker: DialogueStateTracker
    applied: list[Event] = field(default_factory=list)
    states: list[State] = field(default_factory=list)
    last_ml_action: dict[str, str] | None = None
    turn_was_hidden: bool = False

    def extends(self, applied: list[Event], domain: Domain) -> bool:
        return (domain is self.domain and len(applied) >= len(self.applied)
                and all(seen is event for seen, event in zip(self.applied, applied)))

    def advance(self, applied: list[Event], omit_unset_slots: bool, ignore_rule_only_turns: bool,
                rule_only_data: dict[str, Any] | None) -> None:
        for event in applied[len(self.applied):]:
            if isinstance(event, ActionExecuted):
                self._step(event.hide_rule_turn, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
            self.tracker.update(event)
        self.applied = applied  # a new list at every call (`applied_events`), never changed after

    def last_state(self, omit_unset_slots: bool, ignore_rule_only_turns: bool,
                   rule_only_data: dict[str, Any] | None) -> list[State]:
        """The states so far plus the tracker's present one, which the next event may change."""
        paused = (self.last_ml_action, self.turn_was_hidden, len(self.states))
        self._step(False, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
        states = _copied(self.states)
        self.last_ml_action, self.turn_was_hidden = paused[0], paused[1]
        del self.states[paused[2]:]
        return states

    def _step(self, hide_rule_turn: bool, omit_unset_slots: bool, ignore_rule_only_turns: bool,
              rule_only_data: dict[str, Any] | None) -> None:
        """One pass of Rasa's loop in `Domain.states_for_tracker_history`, on the replay's tracker."""
        domain, tracker = self.domain, self.tracker
        if ignore_rule_only_turns:
            if not self.turn_was_hidden:
                self.last_ml_action = domain._get_prev_action_sub_state(tracker)
            if not tracker.followup_action and tracker.latest_action_name != tracker.active_loop_name:
                self.turn_was_hidden = hide_rule_turn
            if self.turn_was_hidden:
                return
        state = domain.get_active_state(tracker, omit_unset_slots=omit_unset_slots)
        if ignore_rule_only_turns:
            domain._remove_rule_only_features(state, rule_only_data)
            if self.states:
                domain._substitute_rule_only_user_input(state, self.states[-1])
            if self.last_ml_action:
                state[PREVIOUS_ACTION] = self.last_ml_action  # type: ignore[assignment]
        self.states.append(domain._clean_state(state))


def past_states(tracker: DialogueStateTracker, domain: Domain, omit_unset_slots: bool = False,
                ignore_rule_only_turns: bool = False, rule_only_data: dict[str, Any] | None = None) -> list[State]:
    """`DialogueStateTracker.past_states`, replaying only the events added since the last call."""
    replays: dict[tuple, _Replay] = tracker.__dict__.setdefault(_MEMO, {})
    key = (omit_unset_slots, ignore_rule_only_turns, json.dumps(rule_only_data, sort_keys=True, default=str))
    applied = tracker.applied_events()
    replay = replays.get(key)
    if replay is None or not replay.extends(applied, domain):
        replay = replays[key] = _Replay(domain, tracker.init_copy())
    replay.advance(applied, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
    return replay.last_state(omit_unset_slots, ignore_rule_only_turns, rule_only_data)


def _copied(states: list[State]) -> list[State]:
    """States the caller may change. Rasa's featurizers delete a user's text, intent or entities in
    place (`tracker_featurizers.py`), and nothing else in a state: so each user sub-state is copied
    and the rest shared. (Rasa's own list may share one user sub-state between a state and the next
    one; the featurizers then delete the same keys from both, so separate copies end the same.)"""
    return [{**state, USER: dict(state[USER])} if USER in state else dict(state) for state in states]


def install() -> None:
    """Make every tracker's `past_states` incremental (called before Rasa starts)."""
    if getattr(DialogueStateTracker.past_states, "incremental", False):
        return

    def incremental(self: DialogueStateTracker, domain: Domain, omit_unset_slots: bool = False,
                    ignore_rule_only_turns: bool = False,
                    rule_only_data: dict[str, Any] | None = None) -> list[State]:
        return past_states(self, domain, omit_unset_slots, ignore_rule_only_turns, rule_only_data)

    incremental.incremental = True  # type: ignore[attr-defined]
    DialogueStateTracker.past_states = incremental  # type: ignore[method-assign]
