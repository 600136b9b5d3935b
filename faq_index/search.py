"""Search the built index, and keep a long-running process on the newest version.

`Snapshot` is one immutable loaded version. `LiveIndex` holds the current snapshot and a
background thread that watches `CURRENT`; when a new build lands it loads the new version
and swaps a single reference. A search in flight keeps the snapshot it started with, so
nothing is answered from a half-swapped index.

Which spaces score a query depends on the build. Calibrated on customer questions (the
product's builds, faq_index/customers.py): every space that reads the query's language scores
it and the scores are averaged (English: the fine-tuned English space and the multilingual
one), with that language's thresholds. Otherwise the query goes to the space for its language
and, if that space does not know the answer, to the multilingual space: an English question
still finds an entry that is written only in Chinese.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from faq_index.decide import Thresholds, decide
from faq_index.encoder import Encoder, load_encoder
from faq_index.head import EntryHead
from faq_index.index import VectorIndex
from faq_index.language import detect_language
from faq_index.scoring import combine
from faq_index.versions import current_version_dir

logger = logging.getLogger(__name__)
# Entries scored exactly per space and query: the nearest by wording plus the head's likeliest.
CANDIDATES = 10


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
    """One loaded vector space: its encoder, vectors, thresholds and (if trained) entry head."""

    def __init__(self, directory: Path, info: dict, encoder: Encoder | None) -> None:
        self.name: str = info["name"]
        self.languages: tuple[str, ...] | None = tuple(info["languages"]) if info["languages"] else None
        self.model: str = info["model"]
        self.thresholds = Thresholds(**info["thresholds"])
        self.vectors = VectorIndex.load(directory / "spaces" / self.name)
        self.head = EntryHead.load(directory / "spaces" / self.name)
        self._encoder = encoder if encoder is not None and encoder.name == self.model else None

    @property
    def encoder(self) -> Encoder:
        """Loaded on the first search: a process that only looks entries up never loads it."""
        if self._encoder is None:
            self._encoder = load_encoder(self.model)
        return self._encoder

    def candidates(self, vector: np.ndarray, n: int) -> set[int]:
        """Entry positions worth scoring: the nearest by wording, and the head's likeliest."""
        found = {pos for pos, _ in self.vectors.search(vector[None, :], n)[0]}
        if self.head is not None:
            found.update(np.argsort(-self.head.probabilities(vector[None, :])[0])[:n].tolist())
        return found

    def scores(self, vector: np.ndarray, entries: np.ndarray, head_weight: float) -> np.ndarray:
        """Each entry's score in this space (-inf for entries with no wording here)."""
        similarity = self.vectors.entry_scores(vector, entries)
        if self.head is None:
            return similarity
        return combine(similarity, self.head.probabilities(vector[None, :])[0][entries], head_weight)


class Snapshot:
    """One loaded index version: entries, one or more vector spaces, and the thresholds per
    query language when the build calibrated them on customer questions (faq_index.customers).

    Calibrated, every space that reads the query's language scores it and the scores are
    averaged: English questions are read by the fine-tuned English space and the multilingual
    one together. Otherwise the space for the language answers, and the general one only if
    the first does not know."""

    def __init__(self, directory: Path, encoder: Encoder | None = None, encoders: tuple[Encoder, ...] = ()) -> None:
        self.directory = directory
        self.manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
        self.entries: list[dict] = json.loads((directory / "entries.json").read_text(encoding="utf-8"))
        self.by_id = {e["id"]: e for e in self.entries}
        given = {e.name: e for e in (*encoders, *([encoder] if encoder else []))}
        self.spaces = [Space(directory, info, given.get(info["model"])) for info in self.manifest["spaces"]]
        self.decisions = {language: Thresholds(**chosen["thresholds"])
                          for language, chosen in (self.manifest.get("decisions") or {}).items()}

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
        """`search` for several queries with one encoder pass per space (cheaper than one by one),
        each query getting the result it gets alone."""
        texts = [" ".join(q.split()) for q in queries]
        languages = [detect_language(t) for t in texts]
        results = [SearchResult(query=q, decision="unknown", version=self.version) for q in queries]
        stages = {i: self._stages(languages[i]) for i, t in enumerate(texts) if t}
        for step in range(len(self.spaces)):
            asked = {i: route[step] for i, route in stages.items() if len(route) > step}
            vectors = self._encode(texts, asked)
            for i, spaces in asked.items():
                result = self._result(queries[i], languages[i], spaces, vectors, i, k)
                # A later (fallback) stage replaces the first answer only if it knows better.
                if step == 0 or result.decision != "unknown":
                    results[i] = result
            stages = {i: route for i, route in stages.items() if results[i].decision == "unknown"}
        return results

    def _stages(self, language: str | None) -> list[list[Space]]:
        """The spaces to ask, in stages: together when calibrated, else one after the other."""
        specific = [s for s in self.spaces if s.languages is not None and language in s.languages]
        general = [s for s in self.spaces if s.languages is None]
        ordered = (specific + general) or self.spaces[:1]
        return [ordered] if language in self.decisions else [[space] for space in ordered]

    def _encode(self, texts: list[str], asked: dict[int, list[Space]]) -> dict[tuple[str, int], np.ndarray]:
        """One encoder pass per space over the queries that ask it."""
        vectors = {}
        for space in self.spaces:
            wanted = [i for i, spaces in asked.items() if space in spaces]
            if not wanted:
                continue
            if getattr(space.encoder, "couples_texts", False):
                # Its vector for a text depends on the call's other texts: each query alone, so a
                # customer's answer never depends on who else asked at the same moment.
                encoded = np.vstack([space.encoder.encode([texts[i]]) for i in wanted])
            else:
                encoded = space.encoder.encode([texts[i] for i in wanted])
            vectors.update({(space.name, i): vector for i, vector in zip(wanted, encoded)})
        return vectors

    def _result(self, query: str, language: str | None, spaces: list[Space],
                vectors: dict[tuple[str, int], np.ndarray], i: int, k: int) -> SearchResult:
        pool = np.array(sorted(set().union(*(s.candidates(vectors[(s.name, i)], max(k, CANDIDATES))
                                             for s in spaces))), dtype=np.int64)
        thresholds = self.decisions.get(language or "", spaces[0].thresholds)
        per_space = np.vstack([s.scores(vectors[(s.name, i)], pool, thresholds.head_weight) for s in spaces])
        with np.errstate(invalid="ignore"):  # an entry no space has a wording for stays -inf
            scores = np.where(np.isfinite(per_space), per_space, np.nan)
            mean = np.nan_to_num(np.nanmean(scores, axis=0) if len(pool) else scores.sum(0), nan=-np.inf)
        best = np.argsort(-mean)[:k]
        candidates = [Candidate(**self.entries[pool[j]], score=round(float(mean[j]), 4)) for j in best
                      if np.isfinite(mean[j])]
        decision = decide([c.score for c in candidates], thresholds)
        if decision == "suggest":  # did-you-mean buttons only for plausibly related entries
            candidates = candidates[:1] + [c for c in candidates[1:] if c.score >= thresholds.offer]
        return SearchResult(query=query, decision=decision, candidates=candidates, version=self.version,
                            space="+".join(s.name for s in spaces))

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

    def search_many(self, queries: list[str], k: int = 3) -> list[SearchResult]:
        return self._snapshot.search_many(queries, k)

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
