"""What keeps a customer's turn cheap in the Rasa server.

Each module replaces one of Rasa's steps with one that gives the same result with less work,
says what it measured, and has a test that compares it with Rasa's own step:

- `model_load`: DIET loads without tracing a training step (a faster start);
- `diet_numpy`: DIET predicts in numpy instead of through a TensorFlow call;
- `sparse_features`: a message's sparse features put side by side directly;
- `tokenizer_gil`: the whitespace tokenizer's regular expression matches without releasing the GIL;
- `frozen_heap`: what the server loads at start is left out of Python's full garbage collections;
- `graph_runner`: the prediction graphs run in a plain loop instead of dask;
- `dialogue_states`: the policies' dialogue states replayed from a turn's new events only;
- `nlu_in_thread` and `workers`: the NLU and the tracker store work off the event loop, each
  in a pool of its own; the messages that queue for the NLU are parsed together.

bot/rasa_server/__main__.py installs them before Rasa starts; plain `rasa` commands run
without them.
"""


def install() -> None:
    """Put every replacement in place (before Rasa loads a model or serves a message)."""
    from bot.rasa_server.hot_path import (
        dialogue_states,
        diet_numpy,
        frozen_heap,
        graph_runner,
        model_load,
        nlu_in_thread,
        sparse_features,
        tokenizer_gil,
    )

    for module in (model_load, diet_numpy, sparse_features, tokenizer_gil, graph_runner, dialogue_states,
                   nlu_in_thread, frozen_heap):
        module.install()
