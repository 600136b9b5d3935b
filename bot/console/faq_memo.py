"""What the running bot's FAQ search said of a wording, remembered in the console per index version.

Why: the unanswered-questions page groups every distinct unanswered wording by meaning, and asks
which entry each group's wordings find first. Asked afresh on every view, that was one call to the
Rasa server's encoder per 8 wordings and one search per example shown, each view again; a few
hundred distinct wordings made a view cost seconds of the Rasa server's CPU, taken from the
customers' turns (the console's fuzz test, on a stack the channel fuzz test had filled with
random messages: 73 s before, 21 s with this memory and the page bound, same machine and hour).

What the search says of a wording changes only when the index does (a KB edit builds a new
version), so it is kept under the live version's name, at most MAX_KEPT wordings, the least
recently used leaving first. A wording is kept only when the Rasa server answered from that same
version: its watcher loads a new build a few seconds after it is written, and an answer from the
old one must not outlive the switch.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from bot.config import Settings
from bot.rasa_api import faq_encode, faq_search
from faq_index.versions import read_manifest

MAX_KEPT = 4096  # wordings per kind; a vector is 1.5 KB (384 floats): 6 MB at most
BATCH = 8  # texts per encoder call: a call's memory grows with texts × length² (tests/fuzz)


class _Kept:
    """A bounded least-recently-used map, safe across the console's worker threads."""

    def __init__(self) -> None:
        self._items: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> tuple[bool, Any]:
        with self._lock:
            if key not in self._items:
                return False, None
            self._items.move_to_end(key)
            return True, self._items[key]

    def put(self, key: tuple[str, str], value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > MAX_KEPT:
                self._items.popitem(last=False)


_vectors = _Kept()
_firsts = _Kept()


def vectors(settings: Settings, texts: list[str]) -> np.ndarray:
    """The texts' unit vectors in the index's space, one row each."""
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)

    def encode(batch: list[str]) -> tuple[str, list[np.ndarray]]:
        answer = faq_encode(settings, batch)
        return answer["version"], list(np.asarray(answer["vectors"], dtype=np.float32))

    found = _known_or_asked(settings, _vectors, texts, BATCH, encode)
    return np.stack([found[text] for text in texts])


def first_entries(settings: Settings, texts: list[str]) -> dict[str, dict[str, Any] | None]:
    """The entry the customer's search finds first for each text ({"id", "question"}; None if none)."""
    def first(batch: list[str]) -> tuple[str, list[dict[str, Any] | None]]:
        answer = faq_search(settings, batch[0], 1)
        top = answer["candidates"][:1]
        return answer["version"], [{"id": top[0]["id"], "question": top[0]["question"]} if top else None]

    return _known_or_asked(settings, _firsts, texts, 1, first)


def _known_or_asked(settings: Settings, kept: _Kept, texts: list[str], batch: int,
                    ask: Callable[[list[str]], tuple[str, list[Any]]]) -> dict[str, Any]:
    """What is kept for each text under the live version; the rest asked of the Rasa server
    `batch` texts at a time, and kept when it answered from that same version."""
    version = _live_version(settings)
    found: dict[str, Any] = {}
    missing = []
    for text in dict.fromkeys(texts):
        known, value = kept.get((version, text))
        if known:
            found[text] = value
        else:
            missing.append(text)
    for start in range(0, len(missing), batch):
        asked = missing[start:start + batch]
        answered_from, values = ask(asked)
        for text, value in zip(asked, values):
            found[text] = value
            if answered_from == version:
                kept.put((version, text), value)
    return found


def _live_version(settings: Settings) -> str:
    """The version the index directory points at now ("" before the first build)."""
    manifest = read_manifest(settings.index_dir)
    return manifest["version"] if manifest else ""
