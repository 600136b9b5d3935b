"""Canned replies (data/canned_replies.yml, or BOT_CANNED_REPLIES): ready-made texts agents insert and edit before
sending, with placeholders the console fills in ({customer_name}, {order_number},
{agent_name}; one it cannot fill stays for the agent to type, and Send waits until it is gone),
for everyone or for one team (a skill). Supervisors edit the list in the dashboard; every page
load reads the file again.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import yaml

from bot.domain.handoff.agents import AgentView

PLACEHOLDERS = ("customer_name", "order_number", "agent_name")
MAX_REPLIES = 200
HEADER = """\
# Replies agents send often, offered in the console (bot/console/canned.py reads this file).
# Placeholders the console fills in: {customer_name}, {order_number}, {agent_name}.
# `team` (a skill, optional) offers a reply only to agents with that skill; supervisors see all.
# Edit here or in the dashboard ("Canned replies"); the console reads it again on every page load.
"""


def for_agent(agent: AgentView, path: Path) -> list[dict[str, str]]:
    """The replies this agent is offered: everyone's, and their teams' (a supervisor: all)."""
    return [r for r in read(path) if not r.get("team") or agent.is_supervisor or r["team"] in agent.skills]


def read(path: Path) -> list[dict[str, str]]:
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or [] if path.exists() else []
    return [{"title": str(e["title"]), "text": str(e["text"])} | ({"team": str(e["team"])} if e.get("team") else {})
            for e in entries]


def replace_all(replies: list[dict[str, Any]], path: Path) -> list[dict[str, str]]:
    """Check every reply, then write the whole list at once; ValueError saying which one is wrong."""
    if len(replies) > MAX_REPLIES:
        raise ValueError(f"at most {MAX_REPLIES} canned replies")
    clean = [_checked(number, reply) for number, reply in enumerate(replies, start=1)]
    body = HEADER + yaml.safe_dump(clean, allow_unicode=True, sort_keys=False, width=1000)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".canned-")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(body)
    os.replace(temporary, path)
    return clean


def _checked(number: int, reply: dict[str, Any]) -> dict[str, str]:
    title, text = str(reply.get("title") or "").strip(), str(reply.get("text") or "").strip()
    team = str(reply.get("team") or "").strip()
    if not title or len(title) > 80:
        raise ValueError(f"reply {number}: a title of 1 to 80 characters")
    if not text or len(text) > 4000:
        raise ValueError(f"reply {number} ({title}): a text of 1 to 4000 characters")
    if team and not re.fullmatch(r"[a-z_]{1,32}", team):
        raise ValueError(f"reply {number} ({title}): a team is a skill such as billing or delivery")
    unknown = [name for name in re.findall(r"\{(\w+)\}", text) if name not in PLACEHOLDERS]
    if unknown:
        raise ValueError(f"reply {number} ({title}): unknown placeholder {{{unknown[0]}}}; "
                         f"use {', '.join('{' + p + '}' for p in PLACEHOLDERS)}")
    return {"title": title, "text": text} | ({"team": team} if team else {})
