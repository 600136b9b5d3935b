"""Precision@1 of a built index on held-out questions: how often the first entry is right.

    python -m faq_index eval --questions tests/data/heldout_questions_zh.yml --field zh

The questions file is YAML: `questions: [{<field>: text, faq_id: id}, ...]`. Questions must be
written apart from the KB's paraphrases (never copied into it), or the figure flatters.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import yaml

from faq_index.search import LiveIndex


def evaluate(index_dir: str | Path, questions_file: str | Path, field: str = "text") -> dict:
    """P@1, recall@3, the share answered directly and its precision, and which spaces answered."""
    questions = yaml.safe_load(Path(questions_file).read_text(encoding="utf-8"))["questions"]
    index = LiveIndex(index_dir, poll_seconds=3600)
    try:
        results = index.snapshot.search_many([q[field] for q in questions], k=3)
    finally:
        index.close()
    expected = [q["faq_id"] for q in questions]
    top = [r.top.id if r.top else None for r in results]
    answered = [i for i, r in enumerate(results) if r.decision == "answer"]
    return {
        "questions": len(questions),
        "field": field,
        "p_at_1": round(sum(t == e for t, e in zip(top, expected)) / len(questions), 4),
        "recall_at_3": round(sum(e in [c.id for c in r.candidates] for r, e in zip(results, expected))
                             / len(questions), 4),
        "answered": round(len(answered) / len(questions), 4),
        "answered_precision": round(sum(top[i] == expected[i] for i in answered) / max(1, len(answered)), 4),
        "spaces": dict(Counter(r.space for r in results)),
        "models": {s.name: s.model for s in index.snapshot.spaces},
        "misses": [{"question": q[field], "expected": e, "got": t}
                   for q, e, t in zip(questions, expected, top) if t != e],
    }
