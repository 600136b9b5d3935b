"""Routing rules: skills, capacity, least busy, longest idle; opening hours."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.domain.handoff import hours
from bot.domain.handoff.routing import AgentLoad, choose_agent

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=timezone.utc)


def agent(id: int, skills: str = "", capacity: int = 2, active: int = 0, online: bool = True,
          finished_minutes_ago: int | None = None) -> AgentLoad:
    finished = None if finished_minutes_ago is None else NOW - timedelta(minutes=finished_minutes_ago)
    return AgentLoad(id=id, skills=frozenset(filter(None, skills.split(","))), capacity=capacity,
                     active_chats=active, online=online, last_finished_at=finished)


def test_the_skilled_agent_gets_it_even_when_busier() -> None:
    chosen = choose_agent("billing", [agent(1, "delivery"), agent(2, "billing", active=1)])
    assert chosen is not None and chosen.id == 2


def test_least_busy_wins_among_the_skilled() -> None:
    agents = [agent(1, "billing", capacity=3, active=2), agent(2, "billing", capacity=3, active=1)]
    assert choose_agent("billing", agents).id == 2


def test_ties_go_to_who_finished_a_chat_longest_ago() -> None:
    agents = [agent(1, "returns", finished_minutes_ago=5), agent(2, "returns", finished_minutes_ago=50),
              agent(3, "returns", finished_minutes_ago=20)]
    assert choose_agent("returns", agents).id == 2
    assert choose_agent("returns", [*agents, agent(4, "returns")]).id == 4  # never finished: idle longest


def test_full_agents_are_skipped_and_all_full_means_wait() -> None:
    assert choose_agent(None, [agent(1, capacity=1, active=1), agent(2, capacity=2, active=1)]).id == 2
    assert choose_agent(None, [agent(1, capacity=1, active=1), agent(2, capacity=2, active=2)]) is None


def test_offline_agents_get_nothing() -> None:
    assert choose_agent("delivery", [agent(1, "delivery", online=False)]) is None
    assert choose_agent("delivery", [agent(1, "delivery", online=False), agent(2, "billing")]).id == 2


def test_when_skilled_agents_are_online_but_full_the_handoff_waits_for_them() -> None:
    agents = [agent(1, "billing", capacity=1, active=1), agent(2, "delivery")]
    assert choose_agent("billing", agents) is None


def test_no_skill_needed_goes_to_anyone_least_busy() -> None:
    assert choose_agent(None, [agent(1, "billing", active=1), agent(2, "delivery")]).id == 2


def test_opening_hours() -> None:
    thursday_10 = datetime(2026, 11, 26, 10, 0)
    saturday_10 = datetime(2026, 11, 28, 10, 0)
    assert hours.is_open("", saturday_10)
    assert hours.is_open("mon-fri 09:00-17:00", thursday_10)
    assert not hours.is_open("mon-fri 09:00-17:00", saturday_10)
    assert not hours.is_open("mon-fri 09:00-17:00", thursday_10.replace(hour=17))
    assert hours.is_open("08:00-20:00", saturday_10)
    assert hours.is_open("fri-mon 09:00-12:00", saturday_10)  # wraps over the weekend
    assert not hours.is_open("sat 11:00-12:00", saturday_10)


@pytest.mark.parametrize("spec", ["weekdays 9-5", "mon-fri 9:00", "xyz-fri 09:00-17:00"])
def test_malformed_opening_hours_are_a_clear_error(spec: str) -> None:
    with pytest.raises(ValueError, match="opening hours"):
        hours.parse(spec)


def test_an_unknown_time_zone_is_a_clear_error() -> None:
    hours.check("mon-fri 09:00-17:00", "Europe/London")
    with pytest.raises(ValueError, match="time zone"):
        hours.check("", "Mars/Olympus_Mons")
