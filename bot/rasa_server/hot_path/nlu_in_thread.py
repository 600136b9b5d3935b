"""A message's NLU pipeline runs in a worker thread, not on the Rasa server's event loop.

Why: the pipeline ends with the FAQ search (bot/rasa_server/understanding/), whose encoders cost
about 32 ms of CPU per question on one core when this was measured (multilingual E5 in C 25 ms,
USE in numpy 5 ms, the tuned MiniLM in onnxruntime 2 ms; `python -m bot bench latency
--profile`; E5 is an option now, no longer the default). Rasa calls the
pipeline synchronously from its event loop, so while one question was encoded no other
conversation moved, although the encoders release the GIL: the second core sat idle. From a
worker thread, one turn's encoding runs on one core while the event loop serves the other
turns on the other (docs/benchmarks.md: before/after under 40 conversations).

Running the pipeline concurrently is safe: the tokenizer and featurizers keep no state while
predicting, DIET's TensorFlow graph and onnxruntime's session may be called from several
threads, the E5 engine allocates its buffers per call, the FAQ index is swapped atomically on
an edit, and the tracker the turn decision reads belongs to this turn (Rasa's lock store holds
the conversation).

The rest of `MessageProcessor.parse_message` is Rasa's own steps, called as Rasa calls them.
"""

from __future__ import annotations

from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_server.hot_path import workers


def install() -> None:
    """Parse messages off the event loop (called before Rasa starts)."""
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
        parse_data = await workers.run("nlu", self._parse_message_with_graph, message, tracker,
                                       only_output_properties)
        self._update_full_retrieval_intent(parse_data)
        self._check_for_unseen_features(parse_data)
        return parse_data

    parse_message.in_thread = True  # type: ignore[attr-defined]
    MessageProcessor.parse_message = parse_message  # type: ignore[method-assign]
