"""Turn retrieval scores into a decision: answer, suggest (did you mean), or unknown.

Thresholds are not guessed: `calibrate` derives them from the knowledge base itself.
Every wording of an entry is held out in turn and searched against the rest:

- leave-one-out: the wording against all other wordings; its entry is still in the index,
  so this measures how scores look when the answer exists (and whether top-1 is right);
- leave-entry-out: the wording against the other entries only; its entry is gone, so this
  is how scores look for a question the KB cannot answer (a hard case: a related entry of
  the same shop usually scores well).

`answer` is the lowest score at which held-out top-1 precision reaches `ANSWER_PRECISION`: a
confident wrong answer costs more than a did-you-mean. `suggest` is the score that
`SUGGEST_RECALL` of answerable held-out questions reach: below it a question is almost
surely not in the KB, so the bot says it does not know instead of offering unrelated
entries. Between the two the bot offers the top candidates instead of guessing. The
leave-entry-out scores are reported (how often an uncovered question still gets
suggestions), not optimised: related entries are a fair suggestion for such a question.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from faq_index.scoring import entry_scores

ANSWER_PRECISION = 0.85
SUGGEST_RECALL = 0.95
# Guard rails so a tiny or odd KB cannot produce absurd thresholds.
MIN_THRESHOLD, MAX_THRESHOLD = 0.30, 0.90


@dataclass(frozen=True)
class Thresholds:
    answer: float
    suggest: float
    method: str = "calibrated"
    # How far the best entry must lead the second to be answered directly (0: no lead needed).
    margin: float = 0.0
    # With a did-you-mean, the other candidates are offered only from this score (0: all).
    offer: float = 0.0
    # The entry head's share of a score, where spaces have heads (faq_index/head.py).
    head_weight: float = 0.5

    def to_dict(self) -> dict:
        return asdict(self)


def decide(scores: list[float], thresholds: Thresholds) -> str:
    """'answer' when the best score is confident and leads the second by the margin,
    'suggest' when plausible, else 'unknown'."""
    if not scores:
        return "unknown"
    top = scores[0]
    lead = top - scores[1] if len(scores) > 1 else top
    if top >= thresholds.answer and lead >= thresholds.margin:
        return "answer"
    if top >= thresholds.suggest:
        return "suggest"
    return "unknown"


def calibrate(
    vectors: np.ndarray,
    owners: np.ndarray,
    answers: np.ndarray,
    queries: np.ndarray | None = None,
    method: str = "calibrated",
) -> tuple[Thresholds, dict]:
    """Derive thresholds from the KB's own wordings; also return the statistics used.

    `queries` (a boolean mask) picks the wordings held out as queries; by default every one.
    With a fine-tuned encoder, pass only wordings it was not trained on: scores of its own
    training pairs would be optimistic.
    """
    top, correct, unanswerable = _held_out_scores(vectors, owners, answers, queries)
    if len(top) < 10:
        return Thresholds(answer=0.6, suggest=0.4, method="default (KB too small to calibrate)"), {}
    grid = np.round(np.arange(MIN_THRESHOLD, MAX_THRESHOLD + 1e-9, 0.005), 3)
    answer = _lowest_precise_threshold(grid, top, correct)
    suggest = min(float(np.floor(np.quantile(top, 1 - SUGGEST_RECALL) * 200) / 200), answer)
    suggest = max(suggest, MIN_THRESHOLD)
    stats = {
        "held_out_queries": int(len(top)),
        "leave_one_out_top1": round(float(correct.mean()), 4),
        "answered_at_threshold": round(float((top >= answer).mean()), 4),
        "unanswerable_suggested_or_answered": round(float((unanswerable >= suggest).mean()), 4),
    }
    return Thresholds(answer=float(answer), suggest=float(suggest), method=method), stats


def _held_out_scores(
    vectors: np.ndarray, owners: np.ndarray, answers: np.ndarray, queries: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = np.arange(len(vectors)) if queries is None else np.flatnonzero(queries)
    picked = np.arange(len(rows))
    similarity = vectors[rows] @ vectors.T
    similarity[picked, rows] = -np.inf  # a query never matches itself
    scores = entry_scores(similarity, owners, vectors[rows] @ answers.T)
    own = owners[rows]
    best_same = scores[picked, own].copy()
    scores[picked, own] = -np.inf  # leave-entry-out: as if the entry did not exist
    best_other = scores.max(axis=1)
    usable = np.isfinite(best_same) & np.isfinite(best_other)
    best_same, best_other = best_same[usable], best_other[usable]
    return np.maximum(best_same, best_other), best_same > best_other, best_other


def _lowest_precise_threshold(grid: np.ndarray, top: np.ndarray, correct: np.ndarray) -> float:
    for threshold in grid:
        chosen = top >= threshold
        if chosen.sum() >= 5 and correct[chosen].mean() >= ANSWER_PRECISION:
            return float(threshold)
    return float(grid[-1])

