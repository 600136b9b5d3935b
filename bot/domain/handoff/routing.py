"""Which agent gets a waiting handoff. Pure rules over a snapshot of the agents.

The rule, in order:
1. only agents who are online and have a free seat (fewer active chats than their capacity);
2. agents with the handoff's skill; if no online agent has that skill at all, any agent
   (a customer should not wait for a skill nobody on shift has), but if skilled agents are
   online and merely full, the handoff waits for them;
3. least busy first (fewest active chats), then the one who finished a chat longest ago
   (never finished counts as longest ago), then the lowest id (stable).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

NEVER = datetime.min.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class AgentLoad:
    """One agent as routing sees them."""

    id: int
    skills: frozenset[str]
    capacity: int
    active_chats: int
    online: bool
    last_finished_at: datetime | None = None

    @property
    def has_free_seat(self) -> bool:
        return self.active_chats < self.capacity


def choose_agent(skill: str | None, agents: list[AgentLoad]) -> AgentLoad | None:
    """The agent who should get a handoff needing `skill` (None: any), or None to keep it waiting."""
    candidates = _skilled_or_anyone(skill, [a for a in agents if a.online])
    free = [a for a in candidates if a.has_free_seat]
    if not free:
        return None
    return min(free, key=_least_busy_then_longest_idle)


def _skilled_or_anyone(skill: str | None, online: list[AgentLoad]) -> list[AgentLoad]:
    if skill is None:
        return online
    skilled = [a for a in online if skill in a.skills]
    return skilled or online


def _least_busy_then_longest_idle(agent: AgentLoad) -> tuple[int, datetime, int]:
    return agent.active_chats, agent.last_finished_at or NEVER, agent.id
