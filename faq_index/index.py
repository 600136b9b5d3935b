"""The vector index: FAISS, exact below a size, approximate (HNSW) above it.

Vectors are unit length, so inner product is cosine similarity. Each vector is one wording
(question or paraphrase) of an entry. FAISS finds the nearest wordings; their entries are
then scored exactly with the rule in `scoring.py` (best wordings + answer).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from faq_index.scoring import blend, top_sims

# Exact search over a few thousand vectors takes well under a millisecond; HNSW pays off
# only for large knowledge bases, where its small recall loss is worth the speed.
EXACT_MAX_VECTORS = 20_000
HNSW_NEIGHBOURS = 32
# Chosen on validation KBs (faq_index/bench_scale.py's generator, another seed than the bench's):
# at a million vectors efSearch 128 found the exact search's top entry for 96.0 % of queries,
# 256 for 99.8 %, 512 for 100 % at 1.1 ms p50 (one thread).
HNSW_EF_SEARCH = 512


@dataclass
class VectorIndex:
    """FAISS wording vectors, the entry of each, and one answer vector per entry."""

    index: faiss.Index
    owners: np.ndarray  # int32, owners[i] = entry position of vector i
    answers: np.ndarray  # float32, answers[e] = vector of entry e's answer

    def __post_init__(self) -> None:
        self.vectors = _stored_vectors(self.index)
        # rows[e] = the vector ids of entry e's wordings, padded with -1 (an entries × most-
        # wordings table), so every candidate entry is scored in one vectorised step.
        counts = np.bincount(self.owners, minlength=len(self.answers))
        self.rows = np.full((len(self.answers), max(1, counts.max(initial=1))), -1, dtype=np.int64)
        order = np.argsort(self.owners, kind="stable")
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        positions = np.arange(len(order)) - starts[self.owners[order]]
        self.rows[self.owners[order], positions] = order

    @property
    def kind(self) -> str:
        return "hnsw" if isinstance(self.index, faiss.IndexHNSWFlat) else "exact"

    @classmethod
    def build(cls, vectors: np.ndarray, owners: np.ndarray, answers: np.ndarray,
              exact_max: int = EXACT_MAX_VECTORS) -> VectorIndex:
        dim = vectors.shape[1]
        if len(vectors) <= exact_max:
            index: faiss.Index = faiss.IndexFlatIP(dim)
        else:
            index = faiss.IndexHNSWFlat(dim, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 80
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index=index, owners=np.asarray(owners, dtype=np.int32),
                   answers=np.ascontiguousarray(answers, dtype=np.float32))

    def search(self, queries: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        """For each query, up to `k` (entry position, score) pairs, best first."""
        if isinstance(self.index, faiss.IndexHNSWFlat):
            self.index.hnsw.efSearch = max(HNSW_EF_SEARCH, k * 8)
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        # Over-fetch wordings so enough distinct entries survive to be re-scored exactly.
        fetch = min(self.index.ntotal, max(k * 10, 64))
        _, ids = self.index.search(queries, fetch)
        results = []
        for query, row_ids in zip(queries, ids):
            candidates = np.unique(self.owners[row_ids[row_ids >= 0]])
            scores = self.entry_scores(query, candidates)
            best = np.argsort(-scores)[:k]
            results.append([(int(candidates[i]), float(scores[i])) for i in best])
        return results

    def entry_scores(self, query: np.ndarray, entries: np.ndarray) -> np.ndarray:
        """The scoring rule's score of each of `entries` (positions) for one query vector."""
        rows = self.rows[entries]
        sims = np.where(rows >= 0, self.vectors[rows] @ query, -np.inf)
        return blend(top_sims(sims), self.answers[entries] @ query)

    def save(self, directory: Path) -> None:
        faiss.write_index(self.index, str(directory / "vectors.faiss"))
        np.save(directory / "owners.npy", self.owners)
        np.save(directory / "answers.npy", self.answers)

    @classmethod
    def load(cls, directory: Path) -> VectorIndex:
        return cls(
            index=faiss.read_index(str(directory / "vectors.faiss")),
            owners=np.load(directory / "owners.npy"),
            answers=np.load(directory / "answers.npy"),
        )


def _stored_vectors(index: faiss.Index) -> np.ndarray:
    """The index's own vectors as a read-only array, without a copy: at a million wordings a copy
    (`reconstruct_n`) was another 1.5 GB (`python -m faq_index bench scale`). Valid while the index
    lives: VectorIndex holds both."""
    flat = faiss.downcast_index(index.storage) if isinstance(index, faiss.IndexHNSWFlat) else index
    if index.ntotal == 0:
        return np.zeros((0, index.d), dtype=np.float32)
    view = faiss.rev_swig_ptr(flat.get_xb(), index.ntotal * index.d).reshape(index.ntotal, index.d)
    view.flags.writeable = False
    return view
