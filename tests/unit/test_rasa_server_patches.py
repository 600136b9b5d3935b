"""The Rasa server's performance patches (bot/rasa_server/__main__.py) change no answer."""

from __future__ import annotations

import pytest
from rasa.shared.core import events
from rasa.shared.utils.common import all_subclasses

from bot.rasa_server.__main__ import apply_patches


def test_remembered_event_types_are_the_classes_rasa_finds_and_unknown_names_still_fail() -> None:
    expected = {cls.type_name: cls for cls in all_subclasses(events.Event)}
    apply_patches()
    apply_patches()  # twice is once
    for name, cls in expected.items():
        assert events.Event.resolve_by_type(name) is cls
        assert events.Event.resolve_by_type(name) is cls  # from memory the second time
    with pytest.raises(ValueError, match="Unknown event name"):
        events.Event.resolve_by_type("no-such-event")
    assert events.Event.resolve_by_type("no-such-event", events.UserUttered) is events.UserUttered
    restored = events.Event.from_parameters({"event": "slot", "name": "language", "value": "en"})
    assert restored == events.SlotSet("language", "en")
