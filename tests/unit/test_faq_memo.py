"""The console's memory of what the FAQ search said of a wording (bot/console/faq_memo.py) is
bounded: the least recently used wording leaves first."""

from __future__ import annotations

import pytest

from bot.console import faq_memo


def test_the_least_recently_used_wording_leaves_first_when_the_memory_is_full(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(faq_memo, "MAX_KEPT", 3)
    kept = faq_memo._Kept()
    for text in ("a", "b", "c"):
        kept.put(("v1", text), text.upper())
    assert kept.get(("v1", "a")) == (True, "A")  # used again: now the most recent
    kept.put(("v1", "d"), "D")
    assert kept.get(("v1", "b")) == (False, None)  # the least recently used left
    assert [kept.get(("v1", text))[0] for text in ("a", "c", "d")] == [True, True, True]
    assert kept.get(("v2", "a")) == (False, None)  # another version knows nothing yet
