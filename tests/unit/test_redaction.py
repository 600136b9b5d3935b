"""Redaction on a corpus of tricky strings: nothing personal left, references and ordinary
numbers kept."""

from __future__ import annotations

import pytest

from bot.domain.privacy.redaction import KINDS, luhn_valid, parse_kinds, redactor

REDACT = redactor(KINDS)

# (message, what must not survive, what must survive)
CORPUS = [
    ("mail me at Jane.Doe+shop@example.co.uk!", ["Jane.Doe", "example.co.uk"], ["mail me at", "[email]"]),
    ("EMAIL:BOB_99@Mail-Server.ORG;thanks", ["BOB_99", "Mail-Server"], ["[email]"]),
    ("call +44 20 7946 0958 or 07700 900123 after 5", ["7946", "0958", "07700", "900123"], ["[phone]", "after 5"]),
    ("my number is (020) 7946-0958", ["7946"], ["[phone]"]),
    ("ring 0044 20 7946 0958 please", ["7946 0958"], ["[phone]"]),
    ("card 4111 1111 1111 1111 exp 12/27 cvv 123", ["4111"], ["[card]", "12/27"]),
    ("visa 4012-8888-8888-1881", ["4012", "1881"], ["[card]"]),
    ("4111111111111111", ["4111111111111111"], ["[card]"]),
    ("amex 378282246310005 thanks", ["378282246310005"], ["[card]"]),
    ("mistyped 4111 1111 1111 1112", ["4111", "1112"], ["[number]"]),
    ("account no 12345678901 and IBAN digits 0012345678", ["12345678901", "0012345678"], []),
    ("order BC-123456 and complaint C-2026-000123", [], ["BC-123456", "C-2026-000123"]),
    ("it costs 49.99, I ordered 3 lamps on 25/11/2026 for 2026-12-01", [],
     ["49.99", "3 lamps", "25/11/2026", "2026-12-01"]),
    ("jane@example.com, 07700 900123, 4111111111111111 and BC-654321", ["jane@", "07700", "4111"],
     ["BC-654321", "[email]", "[phone]", "[card]"]),
    # written right after Chinese characters (word characters to Unicode-aware regexes)
    ("我的电话是07700900456谢谢", ["07700900456"], ["[phone]", "谢谢"]),
    ("卡号4111111111111111被扣款", ["4111111111111111"], ["[card]", "被扣款"]),
    ("订单BC-123456到哪了", [], ["BC-123456"]),
    ("", [], []),
]


@pytest.mark.parametrize(("text", "gone", "kept"), CORPUS)
def test_nothing_personal_is_left(text: str, gone: list[str], kept: list[str]) -> None:
    redacted = REDACT(text)
    for secret in gone:
        assert secret not in redacted, (text, redacted)
    for part in kept:
        assert part in redacted, (text, redacted)


def test_kinds_can_be_switched_off() -> None:
    only_email = redactor(parse_kinds("email"))
    assert only_email("jane@example.com 07700 900123") == "[email] 07700 900123"
    assert redactor(parse_kinds("none"))("jane@example.com") == "jane@example.com"
    assert REDACT(None) is None
    with pytest.raises(ValueError, match="unknown kind"):
        parse_kinds("email,passport")


def test_luhn() -> None:
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
