"""Rasa's prediction graphs run node by node in a plain loop, instead of through dask.

Every customer message runs Rasa's NLU graph once and its policy graph once per predicted
action (two or three times a turn). Rasa's `DaskGraphRunner.run` first rebuilds the minimal
schema for the targets, builds a dask task graph from it, formats the inputs into a debug log
line (a whole tracker's text, even with debug logging off) and has dask's synchronous scheduler
order and run it: 7 % of the Rasa server's GIL time under 40 concurrent conversations, more
than a third of what the graphs' own components took apart from DIET and the FAQ search
(py-spy, docs/benchmarks.md). The graphs are fixed once the model is loaded, so the order in
which a set of targets needs its nodes is worked out once, and each run calls the same
`GraphNode`s with the same inputs as dask would, in an order where every node comes after the
nodes it needs (tests/unit/test_graph_runner.py runs both on one graph).

Installed in the Rasa server by bot/rasa_server/__main__.py; `rasa train` keeps dask.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner


def run(runner: DaskGraphRunner, inputs: dict[str, Any] | None = None,
        targets: list[str] | None = None) -> dict[str, Any]:
    """`DaskGraphRunner.run`: the targets' outputs, by target name."""
    run_targets = list(targets) if targets else list(runner._graph_schema.target_names)
    values: dict[str, Any] = {}
    for name, value in (inputs or {}).items():
        if isinstance(value, str) and value in runner._graph_schema.nodes:
            raise GraphRunError(f"Input value '{value}' clashes with a node name. Make sure that none of the "
                                f"input names passed to the `run` method are the same as node names in the "
                                f"graph schema.")
        values[name] = (name, value)  # what dask hands a node for an input: (name, value)
    try:
        for node_name, needs in needed(runner, tuple(run_targets)):
            # A need that is neither a node nor an input reaches the node as its bare name, as
            # with dask; the node then says which input is missing.
            values[node_name] = runner._instantiated_nodes[node_name](*(values.get(n, n) for n in needs))
    except RuntimeError as error:
        raise GraphRunError("Error running runner.") from error
    return dict(values[target] for target in run_targets)


def needed(runner: DaskGraphRunner, targets: tuple[str, ...]) -> list[tuple[str, tuple[str, ...]]]:
    """The nodes `targets` need, each after the nodes it needs, with the names of its inputs."""
    cache: dict[tuple[str, ...], list[tuple[str, tuple[str, ...]]]] = runner.__dict__.setdefault("_bot_orders", {})
    if targets not in cache:
        nodes = runner._graph_schema.nodes
        ordered: list[tuple[str, tuple[str, ...]]] = []
        placed: set[str] = set()

        def place(name: str) -> None:
            if name in placed or name not in nodes:
                return
            placed.add(name)
            needs = tuple(nodes[name].needs.values())
            for need in needs:
                place(need)
            ordered.append((name, needs))

        for target in targets:
            place(target)
        cache[targets] = ordered
    return cache[targets]


def install() -> None:
    """Run prediction graphs without dask (called before Rasa starts)."""
    if getattr(DaskGraphRunner.run, "plain", False):
        return

    def plain_run(self: DaskGraphRunner, inputs: dict[str, Any] | None = None,
                  targets: list[str] | None = None) -> dict[str, Any]:
        return run(self, inputs, targets)

    plain_run.plain = True  # type: ignore[attr-defined]
    plain_run.replaced = DaskGraphRunner.run  # type: ignore[attr-defined]
    DaskGraphRunner.run = plain_run  # type: ignore[method-assign]
