"""Who may do what, through the real stack.

- The console: every route except the documented public and customer ones (enumerated from
  the app, so a route added later cannot forget its guard) refuses a missing, expired, forged or
  tampered session cookie, and every POST refuses a missing or wrong CSRF token.
- Roles: the dashboard, the metrics, the unanswered questions and KB editing are for supervisors;
  an agent opens queued chats and their own, not another agent's (supervisors open any).
- Rasa's HTTP API (how the console and the complaints CLI push messages) refuses every call
  without its token or with a wrong one, and changes nothing then.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests
import sqlalchemy as sa

from bot.console.app import PUBLIC_ROUTES, create_app
from bot.console.sessions import COOKIE
from bot.domain.handoff import service
from bot.domain.storage.db import session_scope
from bot.domain.storage.models import AgentSession
from bot.rasa_api import api_token
from tests.conftest import ConsoleClient, RunningBot, add_agent, own_stack

pytestmark = pytest.mark.integration
bot = own_stack()  # this module adds agents, who log in and count as online: a stack of its own
PASSWORD = "correct horse battery"
SUPERVISOR_ONLY = [("GET", "/dashboard"), ("GET", "/api/metrics"), ("GET", "/api/unanswered"), ("GET", "/api/live"),
                   ("POST", "/api/kb/entries"), ("POST", "/api/kb/paraphrases")]
# Rasa 3.6's token-protected API (rasa/server.py, every route under @requires_auth).
RASA_API = [("GET", "/status"), ("GET", "/domain"), ("GET", "/conversations/{id}/tracker"),
            ("POST", "/conversations/{id}/tracker/events"), ("PUT", "/conversations/{id}/tracker/events"),
            ("GET", "/conversations/{id}/story"), ("POST", "/conversations/{id}/execute"),
            ("POST", "/conversations/{id}/trigger_intent"), ("POST", "/conversations/{id}/predict"),
            ("POST", "/conversations/{id}/messages"), ("POST", "/model/train"), ("POST", "/model/test/stories"),
            ("POST", "/model/test/intents"), ("POST", "/model/predict"), ("POST", "/model/parse"),
            ("PUT", "/model"), ("DELETE", "/model")]


def logged_in(bot: RunningBot, username: str, *options: str) -> ConsoleClient:
    add_agent(bot, username, PASSWORD, *options)
    agent = ConsoleClient(bot, username)
    assert agent.login(PASSWORD).status_code == 200
    return agent


def guarded_routes(bot: RunningBot) -> list[tuple[str, str]]:
    """Every (method, path) of the console app that needs a login."""
    routes = [(method, route.path) for route in create_app(bot.settings).routes
              for method in getattr(route, "methods", ()) if method != "HEAD"]
    return [(m, p) for m, p in routes if (m, p) not in PUBLIC_ROUTES]


def url_of(bot: RunningBot, path: str) -> str:
    return bot.settings.console_url + path.replace("{handoff_id}", "1").replace("{name}", "console.js")


def expired_cookie(bot: RunningBot) -> str:
    """The cookie of a real session whose 8 hours are over."""
    client = logged_in(bot, "yesterday")
    agent_id = client.get("/api/me").json()["agent"]["id"]
    with session_scope(bot.settings.database_url) as session:
        session.execute(sa.update(AgentSession).where(AgentSession.agent_id == agent_id)
                        .values(expires_at=datetime.now(timezone.utc) - timedelta(minutes=1)))
    return client.http.cookies[COOKIE]


def test_every_route_refuses_a_missing_expired_forged_or_tampered_session(bot: RunningBot) -> None:
    guarded = guarded_routes(bot)
    assert len(guarded) >= 15
    valid = logged_in(bot, "valerie").http.cookies[COOKIE]
    cookies = {"missing": None, "expired": expired_cookie(bot), "forged": secrets.token_urlsafe(32),
               "tampered": valid[:-1] + ("A" if valid[-1] != "A" else "B"), "empty": ""}
    for kind, cookie in cookies.items():
        jar = {} if cookie is None else {COOKIE: cookie}
        for method, path in guarded:
            reply = requests.request(method, url_of(bot, path), json={}, cookies=jar, allow_redirects=False,
                                     timeout=30)
            assert reply.status_code in (401, 303), (kind, method, path, reply.status_code)
            if reply.status_code == 303:  # pages send the browser to the login page
                assert reply.headers["location"] == "/login", (kind, path)
            else:
                assert reply.json()["detail"] == "log in first", (kind, path)


def test_every_change_refuses_a_missing_or_wrong_csrf_token(bot: RunningBot) -> None:
    agent, other = logged_in(bot, "wes"), logged_in(bot, "xena")
    posts = [p for m, p in guarded_routes(bot) if m == "POST"]
    assert "/api/logout" in posts and "/api/kb/entries" in posts
    for token in (None, "", "guess", other.csrf):  # another session's token is as wrong as a guess
        headers = {} if token is None else {"X-CSRF-Token": token}
        for path in posts:
            reply = agent.http.post(url_of(bot, path), json={"text": "hi", "mode": "closed"}, headers=headers,
                                    timeout=30)
            assert reply.status_code == 403, (token, path, reply.status_code)
            assert "X-CSRF-Token" in reply.json()["detail"]
    assert agent.get("/api/me").status_code == 200  # the refused logout did not log anyone out


def test_supervisor_routes_refuse_agents(bot: RunningBot) -> None:
    routes = set(guarded_routes(bot))
    agent, supervisor = logged_in(bot, "yann"), logged_in(bot, "zoe", "--role", "supervisor")
    for method, path in SUPERVISOR_ONLY:
        assert (method, path) in routes
        as_agent = agent.get(path) if method == "GET" else agent.post(path, {})
        assert as_agent.status_code == 403 and as_agent.json()["detail"] == "supervisors only", path
        as_supervisor = supervisor.get(path) if method == "GET" else supervisor.post(path, {})
        assert as_supervisor.status_code in (200, 422), (path, as_supervisor.status_code)  # 422: {} is no entry


def test_agents_open_the_queue_and_their_own_chats_not_other_agents(bot: RunningBot) -> None:
    customer = f"auth-{uuid.uuid4().hex[:10]}"
    assert bot.say_via_callback(customer, "hello")  # a real conversation in Rasa
    ticket = service.leave_ticket(bot.settings.database_url, service.Request(
        customer, customer, "callback", "customer_asked", message="Please call me about my order BC-123456"))
    ann, ben = logged_in(bot, "ann"), logged_in(bot, "ben")
    sue = logged_in(bot, "sue", "--role", "supervisor")
    path = f"/api/handoffs/{ticket.id}"
    for agent in (ann, ben, sue):  # in the queue: anyone may look before taking it
        assert agent.get(path).json()["transcript"][0]["text"] == "hello"
    assert ann.post(f"{path}/claim").json()["handoff"]["agent"] == "ann"

    refused = ben.get(path)
    assert refused.status_code == 403 and "another agent" in refused.json()["detail"]
    assert ben.post(f"{path}/messages", {"text": "let me in"}).status_code == 409
    assert ben.post(f"{path}/handback", {"mode": "closed"}).status_code == 409
    assert ticket.id not in [h["id"] for h in ben.get("/api/handoffs", status="active,closed").json()["handoffs"]]
    assert ann.get(path).status_code == 200 and sue.get(path).status_code == 200
    assert ticket.id in [h["id"] for h in sue.get("/api/handoffs", status="active").json()["handoffs"]]

    assert ann.post(f"{path}/handback", {"mode": "closed"}).status_code == 200
    assert ben.get(path).status_code == 403  # closed, still ann's
    assert ann.get(path).status_code == 200 and sue.get(path).status_code == 200


def test_rasa_api_refuses_calls_without_the_right_token(bot: RunningBot) -> None:
    conversation = f"auth-{uuid.uuid4().hex[:10]}"
    bodies = {"POST": [{"event": "bot", "text": "injected"}], "PUT": [], "DELETE": None, "GET": None}
    for token in (None, "", "wrong", api_token(bot.settings)[:-1]):
        for method, path in RASA_API:
            params = {} if token is None else {"token": token}
            reply = requests.request(method, bot.settings.rasa_url + path.replace("{id}", conversation),
                                     params=params, json=bodies[method], timeout=30,
                                     headers={"Authorization": f"Bearer {api_token(bot.settings)}"})  # not JWT
            assert reply.status_code == 401, (token, method, path, reply.status_code, reply.text[:200])

    right = {"token": api_token(bot.settings)}
    tracker = requests.get(f"{bot.settings.rasa_url}/conversations/{conversation}/tracker", params=right, timeout=30)
    assert tracker.status_code == 200
    assert not [e for e in tracker.json()["events"] if e.get("event") in ("user", "bot")]  # nothing got in
    parsed = requests.post(f"{bot.settings.rasa_url}/model/parse", params=right, json={"text": "hello"}, timeout=60)
    assert parsed.status_code == 200 and parsed.json()["intent"]["name"]
    assert requests.get(f"{bot.settings.rasa_url}/version", timeout=30).status_code == 200  # public by design
