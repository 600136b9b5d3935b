"""Handoffs and agents in the database (a SQLite file and the machine's PostgreSQL): the queue,
routing on request, claims that cannot collide, closing, rating, tickets, passwords, sessions."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from bot.console import sessions
from bot.domain.handoff import agents, service
from bot.domain.handoff.agents import AgentError
from bot.domain.handoff.service import HandoffConflict, HandoffError, Request
from bot.domain.storage.db import session_scope
from bot.domain.storage.migrate import upgrade
from bot.domain.storage.models import Agent, AgentSession, Handoff


@pytest.fixture
def url(database_url: str) -> str:
    """A migrated database without agents or handoffs (PostgreSQL is shared by the session)."""
    upgrade(database_url)
    with session_scope(database_url) as session:
        for table in (Handoff, AgentSession, Agent):
            session.execute(sa.delete(table))
    return database_url


def wants(reason: str = "customer_asked", skill: str | None = None, message: str | None = None) -> Request:
    conversation = f"conv-{uuid.uuid4().hex[:8]}"
    return Request(conversation, f"cust-{conversation}", "callback", reason, skill, message)


def online(url: str, name: str, skills: str = "", capacity: int = 2, role: str = "agent") -> agents.AgentView:
    agent = agents.add(url, name, "correct horse battery", skills.split(","), capacity, role)
    agents.mark_seen(url, agent.id)
    return agent


def test_nobody_online_means_a_queue_with_positions(url: str) -> None:
    first, second = service.request(url, wants()), service.request(url, wants("faq_unknown"))
    assert (first.status, first.queue_position, second.queue_position) == ("waiting", 1, 2)
    again = service.request(url, Request(first.conversation_id, first.customer_id, "callback", "customer_asked"))
    assert again.id == first.id  # asking twice does not queue twice


def test_a_request_goes_to_the_skilled_agent_who_is_online(url: str) -> None:
    online(url, "dana", "delivery")
    billing = online(url, "bill", "billing")
    offline = agents.add(url, "olga", "correct horse battery", ["billing"], 5)
    handoff = service.request(url, wants("urgent_complaint", skill="billing"))
    assert (handoff.status, handoff.agent, handoff.queue_position) == ("active", billing.username, None)
    assert offline.id != handoff.agent_id


def test_capacity_is_respected_and_a_closed_chat_frees_a_seat(url: str) -> None:
    solo = online(url, "solo", capacity=1)
    first, second = service.request(url, wants()), service.request(url, wants())
    assert (first.status, second.status) == ("active", "waiting")
    service.close(url, first.id, solo, "closed")
    assert service.assign_waiting(url) == [(second.id, solo.id)]


def test_claims_cannot_collide(url: str) -> None:
    ann, ben = online(url, "ann", capacity=1), online(url, "ben", capacity=1)
    agents.mark_away(url, ann.id)
    agents.mark_away(url, ben.id)
    waiting = service.request(url, wants())
    assert service.claim(url, waiting.id, ann.id).agent == "ann"
    with pytest.raises(HandoffConflict):
        service.claim(url, waiting.id, ben.id)
    with pytest.raises(HandoffConflict):
        service.check_owner(service.get(url, waiting.id), ben)
    service.check_owner(service.get(url, waiting.id), ann)


def test_agents_read_the_queue_and_their_own_chats_supervisors_every_chat(url: str) -> None:
    ann, ben = online(url, "ann", capacity=1), online(url, "ben", capacity=1)
    sue = online(url, "sue", role="supervisor")
    for agent in (ann, ben, sue):
        agents.mark_away(url, agent.id)
    queued, ticket = service.request(url, wants()), service.leave_ticket(url, wants(message="call me"))
    assert all(service.may_read(h, agent) for h in (queued, ticket) for agent in (ann, ben, sue))
    taken = service.claim(url, queued.id, ann.id)
    assert service.may_read(taken, ann) and service.may_read(taken, sue) and not service.may_read(taken, ben)
    closed = service.close(url, queued.id, ann, "closed")
    assert service.may_read(closed, ann) and service.may_read(closed, sue) and not service.may_read(closed, ben)


def test_close_then_rate_once(url: str) -> None:
    ann = online(url, "ann")
    handoff = service.request(url, wants())
    closed = service.close(url, handoff.id, ann, "to_bot")
    assert (closed.status, closed.close_mode) == ("closed", "to_bot") and closed.closed_at is not None
    with pytest.raises(HandoffConflict):
        service.close(url, handoff.id, ann, "closed")
    assert service.rate(url, handoff.conversation_id, 4) is True
    assert service.rate(url, handoff.conversation_id, 5) is False  # already rated
    assert service.get(url, handoff.id).rating == 4
    with pytest.raises(HandoffError):
        service.rate(url, handoff.conversation_id, 9)


def test_tickets_come_first_in_the_queue(url: str) -> None:
    waiting = service.request(url, wants())
    ticket = service.leave_ticket(url, wants(message="Please call me back about my refund"))
    assert [h.id for h in service.listing(url, ("ticket", "waiting"))] == [ticket.id, waiting.id]
    with pytest.raises(HandoffError):
        service.leave_ticket(url, wants(message="  "))
    with pytest.raises(HandoffError):
        service.listing(url, ("lost",))


def test_passwords_are_hashed_and_checked(url: str) -> None:
    agents.add(url, "carol", "correct horse battery", ["returns"], 2)
    with session_scope(url) as session:
        stored = session.execute(sa.select(Agent.password_hash).where(Agent.username == "carol")).scalar_one()
    assert "correct horse" not in stored and stored.startswith("$argon2id$")
    assert agents.authenticate(url, "carol", "correct horse battery").username == "carol"
    assert agents.authenticate(url, "carol", "wrong") is None and agents.authenticate(url, "nobody", "x") is None
    for bad in (dict(username="carol"), dict(password="short"), dict(role="boss"), dict(capacity=0),
                dict(username="<script>")):
        with pytest.raises(AgentError):
            agents.add(url, **({"username": "dave", "password": "correct horse battery", "skills": [],
                                "capacity": 1} | bad))


def test_sessions_expire_and_end(url: str) -> None:
    carol = agents.add(url, "carol", "correct horse battery", [], 2)
    token, csrf = sessions.start(url, carol.id)
    found = sessions.find(url, token)
    assert found.agent.username == "carol" and found.csrf_token == csrf
    assert sessions.find(url, token + "x") is None and sessions.find(url, None) is None
    with session_scope(url) as session:
        session.execute(sa.update(AgentSession).values(expires_at=sa.func.current_timestamp()))
    assert sessions.find(url, token) is None
    token, _ = sessions.start(url, carol.id)
    sessions.end(url, token)
    assert sessions.find(url, token) is None


def test_a_search_counts_only_the_chats_the_agent_may_open_towards_its_limit(url: str) -> None:
    from bot.domain.handoff import search

    ann = online(url, "ann", capacity=1)
    own = service.request(url, wants())  # ann's own chat, the oldest
    bob = online(url, "bob", capacity=3)
    others = [service.request(url, wants()) for _ in range(3)]  # bob's, newer
    assert own.agent_id == ann.id and {h.agent_id for h in others} == {bob.id}
    found = search.find(url, ann, channel="callback", limit=2)
    assert [f.handoff.id for f in found] == [own.id]  # not two of bob's chats filtered away afterwards
    boss = online(url, "boss", role="supervisor")
    assert [f.handoff.id for f in search.find(url, boss, channel="callback", limit=2)] == [others[2].id, others[1].id]
