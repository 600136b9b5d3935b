"""What the web widget offers before the customer has said anything: the shop's invitation,
a greeting, the most asked topics and whether people are online now.

`GET /webhooks/widget/welcome?language=en|zh[&returning=1]` (customer-facing, no login: it says nothing
about anyone) answers with

    {"language", "greeting", "topics": [{"title", "question"}], "online", "availability",
     "invitation": {"after_seconds", "pages", "text"} | null}

Configured by the shop in credentials.yml, under the widget channel (every key optional):

    bot.rasa_server.channels.widget.WidgetInput:
      welcome:
        greeting: {en: "Hi! ...", zh: "您好！..."}
        topics: 4                      # the most asked FAQ entries of the last 30 days
        invitation:                    # a bubble after some time on matching pages,
          after_seconds: 20            # once per visitor per day (the widget remembers)
          pages: ["/shop*"]            # glob patterns on the page's path
          text: {en: "...", zh: "..."}

The topics are the entries answered most often in the last 30 days (interaction records),
then one entry of each category in turn; a topic is sent as its question, so it is answered in the
customer's language as any question is.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bot.config import Settings
from bot.domain.handoff import agents, hours
from bot.domain.knowledge import faq_index
from bot.domain.storage.db import session_scope
from bot.domain.storage.models import InteractionRecord

LANGUAGES = ("en", "zh")
TOPICS_WINDOW = timedelta(days=30)
TOPICS_CACHE_SECONDS = 600.0  # what is most asked changes slowly; the query reads a month of records
DEFAULT_GREETING = {
    "en": "Hi! I'm Brightcart's assistant. Ask me about orders, delivery, payment, returns or your account.",
    "zh": "您好！我是 Brightcart 的智能助手。关于订单、配送、付款、退货或账户的问题，都可以问我。",
}
WELCOME_BACK = {"en": "Welcome back!", "zh": "欢迎回来！"}
AVAILABILITY = {
    ("en", True): "Our team is online: ask for a person at any time.",
    ("en", False): "Our team is offline now: the assistant can help, or take a message for them.",
    ("zh", True): "客服在线：随时可以转人工。",
    ("zh", False): "客服现在不在线：智能助手可以帮您，也可以为您留言。",
}


@dataclass(frozen=True)
class WelcomeConfig:
    """The shop's welcome settings (credentials.yml, `welcome:` under the widget channel)."""

    greeting: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_GREETING))
    topics: int = 4
    invitation: dict[str, Any] | None = None

    @classmethod
    def from_credentials(cls, raw: Any) -> WelcomeConfig:
        """Read and check the `welcome` block; a malformed one fails at start-up, saying why."""
        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise ValueError("widget welcome: expected a mapping (greeting, topics, invitation)")
        greeting = _texts(raw.get("greeting"), "greeting") or dict(DEFAULT_GREETING)
        topics = raw.get("topics", 4)
        if not isinstance(topics, int) or not 0 <= topics <= 8:
            raise ValueError("widget welcome: topics must be a number from 0 to 8")
        return cls(greeting=greeting, topics=topics, invitation=_invitation(raw.get("invitation")))


class Welcome:
    """The welcome for one language, with the most asked topics cached for a while."""

    def __init__(self, config: WelcomeConfig, settings: Settings) -> None:
        self.config = config
        self.settings = settings
        self._ranked: tuple[float, list[str]] = (0.0, [])

    def for_language(self, language: str, returning: bool = False) -> dict[str, Any]:
        language = language if language in LANGUAGES else "en"
        greeting = _in(self.config.greeting, language)
        online = self._people_online()
        invitation = self.config.invitation
        return {
            "language": language,
            "greeting": f"{WELCOME_BACK[language]} {greeting}" if returning else greeting,
            "topics": self._topics(language),
            "online": online,
            "availability": AVAILABILITY[(language, online)],
            "invitation": invitation and {"after_seconds": invitation["after_seconds"],
                                          "pages": invitation["pages"], "text": _in(invitation["text"], language)},
        }

    def _topics(self, language: str) -> list[dict[str, str]]:
        index = faq_index().snapshot
        ids = [i for i in self._most_answered() if index.entry(i)] + _one_per_category(index.by_id)
        chosen = list(dict.fromkeys(ids))[:self.config.topics]
        questions = [(index.entry(i).get("questions") or {}).get(language) or index.entry(i)["question"]
                     for i in chosen]
        return [{"title": q, "question": q} for q in questions]

    def _most_answered(self) -> list[str]:
        """FAQ entry ids, most answered first, over the last 30 days (cached)."""
        at, ranked = self._ranked
        if time.monotonic() - at < TOPICS_CACHE_SECONDS and at:
            return ranked
        since = datetime.now(timezone.utc) - TOPICS_WINDOW
        with session_scope(self.settings.database_url) as session:
            rows = session.execute(
                sa.select(InteractionRecord.faq_id, sa.func.count())
                .where(InteractionRecord.actor == "bot", InteractionRecord.faq_id.isnot(None),
                       InteractionRecord.faq_decision.in_(("answer", "selected")),
                       InteractionRecord.created_at >= since)
                .group_by(InteractionRecord.faq_id)).all()
        ranked = [faq_id for faq_id, _ in Counter(dict(rows)).most_common()]
        self._ranked = (time.monotonic(), ranked)
        return ranked

    def _people_online(self) -> bool:
        """Within opening hours and an agent's console is open: a person can join now."""
        now = datetime.now(ZoneInfo(self.settings.timezone))
        return hours.is_open(self.settings.opening_hours, now) and agents.any_online(self.settings.database_url)


def _one_per_category(entries: dict[str, dict[str, Any]]) -> list[str]:
    """Entry ids taking each category's first in turn: a new shop's topics span its subjects."""
    by_category: dict[str, list[str]] = {}
    for entry_id, entry in entries.items():
        by_category.setdefault(entry.get("category") or "", []).append(entry_id)
    return [i for turn in itertools.zip_longest(*by_category.values()) for i in turn if i]


def _invitation(raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ValueError("widget welcome: invitation must be a mapping (after_seconds, pages, text)")
    after = raw.get("after_seconds", 20)
    pages = raw.get("pages", ["*"])
    if not isinstance(after, (int, float)) or not 0 <= after <= 3600:
        raise ValueError("widget welcome: invitation after_seconds must be from 0 to 3600")
    if not isinstance(pages, list) or not all(isinstance(p, str) and p.startswith(("/", "*")) for p in pages):
        raise ValueError("widget welcome: invitation pages must be a list of path patterns like '/shop*'")
    text = _texts(raw.get("text"), "invitation text")
    if not text:
        raise ValueError("widget welcome: invitation needs a text, e.g. {en: 'Need a hand?'}")
    return {"after_seconds": after, "pages": pages, "text": text}


def _texts(raw: Any, what: str) -> dict[str, str]:
    """A text per language: {en: ..., zh: ...}, or one string for every language."""
    if raw is None:
        return {}
    if isinstance(raw, str):
        return {language: raw for language in LANGUAGES}
    if not isinstance(raw, dict) or not all(isinstance(v, str) and v.strip() for v in raw.values()):
        raise ValueError(f"widget welcome: {what} must be a text or a text per language ({', '.join(LANGUAGES)})")
    return {str(k): v for k, v in raw.items()}


def _in(texts: dict[str, str], language: str) -> str:
    return texts.get(language) or texts.get("en") or next(iter(texts.values()), "")
