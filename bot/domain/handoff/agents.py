"""Agent accounts: create, list, check a password, mark as seen, availability, and their load
for routing.

Routing gives chats to agents whose console is open (seen in the last ONLINE_SECONDS) *and* who
are available: an agent switches to away for a break (the console also does after 10 idle
minutes), and a supervisor is away until they opt in, so a tab left open at night or a
supervisor watching the dashboard is not sent customers.

Passwords are hashed with Argon2id (argon2-cffi); only the hash is stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from bot.domain.handoff.routing import AgentLoad
from bot.domain.storage.db import as_utc, session_scope
from bot.domain.storage.models import Agent, Handoff

ROLES = ("agent", "supervisor")
AVAILABILITY = ("available", "away")
# The console refreshes last_seen_at every few seconds while it is open.
ONLINE_SECONDS = 30
MIN_PASSWORD_LENGTH = 8
_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{2,64}$")
_hasher = PasswordHasher()


class AgentError(ValueError):
    """An agent account request that cannot be carried out; the message says why."""


@dataclass(frozen=True)
class AgentView:
    id: int
    username: str
    role: str
    skills: list[str]
    capacity: int
    availability: str = "available"

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"


def add(url: str, username: str, password: str, skills: list[str], capacity: int, role: str = "agent") -> AgentView:
    """Create an account; AgentError when a field is invalid or the name is taken."""
    if not _USERNAME.match(username):
        raise AgentError("username: 2-64 letters, digits, '.', '_' or '-'")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AgentError(f"password: at least {MIN_PASSWORD_LENGTH} characters")
    if role not in ROLES:
        raise AgentError(f"role must be one of {', '.join(ROLES)}")
    if capacity < 1:
        raise AgentError("capacity must be at least 1 concurrent chat")
    with session_scope(url) as session:
        if session.execute(sa.select(Agent.id).where(Agent.username == username)).first():
            raise AgentError(f"an agent called {username!r} already exists")
        row = Agent(username=username, password_hash=_hasher.hash(password), role=role,
                    skills=sorted({s.strip() for s in skills if s.strip()}), capacity=capacity, created_at=_now())
        session.add(row)
        session.flush()
        return view(row)


def all_agents(url: str) -> list[AgentView]:
    with session_scope(url) as session:
        return [view(row) for row in session.execute(sa.select(Agent).order_by(Agent.id)).scalars()]


def authenticate(url: str, username: str, password: str) -> AgentView | None:
    """The agent if the password is right, else None (same answer for unknown names)."""
    with session_scope(url) as session:
        row = session.execute(sa.select(Agent).where(Agent.username == username)).scalar_one_or_none()
        if row is None:
            _hasher.hash(password)  # spend the same time: do not reveal which names exist
            return None
        try:
            _hasher.verify(row.password_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        if _hasher.check_needs_rehash(row.password_hash):
            row.password_hash = _hasher.hash(password)
        return view(row)


def mark_seen(url: str, agent_id: int) -> None:
    """The agent's console is open: they count as online for ONLINE_SECONDS."""
    with session_scope(url) as session:
        session.execute(sa.update(Agent).where(Agent.id == agent_id).values(last_seen_at=_now()))


def set_availability(url: str, agent_id: int, availability: str) -> None:
    """The agent's own switch; AgentError for a value other than AVAILABILITY."""
    if availability not in AVAILABILITY:
        raise AgentError(f"availability must be one of {', '.join(AVAILABILITY)}")
    with session_scope(url) as session:
        session.execute(sa.update(Agent).where(Agent.id == agent_id).values(availability=availability))


def team(url: str) -> list[dict]:
    """Every agent as a supervisor sees them: availability, console open, chats against capacity."""
    by_id = {load.id: load for load in loads(url)}
    cutoff = _now() - timedelta(seconds=ONLINE_SECONDS)
    with session_scope(url) as session:
        return [{"username": row.username, "role": row.role, "availability": _availability(row),
                 "console_open": _seen_since(row, cutoff), "routable": by_id[row.id].online,
                 "active_chats": by_id[row.id].active_chats, "capacity": row.capacity}
                for row in session.execute(sa.select(Agent).order_by(Agent.username)).scalars()]


def mark_away(url: str, agent_id: int) -> None:
    """The agent logged out: no new chats go to them."""
    with session_scope(url) as session:
        session.execute(sa.update(Agent).where(Agent.id == agent_id).values(last_seen_at=None))


def any_online(url: str) -> bool:
    return any(load.online for load in loads(url))


def loads(url: str, session: Session | None = None) -> list[AgentLoad]:
    """Every agent as routing sees them: online or not, active chats against capacity."""
    if session is None:
        with session_scope(url) as own:
            return loads(url, own)
    active = dict(session.execute(
        sa.select(Handoff.agent_id, sa.func.count()).where(Handoff.status == "active").group_by(Handoff.agent_id)
    ).all())
    cutoff = _now() - timedelta(seconds=ONLINE_SECONDS)
    return [
        AgentLoad(id=row.id, skills=frozenset(row.skills or ()), capacity=row.capacity,
                  active_chats=active.get(row.id, 0),
                  online=_seen_since(row, cutoff) and _availability(row) == "available",
                  last_finished_at=as_utc(row.last_finished_at))
        for row in session.execute(sa.select(Agent)).scalars()
    ]


def _seen_since(row: Agent, cutoff: datetime) -> bool:
    return row.last_seen_at is not None and as_utc(row.last_seen_at) >= cutoff


def view(row: Agent) -> AgentView:
    return AgentView(id=row.id, username=row.username, role=row.role, skills=list(row.skills or []),
                     capacity=row.capacity, availability=_availability(row))


def _availability(row: Agent) -> str:
    """The agent's switch, else their role's default: agents available, supervisors away."""
    return row.availability or ("away" if row.role == "supervisor" else "available")


def _now() -> datetime:
    return datetime.now(timezone.utc)
