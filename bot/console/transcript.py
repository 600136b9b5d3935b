"""How a conversation's records read to an agent: what the customer clicked, not the payload
the button sent (`/ask_question{"faq_id": ...}`, `/affirm`, `/rate{"rating": 5}`), and which
did-you-mean options the bot offered, a link to a file the customer sent, and who wrote an
internal note. The records keep the raw text (`text`); the console shows `shown`, `offered`,
`attachment` and `note_by`.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

from bot.domain import attachments
from bot.domain.handoff.notes import is_note
from faq_index.kb import KnowledgeBaseError, load_kb

_PAYLOAD = re.compile(r"^/(\w+)(\{.*\})?$", re.DOTALL)
CLICKED = {"affirm": "Yes", "deny": "No", "cancel": "Cancel", "request_human": "Talk to a person",
           "greet": "Hello", "goodbye": "Goodbye"}


def readable(records: list[dict[str, Any]], kb_dir: Path) -> list[dict[str, Any]]:
    """The records with `shown` (customer clicks in words) and `offered` (did-you-mean questions)."""
    questions = kb_questions(kb_dir)
    return [record | _reading(record, questions) for record in records]


def kb_questions(kb_dir: Path) -> dict[str, str]:
    """Entry id -> its question (cached until a KB file changes)."""
    return _questions(str(kb_dir), _newest_change(kb_dir))


def _reading(record: dict[str, Any], questions: dict[str, str]) -> dict[str, Any]:
    if is_note(record):
        authors = [e.get("value") for e in record.get("entities") or [] if e.get("entity") == "author"]
        return {"note_by": str(authors[0]) if authors else "an agent"}
    if record["actor"] == "customer":
        sent = [attachments.id_of(str(e.get("value"))) for e in record.get("entities") or []
                if e.get("entity") == "attachment"]
        files = {"attachment": f"/api/attachments/{sent[0]}"} if sent and sent[0] else {}
        return {"shown": _clicked(record.get("text") or "", questions)} | files
    if record.get("faq_decision") == "suggest":
        return {"offered": [questions.get(c.get("id"), c.get("id")) for c in record.get("faq_candidates") or []]}
    return {}


def _clicked(text: str, questions: dict[str, str]) -> str:
    """A button's payload as the customer saw the button; any other text as it is."""
    match = _PAYLOAD.match(text.strip())
    if not match:
        return text
    intent, raw = match.group(1), match.group(2)
    try:
        entities = json.loads(raw) if raw else {}
    except json.JSONDecodeError:
        return text
    if intent == "ask_question" and isinstance(entities, dict) and entities.get("faq_id") in questions:
        return f"Chose: {questions[entities['faq_id']]}"
    if intent == "rate" and isinstance(entities, dict) and str(entities.get("rating", "")).isdigit():
        return f"Rated {entities['rating']} of 5"
    return f"Clicked: {CLICKED.get(intent, intent.replace('_', ' '))}"


def _newest_change(kb_dir: Path) -> float:
    return max((f.stat().st_mtime for f in Path(kb_dir).glob("*.y*ml")), default=0.0)


@functools.lru_cache(maxsize=4)
def _questions(kb_dir: str, _changed: float) -> dict[str, str]:
    """Entry id -> its question, read again when a KB file changes (no model: YAML only)."""
    try:
        return {entry.id: entry.question for entry in load_kb(kb_dir)}
    except KnowledgeBaseError:
        return {}
