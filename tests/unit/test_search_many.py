"""Several queries searched in one encoder pass give exactly the answers of one-by-one searches."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from bot.config import ROOT
from faq_index.build import build
from faq_index.encoder import load_encoder
from faq_index.search import LiveIndex

QUERIES = ["how long does delivery take?", "can I pay with paypal", "", "forgot my password", "refund when?"]


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> LiveIndex:
    out = tmp_path_factory.mktemp("index")
    build(ROOT / "data" / "faq", out, model="all-MiniLM-L6-v2", progress=False)
    return LiveIndex(out, poll_seconds=3600)


def test_searching_many_matches_single_searches(index: LiveIndex) -> None:
    queries, ks = QUERIES * 2, [1, 3] * 5
    together = index.snapshot.search_many(queries, 3)
    results = [replace(result, candidates=result.candidates[:k]) for result, k in zip(together, ks)]
    for result, (query, k) in zip(results, zip(queries, ks)):
        alone = index.search(query, k)
        assert result.decision == alone.decision
        assert [c.id for c in result.candidates] == [c.id for c in alone.candidates]
        assert [c.score for c in result.candidates] == pytest.approx([c.score for c in alone.candidates], abs=1e-3)


def test_fast_path_encoding_equals_sentence_transformers_encode() -> None:
    encoder = load_encoder()
    texts = ["where is my parcel", "a much longer question about returning a lamp I bought three weeks ago"]
    fast = encoder.encode(texts)
    reference = encoder._model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    assert np.allclose(fast, reference, atol=1e-5)


def test_empty_query_is_unknown_without_encoding(index: LiveIndex) -> None:
    assert index.search("   ").decision == "unknown"
