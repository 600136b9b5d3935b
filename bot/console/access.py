"""Who may call a console route: FastAPI dependencies every route names in its signature.

- `logged_in`: a valid session cookie (401 otherwise);
- `may_change`: also the session's CSRF token in X-CSRF-Token (403), for every POST;
- `supervisor` / `supervisor_change`: the same, for supervisors only (403).

tests/integration/test_auth.py enumerates the routes to keep every one of them guarded.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from fastapi import Depends, HTTPException, Request
from fastapi.responses import Response

from bot.config import Settings
from bot.console import sessions
from bot.console.sessions import COOKIE, LoggedIn
from bot.domain.handoff import agents


def settings_of(request: Request) -> Settings:
    """The settings the app was created with."""
    return request.app.state.settings


def logged_in(request: Request) -> LoggedIn:
    found = sessions.find(settings_of(request).database_url, request.cookies.get(COOKIE))
    if found is None:
        raise HTTPException(401, "log in first")
    return found


def may_change(request: Request, who: LoggedIn = Depends(logged_in)) -> LoggedIn:
    sent = request.headers.get("X-CSRF-Token") or ""
    if not hmac.compare_digest(sent, who.csrf_token):
        raise HTTPException(403, "missing or wrong X-CSRF-Token header")
    return who


def supervisor(who: LoggedIn = Depends(logged_in)) -> LoggedIn:
    if not who.agent.is_supervisor:
        raise HTTPException(403, "supervisors only")
    return who


def supervisor_change(who: LoggedIn = Depends(may_change)) -> LoggedIn:
    return supervisor(who)


def with_session(settings: Settings, respond: Callable[[str], Response], agent_id: int) -> Response:
    """A new session: `respond(csrf_token)` with the session cookie set on it."""
    agents.mark_seen(settings.database_url, agent_id)
    token, csrf = sessions.start(settings.database_url, agent_id)
    response = respond(csrf)
    response.set_cookie(COOKIE, token, max_age=int(sessions.LIFETIME.total_seconds()), httponly=True,
                        samesite="strict", secure=settings.console_secure_cookies, path="/")
    return response
