"""The knowledge base from the console: search it by meaning (agents, while helping), add
entries and wordings, and see the unanswered questions grouped by meaning (supervisors: the
loop that turns what customers asked into knowledge).

The console keeps its own FAQ index reader, loaded once and reloaded when a new build appears.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import numpy as np
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from bot.config import Settings
from bot.console.access import logged_in, settings_of, supervisor, supervisor_change
from bot.console.sessions import LoggedIn
from bot.domain.insight import metrics, report, source, unanswered
from faq_index import kb_edit

logger = logging.getLogger(__name__)
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
    result = await asyncio.to_thread(faq_index(settings_of(request)).search, query, 5)
    return {"results": [c.__dict__ for c in result.candidates]}


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
    index = faq_index(settings)
    encoder = index.snapshot.encoder

    def encode(batch: list[str]) -> np.ndarray:
        """Questions cut as the search box cuts them, a few per encoder pass: a pass's memory grows
        with texts × length², and one pass over hundreds of long ones grew the console by 116 MiB
        that it kept (tests/fuzz)."""
        cut = [text[:MAX_QUERY_CHARS] for text in batch]
        parts = [encoder.encode(cut[i:i + GROUPING_BATCH]) for i in range(0, len(cut), GROUPING_BATCH)]
        return np.concatenate(parts) if parts else np.zeros((0, encoder.dim), dtype=np.float32)

    groups = unanswered.group(texts, encode)
    for found in groups:
        best = index.search(found["question"], 1).candidates
        found["closest_entry"] = {"id": best[0].id, "question": best[0].question} if best else None
    return groups


def warm_up(settings: Settings) -> None:
    """Load the encoders (an English search asks two spaces, a Chinese one the multilingual)
    before serving: no search waits for them and the process's memory does not grow later."""
    try:
        for query in ("warm up", "预热"):
            faq_index(settings).search(query)
    except Exception:  # no index yet: the console still serves everything else
        logger.exception("FAQ search warm-up failed")


_index = None
_index_lock = threading.Lock()


def faq_index(settings: Settings) -> Any:
    """The FAQ index, loaded once (the encoder takes a few seconds and some memory)."""
    global _index
    with _index_lock:
        if _index is None:
            import torch

            from faq_index import LiveIndex

            torch.set_num_threads(1)  # a search now and then; leave the cores to Rasa
            _index = LiveIndex(settings.index_dir, poll_seconds=max(settings.index_poll_seconds, 5.0))
        return _index
