"""Thresholds chosen on customer questions (faq_index/customers.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from faq_index.customers import MAX_OUT_OF_SCOPE_ANSWERED, MAX_WRONG, Question, calibrate_on_customers, load_questions
from faq_index.decide import decide


def simulated(seed: int = 0) -> tuple[list[Question], list[list[tuple[str, float]]]]:
    """Answerable questions score high with the right entry first (mostly); out-of-scope ones lower."""
    rng = np.random.default_rng(seed)
    questions, ranked = [], []
    for i in range(200):
        right = rng.random() < 0.9
        top = float(rng.normal(0.75 if right else 0.6, 0.07))
        first = "e1" if right else "e2"
        questions.append(Question(f"q{i}", "en", ("e1",)))
        ranked.append([(first, top), ("e3", top - float(rng.uniform(0, 0.1))), ("e4", top - 0.12)])
    for i in range(100):
        top = float(rng.normal(0.5, 0.07))
        questions.append(Question(f"o{i}", "en", ()))
        ranked.append([("e5", top), ("e6", top - float(rng.uniform(0, 0.05))), ("e7", top - 0.1)])
    return questions, ranked


def test_thresholds_keep_wrong_and_out_of_scope_answers_within_their_limits() -> None:
    questions, ranked = simulated()
    thresholds, stats = calibrate_on_customers(questions, ranked)
    decisions = [decide([s for _, s in r], thresholds) for r in ranked]
    answerable = [q.answerable for q in questions]
    wrong = sum(d == "answer" and r[0][0] != "e1" for d, r, a in zip(decisions, ranked, answerable) if a)
    oos_answered = sum(d == "answer" for d, a in zip(decisions, answerable) if not a)
    assert wrong / 200 <= MAX_WRONG and oos_answered / 100 <= MAX_OUT_OF_SCOPE_ANSWERED
    assert stats["answered_right"] > 0.5  # and still answers most of what it can
    assert thresholds.offer <= thresholds.suggest <= thresholds.answer
    assert stats["out_of_scope_declined"] > 0.7  # the out-of-scope ones score lower: declined


def test_too_few_questions_leave_the_kb_calibration_in_place() -> None:
    questions, ranked = simulated()
    assert calibrate_on_customers(questions[:30] + questions[-5:], ranked[:30] + ranked[-5:]) is None


def test_questions_about_removed_entries_are_left_out(tmp_path: Path) -> None:
    (tmp_path / "tune_en.yml").write_text(
        'answerable:\n  - text: "a"\n    faq_ids: [kept]\n  - text: "b"\n    faq_ids: [gone]\n'
        '  - text: "c"\n    faq_ids: [gone, kept]\nout_of_scope:\n  - text: "d"\n', encoding="utf-8")
    (tmp_path / "test_en.yml").write_text('answerable: []\nout_of_scope:\n  - text: "never read"\n', encoding="utf-8")
    questions = load_questions(tmp_path, entry_ids={"kept"})
    assert [(q.text, q.faq_ids) for q in questions] == [("a", ("kept",)), ("c", ("kept",)), ("d", ())]
