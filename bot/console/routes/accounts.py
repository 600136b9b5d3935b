"""Pages and accounts: the login page and form, the console page and its static files, and the
JSON login, logout and "who am I"."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from bot.console import customer_pages, sessions
from bot.console.access import logged_in, may_change, settings_of, with_session
from bot.console.sessions import COOKIE, LoggedIn
from bot.domain.handoff import agents

STATIC = Path(__file__).resolve().parent.parent / "static"
CHART_JS = customer_pages.ASSETS / "node_modules" / "chart.js" / "dist" / "chart.umd.min.js"  # npm, make install
STATIC_FILES = {"api.js", "console.js", "console.css", "dashboard.js"}
router = APIRouter()


class Credentials(BaseModel):
    username: str = Field(..., max_length=64)
    password: str = Field(..., max_length=1024)


@router.get("/login", include_in_schema=False)
def login_page() -> FileResponse:
    return FileResponse(STATIC / "login.html")


@router.post("/login", include_in_schema=False)
async def login_form(request: Request) -> Response:
    """The login page's form (no JavaScript needed): a session and the console, or the page again."""
    settings = settings_of(request)
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    username, password = (form.get(k, [""])[0] for k in ("username", "password"))
    agent = await asyncio.to_thread(agents.authenticate, settings.database_url, username[:64], password[:1024])
    if agent is None:
        return RedirectResponse("/login#failed", status_code=303)
    return with_session(settings, lambda _csrf: RedirectResponse("/", status_code=303), agent.id)


@router.get("/", include_in_schema=False)
def console_page(request: Request) -> Response:
    if sessions.find(settings_of(request).database_url, request.cookies.get(COOKIE)) is None:
        return RedirectResponse("/login", status_code=303)
    return FileResponse(STATIC / "console.html")


@router.get("/static/{name}", include_in_schema=False)
def static_file(name: str, _: LoggedIn = Depends(logged_in)) -> FileResponse:
    if name == CHART_JS.name:
        return FileResponse(CHART_JS, media_type="application/javascript")
    if name not in STATIC_FILES:
        raise HTTPException(404, "no such file")
    return FileResponse(STATIC / name)


@router.post("/api/login", summary="Log in: sets the session cookie, returns the CSRF token")
async def login(credentials: Credentials, request: Request) -> Response:
    settings = settings_of(request)
    agent = await asyncio.to_thread(agents.authenticate, settings.database_url, credentials.username,
                                    credentials.password)
    if agent is None:
        return JSONResponse({"detail": "wrong username or password"}, status_code=401)
    return with_session(settings, lambda csrf: JSONResponse({"agent": agent.__dict__, "csrf_token": csrf}), agent.id)


@router.post("/api/logout", summary="End this session")
def logout(request: Request, who: LoggedIn = Depends(may_change)) -> Response:
    url = settings_of(request).database_url
    sessions.end(url, request.cookies.get(COOKIE))
    agents.mark_away(url, who.agent.id)
    response = JSONResponse({"ok": True})
    response.delete_cookie(COOKIE)
    return response


@router.get("/api/me", summary="Who is logged in, and the CSRF token for changes")
def me(who: LoggedIn = Depends(logged_in)) -> dict[str, Any]:
    return {"agent": who.agent.__dict__, "csrf_token": who.csrf_token}
