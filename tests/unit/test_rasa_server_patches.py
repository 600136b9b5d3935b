"""The Rasa server's performance patches (bot/rasa_server/__main__.py) change no answer."""

from __future__ import annotations

import pytest
from rasa.shared.core import events
from rasa.shared.utils.common import all_subclasses

from bot.rasa_server.__main__ import apply_patches


def test_remembered_event_types_are_the_classes_rasa_finds_and_unknown_names_still_fail() -> None:
    # rasa.core.test's EndToEndUserUtterance is another "user" event: Rasa takes the first class
    # with the name, and so must memory (imported here, so the test does not depend on which
    # tests ran before it: it failed in a CI run that had imported it, and not alone).
    import rasa.core.test  # noqa: F401

    expected: dict[str, type] = {}
    for cls in all_subclasses(events.Event):
        expected.setdefault(cls.type_name, cls)
    assert expected["user"] is events.UserUttered
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
