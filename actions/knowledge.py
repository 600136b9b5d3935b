"""The action server's one FAQ index: loaded once per process, kept on the newest build."""

from __future__ import annotations

import logging
import threading

from bot.config import load_settings
from faq_index import LiveIndex

logger = logging.getLogger(__name__)
_index: LiveIndex | None = None
_lock = threading.Lock()


def faq_index() -> LiveIndex:
    """The live index for this process (loads the encoder on first call)."""
    global _index
    with _lock:
        if _index is None:
            settings = load_settings()
            _index = LiveIndex(settings.index_dir, poll_seconds=settings.index_poll_seconds)
            _index.search("warm up")  # the first encode is slow; pay it before a customer does
            logger.info("FAQ index loaded: version %s", _index.snapshot.version)
        return _index
