"""DIET loaded without a training step (bot/rasa_server/hot_path/model_load.py) predicts exactly as Rasa's own
load: the trained model is loaded both ways, each in its own process (the change is process-wide),
and every intent ranking of a sample of the training wordings, a Chinese question and gibberish
is compared."""

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
import asyncio, json, sys, yaml
from bot.rasa_server.__main__ import _one_thread_per_native_library
_one_thread_per_native_library()
if sys.argv[1] in ("without-training-step", "numpy"):
    from bot.rasa_server.hot_path import model_load
    model_load.install()
if sys.argv[1] == "numpy":
    from bot.rasa_server.hot_path import diet_numpy
    diet_numpy.install()
from rasa.nlu.classifiers.diet_classifier import DIET
in_tensorflow, tensorflow_calls = DIET._rasa_predict, []
DIET._rasa_predict = lambda self, batch: tensorflow_calls.append(1) or in_tensorflow(self, batch)
from rasa.core.agent import Agent
examples = [line.strip()[2:] for item in yaml.safe_load(open("data/nlu.yml"))["nlu"] if "examples" in item
            for line in item["examples"].splitlines() if line.strip().startswith("- ")]
texts = examples[::max(1, len(examples) // 60)] + ["我的包裹在哪里", "asdfgh qwerty", "", " ", "😀"]
agent = Agent.load(sys.argv[2])
rankings = [asyncio.run(agent.parse_message(text))["intent_ranking"] for text in texts]
from rasa.utils.tensorflow.models import RasaModel
model = [node._component for node in agent.processor.graph_runner._instantiated_nodes.values()
         if type(node._component).__name__ == "DIETClassifier"][0].model
print(json.dumps({"replaced": getattr(RasaModel.load.__func__, "replaced", False),
                  "numpy": diet_numpy._forward(model) is not None if sys.argv[1] == "numpy" else False,
                  "tensorflow_calls": len(tensorflow_calls),
                  "rankings": [[text, [(i["name"], i["confidence"]) for i in ranking]]
                               for text, ranking in zip(texts, rankings)]}))
"""


def parsed(model: Path, how: str) -> dict:
    done = subprocess.run([sys.executable, "-c", PARSE, how, str(model)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env=os.environ | {"PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_diet_loaded_without_a_training_step_ranks_every_intent_as_rasas_own_load(prepared_model: Path) -> None:
    rasas, ours = parsed(prepared_model, "rasa"), parsed(prepared_model, "without-training-step")
    assert ours["replaced"] and not rasas["replaced"]
    assert len(rasas["rankings"]) >= 60 and all(ranking for _, ranking in rasas["rankings"])
    assert ours["rankings"] == rasas["rankings"]  # the same intents, in the same order, with the same confidences


def test_diet_in_numpy_ranks_every_intent_as_tensorflow(prepared_model: Path) -> None:
    """The numpy forward pass (bot/rasa_server/hot_path/diet_numpy.py) against TensorFlow's, same weights:
    the same intents in the same order, confidences equal to float32 rounding."""
    tensorflow, ours = parsed(prepared_model, "without-training-step"), parsed(prepared_model, "numpy")
    assert ours["numpy"] and not tensorflow["numpy"]
    # TensorFlow still reads what numpy cannot: at most the blank and emoji-only messages'
    # stand-in features; every wording goes through numpy.
    assert ours["tensorflow_calls"] <= 3 and tensorflow["tensorflow_calls"] >= 60
    assert len(ours["rankings"]) == len(tensorflow["rankings"]) >= 60
    for (text, theirs), (_, mine) in zip(tensorflow["rankings"], ours["rankings"]):
        assert [name for name, _ in mine] == [name for name, _ in theirs], text
        assert all(abs(a - b) < 1e-5 for (_, a), (_, b) in zip(mine, theirs)), text
