"""Messages parsed together in the NLU thread (bot/rasa_server/hot_path/nlu_in_thread.py) get what
each gets alone: the trained model with every hot-path change in place parses the same messages
one at a time and then all at once (as concurrent turns do), each with its own conversation's
tracker, in a process of its own (the changes are process-wide)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ROOT

pytestmark = pytest.mark.integration

PARSE = """
import asyncio, json, sys
from bot.rasa_server.__main__ import _one_thread_per_native_library
_one_thread_per_native_library()
from bot.rasa_server import hot_path
hot_path.install()
from bot.rasa_server.hot_path import nlu_in_thread
sizes, in_batches = [], nlu_in_thread._parse_together
nlu_in_thread._parse_together = lambda requests: sizes.append(len(requests)) or in_batches(requests)
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.shared.core.events import BotUttered
from rasa.shared.core.trackers import DialogueStateTracker
texts = json.loads(sys.argv[2])
agent = Agent.load(sys.argv[1])

def tracker(i):
    # Every other conversation's bot has just asked for a rating: "5 stars" means a rating there only.
    asked = [BotUttered("How did we do?", {"buttons": [{"title": "5", "payload": '/rate{"rating": 5}'}]})]
    return DialogueStateTracker.from_events(f"c{i}", asked if i % 2 else [])

def parse(i, text):
    return agent.processor.parse_message(UserMessage(text, sender_id=f"c{i}"), tracker(i))

async def alone():
    return [await parse(i, text) for i, text in enumerate(texts)]

async def together():
    return await asyncio.gather(*(parse(i, text) for i, text in enumerate(texts)))

first = asyncio.run(alone())
alone_sizes = list(sizes)
second = asyncio.run(together())
print(json.dumps({"alone": first, "together": second, "alone_sizes": alone_sizes,
                  "together_sizes": sizes[len(alone_sizes):]}))
"""

TEXTS = ["where is my parcel?", "5 stars", "5 stars", "how do I reset my password", "我的包裹在哪里",
         "退货要多久", "hello", "I want to talk to a person", "yes", "asdfgh qwerty", "", "/greet",
         "can I pay with paypal", "my order arrived broken and I am furious", "do you ship to Norway?",
         "what are your opening hours", "change my delivery address", "thanks, bye", "😀",
         "is there a student discount", "我想和人工客服说话"]


def test_messages_parsed_together_each_get_what_they_get_alone(prepared_model: Path) -> None:
    done = subprocess.run([sys.executable, "-c", PARSE, str(prepared_model), json.dumps(TEXTS)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300,
                          env=os.environ | {"PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["alone_sizes"] == [1] * len(TEXTS)
    assert max(result["together_sizes"]) > 1 and sum(result["together_sizes"]) == len(TEXTS)
    for text, alone, together in zip(TEXTS, result["alone"], result["together"]):
        assert together["text"] == alone["text"] == text
        assert together["intent"]["name"] == alone["intent"]["name"], text
        assert abs(together["intent"]["confidence"] - alone["intent"]["confidence"]) < 1e-5, text
        assert together.get("understanding", {}).get("reason") == alone.get("understanding", {}).get("reason"), text
        faq, faq_alone = together.get("faq"), alone.get("faq")
        assert (faq is None) == (faq_alone is None), text
        if faq:
            assert faq["decision"] == faq_alone["decision"], text
            assert [c["id"] for c in faq["candidates"]] == [c["id"] for c in faq_alone["candidates"]], text
            # The multilingual encoder's products over several texts round differently in float32
            # (1e-7): a score rounded to 4 places may move by its last digit.
            scores = zip(faq["candidates"], faq_alone["candidates"])
            assert all(abs(mine["score"] - theirs["score"]) <= 1.5e-4 for mine, theirs in scores), text
    # Each message read its own conversation: the same words are a rating only where one was asked for.
    reasons = [parsed.get("understanding", {}).get("reason") for parsed in result["together"][1:3]]
    assert reasons == ["the bot asked for a rating", "a rating nobody asked for"]
