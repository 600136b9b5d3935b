"""Thresholds chosen on what customers really send: labelled questions and out-of-scope ones.

The KB's own wordings (`faq_index.decide.calibrate`) say how scores look for questions
phrased like the KB; customers phrase them otherwise (context before the question, typos,
English words in Chinese) and also ask what the KB does not cover at all. So when a set of
customer-style questions is available, every index build chooses each space's thresholds
per language on it:

- `answer` and `margin`: a question is answered directly when its best entry scores at least
  `answer` *and* leads the second by at least `margin`. Chosen to answer as many answerable
  questions right as possible while at most `MAX_WRONG` of them are answered wrongly and at
  most `MAX_OUT_OF_SCOPE_ANSWERED` of the out-of-scope ones are answered at all;
- `suggest`: a question not answered directly but whose best entry scores at least `suggest`
  gets did-you-mean buttons; a lower one is declined ("I don't know that one"). Chosen to
  offer buttons to the unanswered questions whose right entry is among the candidates while
  declining the out-of-scope ones: the sum of both rates is maximised;
- `offer`: the first candidate is always a button; the others only from `offer`, the lowest
  score at which a right entry stood second or third among the tuning questions that got
  buttons (entries scoring lower were never the one meant).

The question files are YAML, one language each, named `<part>_<language>.yml`:

    answerable:   [{text: "...", faq_ids: [delivery-time]}, ...]
    out_of_scope: [{text: "..."}, ...]

Only the `tune` part is ever read here; the `test` part is for measuring (bot/ops/bench/decisions.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from faq_index.decide import Thresholds

TUNE = "tune"
MAX_WRONG = 0.02  # of answerable questions answered with a wrong entry
MAX_OUT_OF_SCOPE_ANSWERED = 0.03  # of out-of-scope questions answered with any entry
# Below this many questions of each kind a language is not calibrated on customers.
MIN_ANSWERABLE, MIN_OUT_OF_SCOPE = 40, 20
_ANSWER_GRID = np.round(np.arange(0.20, 1.001, 0.005), 3)
_MARGIN_GRID = np.round(np.arange(0.0, 0.301, 0.01), 3)


@dataclass(frozen=True)
class Question:
    text: str
    language: str
    faq_ids: tuple[str, ...]  # empty: out of scope

    @property
    def answerable(self) -> bool:
        return bool(self.faq_ids)


def load_questions(directory: str | Path, part: str = TUNE, entry_ids: set[str] | None = None) -> list[Question]:
    """The questions of one part, every language. Given `entry_ids` (the KB as built now), a
    question labelled only with entries that no longer exist is left out: it would count a
    right answer as wrong."""
    questions: list[Question] = []
    for path in sorted(Path(directory).glob(f"{part}_*.yml")):
        language = path.stem.split("_", 1)[1]
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in data.get("answerable") or []:
            ids = tuple(i for i in item["faq_ids"] if entry_ids is None or i in entry_ids)
            if ids:
                questions.append(Question(item["text"], language, ids))
        questions += [Question(item["text"], language, ()) for item in data.get("out_of_scope") or []]
    return questions


def calibrate_on_customers(
    questions: list[Question], ranked: list[list[tuple[str, float]]], method: str = "customer questions"
) -> tuple[Thresholds, dict] | None:
    """Thresholds for one space and language from its questions' ranked (entry id, score)
    lists, best first; None when there are too few questions of either kind."""
    answerable = np.array([q.answerable for q in questions])
    if answerable.sum() < MIN_ANSWERABLE or (~answerable).sum() < MIN_OUT_OF_SCOPE:
        return None
    first = np.array([r[0][1] if r else -1.0 for r in ranked])
    second = np.array([r[1][1] if len(r) > 1 else -1.0 for r in ranked])
    right_first = np.array([bool(r) and r[0][0] in q.faq_ids for q, r in zip(questions, ranked)])
    right_listed = np.array([any(i in q.faq_ids for i, _ in r) for q, r in zip(questions, ranked)])
    answer, margin = _answer_rule(first, first - second, answerable, right_first)
    answered = (first >= answer) & (first - second >= margin)
    suggest = _suggest_threshold(first, answerable & ~answered & right_listed, ~answerable, answer)
    offer = _offer_threshold(questions, ranked, answerable & ~answered & (first >= suggest), suggest)
    stats = {
        "answerable": int(answerable.sum()),
        "out_of_scope": int((~answerable).sum()),
        "answered_right": _share(answered & right_first, answerable),
        "answered_wrong": _share(answered & ~right_first, answerable),
        "out_of_scope_answered": _share(answered, ~answerable),
        "out_of_scope_declined": _share(first < suggest, ~answerable),
        "right_entry_first": _share(right_first, answerable),
    }
    return Thresholds(answer=answer, suggest=suggest, margin=margin, offer=offer, method=method), stats


def _answer_rule(first: np.ndarray, lead: np.ndarray, answerable: np.ndarray,
                 right_first: np.ndarray) -> tuple[float, float]:
    """The (answer, margin) pair answering most answerable questions right within the limits
    on wrong answers and answered out-of-scope questions; ties go to the stricter pair."""
    best, best_right = (float(_ANSWER_GRID[-1]), float(_MARGIN_GRID[-1])), -1
    for margin in _MARGIN_GRID:
        leads = lead >= margin
        for answer in _ANSWER_GRID:
            answered = leads & (first >= answer)
            wrong = (answered & answerable & ~right_first).sum() / answerable.sum()
            out_of_scope = (answered & ~answerable).sum() / (~answerable).sum()
            right = int((answered & answerable & right_first).sum())
            if wrong <= MAX_WRONG and out_of_scope <= MAX_OUT_OF_SCOPE_ANSWERED and right > best_right:
                best, best_right = (float(answer), float(margin)), right
    return best


def _suggest_threshold(first: np.ndarray, helped: np.ndarray, out_of_scope: np.ndarray, answer: float) -> float:
    """The score below which a question is declined: offer buttons to those they would help,
    decline the out-of-scope ones (the sum of both rates, maximised; ties to the higher)."""
    best, best_value = answer, -1.0
    for threshold in _ANSWER_GRID[answer >= _ANSWER_GRID][::-1]:
        value = _rate(first[helped] >= threshold) + _rate(first[out_of_scope] < threshold)
        if value > best_value + 1e-9:
            best, best_value = float(threshold), value
    return best


def _offer_threshold(questions: list[Question], ranked: list[list[tuple[str, float]]], suggested: np.ndarray,
                     suggest: float) -> float:
    """The lowest score at which a right entry stood behind the first among the did-you-mean
    questions: the other buttons are offered from there (related enough to have been right)."""
    behind = [score for question, hits, flag in zip(questions, ranked, suggested) if flag
              for entry, score in hits[1:] if entry in question.faq_ids]
    return float(np.floor(min(behind) * 200) / 200) if behind else suggest


def _rate(flags: np.ndarray) -> float:
    return float(flags.mean()) if len(flags) else 0.0


def _share(flags: np.ndarray, of: np.ndarray) -> float:
    return round(float(flags[of].mean()), 4) if of.any() else 0.0
