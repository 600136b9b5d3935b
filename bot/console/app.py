"""The console's routes. Every route needs a login session except the login page and the
login call itself; every change (POST) also needs the session's CSRF token in X-CSRF-Token.
`tests/integration/test_auth.py` enumerates the routes to keep it that way.

JSON API (documented at /api/openapi.json, behind the login like everything else):
    POST /api/login                       {"username", "password"} -> session cookie + CSRF token
    POST /api/logout
    GET  /api/me
    GET  /api/handoffs?status=waiting,ticket,active,closed
    GET  /api/handoffs/{id}               the screen pop: transcript, earlier chats, complaints (a queued
                                          chat, or the agent's own; supervisors: any)
    POST /api/handoffs/{id}/claim
    POST /api/handoffs/{id}/messages      {"text"} -> delivered on the customer's channel
    POST /api/handoffs/{id}/handback      {"mode": "closed" | "to_bot"} -> the bot asks for a rating
    GET  /api/canned-replies
    GET  /api/faq?q=...                   search the knowledge base by meaning
    GET  /api/stream                      server-sent events: the queue and open chats, live
    GET  /api/live?minutes=15             conversations active now, from the event consumer (supervisors)
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParameter
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from bot.config import Settings
from bot.console import customer_pages, sessions, views
from bot.console.sessions import COOKIE, LoggedIn
from bot.events import feed
from bot.handoff import agents, rasa_push
from bot.handoff import service as handoffs
from bot.handoff.service import HandoffConflict, HandoffError, HandoffNotFound
from bot.insight import metrics, report, source, unanswered
from bot.rasa_api import RasaUnavailable
from bot.storage.migrate import require_current
from faq_index import kb_edit

logger = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
CHART_JS = customer_pages.ASSETS / "node_modules" / "chart.js" / "dist" / "chart.umd.min.js"  # npm, make install
# Everything else needs a login; customer pages (the widget, the demo shop) are for customers.
PUBLIC_ROUTES = {("GET", "/login"), ("POST", "/login"), ("POST", "/api/login"), *customer_pages.CUSTOMER_ROUTES}
SECURITY_HEADERS = {
    # Scripts and styles only from our own files: injected markup could not run even if it got in.
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                               "object-src 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
STREAM_TICK_SECONDS = 1.0
# An id the database can hold (a larger one used to reach the query and fail there with a 500).
HandoffId = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]
SEEN_EVERY_SECONDS = 5.0


class Credentials(BaseModel):
    username: str = Field(..., max_length=64)
    password: str = Field(..., max_length=1024)


class AgentMessage(BaseModel):
    text: str = Field(..., min_length=1, max_length=rasa_push.MAX_MESSAGE_CHARS)


class NewEntry(BaseModel):
    id: str = Field(..., max_length=64, description="e.g. delivery-ireland")
    category: str = Field(..., max_length=32)
    question: str = Field(..., min_length=3, max_length=300)
    answer: str = Field(..., min_length=3, max_length=4000)
    paraphrases: list[str] = Field(..., max_items=50)


class NewParaphrases(BaseModel):
    entry_id: str = Field(..., max_length=64)
    paraphrases: list[str] = Field(..., min_items=1, max_items=50)


class HandBack(BaseModel):
    mode: str = Field("closed", description="closed: the chat is done; to_bot: the customer goes on with the bot")


def create_app(settings: Settings) -> FastAPI:
    """The console application for these settings (database, Rasa server, KB index); refuses
    (SchemaOutOfDate) a database whose schema is not the newest."""
    url = settings.database_url
    require_current(url)
    app = FastAPI(title="Brightcart agent console API", version="1", docs_url=None, redoc_url=None, openapi_url=None)

    def logged_in(request: Request) -> LoggedIn:
        found = sessions.find(url, request.cookies.get(COOKIE))
        if found is None:
            raise HTTPException(401, "log in first")
        return found

    def may_change(request: Request, who: LoggedIn = Depends(logged_in)) -> LoggedIn:
        sent = request.headers.get("X-CSRF-Token") or ""
        if not hmac.compare_digest(sent, who.csrf_token):
            raise HTTPException(403, "missing or wrong X-CSRF-Token header")
        return who

    @app.on_event("startup")
    def warm_up_faq_search() -> None:
        """Load the encoders (an English search asks two spaces, a Chinese one the multilingual)
        before serving: no search waits for them and the process's memory does not grow later."""
        try:
            for query in ("warm up", "预热"):
                _faq_index(settings).search(query)
        except Exception:  # no index yet: the console still serves everything else
            logger.exception("FAQ search warm-up failed")

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)  # a route may set its own (the demo shop's CSP)
        return response

    @app.exception_handler(HandoffNotFound)
    async def not_found(_: Request, error: HandoffNotFound) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=404)

    @app.exception_handler(HandoffConflict)
    async def conflict(_: Request, error: HandoffConflict) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=409)

    @app.exception_handler(ValueError)
    async def bad_request(_: Request, error: ValueError) -> JSONResponse:  # HandoffError, AgentError
        return JSONResponse({"detail": str(error)}, status_code=400)

    @app.exception_handler(RasaUnavailable)
    async def rasa_down(_: Request, error: RasaUnavailable) -> JSONResponse:
        return JSONResponse({"detail": f"the bot server did not take it, nothing was changed: {error}"},
                            status_code=503)

    customer_pages.add_routes(app, settings)

    # --- pages -------------------------------------------------------------------------

    @app.get("/login", include_in_schema=False)
    def login_page() -> FileResponse:
        return FileResponse(STATIC / "login.html")

    @app.post("/login", include_in_schema=False)
    async def login_form(request: Request) -> Response:
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        username, password = (form.get(k, [""])[0] for k in ("username", "password"))
        agent = await asyncio.to_thread(agents.authenticate, url, username[:64], password[:1024])
        if agent is None:
            return RedirectResponse("/login#failed", status_code=303)
        return _with_session(lambda _csrf: RedirectResponse("/", status_code=303), agent.id)

    @app.get("/", include_in_schema=False)
    def console_page(request: Request) -> Response:
        if sessions.find(url, request.cookies.get(COOKIE)) is None:
            return RedirectResponse("/login", status_code=303)
        return FileResponse(STATIC / "console.html")

    @app.get("/static/{name}", include_in_schema=False)
    def static_file(name: str, _: LoggedIn = Depends(logged_in)) -> FileResponse:
        if name == CHART_JS.name:
            return FileResponse(CHART_JS, media_type="application/javascript")
        if name not in {"api.js", "console.js", "console.css", "dashboard.js"}:
            raise HTTPException(404, "no such file")
        return FileResponse(STATIC / name)

    # --- JSON API ----------------------------------------------------------------------

    @app.post("/api/login", summary="Log in: sets the session cookie, returns the CSRF token")
    async def login(credentials: Credentials) -> Response:
        agent = await asyncio.to_thread(agents.authenticate, url, credentials.username, credentials.password)
        if agent is None:
            return JSONResponse({"detail": "wrong username or password"}, status_code=401)
        return _with_session(lambda csrf: JSONResponse({"agent": agent.__dict__, "csrf_token": csrf}), agent.id)

    @app.post("/api/logout", summary="End this session")
    def logout(request: Request, who: LoggedIn = Depends(may_change)) -> Response:
        sessions.end(url, request.cookies.get(COOKIE))
        agents.mark_away(url, who.agent.id)
        response = JSONResponse({"ok": True})
        response.delete_cookie(COOKIE)
        return response

    @app.get("/api/me", summary="Who is logged in, and the CSRF token for changes")
    def me(who: LoggedIn = Depends(logged_in)) -> dict[str, Any]:
        return {"agent": who.agent.__dict__, "csrf_token": who.csrf_token}

    @app.get("/api/handoffs", summary="Handoffs by status (comma-separated: ticket,waiting,active,closed)")
    def list_handoffs(status: str = "ticket,waiting", who: LoggedIn = Depends(logged_in)) -> dict[str, Any]:
        wanted = tuple(s.strip() for s in status.split(",") if s.strip())
        own = None if who.agent.is_supervisor or set(wanted) <= {"ticket", "waiting"} else who.agent.id
        return {"handoffs": [h.as_json() for h in handoffs.listing(url, wanted, own)]}

    @app.get("/api/handoffs/{handoff_id}", summary="One handoff with transcript, earlier chats and complaints")
    def show_handoff(handoff_id: HandoffId, who: LoggedIn = Depends(logged_in)) -> dict[str, Any]:
        if not handoffs.may_read(handoffs.get(url, handoff_id), who.agent):
            raise HTTPException(403, "another agent has this conversation; only they and supervisors may open it")
        return views.screen_pop(url, handoff_id)

    @app.post("/api/handoffs/{handoff_id}/claim", summary="Take a waiting handoff or ticket")
    def claim(handoff_id: HandoffId, who: LoggedIn = Depends(may_change)) -> dict[str, Any]:
        before = handoffs.get(url, handoff_id)
        claimed = handoffs.claim(url, handoff_id, who.agent.id)
        if before.status == "ticket":  # the bot was still talking in that conversation: silence it
            rasa_push.pause(settings, claimed.conversation_id)
        return {"handoff": claimed.as_json()}

    @app.post("/api/handoffs/{handoff_id}/messages", summary="Send a message to the customer on their channel")
    def send_message(handoff_id: HandoffId, message: AgentMessage,
                     who: LoggedIn = Depends(may_change)) -> dict[str, Any]:
        text = message.text.strip()
        if not text:
            raise HandoffError("the message is empty")
        handoff = handoffs.get(url, handoff_id)
        handoffs.check_owner(handoff, who.agent)
        rasa_push.send_agent_message(settings, handoff.conversation_id, text, who.agent.username)
        return {"sent": True}

    @app.post("/api/handoffs/{handoff_id}/handback", summary="Close the chat or return it to the bot")
    def hand_back(handoff_id: HandoffId, body: HandBack, who: LoggedIn = Depends(may_change)) -> dict[str, Any]:
        if body.mode not in handoffs.CLOSE_MODES:
            raise HandoffError(f"mode must be one of {', '.join(handoffs.CLOSE_MODES)}")
        handoff = handoffs.get(url, handoff_id)
        handoffs.check_owner(handoff, who.agent)
        rasa_push.hand_back(settings, handoff.conversation_id, body.mode)
        closed = handoffs.close(url, handoff_id, who.agent, body.mode)
        handoffs.assign_waiting(url)  # a seat just came free
        return {"handoff": closed.as_json()}

    @app.get("/api/canned-replies", summary="Ready-made replies")
    def canned(_: LoggedIn = Depends(logged_in)) -> dict[str, Any]:
        return {"replies": views.canned_replies()}

    @app.get("/api/faq", summary="Search the knowledge base by meaning")
    async def faq(q: str = "", _: LoggedIn = Depends(logged_in)) -> dict[str, Any]:
        query = q.strip()[:500]
        if not query:
            return {"results": []}
        result = await asyncio.to_thread(_faq_index(settings).search, query, 5)
        return {"results": [c.__dict__ for c in result.candidates]}

    @app.get("/api/stream", summary="Server-sent events: the queue and open chats whenever they change")
    async def stream(request: Request, who: LoggedIn = Depends(logged_in)) -> StreamingResponse:
        return StreamingResponse(_events(request, who), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    # --- supervisors: the dashboard and the unanswered-questions loop ----------------------

    def supervisor(who: LoggedIn = Depends(logged_in)) -> LoggedIn:
        if not who.agent.is_supervisor:
            raise HTTPException(403, "supervisors only")
        return who

    def supervisor_change(who: LoggedIn = Depends(may_change)) -> LoggedIn:
        return supervisor(who)

    @app.get("/dashboard", include_in_schema=False)
    def dashboard_page(request: Request) -> Response:
        who = sessions.find(url, request.cookies.get(COOKIE))
        if who is None:
            return RedirectResponse("/login", status_code=303)
        if not who.agent.is_supervisor:
            return JSONResponse({"detail": "supervisors only"}, status_code=403)
        return FileResponse(STATIC / "dashboard.html")

    @app.get("/api/metrics", summary="The metrics of docs/metrics.md for a date range and channel (supervisors)")
    def metrics_api(since: str | None = None, until: str | None = None, channel: str | None = None,
                    _: LoggedIn = Depends(supervisor)) -> dict[str, Any]:
        return report.figures(url, since, until, channel)

    @app.get("/api/unanswered", summary="Unanswered questions grouped by meaning, most frequent first (supervisors)")
    async def unanswered_api(since: str | None = None, until: str | None = None, channel: str | None = None,
                             _: LoggedIn = Depends(supervisor)) -> dict[str, Any]:
        start, end = report.date_range(since, until)
        records = (await asyncio.to_thread(source.load, url, start, end, channel or None)).records
        questions = metrics.unanswered_questions(records)  # not the whole report: only its list
        return {"groups": await asyncio.to_thread(_grouped, [q["text"] for q in questions])}

    @app.get("/api/live", summary="Conversations active in the last N minutes, across every Rasa replica "
                                  "(the event consumer's feed; production stack) (supervisors)")
    def live_api(minutes: float = Query(15, gt=0, le=24 * 60), _: LoggedIn = Depends(supervisor)) -> dict[str, Any]:
        return {"minutes": minutes, "conversations": feed.active_conversations(url, minutes)}

    @app.post("/api/kb/entries", summary="Add a new FAQ entry (the next index build picks it up)")
    def add_kb_entry(entry: NewEntry, _: LoggedIn = Depends(supervisor_change)) -> dict[str, Any]:
        path = kb_edit.add_entry(settings.kb_dir, entry.id, entry.category, entry.question, entry.answer,
                                 entry.paraphrases)
        return {"written": path.name}

    @app.post("/api/kb/paraphrases", summary="Add wordings to an existing FAQ entry")
    def add_kb_paraphrases(body: NewParaphrases, _: LoggedIn = Depends(supervisor_change)) -> dict[str, Any]:
        return {"written": kb_edit.add_paraphrases(settings.kb_dir, body.entry_id, body.paraphrases).name}

    def _grouped(texts: list[str]) -> list[dict[str, Any]]:
        index = _faq_index(settings)
        groups = unanswered.group(texts, index.snapshot.encoder.encode)
        for found in groups:
            best = index.search(found["question"], 1).candidates
            found["closest_entry"] = {"id": best[0].id, "question": best[0].question} if best else None
        return groups

    @app.get("/api/openapi.json", include_in_schema=False)
    def openapi(_: LoggedIn = Depends(logged_in)) -> dict[str, Any]:
        return app.openapi()

    async def _events(request: Request, who: LoggedIn) -> AsyncIterator[str]:
        """One `snapshot` event now and whenever it changes; the agent counts as online meanwhile."""
        token = request.cookies.get(COOKIE)
        last_sent, last_seen = None, 0.0
        while not await request.is_disconnected():
            if await asyncio.to_thread(sessions.find, url, token) is None:
                yield "event: logout\ndata: {}\n\n"
                return
            if time.monotonic() - last_seen > SEEN_EVERY_SECONDS:
                await asyncio.to_thread(agents.mark_seen, url, who.agent.id)
                last_seen = time.monotonic()
            await asyncio.to_thread(handoffs.assign_waiting, url)
            current = json.dumps(await asyncio.to_thread(views.snapshot, url, who.agent))
            if current != last_sent:
                yield f"event: snapshot\ndata: {current}\n\n"
                last_sent = current
            await asyncio.sleep(STREAM_TICK_SECONDS)

    def _with_session(respond: Callable[[str], Response], agent_id: int) -> Response:
        """A new session: `respond(csrf_token)` with the session cookie set on it."""
        agents.mark_seen(url, agent_id)
        token, csrf = sessions.start(url, agent_id)
        response = respond(csrf)
        response.set_cookie(COOKIE, token, max_age=int(sessions.LIFETIME.total_seconds()), httponly=True,
                            samesite="strict", secure=settings.console_secure_cookies, path="/")
        return response

    return app


_index = None
_index_lock = threading.Lock()


def _faq_index(settings: Settings) -> Any:
    """The FAQ index, loaded once (the encoder takes a few seconds and some memory)."""
    global _index
    with _index_lock:
        if _index is None:
            import torch

            from faq_index import LiveIndex

            torch.set_num_threads(1)  # a search now and then; leave the cores to Rasa
            _index = LiveIndex(settings.index_dir, poll_seconds=max(settings.index_poll_seconds, 5.0))
        return _index
