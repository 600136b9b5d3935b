"""Telling English from Chinese messages, and searching across the two languages."""

from __future__ import annotations

from pathlib import Path

import pytest

from faq_index.build import build
from faq_index.language import detect_language
from faq_index.search import LiveIndex


@pytest.mark.parametrize("text, language", [
    ("退款多久到账", "zh"),
    ("我的PayPal付款失败了", "zh"),  # a brand name inside a Chinese sentence
    ("订单BC-123456到哪了", "zh"),
    ("刚才下单手滑，数量点成了3个", "zh"),  # a digit inside a Chinese sentence
    ("where is my parcel", "en"),
    ("How do I pay with 支付宝?", "en"),  # an English sentence naming a Chinese service
    ("my order BC-123456 is late", "en"),
    ("BC-123456", None),  # an order reference says nothing about the writer's language
    ("ok", None),
    ("5", None),
    ("anna@example.com", None),
])
def test_detect_language(text: str, language: str | None) -> None:
    assert detect_language(text) == language


KB = """
entries:
  - id: delivery-time
    category: delivery
    question:
      en: How long does delivery take?
      zh: 送货需要多长时间？
    answer:
      en: Standard delivery takes two to four working days.
      zh: 标准配送需要两到四个工作日。
    paraphrases:
      en: [when will my parcel arrive, shipping time, how many days for delivery, delivry time]
      zh: [几天能到, 快递要多久]
  - id: returns-how
    category: returns
    question:
      en: How do I return an item?
    answer:
      en: Start a return under My account > Orders within 30 days and print the label.
    paraphrases:
      en: [send something back, return a product, i want to give this back, how to do a return]
  - id: payment-alipay
    category: payment
    question:
      zh: 可以用支付宝付款吗？
    answer:
      zh: 可以，结账时选择支付宝即可。
    paraphrases:
      zh: [支持支付宝吗, 能不能用支付宝付钱, 支付宝可以用吗, 我想用支付宝结账]
"""


@pytest.mark.parametrize("multilingual", [None, "use-multilingual-v3+multilingual-e5-small-q4"],
                         ids=["the default (USE)", "USE and E5 together, by choice"])
def test_a_bilingual_kb_is_searched_within_and_across_languages(tmp_path: Path, multilingual: str | None) -> None:
    (tmp_path / "kb").mkdir()
    (tmp_path / "kb" / "faq.yml").write_text(KB, encoding="utf-8")
    chosen = {"multilingual_model": multilingual} if multilingual else {}
    manifest = build(tmp_path / "kb", tmp_path / "index", english_model="all-MiniLM-L6-v2", progress=False, **chosen)
    assert [(s["name"], s["model"]) for s in manifest["spaces"]] == [
        ("en", "all-MiniLM-L6-v2"), ("multilingual", multilingual or "use-multilingual-v3")]
    index = LiveIndex(tmp_path / "index", poll_seconds=3600)
    try:
        english = index.search("how many days until my parcel gets here")
        assert (english.top.id, english.space) == ("delivery-time", "en")
        # Chinese, to an entry with Chinese wordings, and to one with English wordings only
        assert index.search("包裹几天能送到").top.id == "delivery-time"
        cross = index.search("我想把买的东西退回去")
        assert (cross.top.id, cross.space) == ("returns-how", "multilingual")
        assert cross.top.answer_in("zh") == cross.top.answer  # no Chinese answer: the English one
        # English, to an entry written only in Chinese: the English space lacks it, the multilingual has it
        alipay = index.search("can I pay with Alipay")
        assert alipay.top.id == "payment-alipay"
    finally:
        index.close()
