"""Unanswered questions grouped by meaning, most frequent first, and turned into knowledge.

`group` puts each question in the first group whose first question it is similar to (cosine
of the FAQ encoder's unit vectors ≥ threshold), so "do you ship to Ireland" and "delivery to
Dublin?" land together; each group lists its example wordings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np

SIMILAR = 0.7
MAX_EXAMPLES = 8


def group(questions: list[str], encode: Callable[[list[str]], np.ndarray],
          threshold: float = SIMILAR) -> list[dict[str, Any]]:
    """Groups of similar questions: {"question", "count", "examples"}, most frequent first."""
    counts = Counter(q.strip() for q in questions if q and q.strip())
    if not counts:
        return []
    texts = [text for text, _ in counts.most_common()]
    vectors = encode(texts)
    groups: list[dict[str, Any]] = []
    heads: list[np.ndarray] = []
    for text, vector in zip(texts, vectors):
        similarities = [float(head @ vector) for head in heads]
        best = int(np.argmax(similarities)) if similarities else -1
        if best >= 0 and similarities[best] >= threshold:
            groups[best]["count"] += counts[text]
            if len(groups[best]["examples"]) < MAX_EXAMPLES:
                groups[best]["examples"].append(text)
        else:
            heads.append(vector)
            groups.append({"question": text, "count": counts[text], "examples": [text]})
    return sorted(groups, key=lambda g: -g["count"])
