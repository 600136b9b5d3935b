"""Console login sessions.

The browser holds a random token in an HttpOnly, SameSite=Strict cookie; the database holds
only its SHA-256, so a leaked database does not log anyone in. Each session has its own CSRF
token, which the page sends back in the X-CSRF-Token header on every change.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from bot.domain.handoff.agents import AgentView, view
from bot.domain.storage.db import as_utc, session_scope
from bot.domain.storage.models import Agent, AgentSession

COOKIE = "console_session"
LIFETIME = timedelta(hours=8)  # one shift


@dataclass(frozen=True)
class LoggedIn:
    agent: AgentView
    csrf_token: str


def start(url: str, agent_id: int) -> tuple[str, str]:
    """A new session for the agent: (cookie token, CSRF token)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = datetime.now(timezone.utc)
    with session_scope(url) as session:
        session.execute(sa.delete(AgentSession).where(AgentSession.expires_at < now))
        session.add(AgentSession(token_hash=_hash(token), agent_id=agent_id, csrf_token=csrf, created_at=now,
                                 expires_at=now + LIFETIME))
    return token, csrf


def find(url: str, token: str | None) -> LoggedIn | None:
    """The agent behind a cookie token, if the session exists and has not expired."""
    if not token:
        return None
    with session_scope(url) as session:
        query = sa.select(AgentSession).where(AgentSession.token_hash == _hash(token))
        row = session.execute(query).scalar_one_or_none()
        if row is None or as_utc(row.expires_at) <= datetime.now(timezone.utc):
            return None
        return LoggedIn(view(session.get(Agent, row.agent_id)), row.csrf_token)


def end(url: str, token: str | None) -> None:
    if token:
        with session_scope(url) as session:
            session.execute(sa.delete(AgentSession).where(AgentSession.token_hash == _hash(token)))


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
