"""`python -m bot bench clusters`: how pure the dashboard's groups of unanswered questions are.

The grouping (bot/domain/insight/unanswered.py) runs on questions whose right FAQ entry is
known, with the index's own English encoder; a group is as pure as the share of its questions
that belong to its most common entry. Purity alone rewards never grouping anything, so the
share of questions that landed in a group of two or more is reported beside it.

- tuning part (choose the bound on it): the KB's held-out wordings (tests/data/heldout_questions.yml)
  and the tuning customer questions;
- test part (read once per reported figure): the test customer questions.

    python -m bot bench clusters [--part tune|test] [--bounds 0.5,0.6,0.7]
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from bot.config import ROOT, load_settings
from bot.domain.insight import unanswered
from faq_index.search import LiveIndex

QUESTIONS = ROOT / "tests" / "data"


def labelled(part: str) -> dict[str, str]:
    """Question -> its one right entry (questions with several right entries are left out)."""
    customers = yaml.safe_load((QUESTIONS / "customer_questions" / f"{part}_en.yml").read_text(encoding="utf-8"))
    found = {q["text"]: q["faq_ids"][0] for q in customers["answerable"] if len(q["faq_ids"]) == 1}
    if part == "tune":
        heldout = yaml.safe_load((QUESTIONS / "heldout_questions.yml").read_text(encoding="utf-8"))
        found |= {q["text"]: q["faq_id"] for q in heldout["questions"]}
    return found


def measure(part: str, bounds: list[float], index_dir: Path | None = None) -> dict[str, Any]:
    """Purity and grouped share of the grouping at each bound, on one part of the labelled questions."""
    labels = labelled(part)
    encoder = LiveIndex(index_dir or load_settings().index_dir, poll_seconds=3600).snapshot.encoder
    texts = list(labels)
    vectors = dict(zip(texts, np.asarray(encoder.encode(texts), dtype=np.float32)))

    def encode(batch: list[str]) -> np.ndarray:
        return np.stack([vectors[text] for text in batch])

    results = []
    for bound in bounds:
        groups = [g["members"] for g in unanswered.group(texts, encode, bound)]
        pure = sum(Counter(labels[t] for t in members).most_common(1)[0][1] for members in groups)
        grouped = sum(len(members) for members in groups if len(members) > 1)
        results.append({"bound": bound, "groups": len(groups), "purity": round(pure / len(texts), 4),
                        "grouped_share": round(grouped / len(texts), 4)})
    return {"part": part, "questions": len(texts), "entries": len(set(labels.values())), "results": results}


def main(part: str, bounds: str) -> int:
    print(json.dumps(measure(part, [float(b) for b in bounds.split(",")]), indent=2))
    return 0
