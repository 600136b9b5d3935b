"""Handoffs in the database: request one, route the queue, claim, close, rate, and list them.

Lifecycle: waiting -> active -> closed, or ticket -> active -> closed when the customer left a
message because nobody was available. A conversation has at most one open (waiting, active
or ticket) handoff: asking again returns the same one with its place in the queue.
Claims are conditional updates ("only if still waiting"), so two agents (or the router and
an agent) can never both get the same conversation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.domain.handoff import agents
from bot.domain.handoff.routing import choose_agent
from bot.domain.storage.db import as_utc, session_scope
from bot.domain.storage.models import Agent, Handoff

REASONS = ("customer_asked", "faq_unknown", "not_understood", "urgent_complaint")
OPEN_STATUSES = ("ticket", "waiting", "active")
QUEUED = ("waiting", "ticket")  # not yet any agent's: every agent may look, to choose what to take
STATUSES = (*OPEN_STATUSES, "closed")
CLOSE_MODES = ("closed", "to_bot")


class HandoffError(ValueError):
    """A handoff request that cannot be carried out; the message says why."""


class HandoffNotFound(HandoffError):
    """No handoff with that id."""


class HandoffConflict(HandoffError):
    """Somebody else got there first (the handoff was claimed or closed meanwhile)."""


@dataclass(frozen=True)
class HandoffView:
    id: int
    conversation_id: str
    customer_id: str
    channel: str
    reason: str
    skill: str | None
    status: str
    message: str | None
    language: str | None
    contact_email: str | None
    agent: str | None
    agent_id: int | None
    created_at: datetime
    assigned_at: datetime | None
    closed_at: datetime | None
    close_mode: str | None
    rating: int | None
    queue_position: int | None  # 1 = next; only while waiting

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("created_at", "assigned_at", "closed_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


@dataclass(frozen=True)
class Request:
    """Who wants a person, from which conversation, and why."""

    conversation_id: str
    customer_id: str
    channel: str
    reason: str
    skill: str | None = None
    message: str | None = None
    language: str | None = None  # the customer's language (en, zh), shown to the agent
    contact_email: str | None = None  # a ticket's answer is also emailed here


def request(url: str, wanted: Request) -> HandoffView:
    """Queue the conversation for a person (or return its open handoff), then route the queue."""
    if wanted.reason not in REASONS:
        raise HandoffError(f"unknown handoff reason {wanted.reason!r}")
    with session_scope(url) as session:
        existing = _open_for(session, wanted.conversation_id)
        if existing is None:
            session.add(_new(wanted, "waiting"))
    assign_waiting(url)
    with session_scope(url) as session:
        return _view(session, _open_for(session, wanted.conversation_id))


def leave_ticket(url: str, wanted: Request) -> HandoffView:
    """Nobody is available: keep the customer's message as a ticket agents see first."""
    if not (wanted.message or "").strip():
        raise HandoffError("a ticket needs the customer's message")
    with session_scope(url) as session:
        existing = _open_for(session, wanted.conversation_id)
        if existing is not None and existing.status == "ticket":
            existing.message = f"{existing.message}\n{wanted.message}"
            existing.contact_email = wanted.contact_email or existing.contact_email
            return _view(session, existing)
        if existing is not None:  # was waiting: the customer gave up waiting and left a message
            existing.status, existing.message = "ticket", wanted.message
            existing.contact_email = wanted.contact_email
            return _view(session, existing)
        row = _new(wanted, "ticket")
        session.add(row)
        session.flush()
        return _view(session, row)


def assign_waiting(url: str) -> list[tuple[int, int]]:
    """Give waiting handoffs (oldest first) to agents by the routing rules; (handoff, agent) pairs."""
    assigned = []
    with session_scope(url) as session:
        waiting = session.execute(
            sa.select(Handoff).where(Handoff.status == "waiting").order_by(Handoff.id)
        ).scalars().all()
        for handoff in waiting:
            agent = choose_agent(handoff.skill, agents.loads(url, session))
            if agent is None:
                continue
            if _take(session, handoff.id, agent.id, ("waiting",)):
                assigned.append((handoff.id, agent.id))
    return assigned


def claim(url: str, handoff_id: int, agent_id: int) -> HandoffView:
    """An agent picks a handoff from the queue (waiting or ticket)."""
    with session_scope(url) as session:
        row = _get(session, handoff_id)
        if row.status == "active" and row.agent_id == agent_id:
            return _view(session, row)
        if not _take(session, handoff_id, agent_id, ("waiting", "ticket")):
            raise HandoffConflict("this conversation was already taken or closed")
        session.expire_all()
        return _view(session, _get(session, handoff_id))


def close(url: str, handoff_id: int, agent: agents.AgentView, mode: str) -> HandoffView:
    """The agent is done: the conversation goes back to the bot (which then asks for a rating)."""
    if mode not in CLOSE_MODES:
        raise HandoffError(f"mode must be one of {', '.join(CLOSE_MODES)}")
    with session_scope(url) as session:
        row = _get(session, handoff_id)
        check_owner(row, agent)
        now = _now()
        done = session.execute(
            sa.update(Handoff).where(Handoff.id == handoff_id, Handoff.status == "active")
            .values(status="closed", closed_at=now, close_mode=mode)
        )
        if done.rowcount != 1:
            raise HandoffConflict("this conversation was already closed")
        session.execute(sa.update(Agent).where(Agent.id == row.agent_id).values(last_finished_at=now))
        session.expire_all()
        return _view(session, _get(session, handoff_id))


def transfer(url: str, handoff_id: int, by: agents.AgentView, to_agent: str | None = None,
             to_skill: str | None = None) -> tuple[HandoffView, list[tuple[int, int]]]:
    """Pass an active chat to another agent, who must take chats now and have a free seat, or back
    to the queue for a skill (routed at once); the handoff and the (handoff, agent) pairs made.
    A supervisor taking a chat over (to_agent is themselves) needs neither: it is their choice."""
    if (to_agent is None) == (to_skill is None):
        raise HandoffError("transfer to one agent or to one skill")
    with session_scope(url) as session:
        row = _get(session, handoff_id)
        check_owner(row, by)
        if to_agent is not None:
            target = _receiving_agent(session, url, to_agent, row, by.username)
            values = {"agent_id": target, "assigned_at": _now()}
        else:
            values = {"status": "waiting", "agent_id": None, "assigned_at": None, "skill": to_skill}
        done = session.execute(sa.update(Handoff).where(Handoff.id == handoff_id, Handoff.status == "active",
                                                        Handoff.agent_id == row.agent_id).values(**values))
        if done.rowcount != 1:
            raise HandoffConflict("this conversation changed meanwhile (closed or taken): open it again")
    paired = [(handoff_id, target)] if to_agent is not None else assign_waiting(url)
    return get(url, handoff_id), paired


def _receiving_agent(session: Session, url: str, username: str, row: Handoff, taker: str) -> int:
    """The id of the agent a chat is passed to, or why they cannot take it."""
    target = session.execute(sa.select(Agent).where(Agent.username == username)).scalar_one_or_none()
    if target is None:
        raise HandoffError(f"no agent called {username!r}")
    if target.id == row.agent_id:
        raise HandoffError(f"{username} has this chat already")
    if target.role == "supervisor" and target.username == taker:
        return target.id
    load = next(load for load in agents.loads(url, session) if load.id == target.id)
    if not load.online:
        raise HandoffConflict(f"{username} is not taking chats now (away or offline): transfer to a skill instead")
    if not load.has_free_seat:
        raise HandoffConflict(f"{username} has no free seat ({load.active_chats} of {load.capacity} chats)")
    return target.id


def check_owner(row: Handoff | HandoffView, agent: agents.AgentView) -> None:
    """Only the agent who has the conversation (or a supervisor) may talk in it or close it."""
    if row.status != "active":
        raise HandoffConflict(f"this conversation is {row.status}, not active: claim it first")
    if row.agent_id != agent.id and not agent.is_supervisor:
        raise HandoffConflict("another agent has this conversation")


def may_read(row: Handoff | HandoffView, agent: agents.AgentView) -> bool:
    """Who may open a handoff (its transcript, the customer's other chats and complaints): agents
    the queue (to choose what to take) and their own chats; supervisors every chat."""
    return agent.is_supervisor or row.status in QUEUED or row.agent_id == agent.id


def readable_by(agent: agents.AgentView) -> sa.sql.ColumnElement:
    """`may_read` as a query's condition, so that a search's limit counts only what the agent may open."""
    if agent.is_supervisor:
        return sa.true()
    return sa.or_(Handoff.status.in_(QUEUED), Handoff.agent_id == agent.id)


def rate(url: str, conversation_id: str, rating: int) -> bool:
    """Store the customer's 1-5 rating on the latest closed, unrated handoff of the conversation."""
    if not 1 <= rating <= 5:
        raise HandoffError("a rating is a whole number from 1 to 5")
    with session_scope(url) as session:
        row = session.execute(
            sa.select(Handoff).where(Handoff.conversation_id == conversation_id, Handoff.status == "closed",
                                     Handoff.rating.is_(None)).order_by(Handoff.id.desc()).limit(1)
        ).scalar_one_or_none()
        if row is None:
            return False
        row.rating, row.rated_at = rating, _now()
        return True


def get(url: str, handoff_id: int) -> HandoffView:
    with session_scope(url) as session:
        return _view(session, _get(session, handoff_id))


def open_for_conversation(url: str, conversation_id: str) -> HandoffView | None:
    with session_scope(url) as session:
        row = _open_for(session, conversation_id)
        return None if row is None else _view(session, row)


def listing(url: str, statuses: tuple[str, ...], agent_id: int | None = None, limit: int = 200) -> list[HandoffView]:
    """Handoffs with these statuses: tickets first (they waited longest), then oldest first."""
    unknown = set(statuses) - set(STATUSES)
    if unknown:
        raise HandoffError(f"unknown status {sorted(unknown)[0]!r}; use {', '.join(STATUSES)}")
    query = sa.select(Handoff).where(Handoff.status.in_(statuses))
    if agent_id is not None:
        query = query.where(Handoff.agent_id == agent_id)
    tickets_first = sa.case((Handoff.status == "ticket", 0), else_=1)
    order = (Handoff.id.desc(),) if statuses == ("closed",) else (tickets_first, Handoff.id)
    with session_scope(url) as session:
        rows = session.execute(query.order_by(*order).limit(limit)).scalars().all()
        return [_view(session, row) for row in rows]


def newest_first(url: str, query: sa.sql.Select, limit: int) -> list[HandoffView]:
    """The handoffs a query over `Handoff` selects, newest first (bot/domain/handoff/search.py)."""
    with session_scope(url) as session:
        rows = session.execute(query.order_by(Handoff.id.desc()).limit(limit)).scalars().all()
        return [_view(session, row) for row in rows]


def for_customer(url: str, customer_id: str) -> list[HandoffView]:
    with session_scope(url) as session:
        rows = session.execute(sa.select(Handoff).where(Handoff.customer_id == customer_id)
                               .order_by(Handoff.id.desc()).limit(20)).scalars().all()
        return [_view(session, row) for row in rows]


def _take(session: Session, handoff_id: int, agent_id: int, from_statuses: tuple[str, ...]) -> bool:
    done = session.execute(
        sa.update(Handoff).where(Handoff.id == handoff_id, Handoff.status.in_(from_statuses))
        .values(status="active", agent_id=agent_id, assigned_at=_now())
    )
    return done.rowcount == 1


def _new(wanted: Request, status: str) -> Handoff:
    return Handoff(conversation_id=wanted.conversation_id, customer_id=wanted.customer_id, channel=wanted.channel,
                   reason=wanted.reason, skill=wanted.skill, status=status, message=wanted.message,
                   language=wanted.language, contact_email=wanted.contact_email, created_at=_now())


def _open_for(session: Session, conversation_id: str) -> Handoff | None:
    return session.execute(
        sa.select(Handoff).where(Handoff.conversation_id == conversation_id, Handoff.status.in_(OPEN_STATUSES))
        .order_by(Handoff.id.desc()).limit(1)
    ).scalar_one_or_none()


def _get(session: Session, handoff_id: int) -> Handoff:
    row = session.get(Handoff, handoff_id)
    if row is None:
        raise HandoffNotFound(f"no handoff {handoff_id}")
    return row


def _view(session: Session, row: Handoff) -> HandoffView:
    position = None
    if row.status == "waiting":
        position = session.execute(
            sa.select(sa.func.count()).where(Handoff.status == "waiting", Handoff.id <= row.id)
        ).scalar_one()
    agent = session.get(Agent, row.agent_id) if row.agent_id else None
    return HandoffView(
        id=row.id, conversation_id=row.conversation_id, customer_id=row.customer_id, channel=row.channel,
        reason=row.reason, skill=row.skill, status=row.status, message=row.message, language=row.language,
        contact_email=row.contact_email, agent=agent.username if agent else None, agent_id=row.agent_id,
        created_at=as_utc(row.created_at),
        assigned_at=as_utc(row.assigned_at), closed_at=as_utc(row.closed_at), close_mode=row.close_mode,
        rating=row.rating, queue_position=position,
    )


def _now() -> datetime:
    return datetime.now(timezone.utc)
