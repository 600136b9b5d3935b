"""Search the built index, and keep a long-running process on the newest version.

`Snapshot` is one immutable loaded version. `LiveIndex` holds the current snapshot and a
background thread that watches `CURRENT`; when a new build lands it loads the new version
and swaps a single reference. A search in flight keeps the snapshot it started with, so
nothing is answered from a half-swapped index.

A query goes to the vector space for its language (English to the English space, when the
KB has one) and, if that space does not know the answer, to the multilingual space: an
English question still finds an entry that is written only in Chinese.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

from faq_index.build import current_version_dir
from faq_index.decide import Thresholds, decide
from faq_index.encoder import Encoder, load_encoder
from faq_index.index import VectorIndex
from faq_index.language import detect_language

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Candidate:
    id: str
    category: str
    question: str
    answer: str
    score: float
    questions: dict[str, str] = field(default_factory=dict)  # language -> question
    answers: dict[str, str] = field(default_factory=dict)  # language -> answer

    def question_in(self, language: str) -> str:
        """The question in `language`, or in the entry's main language if it has none."""
        return self.questions.get(language) or self.question

    def answer_in(self, language: str) -> str:
        """The answer in `language`, or in the entry's main language if it has none."""
        return self.answers.get(language) or self.answer


@dataclass(frozen=True)
class SearchResult:
    query: str
    decision: str  # "answer" | "suggest" | "unknown"
    candidates: list[Candidate] = field(default_factory=list)
    version: str = ""
    space: str = ""  # the vector space that answered (see faq_index.build)

    @property
    def top(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    def to_dict(self) -> dict:
        return asdict(self)


class Space:
    """One loaded vector space: its encoder, vectors and thresholds (per query language when
    the build calibrated them on customer questions, see faq_index.customers)."""

    def __init__(self, directory: Path, info: dict, encoder: Encoder | None) -> None:
        self.name: str = info["name"]
        self.languages: tuple[str, ...] | None = tuple(info["languages"]) if info["languages"] else None
        self.model: str = info["model"]
        self.thresholds = Thresholds(**info["thresholds"])
        self.by_language = {language: Thresholds(**chosen["thresholds"])
                            for language, chosen in (info.get("by_language") or {}).items()}
        self.vectors = VectorIndex.load(directory / "spaces" / self.name)
        self._encoder = encoder if encoder is not None and encoder.name == self.model else None

    @property
    def encoder(self) -> Encoder:
        """Loaded on the first search: a process that only looks entries up never loads it."""
        if self._encoder is None:
            self._encoder = load_encoder(self.model)
        return self._encoder

    def thresholds_for(self, language: str | None) -> Thresholds:
        return self.by_language.get(language or "", self.thresholds)


class Snapshot:
    """One loaded index version: entries and one or more vector spaces."""

    def __init__(self, directory: Path, encoder: Encoder | None = None) -> None:
        self.directory = directory
        self.manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
        self.entries: list[dict] = json.loads((directory / "entries.json").read_text(encoding="utf-8"))
        self.by_id = {e["id"]: e for e in self.entries}
        self.spaces = [Space(directory, info, encoder) for info in self.manifest["spaces"]]

    @property
    def encoder(self) -> Encoder:
        return self.spaces[0].encoder

    @property
    def version(self) -> str:
        return self.manifest["version"]

    def search(self, query: str, k: int = 3) -> SearchResult:
        """Ranked entries for `query` with scores and a decision."""
        return self.search_many([query], k)[0]

    def search_many(self, queries: list[str], k: int = 3) -> list[SearchResult]:
        """`search` for several queries with one encoder pass per space (cheaper than one by one)."""
        texts = [" ".join(q.split()) for q in queries]
        results = [SearchResult(query=q, decision="unknown", version=self.version) for q in queries]
        routes = {i: self._route(t) for i, t in enumerate(texts) if t}
        answered: set[int] = set()
        for step in range(len(self.spaces)):
            for space in self.spaces:
                wanted = [i for i, route in routes.items() if len(route) > step and route[step] is space]
                if not wanted:
                    continue
                vectors = space.encoder.encode([texts[i] for i in wanted])
                for i, hits in zip(wanted, space.vectors.search(vectors, k)):
                    result = self._result(queries[i], space, hits)
                    # A later (fallback) space replaces the first answer only if it knows better.
                    if i not in answered or result.decision != "unknown":
                        results[i] = result
                    answered.add(i)
            routes = {i: route for i, route in routes.items() if results[i].decision == "unknown"}
        return results

    def _route(self, text: str) -> list[Space]:
        """The spaces to ask, in order: the one for the query's language, then the general one."""
        language = detect_language(text)
        specific = [s for s in self.spaces if s.languages is not None and language in s.languages]
        general = [s for s in self.spaces if s.languages is None]
        return (specific + general) or self.spaces[:1]

    def _result(self, query: str, space: Space, hits: list[tuple[int, float]]) -> SearchResult:
        candidates = [Candidate(**self.entries[pos], score=round(score, 4)) for pos, score in hits]
        thresholds = space.thresholds_for(detect_language(query))
        decision = decide([c.score for c in candidates], thresholds)
        if decision == "suggest":  # did-you-mean buttons only for plausibly related entries
            candidates = [c for c in candidates if c.score >= thresholds.suggest]
        return SearchResult(query=query, decision=decision, candidates=candidates, version=self.version,
                            space=space.name)

    def entry(self, entry_id: str) -> dict | None:
        return self.by_id.get(entry_id)


class LiveIndex:
    """The newest built version of an index directory, reloaded in the background."""

    def __init__(self, index_dir: str | Path, poll_seconds: float = 1.0, encoder: Encoder | None = None) -> None:
        self.index_dir = Path(index_dir)
        self.poll_seconds = poll_seconds
        self._encoder = encoder
        directory = current_version_dir(self.index_dir)
        if directory is None:
            raise FileNotFoundError(
                f"no FAQ index in {self.index_dir}: run `python -m faq_index build` first"
            )
        self._snapshot = Snapshot(directory, encoder)
        self._stop = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="faq-index-watcher", daemon=True)
        self._watcher.start()

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    def search(self, query: str, k: int = 3) -> SearchResult:
        return self._snapshot.search(query, k)

    def entry(self, entry_id: str) -> dict | None:
        return self._snapshot.entry(entry_id)

    def reload_if_changed(self) -> bool:
        """Load and swap in the live version if it differs from ours; True if swapped."""
        directory = current_version_dir(self.index_dir)
        if directory is None or directory.name == self._snapshot.version:
            return False
        # Encoders are process-wide (faq_index.encoder.load_encoder): a reload reuses them.
        fresh = Snapshot(directory, self._encoder)
        self._snapshot = fresh  # a single reference assignment: atomic for readers
        logger.info("FAQ index reloaded: version %s, %d entries", fresh.version, len(fresh.entries))
        return True

    def close(self) -> None:
        self._stop.set()

    def _watch(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.reload_if_changed()
            except Exception:  # a broken build must not kill the watcher; keep serving
                logger.exception("FAQ index reload failed; still serving version %s", self._snapshot.version)
