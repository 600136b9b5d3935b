"""The Rasa server parses a message in a worker thread (bot/rasa_server/hot_path/nlu_in_thread.py)."""

from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.engine.constants import PLACEHOLDER_MESSAGE
from rasa.shared.nlu.training_data.message import Message

from bot.rasa_server.hot_path import nlu_in_thread


class Graph:
    """The NLU graph as parse_message runs it: it waits for the event loop to serve another turn."""

    def __init__(self, other_turn_served: threading.Event, steps: list[str]) -> None:
        self.other_turn_served = other_turn_served
        self.steps = steps

    def run(self, inputs: dict[str, Any], targets: list[str]) -> dict[str, Any]:
        # On the event loop this would wait forever: the other turn could never run.
        assert self.other_turn_served.wait(timeout=10), "the event loop was blocked while parsing"
        self.steps.append("parsed")
        parsed = []
        for message in inputs[PLACEHOLDER_MESSAGE]:
            parsed.append(Message(data={"text": message.text}, output_properties={"text"}))
            parsed[-1].set("intent", {"name": "ask_question", "confidence": 0.9}, add_to_output=True)
        return {targets[0]: parsed}


class Processor:
    """What parse_message uses of a MessageProcessor."""

    http_interpreter = None
    model_metadata = SimpleNamespace(nlu_target="run_RegexMessageHandler")

    def __init__(self, other_turn_served: threading.Event) -> None:
        self.steps: list[str] = []
        self.graph_runner = Graph(other_turn_served, self.steps)

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
