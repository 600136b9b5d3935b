"""The knowledge base from the console: search it by meaning (agents, while helping), add
entries and wordings, and see the unanswered questions grouped by meaning (supervisors: the
loop that turns what customers asked into knowledge).

Searching and grouping ask the running Rasa server (bot/rasa_server/faq_api.py), which holds the
encoders for the customers' messages anyway: the console loads no model of its own.
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from bot.config import Settings
from bot.console.access import logged_in, settings_of, supervisor, supervisor_change
from bot.console.sessions import LoggedIn
from bot.domain.insight import metrics, report, source, unanswered
from bot.rasa_api import faq_encode, faq_search
from faq_index import kb_edit

MAX_QUERY_CHARS = 500
GROUPING_BATCH = 8
router = APIRouter()


class NewEntry(BaseModel):
    id: str = Field(..., max_length=64, description="e.g. delivery-ireland")
    category: str = Field(..., max_length=32)
    question: str = Field(..., min_length=3, max_length=300)
    answer: str = Field(..., min_length=3, max_length=4000)
    paraphrases: list[str] = Field(..., max_items=50)


class NewParaphrases(BaseModel):
    entry_id: str = Field(..., max_length=64)
    paraphrases: list[str] = Field(..., min_items=1, max_items=50)


@router.get("/api/faq", summary="Search the knowledge base by meaning")
async def faq(request: Request, q: str = "", _: LoggedIn = Depends(logged_in)) -> dict[str, Any]:
    query = q.strip()[:MAX_QUERY_CHARS]
    if not query:
        return {"results": []}
    result = await asyncio.to_thread(faq_search, settings_of(request), query, 5)
    return {"results": result["candidates"]}


@router.post("/api/kb/entries", summary="Add a new FAQ entry (the next index build picks it up)")
def add_kb_entry(entry: NewEntry, request: Request, _: LoggedIn = Depends(supervisor_change)) -> dict[str, Any]:
    path = kb_edit.add_entry(settings_of(request).kb_dir, entry.id, entry.category, entry.question, entry.answer,
                             entry.paraphrases)
    return {"written": path.name}


@router.post("/api/kb/paraphrases", summary="Add wordings to an existing FAQ entry")
def add_kb_paraphrases(body: NewParaphrases, request: Request,
                       _: LoggedIn = Depends(supervisor_change)) -> dict[str, Any]:
    return {"written": kb_edit.add_paraphrases(settings_of(request).kb_dir, body.entry_id, body.paraphrases).name}


@router.get("/api/unanswered", summary="Unanswered questions grouped by meaning, most frequent first (supervisors)")
async def unanswered_api(request: Request, since: str | None = None, until: str | None = None,
                         channel: str | None = None, _: LoggedIn = Depends(supervisor)) -> dict[str, Any]:
    settings = settings_of(request)
    start, end = report.date_range(since, until)
    records = (await asyncio.to_thread(source.load, settings.database_url, start, end, channel or None)).records
    questions = metrics.unanswered_questions(records)  # not the whole report: only its list
    return {"groups": await asyncio.to_thread(_grouped, settings, [q["text"] for q in questions])}


def _grouped(settings: Settings, texts: list[str]) -> list[dict[str, Any]]:
    def encode(batch: list[str]) -> np.ndarray:
        """Questions cut as the search box cuts them, a few per encoder pass: a pass's memory grows
        with texts × length², and one pass over hundreds of long ones grew the process by 116 MiB
        that it kept (tests/fuzz)."""
        cut = [text[:MAX_QUERY_CHARS] for text in batch]
        parts = [np.asarray(faq_encode(settings, cut[i:i + GROUPING_BATCH]), dtype=np.float32)
                 for i in range(0, len(cut), GROUPING_BATCH)]
        return np.concatenate(parts) if parts else np.zeros((0, 0), dtype=np.float32)

    groups = unanswered.group(texts, encode)
    for found in groups:
        best = faq_search(settings, found["question"][:MAX_QUERY_CHARS], 1)["candidates"]
        found["closest_entry"] = {"id": best[0]["id"], "question": best[0]["question"]} if best else None
    return groups
