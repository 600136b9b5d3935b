"""Customers' messages are parsed in the NLU worker thread, not on the Rasa server's event
loop, and the messages that arrive while it is busy are parsed together.

Off the loop: the pipeline ends with the FAQ search (bot/rasa_server/understanding/), whose
encoders release the GIL for their matrix products. Rasa calls the pipeline synchronously from
its event loop, so while one question was encoded no other conversation moved and the second
core sat idle; from a worker thread one turn's encoding runs beside the loop serving the others
(docs/benchmarks.md: before/after under 40 conversations).

Together: under 40 conversations that one thread was the busy stage (busy 0.94 of the time,
session 15, docs/benchmarks.md), and much of its time was waiting to get the GIL back after
each C call (the encoders' matrix products and ONNX call, the tokenizer): 5.8 ms of wall time
for a 3.1 ms ONNX call. Parsing the messages that queued meanwhile as one list (Rasa's graph
components take lists) gives the multilingual encoder one set of matrix products for all of
them and runs the rest back to back. One customer alone still gets a list of one, at once.

What each message gets is what it would get alone (tests/integration/test_nlu_batches.py):
every component reads each message by itself, the FAQ search encodes the int8 English space's
queries one at a time (faq_index/int8.py: its vectors depend on the other texts of a call), and
the turn decision reads each message's own tracker: the graph's tracker input is then the list
of the messages' trackers, in order, which only TurnUnderstanding reads (any other component
that reads the tracker gets its messages one at a time). A batch whose graph run fails is
parsed again one message at a time, so an error reaches only the turn that caused it.

The rest of `MessageProcessor.parse_message` is Rasa's own steps, called as Rasa calls them.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT

from bot.rasa_server.hot_path import graph_runner, workers
from bot.rasa_server.understanding.component import TurnUnderstanding

# The most messages parsed together. A batch's first reply waits for the whole batch: 16 is
# about a third of a second of NLU at 40 conversations and leaves the p99 to the queue.
# Measured (ours alone, 40 conversations, one hour, session 16): one message at a time 37-38
# turns/s; at most 8 together 54; 16, 51-55; 40, 51-57 (docs/benchmarks.md, sessions 16-17).
MAX_BATCH = 16


@dataclass
class _Request:
    """One message waiting to be parsed, and where its parse data goes."""

    processor: MessageProcessor
    message: UserMessage
    tracker: DialogueStateTracker
    only_output_properties: bool
    parsed: asyncio.Future


class _Queue:
    """The messages waiting for the NLU thread, on one event loop; at most one batch at a time
    is in the thread, and whatever waits when it ends goes next."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.waiting: list[_Request] = []
        self.busy = False

    def submit(self, request: _Request) -> None:
        self.waiting.append(request)
        if not self.busy:
            self._next()

    def _next(self) -> None:
        batch, self.waiting = self.waiting[:MAX_BATCH], self.waiting[MAX_BATCH:]
        self.busy = bool(batch)
        if batch:
            running = self.loop.run_in_executor(workers.pool("nlu"), parse_batch, batch)
            running.add_done_callback(lambda done: self._finish(batch, done))

    def _finish(self, batch: list[_Request], done: asyncio.Future) -> None:
        error = asyncio.CancelledError() if done.cancelled() else done.exception()
        results: list[Any] = [error] * len(batch) if error is not None else done.result()
        for request, result in zip(batch, results):
            if request.parsed.done():  # the turn was cancelled meanwhile
                continue
            if isinstance(result, BaseException):
                request.parsed.set_exception(result)
            else:
                request.parsed.set_result(result)
        self._next()


_queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Queue] = weakref.WeakKeyDictionary()


def parse_batch(requests: list[_Request]) -> list[dict[str, Any] | BaseException]:
    """Each request's parse data (or the error parsing it raised), in order; in the NLU thread."""
    results: dict[int, dict[str, Any] | BaseException] = {}
    for processor in {id(r.processor): r.processor for r in requests}.values():
        group = [(i, r) for i, r in enumerate(requests) if r.processor is processor]
        if len(group) > 1 and _batchable(processor):
            try:
                results.update(zip((i for i, _ in group), _parse_together([r for _, r in group])))
                continue
            except Exception:  # parsed again one by one below: the error goes to its own turn
                pass
        for i, request in group:
            try:
                results[i] = _parse_together([request])[0]
            except Exception as error:
                results[i] = error
    return [results[i] for i in range(len(requests))]


def _parse_together(requests: list[_Request]) -> list[dict[str, Any]]:
    """Rasa's `_parse_message_with_graph` for several messages of one model in one graph run."""
    processor = requests[0].processor
    target = processor.model_metadata.nlu_target
    trackers = [r.tracker for r in requests]
    outputs = processor.graph_runner.run(
        inputs={PLACEHOLDER_MESSAGE: [r.message for r in requests],
                PLACEHOLDER_TRACKER: trackers if len(requests) > 1 else trackers[0]},
        targets=[target])
    parsed = []
    for message, request in zip(outputs[target], requests):
        parse_data = {TEXT: "", INTENT: {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0}, ENTITIES: []}
        parse_data.update(message.as_dict(only_output_properties=request.only_output_properties))
        parsed.append(parse_data)
    return parsed


def _batchable(processor: MessageProcessor) -> bool:
    """Only TurnUnderstanding reads the tracker in this model's NLU graph (it takes one per
    message); another reader gets its messages one at a time. Worked out once per model."""
    runner = processor.graph_runner
    if "_bot_nlu_batchable" not in runner.__dict__:
        nodes = runner._graph_schema.nodes
        readers = [name for name, needs in graph_runner.needed(runner, (processor.model_metadata.nlu_target,))
                   if PLACEHOLDER_TRACKER in needs]
        runner.__dict__["_bot_nlu_batchable"] = all(issubclass(nodes[name].uses, TurnUnderstanding)
                                                    for name in readers)
    return runner.__dict__["_bot_nlu_batchable"]


def install() -> None:
    """Parse messages off the event loop, together when they queue (called before Rasa starts)."""
    on_the_loop = MessageProcessor.parse_message
    if getattr(on_the_loop, "in_thread", False):
        return

    async def parse_message(self: MessageProcessor, message: UserMessage,
                            tracker: DialogueStateTracker | None = None,
                            only_output_properties: bool = True) -> dict[str, Any]:
        if self.http_interpreter:  # parsed by another server: nothing to move off the loop
            return await on_the_loop(self, message, tracker, only_output_properties)
        if tracker is None:
            tracker = DialogueStateTracker.from_events(message.sender_id, [])
        loop = asyncio.get_running_loop()
        queue = _queues.get(loop) or _queues.setdefault(loop, _Queue(loop))
        request = _Request(self, message, tracker, only_output_properties, loop.create_future())
        queue.submit(request)
        parse_data = await request.parsed
        self._update_full_retrieval_intent(parse_data)
        self._check_for_unseen_features(parse_data)
        return parse_data

    parse_message.in_thread = True  # type: ignore[attr-defined]
    MessageProcessor.parse_message = parse_message  # type: ignore[method-assign]
