"""Large knowledge bases: build time, memory, query latency and recall of the vector index.

    python -m faq_index bench scale [--sizes 10000 100000 1000000] [--queries 1000]

Synthetic KBs, since no public FAQ has a million wordings: topics are random directions in the
encoder's 384 dimensions, entries scattered around a topic (cosine ≈ 0.75 to it: a KB's
categories), each entry with four wordings and an answer scattered around the entry (cosine
≈ 0.8, as paraphrases of one question are under the fine-tuned MiniLM); queries are fresh
wordings of random entries. Each size is built the
way `faq_index build` would build it (`VectorIndex.build`: exact up to EXACT_MAX_VECTORS, HNSW
above) and measured:

- `build_s`: adding the vectors (and the HNSW graph);
- `index_mib`: the process's resident memory grown by the index (vectors and graph);
- `query_ms_p50` / `p99`: one query at a time, k = 3, FAISS plus the exact entry scoring, one thread
  (as the Rasa server searches);
- `recall_at_1`: how often the top entry equals the exact search's top entry over the same
  vectors (for an exact index: 1 by definition).

The last line on stdout is one JSON object with the figures; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import faiss
import numpy as np
from tqdm import tqdm

from faq_index.index import EXACT_MAX_VECTORS, VectorIndex

DIM = 384
WORDINGS_PER_ENTRY = 4
ENTRIES_PER_TOPIC = 250
SPREAD = 0.75  # noise around an entry's direction: cosine ≈ 0.8 wording to entry
TOPIC_SPREAD = 0.9  # noise around a topic's direction: cosine ≈ 0.75 entry to topic


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000],
                        help="wordings (vectors) per synthetic KB")
    parser.add_argument("--queries", type=int, default=1000, help="queries per size")


def run(sizes: list[int], queries: int, seed: int = 0, progress: bool = True) -> dict:
    cores = faiss.omp_get_max_threads()
    report: dict = {"dim": DIM, "exact_max_vectors": EXACT_MAX_VECTORS, "build_threads": cores, "sizes": {}}
    for size in sizes:
        report["sizes"][str(size)] = _measure(size, queries, cores, np.random.default_rng(seed + size), progress)
        print(json.dumps({str(size): report["sizes"][str(size)]}), file=sys.stderr)
    return report


def _measure(size: int, queries: int, cores: int, rng: np.random.Generator, progress: bool) -> dict:
    entries = size // WORDINGS_PER_ENTRY
    topics = _unit(rng.standard_normal((max(1, entries // ENTRIES_PER_TOPIC), DIM), dtype=np.float32))
    directions = _scatter(topics, rng.integers(0, len(topics), size=entries), rng, TOPIC_SPREAD)
    owners = np.repeat(np.arange(entries, dtype=np.int32), WORDINGS_PER_ENTRY)
    vectors = _scatter(directions, owners, rng)
    answers = _scatter(directions, np.arange(entries), rng)
    asked = rng.integers(0, entries, size=queries)
    query_vectors = _scatter(directions, asked, rng)
    del directions

    before = _rss_mib()
    faiss.omp_set_num_threads(cores)  # a build may use every core
    started = time.perf_counter()
    index = VectorIndex.build(vectors, owners, answers)
    build_s = time.perf_counter() - started
    faiss.omp_set_num_threads(1)  # queries as the Rasa server searches: one at a time, one thread
    grown = _rss_mib() - before

    timings, tops = [], []
    for query in tqdm(query_vectors, desc=f"{size:,} vectors: queries", unit="query", disable=not progress,
                      file=sys.stderr):
        started = time.perf_counter()
        [hits] = index.search(query[None, :], 3)
        timings.append((time.perf_counter() - started) * 1000)
        tops.append(hits[0][0])
    if index.kind == "exact":
        recall = 1.0
    else:
        exact = VectorIndex.build(vectors, owners, answers, exact_max=size)
        truth = [hits[0][0] for hits in exact.search(query_vectors, 3)]
        recall = float(np.mean(np.array(tops) == np.array(truth)))
    return {"index": index.kind, "entries": entries, "build_s": round(build_s, 1), "index_mib": grown,
            "query_ms_p50": round(float(np.percentile(timings, 50)), 3),
            "query_ms_p99": round(float(np.percentile(timings, 99)), 3),
            "recall_at_1": round(recall, 4),
            "asked_entry_found": round(float(np.mean(np.array(tops) == asked)), 4)}


def _scatter(directions: np.ndarray, around: np.ndarray, rng: np.random.Generator,
             spread: float = SPREAD) -> np.ndarray:
    """Unit vectors near `directions[around]`, in chunks (a million at once would double memory)."""
    out = np.empty((len(around), DIM), dtype=np.float32)
    for start in range(0, len(around), 100_000):
        part = around[start:start + 100_000]
        noise = rng.standard_normal((len(part), DIM), dtype=np.float32) * (spread / np.sqrt(DIM))
        out[start:start + len(part)] = _unit(directions[part] + noise)
    return out


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _rss_mib() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) // 1024 for line in status if line.startswith("VmRSS:"))


def main(args: argparse.Namespace) -> int:
    report = run(args.sizes, args.queries, progress=not args.quiet)
    sys.stderr.flush()
    print(json.dumps(report))
    return 0
