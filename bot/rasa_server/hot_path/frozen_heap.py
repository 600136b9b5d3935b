"""What the Rasa server loads at start is left out of Python's full garbage collections.

Python's cyclic collector now and then walks every object the process holds (a generation-2
collection), with the GIL held: nothing else in the process moves meanwhile. The Rasa server
holds millions of long-lived objects (TensorFlow's and Keras's, the trained model, the domain,
the rules, the FAQ index), so under 40 concurrent conversations each full collection took
380-470 ms, about one per 10 s of load (gc callbacks in the server, session 17,
docs/benchmarks.md), and every turn in flight waited for it: that was most of the 40-user p99.

`gc.freeze()` once the server has loaded everything (after its start, when the model and the FAQ
encoders are in) moves those objects to a permanent generation the collector does not walk.
What turns create is collected as before; a frozen object is still freed the moment its last
reference goes (reference counting is untouched), so only frozen objects caught in reference
cycles stay, which the server's start objects are not meant to be.

Installed in the Rasa server by bot/rasa_server/__main__.py (through hot_path.install).
"""

from __future__ import annotations

import gc
from typing import Any

from sanic import Sanic

from bot.rasa_server import extra_routes


def install() -> None:
    """Freeze the heap once Rasa's app has started (called before Rasa starts)."""
    extra_routes.configure("frozen_heap", lambda app, _token: app.register_listener(freeze, "after_server_start"))


async def freeze(app: Sanic | None = None, loop: Any = None) -> None:
    """Collect what the start left behind, then keep the rest out of later collections."""
    gc.collect()
    gc.freeze()
