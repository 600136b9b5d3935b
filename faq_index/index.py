"""The vector index: FAISS, exact below a size, approximate (HNSW) above it.

Vectors are unit length, so inner product is cosine similarity. Each vector is one wording
(question or paraphrase) of an entry; `search` returns the best score per entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

# Exact search over a few thousand vectors takes well under a millisecond; HNSW pays off
# only for large knowledge bases, where its small recall loss is worth the speed.
EXACT_MAX_VECTORS = 20_000
HNSW_NEIGHBOURS = 32
HNSW_EF_SEARCH = 128


@dataclass
class VectorIndex:
    """FAISS vectors plus, for each vector, the position of the entry it belongs to."""

    index: faiss.Index
    owners: np.ndarray  # int32, owners[i] = entry position of vector i

    @property
    def kind(self) -> str:
        return "hnsw" if isinstance(self.index, faiss.IndexHNSWFlat) else "exact"

    @classmethod
    def build(cls, vectors: np.ndarray, owners: np.ndarray, exact_max: int = EXACT_MAX_VECTORS) -> VectorIndex:
        dim = vectors.shape[1]
        if len(vectors) <= exact_max:
            index: faiss.Index = faiss.IndexFlatIP(dim)
        else:
            index = faiss.IndexHNSWFlat(dim, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 80
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index=index, owners=np.asarray(owners, dtype=np.int32))

    def search(self, queries: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        """For each query, up to `k` (entry position, score) pairs, best first, one per entry."""
        if isinstance(self.index, faiss.IndexHNSWFlat):
            self.index.hnsw.efSearch = max(HNSW_EF_SEARCH, k * 8)
        # Several wordings belong to one entry: over-fetch so k distinct entries survive.
        fetch = min(self.index.ntotal, max(k * 10, 32))
        scores, ids = self.index.search(np.ascontiguousarray(queries, dtype=np.float32), fetch)
        results = []
        for row_scores, row_ids in zip(scores, ids):
            best: dict[int, float] = {}
            for score, vector_id in zip(row_scores, row_ids):
                if vector_id < 0:
                    continue
                owner = int(self.owners[vector_id])
                if owner not in best:
                    best[owner] = float(score)
                    if len(best) == k:
                        break
            results.append(list(best.items()))
        return results

    def save(self, directory: Path) -> None:
        faiss.write_index(self.index, str(directory / "vectors.faiss"))
        np.save(directory / "owners.npy", self.owners)

    @classmethod
    def load(cls, directory: Path) -> VectorIndex:
        return cls(
            index=faiss.read_index(str(directory / "vectors.faiss")),
            owners=np.load(directory / "owners.npy"),
        )
