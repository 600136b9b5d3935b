"""The Rasa server's worker threads: one pool per kind of blocking work of a turn.

A turn leaves the event loop three times: to load the conversation, to run the NLU pipeline
(bot/rasa_server/hot_path/nlu_in_thread.py) and to save (bot/rasa_server/stores/). With asyncio's one
default pool (2 cores + 4 = 6 threads) for all three and for every channel's small jobs, under
40 concurrent conversations the pool itself became the limit: the GIL sat free 30 % of the time
while turns queued for a thread, and a widget's typing indicator waited behind other customers'
NLU. Each kind has its own pool here, sized by measurement (below); the channels' small jobs
keep asyncio's default pool to themselves.

`run` carries the caller's context variables into the thread, as `asyncio.to_thread` does: the
save tells the turn's outbox (a context variable) whether it committed.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

# Threads per pool. Measured with 40 concurrent conversations on 2 cores (ours alone, two runs
# each; the shared default pool gave 34 turns/s, p99 1.6 s): NLU 6 / store 4 threads 39 turns/s,
# p99 2.2 s; 3 / 3 41-42, p99 1.2-1.3 s; 2 / 1 39, p99 1.2-1.3 s; 1 / 1 41-44; 1 / 4 41-42;
# **1 / 2: 44-46 turns/s, p99 1.0-1.1 s**. One NLU thread is enough because most of its work
# needs the GIL the event loop needs too; what it buys is that its GIL-free part (the encoders'
# ONNX and matrix products; TensorFlow's kernels too when this was measured) runs beside the
# loop's Python. More NLU threads only
# queue for the GIL, and the loop, which finishes the turns, waits behind them.
# Measured again in session 15 (docs/benchmarks.md): with 2 NLU threads both sat 0.92 busy for
# the same turns/s as one, and a 1 ms GIL switch interval gave fewer turns.
SIZES = {"nlu": 1, "store": 2}

_pools: dict[str, ThreadPoolExecutor] = {}
_lock = threading.Lock()


def pool(kind: str) -> ThreadPoolExecutor:
    """The process's pool for `kind` ("nlu", "store"), started on first use."""
    with _lock:
        if kind not in _pools:
            _pools[kind] = ThreadPoolExecutor(SIZES[kind], thread_name_prefix=f"rasa-{kind}")
        return _pools[kind]


async def run(kind: str, func: Callable[..., T], *args: Any) -> T:
    """`func(*args)` in the `kind` pool, with the caller's context variables."""
    context = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(pool(kind), functools.partial(context.run, func, *args))
