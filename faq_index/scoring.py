"""How well an entry matches a query: one rule, used by search and by calibration alike.

An entry has several wordings (question + paraphrases) and an answer. Its score blends
- the best wording's similarity (a customer phrased it just like one paraphrase),
- the mean of its best `TOP_N` wordings (several wordings agree: robust to one odd match),
- the answer's similarity (customers often describe what the answer talks about).
Weights were chosen on wordings held out of the encoder's training (never on tests/data):
best-only 0.69, +top-3 mean 0.71, +answer 0.76 top-1 there.
"""

from __future__ import annotations

import numpy as np

BEST_WEIGHT = 0.5
TOP_N = 3
ANSWER_WEIGHT = 0.4
# Where a space has an entry head (faq_index/head.py), its probability and the similarity
# above are averaged with these weights of the head; the build picks one per language on the
# customer questions' tuning part (faq_index/customers.py). Measured there: English did best
# with the head at 0.5-0.6 (0.832-0.84 answered right), Chinese at 0.3 (0.79, against 0.72 at 0.5).
HEAD_WEIGHTS = (0.3, 0.4, 0.5, 0.6, 0.7)


def blend(top_sims: np.ndarray, answer_sims: np.ndarray) -> np.ndarray:
    """The rule. `top_sims`: (..., TOP_N) wording similarities sorted high to low, -inf
    where an entry has fewer wordings; `answer_sims`: (...). Entries with no wording: -inf."""
    finite = np.isfinite(top_sims)
    present = finite[..., 0]
    best = np.where(present, top_sims[..., 0], 0.0)
    mean = np.where(finite, top_sims, 0.0).sum(axis=-1) / np.maximum(finite.sum(axis=-1), 1)
    blended = (BEST_WEIGHT * best + (1 - BEST_WEIGHT) * mean + ANSWER_WEIGHT * answer_sims) / (1 + ANSWER_WEIGHT)
    return np.where(present, blended, -np.inf)


def combine(similarity: np.ndarray, probability: np.ndarray, head_weight: float) -> np.ndarray:
    """A space's score from the scoring rule's similarity and the entry head's probability."""
    return (1 - head_weight) * similarity + head_weight * probability


def top_sims(sims: np.ndarray) -> np.ndarray:
    """The TOP_N largest values along the last axis, sorted, padded with -inf."""
    padded = np.concatenate([sims, np.full(sims.shape[:-1] + (TOP_N,), -np.inf, dtype=sims.dtype)], axis=-1)
    return -np.sort(-padded, axis=-1)[..., :TOP_N]


def entry_scores(wording_sims: np.ndarray, owners: np.ndarray, answer_sims: np.ndarray) -> np.ndarray:
    """Scores (queries × entries) from similarities to every wording (queries × wordings;
    -inf excludes a wording) and to every answer (queries × entries)."""
    scores = np.empty(answer_sims.shape, dtype=np.float32)
    for entry in range(answer_sims.shape[1]):
        scores[:, entry] = blend(top_sims(wording_sims[:, owners == entry]), answer_sims[:, entry])
    return scores
