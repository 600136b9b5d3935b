"""The Rasa server parses a message in a worker thread (bot/rasa_server/hot_path/nlu_in_thread.py)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor

from bot.rasa_server.hot_path import nlu_in_thread


class Processor:
    """What parse_message uses of a MessageProcessor: a pipeline that waits for the event loop."""

    http_interpreter = None

    def __init__(self, other_turn_served: threading.Event) -> None:
        self.other_turn_served = other_turn_served
        self.steps: list[str] = []

    def _parse_message_with_graph(self, message: UserMessage, tracker: Any, only_output: bool) -> dict[str, Any]:
        # On the event loop this would wait forever: the other turn could never run.
        assert self.other_turn_served.wait(timeout=10), "the event loop was blocked while parsing"
        self.steps.append("parsed")
        return {"text": message.text, "intent": {"name": "ask_question", "confidence": 0.9}, "entities": []}

    def _update_full_retrieval_intent(self, parse_data: dict[str, Any]) -> None:
        self.steps.append("retrieval intent")

    def _check_for_unseen_features(self, parse_data: dict[str, Any]) -> None:
        self.steps.append("unseen features")


def test_while_a_message_is_parsed_the_event_loop_serves_another_turn() -> None:
    nlu_in_thread.install()
    nlu_in_thread.install()  # twice is once

    async def both() -> dict[str, Any]:
        served = threading.Event()
        processor = Processor(served)
        parsing = asyncio.create_task(MessageProcessor.parse_message(  # type: ignore[arg-type]
            processor, UserMessage("how long does delivery take?", sender_id="c1")))

        async def other_turn() -> None:
            await asyncio.sleep(0.05)
            served.set()

        await other_turn()
        parse_data = await parsing
        assert processor.steps == ["parsed", "retrieval intent", "unseen features"]  # Rasa's steps, in order
        return parse_data

    assert asyncio.run(both())["intent"]["name"] == "ask_question"
