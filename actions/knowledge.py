"""The action server's one FAQ index: loaded once per process, kept on the newest build,
searched in batches when requests arrive together."""

from __future__ import annotations

import logging
import os
import threading

from bot.config import load_settings
from faq_index import LiveIndex, SearchResult
from faq_index.batching import BatchedSearch

logger = logging.getLogger(__name__)
_index: LiveIndex | None = None
_batched: BatchedSearch | None = None
_lock = threading.Lock()


def faq_index() -> LiveIndex:
    """The live index for this process (loads the encoder on first call)."""
    global _index
    with _lock:
        if _index is None:
            import torch

            # One thread per encode: requests are short and many. torch's default (all cores)
            # spins idle OpenMP threads and starved the Rasa server under load.
            torch.set_num_threads(1)
            # The same for the multilingual encoder's OpenMP (read when its library loads).
            os.environ["OMP_NUM_THREADS"] = "1"
            settings = load_settings()
            _index = LiveIndex(settings.index_dir, poll_seconds=settings.index_poll_seconds)
            _index.search("warm up")  # the first encode is slow; pay it before a customer does
            logger.info("FAQ index loaded: version %s", _index.snapshot.version)
        return _index


async def search(text: str, k: int = 3) -> SearchResult:
    """Search the live index; concurrent calls share encoder passes."""
    global _batched
    if _batched is None:
        _batched = BatchedSearch(faq_index())
    return await _batched.search(text, k)
