"""For supervisors: the dashboard page, the figures of docs/metrics.md behind it, and the live
feed of conversations across every Rasa replica."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response

from bot.console import sessions, transcript
from bot.console.access import settings_of, supervisor
from bot.console.sessions import COOKIE, LoggedIn
from bot.domain.events import feed
from bot.domain.insight import report

STATIC = Path(__file__).resolve().parent.parent / "static"
router = APIRouter()


@router.get("/dashboard", include_in_schema=False)
def dashboard_page(request: Request) -> Response:
    who = sessions.find(settings_of(request).database_url, request.cookies.get(COOKIE))
    if who is None:
        return RedirectResponse("/login", status_code=303)
    if not who.agent.is_supervisor:
        return JSONResponse({"detail": "supervisors only"}, status_code=403)
    return FileResponse(STATIC / "dashboard.html")


@router.get("/api/metrics", summary="The metrics of docs/metrics.md for a date range and channel (supervisors)")
def metrics_api(request: Request, since: str | None = None, until: str | None = None, channel: str | None = None,
                _: LoggedIn = Depends(supervisor)) -> dict[str, Any]:
    """As `python -m bot report`, with each top FAQ entry's question for the page to show."""
    settings = settings_of(request)
    figures = report.figures(settings.database_url, since, until, channel)
    questions = transcript.kb_questions(settings.kb_dir)
    figures["top_faq_entries"] = [entry | {"question": questions.get(entry["faq_id"])}
                                  for entry in figures["top_faq_entries"]]
    return figures


@router.get("/api/live", summary="Conversations active in the last N minutes, across every Rasa replica "
                                 "(the event consumer's feed; production stack) (supervisors)")
def live_api(request: Request, minutes: float = Query(15, gt=0, le=24 * 60),
             _: LoggedIn = Depends(supervisor)) -> dict[str, Any]:
    return {"minutes": minutes, "conversations": feed.active_conversations(settings_of(request).database_url, minutes)}
