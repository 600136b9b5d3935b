"""What the bot just asked, read from a real Rasa tracker (bot/rasa_server/understanding/component.py)."""

from __future__ import annotations

from rasa.shared.core.events import ActiveLoop, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_server.understanding.component import context_of

RATING = [{"title": "★" * n, "payload": f'/rate{{"rating": {n}}}'} for n in range(1, 6)]
YES_NO = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]


def tracker(*events: object) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("c1", [UserUttered("hi"), *events])


def test_nothing_asked_in_a_new_conversation() -> None:
    context = context_of(tracker(BotUttered("Hello! How can I help?")))
    assert not (context.active_loop or context.expects_yes_no or context.expects_rating)


def test_yes_no_buttons_or_the_offer_of_a_person_expect_a_yes_or_no() -> None:
    assert context_of(tracker(BotUttered("Shall I?", {"buttons": YES_NO}))).expects_yes_no
    assert context_of(tracker(SlotSet("offered_human", True), BotUttered("Sorry, I don't know."))).expects_yes_no


def test_the_satisfaction_question_expects_a_rating() -> None:
    context = context_of(tracker(BotUttered("How satisfied are you?", {"buttons": RATING})))
    assert context.expects_rating and not context.expects_yes_no


def test_only_the_last_bot_message_counts() -> None:
    asked_then_answered = tracker(BotUttered("How satisfied?", {"buttons": RATING}), UserUttered("4"),
                                  BotUttered("Thank you for your feedback!"))
    assert not context_of(asked_then_answered).expects_rating


def test_an_active_form_is_seen() -> None:
    assert context_of(tracker(ActiveLoop("complaint_form"))).active_loop == "complaint_form"
