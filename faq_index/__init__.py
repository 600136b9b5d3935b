"""faq_index: find FAQ answers by meaning. No Rasa import: usable from any process.

    from faq_index import LiveIndex
    index = LiveIndex("build/faq_index")
    result = index.search("how long does delivery take?")
    result.decision, result.top.id, result.top.score

`python -m faq_index --help` lists the commands (validate, build, search).
"""

from faq_index.search import Candidate, LiveIndex, SearchResult, Snapshot

DEFAULT_KB_DIR = "data/faq"
DEFAULT_INDEX_DIR = "build/faq_index"

__all__ = ["Candidate", "LiveIndex", "SearchResult", "Snapshot", "DEFAULT_KB_DIR", "DEFAULT_INDEX_DIR"]
