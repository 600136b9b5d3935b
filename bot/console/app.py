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

import logging
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response

from bot.config import Settings
from bot.console import customer_pages
from bot.console.access import logged_in
from bot.console.routes import accounts, handoffs, knowledge, supervision
from bot.console.sessions import LoggedIn
from bot.domain.handoff.service import HandoffConflict, HandoffNotFound
from bot.domain.storage.migrate import require_current
from bot.rasa_api import RasaUnavailable

logger = logging.getLogger(__name__)

# Everything else needs a login; customer pages (the widget, the demo shop) are for customers.
PUBLIC_ROUTES = {("GET", "/login"), ("POST", "/login"), ("POST", "/api/login"), *customer_pages.CUSTOMER_ROUTES}
SECURITY_HEADERS = {
    # Scripts and styles only from our own files: injected markup could not run even if it got in.
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                               "object-src 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def create_app(settings: Settings) -> FastAPI:
    """The console application for these settings (database, Rasa server, KB index); refuses
    (SchemaOutOfDate) a database whose schema is not the newest."""
    require_current(settings.database_url)
    app = FastAPI(title="Brightcart agent console API", version="1", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    for router in (accounts.router, handoffs.router, knowledge.router, supervision.router):
        app.include_router(router)
    customer_pages.add_routes(app, settings)
    _add_error_answers(app)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)  # a route may set its own (the demo shop's CSP)
        return response

    @app.get("/api/openapi.json", include_in_schema=False)
    def openapi(_: LoggedIn = Depends(logged_in)) -> dict[str, Any]:
        return app.openapi()

    return app


def _add_error_answers(app: FastAPI) -> None:
    """The domain's refusals as JSON with a status that says which kind (never a 500)."""

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
