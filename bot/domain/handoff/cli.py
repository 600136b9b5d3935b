"""`python -m bot agents add|list`: console accounts.

    echo 'a long password' | python -m bot agents add alice --skills delivery,returns --capacity 3
    python -m bot agents add sam --role supervisor --capacity 5      (asks for the password)
    python -m bot agents list

The password is read from stdin (a prompt without echo on a terminal), never from the
command line, where it would land in the shell history and the process list.
"""

from __future__ import annotations

import getpass
import json
import sys

from bot.config import load_settings
from bot.domain.handoff import agents


def add(username: str, skills: str, capacity: int, role: str) -> int:
    if sys.stdin.isatty():
        password = getpass.getpass(f"password for {username}: ")
        if getpass.getpass("again: ") != password:
            raise agents.AgentError("the passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    agent = agents.add(load_settings().database_url, username, password, skills.split(","), capacity, role)
    print(f"added {agent.role} {agent.username} (skills: {', '.join(agent.skills) or 'any'}; "
          f"capacity {agent.capacity} chats)")
    return 0


def list_agents() -> int:
    for agent in agents.all_agents(load_settings().database_url):
        print(json.dumps(agent.__dict__))
    return 0
