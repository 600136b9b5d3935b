"""The knowledge base from the console: search it by meaning (agents, while helping), add
entries and wordings, and see the unanswered questions grouped by meaning (supervisors: the
loop that turns what customers asked into knowledge).

Searching and grouping ask the running Rasa server (bot/rasa_server/faq_api.py), which holds the
encoders for the customers' messages anyway: the console loads no model of its own.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from typing import Any

import numpy as np
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from bot.config import Settings
from bot.console import faq_memo, kb_rebuild
from bot.console.access import logged_in, settings_of, supervisor, supervisor_change
from bot.console.sessions import LoggedIn
from bot.domain.insight import metrics, report, source, unanswered
from bot.rasa_api import faq_search
from faq_index import kb_edit

MAX_QUERY_CHARS = 500
# A page of groups a supervisor reads; the rest are counted (`groups_total`). Each group shown asks
# the search about up to 8 of its wordings, so the bound also bounds a view's cost.
MAX_GROUPS_SHOWN = 200
router = APIRouter()


class NewEntry(BaseModel):
    id: str = Field(..., max_length=64, description="e.g. delivery-ireland")
    category: str = Field(..., max_length=32)
    question: str = Field(..., min_length=3, max_length=300)
    answer: str = Field(..., min_length=3, max_length=4000)
    paraphrases: list[str] = Field(..., max_items=50)
    preview: bool = Field(False, description="only show what would be written (a diff of the file)")


class NewParaphrases(BaseModel):
    entry_id: str = Field(..., max_length=64)
    paraphrases: list[str] = Field(..., min_items=1, max_items=50)
    preview: bool = Field(False, description="only show what would be written (a diff of the file)")


@router.get("/api/faq", summary="Search the knowledge base by meaning")
async def faq(request: Request, q: str = "", _: LoggedIn = Depends(logged_in)) -> dict[str, Any]:
    query = q.strip()[:MAX_QUERY_CHARS]
    if not query:
        return {"results": []}
    result = await asyncio.to_thread(faq_search, settings_of(request), query, 5)
    return {"results": result["candidates"]}


@router.post("/api/kb/entries", summary="Add a new FAQ entry, or preview it; the index is rebuilt after a write")
def add_kb_entry(entry: NewEntry, request: Request, _: LoggedIn = Depends(supervisor_change)) -> dict[str, Any]:
    settings = settings_of(request)
    edit = kb_edit.add_entry(settings.kb_dir, entry.id, entry.category, entry.question, entry.answer,
                             entry.paraphrases, preview=entry.preview)
    return _edited(settings, edit)


@router.post("/api/kb/paraphrases", summary="Add wordings to an existing FAQ entry, or preview them")
def add_kb_paraphrases(body: NewParaphrases, request: Request,
                       _: LoggedIn = Depends(supervisor_change)) -> dict[str, Any]:
    settings = settings_of(request)
    return _edited(settings, kb_edit.add_paraphrases(settings.kb_dir, body.entry_id, body.paraphrases,
                                                     preview=body.preview))


@router.get("/api/kb/rebuild", summary="The index rebuild after an edit: running, done (version, thresholds), "
                                       "failed (supervisors)")
def kb_rebuild_status(_: LoggedIn = Depends(supervisor)) -> dict[str, Any]:
    return kb_rebuild.status()


def _edited(settings: Settings, edit: kb_edit.Edit) -> dict[str, Any]:
    """What was (or would be) written; after a write the index is rebuilt and recalibrated."""
    rebuild = kb_rebuild.request(settings) if edit.written else None
    return {"file": edit.path.name, "diff": edit.diff, "written": edit.path.name if edit.written else None,
            "rebuild": rebuild}


@router.get("/api/unanswered", summary="Unanswered questions grouped by meaning, most frequent first (supervisors)")
async def unanswered_api(request: Request, since: str | None = None, until: str | None = None,
                         channel: str | None = None,
                         limit: int = Query(MAX_GROUPS_SHOWN, ge=1, le=MAX_GROUPS_SHOWN,
                                            description="the most frequent groups to list"),
                         _: LoggedIn = Depends(supervisor)) -> dict[str, Any]:
    settings = settings_of(request)
    start, end = report.date_range(since, until)
    records = (await asyncio.to_thread(source.load, settings.database_url, start, end, channel or None)).records
    questions = metrics.unanswered_questions(records)  # not the whole report: only its list
    reasons: dict[str, Counter] = defaultdict(Counter)
    for question in questions:
        reasons[(question["text"] or "").strip()][question["why"]] += 1
    groups = await asyncio.to_thread(_grouped, settings, [q["text"] for q in questions], reasons, limit)
    return {"groups": groups[:limit], "groups_total": len(groups), "bound": unanswered.SIMILAR}


def _grouped(settings: Settings, texts: list[str], reasons: dict[str, Counter], shown: int) -> list[dict[str, Any]]:
    """Every group, the first `shown` with the entry their wordings agree on."""
    def encode(batch: list[str]) -> np.ndarray:
        """Questions cut as the search box cuts them."""
        return faq_memo.vectors(settings, [text[:MAX_QUERY_CHARS] for text in batch])

    groups = unanswered.group(texts, encode, reasons=reasons)
    as_searched = {text: text[:MAX_QUERY_CHARS] for found in groups[:shown] for text in found["examples"]}
    firsts = faq_memo.first_entries(settings, list(as_searched.values()))
    for found in groups[:shown]:
        found["closest_entry"] = _agreed_entry([firsts[as_searched[text]] for text in found["examples"]])
    return groups


def _agreed_entry(tops: list[dict[str, Any] | None]) -> dict[str, Any] | None:
    """The entry most of a group's wordings find first (`tops`: each wording's first entry),
    with how many agree; None when no entry is the first for most of them (then only a new entry
    is offered: adding a mixed group to one entry would teach it the wrong questions)."""
    firsts = Counter((top["id"], top["question"]) for top in tops if top)
    if not firsts:
        return None
    (entry_id, question), agree = firsts.most_common(1)[0]
    if agree * 2 <= len(tops):
        return None
    return {"id": entry_id, "question": question, "agree": agree, "of": len(tops)}
