"""Returning visitors and their path through the shop's site, for the agent who takes the chat.

The web widget reports each page a customer opens once their browser has a conversation with
us (a first-party id in the shop's own localStorage; nothing for visitors who never opened the
chat, no third-party tracking). Kept, and shown to the agent on the handoff: the current page,
the pages of this visit, where the visit came from, the kind of device, and whether they came
before. What is kept is cut down to what an agent needs: the address without its query or
fragment (which can carry order tokens or email addresses), the referring site without its path,
a device class. `erase-customer` and `purge` remove the rows with the conversation
(bot/domain/privacy/erase.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from bot.domain.storage.db import as_utc, session_scope
from bot.domain.storage.models import PageView

VISIT_GAP = timedelta(minutes=30)  # a pause this long starts a new visit (the usual web-analytics session)
MAX_VIEWS = 200  # read back per conversation: enough for this visit and to tell earlier ones
DEVICES = ("phone", "tablet", "desktop")


class BadPageView(ValueError):
    """A page view the widget should not have sent (not an http(s) address)."""


def record_view(url: str, conversation_id: str, page: str, title: str, referrer: str, device: str) -> None:
    """Keep one page view, cut down to what an agent needs (see the module's docstring)."""
    address = _without_query(page)
    if address is None:
        raise BadPageView("a page view needs the page's http(s) address")
    with session_scope(url) as session:
        session.add(PageView(conversation_id=conversation_id[:255], url=address[:2048], title=title.strip()[:300],
                             referrer=_site_of(referrer), device=device if device in DEVICES else None,
                             viewed_at=datetime.now(timezone.utc)))


def summary(url: str, conversation_id: str) -> dict[str, Any] | None:
    """What the agent sees of the visitor: current page, this visit's pages (oldest first), where
    the visit came from, device, and earlier visits; None when the widget reported nothing."""
    with session_scope(url) as session:
        newest_first = (sa.select(PageView).where(PageView.conversation_id == conversation_id)
                        .order_by(PageView.viewed_at.desc(), PageView.id.desc()).limit(MAX_VIEWS))
        rows = session.execute(newest_first).scalars().all()
        views = [{"url": r.url, "title": r.title, "referrer": r.referrer, "device": r.device,
                  "at": as_utc(r.viewed_at)} for r in rows]
    if not views:
        return None
    visit = _this_visit(views)
    earlier = views[len(visit):]
    return {
        "current_page": _page(visit[0]),
        "this_visit": [_page(v) for v in reversed(visit)],
        "came_from": visit[-1]["referrer"],
        "device": visit[0]["device"],
        "returning": bool(earlier),
        "earlier_visits": 1 + sum(1 for a, b in zip(earlier, earlier[1:]) if a["at"] - b["at"] >= VISIT_GAP)
        if earlier else 0,
    }


def _this_visit(views: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The newest views with no pause of VISIT_GAP between them (newest first)."""
    visit = views[:1]
    for view in views[1:]:
        if visit[-1]["at"] - view["at"] >= VISIT_GAP:
            break
        visit.append(view)
    return visit


def _page(view: dict[str, Any]) -> dict[str, Any]:
    return {"url": view["url"], "title": view["title"], "at": view["at"].isoformat()}


def _without_query(page: str) -> str | None:
    parts = urlsplit(page.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}{parts.path or '/'}"


def _site_of(referrer: str) -> str | None:
    parts = urlsplit(referrer.strip())
    return f"{parts.scheme}://{parts.netloc}"[:255] if parts.scheme in ("http", "https") and parts.netloc else None
