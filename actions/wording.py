"""Texts that actions put together in Python, in the customer's language.

Fixed texts are domain responses (domain.yml) with a Chinese variation, sent with
`dispatcher.utter_message(response=...)`. A text stays here when it is assembled from several
parts (a complaint's summary or status) or carries personal data (an email address, a phone
number): Rasa copies every keyword argument of utter_message into the bot event's metadata,
which is stored unredacted, so personal data must reach the customer inside `text` only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bot.domain.complaints.parsing import CATEGORY_TITLES
from bot.domain.complaints.service import STATUS_TITLES
from faq_index.language import CHINESE, ENGLISH

# The same titles as the complaint category buttons of utter_ask_complaint_category.
_CATEGORY_TITLES = {
    ENGLISH: CATEGORY_TITLES,
    CHINESE: {"delivery": "配送", "product_quality": "商品质量", "billing": "账单", "service": "客户服务",
              "other": "其他问题"},
}
_STATUS_TITLES = {
    ENGLISH: STATUS_TITLES,
    CHINESE: {"open": "已收到，正在等待我们的团队处理", "in_progress": "正在处理中", "resolved": "已解决",
              "rejected": "已关闭，未按您的要求更改", "cancelled": "已取消"},
}
_WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
_UNKNOWN = {ENGLISH: "unknown", CHINESE: "未知"}


def pick(texts: Mapping[str, str], language: str) -> str:
    """`texts` (language -> text) in `language`, else in English."""
    return texts.get(language) or texts[ENGLISH]


def category_title(category: str | None, language: str, default: Mapping[str, str]) -> str:
    """A complaint category as the customer sees it; `default` (per language) when there is none."""
    titles = _CATEGORY_TITLES.get(language, _CATEGORY_TITLES[ENGLISH])
    return titles.get(category or "") or pick(default, language)


def status_title(status: str, language: str) -> str:
    return _STATUS_TITLES.get(language, _STATUS_TITLES[ENGLISH])[status]


def moment(when: datetime | None, language: str) -> str:
    """A date and time in UTC: 'Sun 03 May 2026, 14:05 UTC' / '2026年5月3日（周日）14:05 UTC'."""
    if when is None:
        return pick(_UNKNOWN, language)
    if language == CHINESE:
        return f"{when.year}年{when.month}月{when.day}日（{_WEEKDAYS_ZH[when.weekday()]}）{when:%H:%M} UTC"
    return when.strftime("%a %d %b %Y, %H:%M UTC")


def duration(hours: int, language: str) -> str:
    """'4 hours' / '2 days' (whole days from 24 hours on)."""
    if language == CHINESE:
        return f"{hours}小时" if hours < 24 else f"{hours // 24}天"
    return f"{hours} hours" if hours < 24 else f"{hours // 24} days"
