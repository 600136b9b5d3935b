"""`python -m bot bench decisions`: what the whole running bot decides on customer questions.

Sends every question of the test part of tests/data/customer_questions/ (written apart from
the KB, never tuned on) through the real stack over REST (Rasa NLU and rules, the action
server, the records in SQLite), one fresh conversation per question, then reads the
interaction records back and sorts what the customer got:

- answerable questions: answered right, answered wrong, did-you-mean with / without the right
  entry, declined ("I don't know"), or taken by another intent (a form, small talk, ...);
- out-of-scope questions: declined, answered, given did-you-mean buttons, or another intent.

The same questions through the FAQ engine alone (faq_index, no Rasa) are measured beside it:
the gap between the two is what the dialogue adds or loses. Prints one JSON report; draws a
chart.

    python -m bot bench decisions [--part test] [--chart docs/img/decisions.png]
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import uuid
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
from tqdm import tqdm

from bot.config import ROOT, Settings, load_settings
from faq_index.build import seed_cache
from faq_index.customers import Question, load_questions
from faq_index.search import LiveIndex, SearchResult

ANSWERABLE = ("answered_right", "answered_wrong", "suggested_with_right", "suggested_without_right",
              "declined", "other_intent")
OUT_OF_SCOPE = ("declined", "answered", "suggested", "other_intent")
FAQ_DECISIONS = {"answer", "suggest", "unknown", "selected"}


def outcome(question: Question, decision: str | None, answered: str | None, offered: list[str]) -> str:
    """What the customer got: one of ANSWERABLE or OUT_OF_SCOPE. `decision` is the FAQ's
    (None when no FAQ reply came: another intent took the message)."""
    if decision not in FAQ_DECISIONS:
        return "other_intent"
    if not question.answerable:
        return {"answer": "answered", "suggest": "suggested"}.get(decision, "declined")
    if decision == "answer":
        return "answered_right" if answered in question.faq_ids else "answered_wrong"
    if decision == "suggest":
        return "suggested_with_right" if set(offered) & set(question.faq_ids) else "suggested_without_right"
    return "declined"


def figures(questions: list[Question], outcomes: list[str]) -> dict[str, Any]:
    """Per language: the share of each outcome among answerable and among out-of-scope questions."""
    report: dict[str, Any] = {}
    for language in sorted({q.language for q in questions}):
        report[language] = {}
        for kind, names, wanted in (("answerable", ANSWERABLE, True), ("out_of_scope", OUT_OF_SCOPE, False)):
            picked = [o for q, o in zip(questions, outcomes) if q.language == language and q.answerable == wanted]
            counts = Counter(picked)
            report[language][kind] = {"questions": len(picked)} | {
                name: round(counts[name] / max(1, len(picked)), 4) for name in names}
    return report


def engine_outcomes(index_dir: Path, questions: list[Question]) -> list[str]:
    """The FAQ engine's decision on each question, without Rasa."""
    index = LiveIndex(index_dir, poll_seconds=3600)
    try:
        results: list[SearchResult] = index.snapshot.search_many([q.text for q in questions], k=3)
    finally:
        index.close()
    return [outcome(q, r.decision, r.top.id if r.top else None, [c.id for c in r.candidates])
            for q, r in zip(questions, results)]


def bot_outcomes(settings: Settings, questions: list[Question], concurrency: int = 4) -> list[dict[str, Any]]:
    """Each question as a fresh conversation over REST; what its records say the bot did."""
    senders = [f"decisions-{uuid.uuid4().hex[:10]}" for _ in questions]
    asyncio.run(_send_all(f"{settings.rasa_url}/webhooks/rest/webhook", senders, questions, concurrency))
    return [_read_turn(settings.database_url, sender, question) for sender, question in zip(senders, questions)]


async def _send_all(url: str, senders: list[str], questions: list[Question], concurrency: int) -> None:
    gate = asyncio.Semaphore(concurrency)
    timeout = aiohttp.ClientTimeout(total=120)

    async def one(session: aiohttp.ClientSession, sender: str, text: str, bar: tqdm) -> None:
        async with gate:
            async with session.post(url, json={"sender": sender, "message": text}) as reply:
                if reply.status != 200:
                    raise RuntimeError(f"the bot answered {reply.status} to {text!r}: {await reply.text()}")
            bar.update(1)

    with tqdm(total=len(questions), desc="questions through the bot", unit="question", leave=False) as bar:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            await asyncio.gather(*[one(session, s, q.text, bar) for s, q in zip(senders, questions)])


def _read_turn(database_url: str, sender: str, question: Question) -> dict[str, Any]:
    from bot.domain.storage.records import iter_records

    records = list(iter_records(database_url, conversation_id=sender))
    said = next((r for r in records if r["actor"] == "customer"), None)
    if said is None:
        raise RuntimeError(f"no customer record for {question.text!r}: the turn was lost")
    faq = next((r for r in records if r["actor"] == "bot" and r["faq_decision"]), None)
    replies = [r["action"] or "" for r in records if r["actor"] == "bot"]
    decided = outcome(question, faq["faq_decision"] if faq else None, faq["faq_id"] if faq else None,
                      [c["id"] for c in (faq["faq_candidates"] or [])] if faq else [])
    return {"text": question.text, "language": question.language, "expected": list(question.faq_ids),
            "outcome": decided, "intent": said["intent"], "confidence": said["intent_confidence"], "replies": replies,
            "answered": faq["faq_id"] if faq else None}


def run(part: str, chart: Path | None) -> dict[str, Any]:
    """Start the stack on free ports (fresh database and index), measure, stop."""
    from bot.ops.runner import Stack, free_port

    base = load_settings()
    questions = load_questions(base.calibration_dir, part)
    work = Path(tempfile.mkdtemp(prefix="bench-decisions-"))
    settings = replace(base, database_url=f"sqlite:///{work / 'records.sqlite3'}", rasa_port=free_port(),
                       actions_port=free_port(), console_port=free_port(), run_dir=work / "run",
                       index_dir=work / "index", rate_limit="off")
    seed_cache(base.index_dir, settings.index_dir)
    stack = Stack(settings)
    model = stack.prepare(progress=True)  # also builds this run's index, calibrated on the tuning part
    engine = engine_outcomes(settings.index_dir, questions)
    stack.start(model)
    try:
        turns = bot_outcomes(settings, questions)
    finally:
        stack.stop()
    report = {"part": part, "questions": len(questions),
              "bot": figures(questions, [t["outcome"] for t in turns]),
              "engine": figures(questions, engine),
              "taken_by": dict(Counter(t["intent"] for t in turns if t["outcome"] == "other_intent")),
              "misses": [t for t in turns if t["outcome"] not in ("answered_right", "declined")]}
    if chart is not None:
        _chart(report, chart)
    return report


def _chart(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {"answered_right": "#2e7d32", "answered_wrong": "#c62828", "suggested_with_right": "#9ccc65",
               "suggested_without_right": "#ffb300", "declined": "#90a4ae", "other_intent": "#6a1b9a",
               "answered": "#c62828", "suggested": "#ffb300"}
    rows = [(f"{who} · {language} · {kind.replace('_', ' ')}", report[who][language][kind], names)
            for kind, names in (("answerable", ANSWERABLE), ("out_of_scope", OUT_OF_SCOPE))
            for language in sorted(report["bot"]) for who in ("engine", "bot")]
    figure, axis = plt.subplots(figsize=(10, 0.45 * len(rows) + 1.4))
    for y, (_, shares, names) in enumerate(rows):
        left = 0.0
        for name in names:
            axis.barh(y, shares[name], left=left, color=colours[name], label=name.replace("_", " "))
            left += shares[name]
    axis.set_yticks(range(len(rows)), [label for label, _, _ in rows])
    axis.invert_yaxis()
    axis.set_xlim(0, 1)
    axis.set_xlabel(f"share of questions (test part, {report['questions']} questions)")
    handles, labels = axis.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    axis.legend(unique.values(), unique.keys(), loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=4, fontsize=8)
    axis.set_title("What customers get: the running bot and the FAQ engine alone")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)


def main(part: str, chart: str | None) -> int:
    report = run(part, Path(chart) if chart else None)
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":  # pragma: no cover
    main("test", str(ROOT / "docs" / "img" / "decisions.png"))
