"""Retrieval decisions and the calibration that sets their thresholds."""

from __future__ import annotations

import numpy as np

from faq_index.decide import Thresholds, calibrate, decide


def test_decision_follows_the_thresholds() -> None:
    thresholds = Thresholds(answer=0.7, suggest=0.5)
    assert decide([0.71, 0.3], thresholds) == "answer"
    assert decide([0.7], thresholds) == "answer"
    assert decide([0.6, 0.55], thresholds) == "suggest"
    assert decide([0.49], thresholds) == "unknown"
    assert decide([], thresholds) == "unknown"


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def clustered(n_entries: int, per_entry: int, spread: float, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Wordings in clusters around each entry's centre; the answer is near the centre too."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_entries, 64))
    vectors = np.repeat(centres, per_entry, axis=0) + spread * rng.normal(size=(n_entries * per_entry, 64))
    answers = centres + spread * rng.normal(size=centres.shape)
    return unit(vectors), np.repeat(np.arange(n_entries), per_entry).astype(np.int32), unit(answers)


def test_calibration_orders_thresholds_and_separates_clusters() -> None:
    vectors, owners, answers = clustered(30, 6, spread=0.3)
    thresholds, stats = calibrate(vectors, owners, answers)
    assert thresholds.suggest <= thresholds.answer
    assert stats["leave_one_out_top1"] > 0.95
    # Tight clusters: most held-out wordings are confidently answerable.
    assert stats["answered_at_threshold"] > 0.8


def test_looser_clusters_get_stricter_answer_threshold_relative_to_scores() -> None:
    tight, owners, tight_answers = clustered(30, 6, spread=0.3)
    loose, _, loose_answers = clustered(30, 6, spread=1.2)
    _, tight_stats = calibrate(tight, owners, tight_answers)
    _, loose_stats = calibrate(loose, owners, loose_answers)
    assert loose_stats["answered_at_threshold"] < tight_stats["answered_at_threshold"]


def test_tiny_kb_falls_back_to_documented_defaults() -> None:
    vectors, owners, answers = clustered(2, 2, spread=0.1)
    thresholds, _ = calibrate(vectors, owners, answers)
    assert thresholds.method.startswith("default")
