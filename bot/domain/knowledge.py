"""This process's one FAQ index: loaded once, kept on the newest build.

The Rasa server searches it once per customer message (bot/rasa_server/understanding/), answers
from it (actions/faq.py, run in the Rasa process) and lends its search to the console
(bot/rasa_server/faq_api.py); the action server only looks entries up by id (actions/handoff.py),
so it loads an encoder only if it ever has to search itself.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from concurrent.futures import Future

from bot.config import load_settings
from faq_index import LiveIndex, SearchResult

logger = logging.getLogger(__name__)
_index: LiveIndex | None = None
_lock = threading.Lock()
_warming: Future[None] | None = None


def faq_index() -> LiveIndex:
    """The live index for this process (entries and vectors; encoders load on first search)."""
    global _index
    with _lock:
        if _index is None:
            settings = load_settings()
            _index = LiveIndex(settings.index_dir, poll_seconds=settings.index_poll_seconds)
            logger.info("FAQ index loaded: version %s", _index.snapshot.version)
        return _index


def search(text: str, k: int = 3) -> SearchResult:
    """Search the live index on this thread (the first call loads the encoders)."""
    return search_many([text], k)[0]


def search_many(texts: list[str], k: int = 3) -> list[SearchResult]:
    """`search` for several texts, with one encoder pass per space where that gives each text the
    result it gets alone (faq_index/search.py)."""
    index = faq_index()
    _limit_threads()
    results = index.search_many(texts, k)
    _limit_threads()  # again once the first search has loaded the encoders
    return results


def start_warm_up() -> None:
    """Begin `warm_up` on a thread now: the Rasa server calls this before its own imports and
    model load, which then run beside the encoders' loading instead of before it."""
    global _warming
    _warming = Future()
    threading.Thread(target=_warm_up_into, args=(_warming,), name="faq-warm-up", daemon=True).start()


def warm_up() -> None:
    """Load the encoders and run one search, so no customer pays the first encode (or wait for
    the warm-up `start_warm_up` began). Raises if the index or an encoder cannot load."""
    if _warming is None:
        _load_and_search()
    else:
        _warming.result()  # raises what the warm-up raised, on the thread that reports it


def _warm_up_into(done: Future[None]) -> None:
    """`_load_and_search` on the warm-up thread: its outcome is kept for `warm_up` to raise."""
    try:
        _load_and_search()
    except Exception as error:
        done.set_exception(error)
    else:
        done.set_result(None)


def _load_and_search() -> None:
    search("warm up")
    search("预热")


def _limit_threads() -> None:
    """One thread per encode: requests are short and many. torch's default (all cores) spins idle
    OpenMP threads and starved the Rasa server under load (measured in the action server before
    the search moved into the Rasa server; the same holds here)."""
    # The multilingual encoder's OpenMP reads this when its library loads; the Rasa server sets
    # its own before anything loads (bot/rasa_server/__main__.py).
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    # The tuned English encoder runs in onnxruntime on one thread (faq_index/int8.py); torch is
    # in the process only for an untuned KB's base model, loaded by the first search.
    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != 1:
        torch.set_num_threads(1)
