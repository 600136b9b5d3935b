"""The plain graph runner gives what Rasa's dask runner gives, on one graph with shared nodes,
an input placeholder, targets chosen per run and a failing node."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rasa.engine.exceptions import GraphComponentException
from rasa.engine.graph import ExecutionContext, GraphComponent, GraphSchema, SchemaNode
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.engine.storage.local_model_storage import LocalModelStorage

from bot.rasa_server.hot_path import graph_runner

CALLS: list[str] = []
# Rasa's own `run`, whether or not a test in this process installed ours in its place.
dask_run = getattr(DaskGraphRunner.run, "replaced", DaskGraphRunner.run)


class Step(GraphComponent):
    """A node that records its call and combines its inputs into a string."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.name = config["name"]

    @classmethod
    def create(cls, config: dict[str, Any], **_context: Any) -> Step:
        return cls(config)

    def run(self, **inputs: Any) -> str:
        CALLS.append(self.name)
        if self.name == "broken":
            raise ValueError("this node always fails")
        return f"{self.name}({','.join(f'{k}={inputs[k]}' for k in sorted(inputs))})"


def node(name: str, needs: dict[str, str], target: bool = False) -> SchemaNode:
    return SchemaNode(needs=needs, uses=Step, constructor_name="create", fn="run", config={"name": name},
                      is_target=target)


SCHEMA = GraphSchema({
    "tokens": node("tokens", {"message": "__message__"}),
    "features": node("features", {"tokens": "tokens"}),
    "intent": node("intent", {"features": "features", "tokens": "tokens"}, target=True),
    "faq": node("faq", {"message": "__message__", "intent": "intent"}, target=True),
    "unused": node("unused", {"features": "features"}),
    "broken": node("broken", {"tokens": "tokens"}),
})


@pytest.fixture
def runner(tmp_path: Path) -> DaskGraphRunner:
    return DaskGraphRunner(SCHEMA, LocalModelStorage(tmp_path), ExecutionContext(SCHEMA, "test"))


@pytest.mark.parametrize("targets", [None, ["intent"], ["faq", "tokens"], ["features"]])
def test_every_target_gets_what_dask_gives_and_each_node_runs_once(runner: DaskGraphRunner,
                                                                   targets: list[str] | None) -> None:
    inputs = {"__message__": "where is my parcel"}
    CALLS.clear()
    expected = dask_run(runner, inputs, targets)
    dask_calls = sorted(CALLS)
    CALLS.clear()
    assert graph_runner.run(runner, inputs, targets) == expected
    assert sorted(CALLS) == dask_calls and len(CALLS) == len(set(CALLS))
    assert "unused" not in CALLS


def test_a_failing_node_raises_as_with_dask(runner: DaskGraphRunner) -> None:
    with pytest.raises(GraphComponentException, match="node broken"):
        dask_run(runner, {"__message__": "x"}, ["broken"])
    with pytest.raises(GraphComponentException, match="node broken"):
        graph_runner.run(runner, {"__message__": "x"}, ["broken"])
