"""faq_index: find FAQ answers by meaning. No Rasa import: usable from any process.

    from faq_index import LiveIndex
    index = LiveIndex("build/faq_index")
    result = index.search("how long does delivery take?")
    result.decision, result.top.id, result.top.score

`python -m faq_index --help` lists the commands (validate, train, build, search).
"""

from faq_index.paths import DEFAULT_ENCODERS_DIR, DEFAULT_INDEX_DIR, DEFAULT_KB_DIR
from faq_index.search import Candidate, LiveIndex, SearchResult, Snapshot

__all__ = [
    "Candidate", "LiveIndex", "SearchResult", "Snapshot",
    "DEFAULT_KB_DIR", "DEFAULT_INDEX_DIR", "DEFAULT_ENCODERS_DIR",
]
