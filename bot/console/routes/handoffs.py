"""The agent's work: the queue, one handoff's screen pop, claim, message the customer, hand
back to the bot (or close), canned replies, and the live stream that keeps the page current."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta, timezone
from datetime import time as time_of_day
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as PathParameter
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from bot import rasa_api
from bot.config import Settings
from bot.console import canned, sessions, views
from bot.console.access import logged_in, may_change, settings_of, supervisor_change
from bot.console.queue_watch import QueueWatch
from bot.console.sessions import COOKIE, LoggedIn
from bot.domain import attachment_files, attachments
from bot.domain.handoff import agents, notes, rasa_push, reply_windows, search
from bot.domain.handoff import service as handoffs
from bot.domain.handoff.service import HandoffConflict, HandoffError
from bot.domain.identity import mailer
from bot.rasa_api import RasaUnavailable

logger = logging.getLogger(__name__)

SEEN_EVERY_SECONDS = 5.0
# An id the database can hold (a larger one used to reach the query and fail there with a 500).
HandoffId = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]
router = APIRouter()
# A REST client asks and gets the answer in the same HTTP exchange: nothing can reach it later.
NO_PUSH_CHANNELS = {"rest"}
NO_PUSH = ("this customer writes through the REST API, which cannot receive messages pushed to them: "
           "nothing was sent. Answer them through your own system, then hand the chat back.")
DELIVERY_TOLD = {  # what the agent is told, per X-Delivery value (bot/rasa_server/channels/outbox.py)
    "delivered": "sent",
    "undelivered": "recorded, but their channel did not take it: it will be tried again for a day",
    "no-channel": "recorded, but their channel cannot receive it",
    "nothing": "recorded",
}


class AgentMessage(BaseModel):
    text: str = Field(..., min_length=1, max_length=rasa_push.MAX_MESSAGE_CHARS)


class Note(BaseModel):
    text: str = Field(..., min_length=1, max_length=notes.MAX_NOTE_CHARS)


class Transfer(BaseModel):
    to_agent: str | None = Field(None, max_length=64, description="an agent's username")
    to_skill: str | None = Field(None, max_length=32, regex=r"^[a-z_]+$", description="or a skill queue")
    reason: str = Field(..., min_length=1, max_length=500, description="for the next agent (kept as a note)")


class CannedReply(BaseModel):
    title: str = Field(..., max_length=80)
    text: str = Field(..., max_length=4000)
    team: str | None = Field(None, max_length=32, description="a skill; empty: everyone")


class CannedReplies(BaseModel):
    replies: list[CannedReply] = Field(..., max_items=canned.MAX_REPLIES)


class Availability(BaseModel):
    availability: str = Field(..., description="available: route chats to me; away: do not")


class HandBack(BaseModel):
    mode: str = Field("closed", description="closed: the chat is done; to_bot: the customer goes on with the bot")


@router.get("/api/handoffs", summary="Handoffs by status (comma-separated: ticket,waiting,active,closed)")
def list_handoffs(request: Request, status: str = "ticket,waiting",
                  who: LoggedIn = Depends(logged_in)) -> dict[str, Any]:
    wanted = tuple(s.strip() for s in status.split(",") if s.strip())
    own = None if who.agent.is_supervisor or set(wanted) <= {"ticket", "waiting"} else who.agent.id
    return {"handoffs": [h.as_json() for h in handoffs.listing(settings_of(request).database_url, wanted, own)]}


@router.get("/api/search", summary="Find chats by customer, complaint reference, words, date and channel")
def search_chats(request: Request, q: str = Query("", max_length=200), channel: str | None = Query(None, max_length=64),
                 since: date | None = None, until: date | None = None,
                 who: LoggedIn = Depends(logged_in)) -> dict[str, Any]:
    """Newest first; an agent sees the chats they may open (their own and the queue), a supervisor all."""
    if not (q.strip() or channel or since or until):
        raise HTTPException(422, "say what to look for: words, a customer, a complaint reference, a channel or dates")
    start = datetime.combine(since, time_of_day.min, timezone.utc) if since else None
    end = datetime.combine(until + timedelta(days=1), time_of_day.min, timezone.utc) if until else None  # whole day
    found = search.find(settings_of(request).database_url, who.agent, q, channel or None, start, end)
    return {"results": [f.handoff.as_json() | {"matched": f.matched} for f in found]}


@router.get("/api/handoffs/{handoff_id}", summary="One handoff with transcript, earlier chats and complaints")
def show_handoff(handoff_id: HandoffId, request: Request, who: LoggedIn = Depends(logged_in)) -> dict[str, Any]:
    settings = settings_of(request)
    _readable(settings, handoff_id, who)
    return views.screen_pop(settings.database_url, handoff_id, settings.kb_dir)


@router.post("/api/handoffs/{handoff_id}/claim", summary="Take a waiting handoff or ticket")
def claim(handoff_id: HandoffId, request: Request, who: LoggedIn = Depends(may_change)) -> dict[str, Any]:
    settings = settings_of(request)
    before = handoffs.get(settings.database_url, handoff_id)
    claimed = handoffs.claim(settings.database_url, handoff_id, who.agent.id)
    if before.status == "ticket":  # the bot was still talking in that conversation: silence it
        rasa_push.pause(settings, claimed.conversation_id)
    if before.status != "active":
        _tell_customers_who_joined(settings, [(handoff_id, who.agent.id)])
    queue_watch(request).nudge()  # every open console sees it now
    return {"handoff": claimed.as_json()}


@router.post("/api/handoffs/{handoff_id}/messages", summary="Send a message to the customer on their channel")
def send_message(handoff_id: HandoffId, message: AgentMessage, request: Request,
                 who: LoggedIn = Depends(may_change)) -> dict[str, Any]:
    settings = settings_of(request)
    text = message.text.strip()
    if not text:
        raise HandoffError("the message is empty")
    handoff = handoffs.get(settings.database_url, handoff_id)
    handoffs.check_owner(handoff, who.agent)
    if handoff.channel in NO_PUSH_CHANNELS:
        raise HandoffConflict(NO_PUSH)
    refused = reply_windows.refusal(settings.database_url, handoff)
    if refused:
        raise HandoffConflict(refused)
    delivery = rasa_push.send_agent_message(settings, handoff.conversation_id, text, who.agent.username)
    detail = DELIVERY_TOLD[delivery] + _email_answer(settings, handoff, who.agent.username, text)
    queue_watch(request).nudge()  # every open console sees it now
    return {"sent": delivery == "delivered", "delivery": delivery, "detail": detail}


@router.post("/api/handoffs/{handoff_id}/notes", summary="Add an internal note (never sent to the customer)")
def add_note(handoff_id: HandoffId, note: Note, request: Request,
             who: LoggedIn = Depends(may_change)) -> dict[str, Any]:
    settings = settings_of(request)
    handoff = _readable(settings, handoff_id, who)
    notes.add(settings.database_url, handoff, who.agent.username, note.text, settings.redact)
    queue_watch(request).nudge()  # every open console sees it now
    return {"noted": True}


@router.get("/api/transfer-targets", summary="Who a chat can be passed to now: agents taking chats, and skills")
def transfer_targets(request: Request, who: LoggedIn = Depends(logged_in)) -> dict[str, Any]:
    url = settings_of(request).database_url
    return {"agents": [{"username": a["username"], "free_seats": a["capacity"] - a["active_chats"]}
                       for a in agents.team(url) if a["routable"] and a["username"] != who.agent.username],
            "skills": sorted({skill for agent in agents.all_agents(url) for skill in agent.skills})}


@router.post("/api/handoffs/{handoff_id}/transfer", summary="Pass the chat to another agent or a skill queue")
def transfer(handoff_id: HandoffId, body: Transfer, request: Request,
             who: LoggedIn = Depends(may_change)) -> dict[str, Any]:
    """The reason is kept as an internal note; the customer hears who joined once someone has the chat."""
    settings = settings_of(request)
    moved, paired = handoffs.transfer(settings.database_url, handoff_id, who.agent, body.to_agent or None,
                                      body.to_skill or None)
    target = body.to_agent or f"the {body.to_skill} queue"
    notes.add(settings.database_url, moved, who.agent.username, f"Transferred to {target}: {body.reason}",
              settings.redact)
    _tell_customers_who_joined(settings, paired)
    queue_watch(request).nudge()  # every open console sees it now
    return {"handoff": moved.as_json()}


@router.get("/api/handoffs/{handoff_id}/draft", summary="What the customer is typing now (widget only)")
def customer_draft(handoff_id: HandoffId, request: Request, who: LoggedIn = Depends(logged_in)) -> dict[str, Any]:
    settings = settings_of(request)
    handoff = _readable(settings, handoff_id, who)
    if handoff.channel != "widget" or handoff.status == "closed":
        return {"draft": ""}
    return {"draft": rasa_api.customer_draft(settings, handoff.conversation_id)}


@router.post("/api/handoffs/{handoff_id}/typing", summary="Tell the customer the agent is typing (widget only)")
def agent_typing(handoff_id: HandoffId, request: Request, who: LoggedIn = Depends(may_change)) -> dict[str, Any]:
    settings = settings_of(request)
    handoff = handoffs.get(settings.database_url, handoff_id)
    handoffs.check_owner(handoff, who.agent)
    if handoff.channel == "widget":
        rasa_api.agent_typing(settings, handoff.conversation_id, who.agent.username)
    return {"ok": True}


@router.post("/api/handoffs/{handoff_id}/handback", summary="Close the chat or return it to the bot")
def hand_back(handoff_id: HandoffId, body: HandBack, request: Request,
              who: LoggedIn = Depends(may_change)) -> dict[str, Any]:
    settings = settings_of(request)
    if body.mode not in handoffs.CLOSE_MODES:
        raise HandoffError(f"mode must be one of {', '.join(handoffs.CLOSE_MODES)}")
    handoff = handoffs.get(settings.database_url, handoff_id)
    handoffs.check_owner(handoff, who.agent)
    delivery = rasa_push.hand_back(settings, handoff.conversation_id, body.mode)
    closed = handoffs.close(settings.database_url, handoff_id, who.agent, body.mode)
    _tell_customers_who_joined(settings, handoffs.assign_waiting(settings.database_url))  # a seat just came free
    queue_watch(request).nudge()  # every open console sees it now
    return {"handoff": closed.as_json(), "delivery": delivery}


@router.post("/api/me/availability", summary="Switch yourself available or away (routing reacts at once)")
def set_availability(body: Availability, request: Request, who: LoggedIn = Depends(may_change)) -> dict[str, Any]:
    settings = settings_of(request)
    try:
        agents.set_availability(settings.database_url, who.agent.id, body.availability)
    except agents.AgentError as error:
        raise HTTPException(422, str(error)) from error
    _tell_customers_who_joined(settings, handoffs.assign_waiting(settings.database_url))  # a seat may have opened
    queue_watch(request).nudge()  # every open console sees it now
    return {"availability": body.availability}


@router.get("/api/attachments/{attachment_id}", summary="A file a customer sent (shown, never run)")
def attachment_file(attachment_id: HandoffId, request: Request, _: LoggedIn = Depends(logged_in)) -> Response:
    settings = settings_of(request)
    found = attachments.get(settings.database_url, attachment_id)
    data = attachments.read(attachment_files.for_settings(settings), found) if found else None
    if found is None or data is None:
        raise HTTPException(404, "no such file (it may have been erased with the customer)")
    disposition = "inline" if found.kind != "pdf" else "attachment"
    # The type found by content; nosniff and a sandbox: a file can never act as a page of the console.
    return Response(data, media_type=found.media_type,
                    headers={"Content-Disposition": f"{disposition}; filename*=utf-8''{quote(found.name)}",
                             "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store",
                             "Content-Security-Policy": "sandbox; default-src 'none'"})


@router.get("/api/canned-replies", summary="Ready-made replies: everyone's and the agent's teams' (supervisors: all)")
def canned_replies(request: Request, who: LoggedIn = Depends(logged_in)) -> dict[str, Any]:
    replies = canned.for_agent(who.agent, settings_of(request).canned_replies)
    return {"replies": replies, "placeholders": list(canned.PLACEHOLDERS)}


@router.put("/api/canned-replies", summary="Replace the canned replies (supervisors)")
def edit_canned_replies(body: CannedReplies, request: Request,
                        _: LoggedIn = Depends(supervisor_change)) -> dict[str, Any]:
    path = settings_of(request).canned_replies
    return {"replies": canned.replace_all([reply.dict() for reply in body.replies], path)}


@router.get("/api/stream", summary="Server-sent events: the queue and open chats whenever they change")
async def stream(request: Request, who: LoggedIn = Depends(logged_in)) -> StreamingResponse:
    return StreamingResponse(_events(request, settings_of(request), who), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def _events(request: Request, settings: Settings, who: LoggedIn) -> AsyncIterator[str]:
    """One `snapshot` event now and whenever it changes (the process's one queue watcher says
    when, bot/console/queue_watch.py); the agent counts as online meanwhile."""
    url, token, watch = settings.database_url, request.cookies.get(COOKIE), queue_watch(request)
    last_sent, last_seen, generation = None, 0.0, -1
    while not await request.is_disconnected():
        if time.monotonic() - last_seen > SEEN_EVERY_SECONDS:
            if await asyncio.to_thread(sessions.find, url, token) is None:
                yield "event: logout\ndata: {}\n\n"
                return
            await asyncio.to_thread(agents.mark_seen, url, who.agent.id)
            last_seen = time.monotonic()
        seen = await watch.changed_since(generation, SEEN_EVERY_SECONDS)
        if seen == generation:
            yield ": still here\n\n"  # a comment: keeps proxies from closing a quiet stream
            continue
        generation = seen
        current = json.dumps(await asyncio.to_thread(views.snapshot, url, who.agent))
        if current != last_sent:
            yield f"event: snapshot\ndata: {current}\n\n"
            last_sent = current


def _readable(settings: Settings, handoff_id: int, who: LoggedIn) -> handoffs.HandoffView:
    """The handoff, if this agent may open it (handoffs.may_read); 403 otherwise."""
    handoff = handoffs.get(settings.database_url, handoff_id)
    if not handoffs.may_read(handoff, who.agent):
        raise HTTPException(403, "another agent has this conversation; only they and supervisors may open it")
    return handoff


def queue_watch(request: Request) -> QueueWatch:
    """The console process's one queue watcher (made on first use)."""
    state = request.app.state
    if getattr(state, "queue_watch", None) is None:
        state.queue_watch = QueueWatch(settings_of(request), _tell_customers_who_joined)
    return state.queue_watch


def _tell_customers_who_joined(settings: Settings, taken: list[tuple[int, int]]) -> None:
    """For each (handoff, agent) just paired, from the queue or by a claim, the customer hears who
    joined. A courtesy: when Rasa cannot record it, the agent's work goes on and it is not sent."""
    if not taken:
        return
    names = {agent.id: agent.username for agent in agents.all_agents(settings.database_url)}
    for handoff_id, agent_id in taken:
        handoff = handoffs.get(settings.database_url, handoff_id)
        if handoff.channel in NO_PUSH_CHANNELS:
            continue
        try:
            rasa_push.announce_agent(settings, handoff.conversation_id, names[agent_id], handoff.language)
        except RasaUnavailable as error:
            logger.warning("could not tell conversation %s who joined: %s", handoff.conversation_id, error)


def _email_answer(settings: Settings, handoff: handoffs.HandoffView, agent: str, text: str) -> str:
    """A ticket whose customer gave an address (or had verified one) is answered by email too,
    once the answer is recorded: they may have closed the chat. What to tell the agent."""
    if not handoff.contact_email:
        return ""
    try:
        mailer.send_ticket_answer(settings, handoff.contact_email, handoff.id, agent, text)
    except mailer.MailUnavailable as error:
        logger.warning("ticket %s: the answer was not emailed: %s", handoff.id, error)
        return f"; the email to {handoff.contact_email} could not be sent, they will see it when they come back"
    return f", and emailed to {handoff.contact_email}"
