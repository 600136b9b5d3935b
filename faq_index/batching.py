"""Serve many concurrent searches with few encoder passes (for async servers).

While one batch is being encoded (in a worker thread, so the event loop keeps accepting
requests), new queries queue up; the next pass takes them all. No waiting is added: a lone
query is encoded at once, and under load the encoder runs once per batch instead of once
per request.
"""

from __future__ import annotations

import asyncio

from faq_index.search import LiveIndex, SearchResult

MAX_BATCH = 32


class BatchedSearch:
    """`await search(query)` over a LiveIndex, batching concurrent queries."""

    def __init__(self, index: LiveIndex, max_batch: int = MAX_BATCH) -> None:
        self.index = index
        self.max_batch = max_batch
        self._pending: list[tuple[str, int, asyncio.Future[SearchResult]]] = []
        self._draining = False

    async def search(self, query: str, k: int = 3) -> SearchResult:
        future: asyncio.Future[SearchResult] = asyncio.get_running_loop().create_future()
        self._pending.append((query, k, future))
        if not self._draining:
            self._draining = True
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
                snapshot = self.index.snapshot  # the whole batch is answered from one version
                k = max(k for _, k, _ in batch)
                try:
                    results = await asyncio.to_thread(snapshot.search_many, [q for q, _, _ in batch], k)
                except Exception as error:  # every waiter learns of the failure
                    for _, _, future in batch:
                        if not future.done():
                            future.set_exception(error)
                    continue
                for (_, wanted, future), result in zip(batch, results):
                    if not future.done():
                        future.set_result(_first(result, wanted))
        finally:
            self._draining = False


def _first(result: SearchResult, k: int) -> SearchResult:
    if len(result.candidates) <= k:
        return result
    return SearchResult(query=result.query, decision=result.decision, candidates=result.candidates[:k],
                        version=result.version)
