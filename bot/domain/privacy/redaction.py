"""Replace personal data in free text by typed placeholders: [email], [phone], [card], [number].

Applied when a record (and the Rasa event it comes from) is written, so the database never
holds them; the complaint's contact field keeps the address it needs, stored separately.
Order references (BC-123456) and complaint references (C-2026-000123) are kept: they are
what the records are for. Kinds are chosen by BOT_REDACT ("email,phone,card,number", the
default; "none" turns redaction off).
"""

from __future__ import annotations

import re
from collections.abc import Callable

KINDS = ("card", "email", "phone", "number")
EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# 13-19 digits, optionally grouped by spaces or dashes (how people type card numbers).
CARD = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])", re.ASCII)
# +44 20 7946 0958, (020) 7946-0958, 07700900123: 7-15 digits with separators; a leading +
# or ( or a separator makes it a phone number rather than an amount.
PHONE = re.compile(r"(?<![\w-])(?:\+|00)?\(?\d{1,4}\)?(?:[ .-]?\(?\d{2,5}\)?){1,5}(?![\w-])", re.ASCII)
LONG_NUMBER = re.compile(r"(?<![\w-])\d{8,}(?![\w-])", re.ASCII)
# Kept as they are: order and complaint references, and dates (2026-12-01, 25/11/2026, 12/27).
REFERENCE = re.compile(r"\b(?:BC-\d{6}|C-\d{4}-\d{6}|\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}(?:/\d{2,4})?)\b",
                       re.IGNORECASE | re.ASCII)


def luhn_valid(digits: str) -> bool:
    total, double = 0, False
    for ch in reversed(digits):
        d = int(ch) * (2 if double else 1)
        total += d - 9 if d > 9 else d
        double = not double
    return total % 10 == 0


def parse_kinds(spec: str) -> tuple[str, ...]:
    """BOT_REDACT: comma-separated kinds, or "none"; ValueError names the valid kinds."""
    if spec.strip().lower() in ("", "none", "off"):
        return ()
    kinds = tuple(k.strip().lower() for k in spec.split(",") if k.strip())
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise ValueError(f"BOT_REDACT: unknown kind {unknown[0]!r}; use some of {', '.join(KINDS)} or none")
    return kinds


def redactor(kinds: tuple[str, ...]) -> Callable[[str | None], str | None]:
    """A function that redacts the given kinds (in a safe order: cards before phones before numbers)."""
    steps = [step for kind, step in (("card", _cards), ("email", _emails), ("phone", _phones),
                                     ("number", _numbers)) if kind in kinds]

    def redact(text: str | None) -> str | None:
        if not text or not steps:
            return text
        kept: list[str] = []

        def keep(match: re.Match[str]) -> str:  # references survive every step untouched
            kept.append(match.group(0))
            return f"\x00{len(kept) - 1}\x00"

        text = REFERENCE.sub(keep, text)
        for step in steps:
            text = step(text)
        return re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], text)

    return redact


def _cards(text: str) -> str:
    def card(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        return "[card]" if 13 <= len(digits) <= 19 and luhn_valid(digits) else match.group(0)

    return CARD.sub(card, text)


def _emails(text: str) -> str:
    return EMAIL.sub("[email]", text)


def _phones(text: str) -> str:
    def phone(match: re.Match[str]) -> str:
        found = match.group(0)
        digits = re.sub(r"\D", "", found)
        looks_like_phone = found.startswith(("+", "(", "00", "0")) or re.search(r"[ .()-]", found.strip())
        return "[phone]" if 7 <= len(digits) <= 15 and looks_like_phone else found

    return PHONE.sub(phone, text)


def _numbers(text: str) -> str:
    """Long digit strings, including card-like groups that failed the Luhn check (a mistyped card)."""
    text = CARD.sub("[number]", text)
    return LONG_NUMBER.sub("[number]", text)
