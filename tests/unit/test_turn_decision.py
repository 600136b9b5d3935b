"""One decision per customer turn (bot/rasa_server/understanding/turn.py): DIET's intent, the FAQ and the context."""

from __future__ import annotations

from bot.rasa_server.understanding.turn import ASK_QUESTION, Context, Faq, decide, is_question

NOTHING_ASKED = Context()
ANSWERS, SUGGESTS, UNKNOWN = Faq("answer"), Faq("suggest"), Faq("unknown")


def test_a_change_outside_any_form_goes_to_the_faq_not_to_anything_else() -> None:
    assert decide("change my order", "complaint_change", 0.9, SUGGESTS, NOTHING_ASKED).intent == ASK_QUESTION
    assert decide("我想把收货地址改一下", "inform", 0.7, ANSWERS, NOTHING_ASKED).intent == ASK_QUESTION


def test_a_question_read_as_yes_with_nothing_asked_goes_to_the_faq() -> None:
    assert decide("bikes?", "affirm", 0.95, UNKNOWN, NOTHING_ASKED).intent == ASK_QUESTION


def test_yes_and_no_stay_when_the_bot_asked_a_yes_no_question() -> None:
    offered = Context(expects_yes_no=True)
    assert decide("yes please", "affirm", 0.9, UNKNOWN, offered).intent == "affirm"
    assert decide("no", "deny", 0.9, SUGGESTS, offered).intent == "deny"


def test_a_question_the_kb_answers_wins_over_a_pending_yes_no() -> None:
    offered = Context(expects_yes_no=True)
    assert decide("ok but how long does delivery take?", "affirm", 0.6, ANSWERS, offered).intent == ASK_QUESTION


def test_a_plain_ok_with_nothing_asked_stays_a_yes() -> None:
    assert decide("ok", "affirm", 0.97, UNKNOWN, NOTHING_ASKED).intent == "affirm"


def test_a_rating_counts_only_after_the_satisfaction_question() -> None:
    assert decide("5", "rate", 0.9, UNKNOWN, NOTHING_ASKED).intent == ASK_QUESTION
    assert decide("5", "rate", 0.9, UNKNOWN, Context(expects_rating=True)).intent == "rate"


def test_a_complaint_stays_a_complaint_unless_it_is_a_question_the_kb_answers() -> None:
    assert decide("my order BC-654321 arrived broken", "complain", 0.95, ANSWERS, NOTHING_ASKED).intent == "complain"
    assert decide("how do I return a lamp that arrived broken?", "complain", 0.7, ANSWERS,
                  NOTHING_ASKED).intent == ASK_QUESTION
    assert decide("慕尼黑有你们的showroom吗", "complain", 0.97, UNKNOWN, NOTHING_ASKED).intent == ASK_QUESTION


def test_linking_email_starts_only_when_asked_for() -> None:
    assert decide("link my chats", "link_email", 0.9, UNKNOWN, NOTHING_ASKED).intent == "link_email"
    # Asked as a question that the FAQ only half matches (a did-you-mean): DIET's sure reading wins.
    assert decide("can you link my chats?", "link_email", 0.99, SUGGESTS, NOTHING_ASKED).intent == "link_email"
    assert decide("can you link my chats?", "link_email", 0.85, SUGGESTS, NOTHING_ASKED).intent == ASK_QUESTION
    assert decide("are you a bot?", "bot_challenge", 0.96, SUGGESTS, NOTHING_ASKED).intent == "bot_challenge"
    assert decide("how do I change the email on my account?", "link_email", 0.6, ANSWERS,
                  NOTHING_ASKED).intent == ASK_QUESTION


def test_small_talk_around_a_shop_question_goes_to_the_faq() -> None:
    assert decide("hi! how long does delivery take", "greet", 0.9, ANSWERS, NOTHING_ASKED).intent == ASK_QUESTION
    assert decide("想加盟开个店 要什么条件", "greet", 0.5, UNKNOWN, NOTHING_ASKED).intent == ASK_QUESTION
    assert decide("hello", "greet", 0.99, SUGGESTS, NOTHING_ASKED).intent == "greet"
    assert decide("Brightcart是哪个国家的公司", "greet", 0.96, UNKNOWN, NOTHING_ASKED).intent == ASK_QUESTION
    assert decide("are you a bot?", "bot_challenge", 0.97, UNKNOWN, NOTHING_ASKED).intent == "bot_challenge"
    assert decide("am I talking to a bot?", "bot_challenge", 0.99, ANSWERS, NOTHING_ASKED).intent == "bot_challenge"


def test_a_request_for_a_person_is_kept_unless_it_is_an_unsure_reading_of_a_question() -> None:
    assert decide("can I talk to a person", "request_human", 0.9, ANSWERS, NOTHING_ASKED).intent == "request_human"
    assert decide("I need a human now", "request_human", 0.6, ANSWERS, NOTHING_ASKED).intent == "request_human"
    assert decide("how many people work at brightcart", "request_human", 0.6, UNKNOWN,
                  NOTHING_ASKED).intent == ASK_QUESTION


def test_a_complaint_status_is_kept_whatever_the_faq_says() -> None:
    assert decide("status of C-2026-000007", "complaint_status", 0.9, ANSWERS,
                  NOTHING_ASKED).intent == "complaint_status"


def test_a_form_keeps_every_intent_for_its_own_rules() -> None:
    in_form = Context(active_loop="complaint_form", expects_yes_no=True)
    assert decide("the lamp arrived broken", "inform", 0.8, ANSWERS, in_form).intent == "inform"
    assert decide("cancel", "cancel", 0.9, SUGGESTS, in_form).intent == "cancel"


def test_questions_are_told_from_statements_in_both_languages() -> None:
    assert is_question("can I pay with klarna")
    assert is_question("退货要运费吗")
    assert is_question("运费多少")
    assert is_question("大促是几号开始")
    assert not is_question("my order arrived broken")
    assert is_question("在德国考驾照难不难")
    assert is_question("付款方式下单后还能改不 BC-228930")
    assert is_question("ok thanks. what about returns")
    assert not is_question("东西坏了")
