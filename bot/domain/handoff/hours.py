"""Opening hours: when agents are expected, e.g. "mon-fri 09:00-17:00" (BOT_OPENING_HOURS).

Empty means always open. Outside the hours the bot does not queue a customer for a person
who will not come; it offers to take a message instead.
"""

from __future__ import annotations

import re
from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPEC = re.compile(r"^\s*(?:(\w{3})(?:-(\w{3}))?\s+)?(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})\s*$")


def parse(spec: str) -> tuple[set[int], time, time] | None:
    """(weekdays 0=Monday, opens, closes), or None for "always open"; ValueError if malformed."""
    if not spec.strip():
        return None
    match = _SPEC.match(spec.lower())
    if not match:
        raise ValueError(f"opening hours {spec!r}: expected e.g. 'mon-fri 09:00-17:00' or '08:00-20:00'")
    first, last, h1, m1, h2, m2 = match.groups()
    if first and (first not in DAYS or (last and last not in DAYS)):
        raise ValueError(f"opening hours {spec!r}: days are {', '.join(DAYS)}")
    start, end = DAYS.index(first or "mon"), DAYS.index(last or first or "sun")
    days = {d % 7 for d in range(start, start + (end - start) % 7 + 1)}
    return days, time(int(h1), int(m1)), time(int(h2), int(m2))


def is_open(spec: str, now: datetime) -> bool:
    """Whether `now` (in the shop's time zone) is within the opening hours."""
    hours = parse(spec)
    if hours is None:
        return True
    days, opens, closes = hours
    return now.weekday() in days and opens <= now.time() < closes


def check(spec: str, zone: str) -> None:
    """Fail at start-up, with a clear message, on hours or a time zone that cannot work."""
    parse(spec)
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"time zone {zone!r} unknown: use an IANA name such as Europe/London") from error
