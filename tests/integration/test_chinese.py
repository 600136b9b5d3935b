"""A Chinese-speaking customer over REST, through the real stack: FAQ answers, a complaint
and a handoff in Chinese, the replies in Chinese, and the language on the agent's handoff."""

from __future__ import annotations

import re
import uuid

import pytest

from bot.domain.complaints import service as complaints
from bot.domain.handoff import service as handoffs
from faq_index.language import detect_language
from faq_index.search import Snapshot
from faq_index.versions import current_version_dir
from tests.conftest import RunningBot

pytestmark = pytest.mark.integration
REFERENCE = re.compile(r"C-\d{4}-\d{6}")


def sender() -> str:
    return f"zh-{uuid.uuid4().hex[:10]}"


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


def in_chinese(replies: list[dict]) -> bool:
    """Every reply with words in it is Chinese (button titles included)."""
    said = [r.get("text") or "" for r in replies] + [b["title"] for r in replies for b in r.get("buttons") or []]
    return bool(replies) and all(detect_language(t) in ("zh", None) for t in said) and \
        any(detect_language(t) == "zh" for t in said)


def test_a_chinese_faq_question_is_answered_in_chinese(bot: RunningBot) -> None:
    question = "退货的运费是谁出？"
    predicted = Snapshot(current_version_dir(bot.settings.index_dir)).search(question)
    assert predicted.top.id.startswith("returns") and predicted.decision in ("answer", "suggest")
    customer = sender()
    [reply] = bot.say(customer, question)
    if predicted.decision == "suggest":  # did you mean: the customer picks the first suggestion
        assert [b["title"] for b in reply["buttons"][:-1]] == [c.question_in("zh") for c in predicted.candidates]
        [reply] = bot.say(customer, reply["buttons"][0]["payload"])
    assert reply["text"] == predicted.top.answer_in("zh") != predicted.top.answer
    assert in_chinese([reply])


def test_an_english_question_after_chinese_is_answered_in_english(bot: RunningBot) -> None:
    customer = sender()
    assert in_chinese(bot.say(customer, "你好"))
    [reply] = bot.say(customer, "how long does delivery take?")
    assert detect_language(reply["text"]) == "en"


def test_a_customer_can_choose_the_reply_language(bot: RunningBot) -> None:
    customer = sender()
    assert detect_language(texts(bot.say(customer, "please reply in Chinese"))) == "zh"
    [reply] = bot.say(customer, "how long does delivery take?")  # written in English, answered in Chinese
    assert detect_language(reply["text"]) == "zh"


def test_a_complaint_is_filed_in_chinese(bot: RunningBot) -> None:
    customer = sender()
    opening = bot.say(customer, "我要投诉")
    assert in_chinese(opening)
    payloads = [b["payload"] for r in opening for b in r.get("buttons") or []]
    assert '/inform{"complaint_category": "delivery"}' in payloads
    assert in_chinese(bot.say(customer, '/inform{"complaint_category": "delivery"}'))
    assert in_chinese(bot.say(customer, "BC-123456"))
    description = "快递员把包裹扔在雨里，里面的东西全湿了"
    assert in_chinese(bot.say(customer, description))
    summary = bot.say(customer, "jane@example.com")
    assert in_chinese(summary) and "BC-123456" in texts(summary) and description in texts(summary)
    filed = bot.say(customer, "/affirm")
    assert in_chinese(filed)
    stored = complaints.get(bot.settings.database_url, REFERENCE.search(texts(filed)).group(0))
    assert (stored.category, stored.order_ref, stored.description, stored.customer_id) == (
        "delivery", "BC-123456", description, customer)


def test_a_handoff_asked_for_in_chinese_carries_the_language(bot: RunningBot) -> None:
    customer = sender()
    bot.say(customer, "你好")
    replies = bot.say(customer, "我要找人工客服")
    assert in_chinese(replies)
    if not handoffs.for_customer(bot.settings.database_url, customer):
        # nobody is online in this module: the bot offers to take a message, in Chinese
        assert in_chinese(bot.say(customer, "我的包裹一直没到，请尽快联系我"))
    [handoff] = handoffs.for_customer(bot.settings.database_url, customer)
    assert (handoff.reason, handoff.language) == ("customer_asked", "zh")
