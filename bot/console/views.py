"""What the console shows an agent: a handoff with everything needed to help without asking
again (the "screen pop"), and the live queue snapshot with each customer's wait."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.console import transcript
from bot.console.summary import summary
from bot.domain import attachments, visitors
from bot.domain.complaints import service as complaints
from bot.domain.handoff import agents, service_levels
from bot.domain.handoff import service as handoffs
from bot.domain.handoff.agents import AgentView
from bot.domain.identity import verification
from bot.domain.storage import records


def screen_pop(url: str, handoff_id: int, kb_dir: Path) -> dict[str, Any]:
    """The handoff, its full transcript (as the agent reads it: bot/console/transcript.py), the
    customer's other conversations, complaints and handoffs, where they are on the site, and the
    whole in five lines (bot/console/summary.py)."""
    handoff = handoffs.get(url, handoff_id)
    customers = verification.linked_customers(url, handoff.customer_id)  # the same person on other channels
    pop = {
        "handoff": handoff.as_json(),
        "transcript": transcript.readable(list(records.iter_records(url, conversation_id=handoff.conversation_id)),
                                          kb_dir),
        "verified_emails": verification.verified_emails(url, handoff.customer_id),
        "linked_customers": customers[1:],
        "earlier_conversations": sorted(
            (c for customer in customers for c in records.conversations_of(url, customer)
             if c["conversation_id"] != handoff.conversation_id),
            key=lambda c: c["last_at"], reverse=True),
        "complaints": [c.as_row() for customer in customers
                       for c in complaints.recent_for_customer(url, customer, limit=10)],
        "earlier_handoffs": [h.as_json() for customer in customers for h in handoffs.for_customer(url, customer)
                             if h.id != handoff_id],
        "visitor": visitors.summary(url, handoff.conversation_id) if handoff.channel == "widget" else None,
        "files": [{"name": f.name, "kind": f.kind, "size": f.size, "url": f"/api/attachments/{f.id}",
                   "complaint_ref": f.complaint_ref}
                  for f in attachments.for_conversation(url, handoff.conversation_id)],
    }
    return pop | {"summary": summary(pop, transcript.kb_questions(kb_dir))}


def snapshot(url: str, agent: AgentView) -> dict[str, Any]:
    """The queue (tickets first), the agent's own chats (a supervisor's: everyone's, and the team's
    availability), and the newest record id of each open chat, so the page knows when to
    refresh a transcript."""
    queue = handoffs.listing(url, ("ticket", "waiting"))
    active = handoffs.listing(url, ("active",), None if agent.is_supervisor else agent.id)
    conversations = [h.conversation_id for h in active]
    latest, waiting = records.latest_ids(url, conversations), records.waiting_since(url, conversations)
    return {
        "queue": [h.as_json() for h in queue],
        "active": [h.as_json() | {"latest_record_id": latest.get(h.conversation_id),
                                  "waiting_since": waiting.get(h.conversation_id)} for h in active],
        "team": agents.team(url) if agent.is_supervisor else None,  # who takes chats now
        "service_levels": service_levels.load().as_json(),  # when a wait turns amber, then red
    }
