"""Run Rasa's own CLI with this project's performance fixes and action-server fallback applied first.

    python -m bot.rasa_server run --model ... --port 5005    (what the runner starts)

Rasa 3.6 checks every action-server response with `jsonschema.validate`, which first
re-validates the *schema itself* against the JSON-Schema meta-schema on every call. Under
load that was 44% of the Rasa server's CPU (py-spy, 40 concurrent conversations). The fix
below validates against the same schema with a validator built once: the same check, with
the same error on a bad response, without re-checking Rasa's constant schema each time.

The steps of a turn that Rasa does slowly are replaced by ones that give the same result with
less work (bot/rasa_server/hot_path/: DIET's load and prediction, the sparse features, the graph
runner, the policies' dialogue states, the NLU and the tracker store off the event loop).
The FAQ turn's actions run in this process (bot/rasa_server/actions_in_process.py: no HTTP
round trips for language, session start and the FAQ answer). When the action server is down,
bot/rasa_server/actions_down.py answers in its place (an apology and a
person, instead of silence); it is installed here too, and so are bot/rasa_server/channels/outbox.py (a push
through the HTTP API is delivered only once it is recorded) and bot/rasa_server/faq_api.py (the
console's FAQ search, with this process's encoders) and bot/rasa_server/channels/live_typing.py
(who is typing, between the widget and the console).

Plain `rasa ...` commands keep working unpatched; they are just slower and silent without
the action server.
"""

from __future__ import annotations

import os
import sys
from functools import lru_cache
from typing import Any


def apply_patches() -> None:
    """Replace RemoteAction's per-call schema check with a compiled validator; look event types up once."""
    from rasa.core.actions.action import RemoteAction

    _remember_event_types()

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        from jsonschema import ValidationError

        try:
            _response_validator().validate(result)
            return True
        except ValidationError as error:
            error.message += (
                ". Failed to validate Action server response from API, make sure your response "
                "from the Action endpoint is valid."
            )
            raise

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]


def _remember_event_types() -> None:
    """Rasa finds an event's class from its name by walking every subclass of Event (with an
    `inspect.isabstract` check each) for every event it reads: 10 % of the Rasa server's GIL
    time under load (py-spy, docs/benchmarks.md). The classes do not change once imported, so
    each name is looked up the long way once; an unknown name still raises as before."""
    from rasa.shared.core.events import Event

    look_up = Event.resolve_by_type
    if getattr(look_up, "remembers", False):
        return
    known: dict[str, type] = {}

    def resolve_by_type(type_name: str, default: type | None = None) -> type | None:
        found = known.get(type_name)
        if found is None:
            found = look_up(type_name, default)
            if found is not None and found is not default:
                known[type_name] = found
        return found

    resolve_by_type.remembers = True  # type: ignore[attr-defined]
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign, assignment]


@lru_cache(maxsize=1)
def _response_validator() -> Any:
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)  # once, instead of on every response
    return validator_class(schema)


def _one_thread_per_native_library() -> None:
    """Before any import, because each library reads its setting once, when it loads.

    numpy's OpenBLAS (the FAQ's scoring, the USE encoder) on one thread: left at its default
    (and at USE's own 4 threads), every small matrix product woke helper threads that then spun
    (sched_yield) waiting for more, and under 40 conversations the Rasa server used 170 ms of
    CPU per FAQ turn, two thirds of it in those idle threads (docs/benchmarks.md).

    scikit-learn's bundled OpenMP, which the multilingual E5 encoder's C code runs on (when a
    shop chooses E5, `faq_index/encoder.py`): two threads that sleep when idle instead of
    spinning. Measured on one question: one thread 25.7 ms (25.7 of CPU), two spinning 14.9 ms
    (29.6), two sleeping 16.5 ms (28.2): a lone customer gets the second core, and under load
    the idle thread costs nothing."""
    for name, value in (("OPENBLAS_NUM_THREADS", "1"), ("MKL_NUM_THREADS", "1"),
                        ("OMP_NUM_THREADS", "2"), ("OMP_WAIT_POLICY", "PASSIVE")):
        os.environ.setdefault(name, value)


def main() -> None:
    _one_thread_per_native_library()
    if sys.argv[1:2] == ["run"]:
        # The FAQ encoders load beside Rasa's imports and model load; the understanding
        # component waits for them, so the server is healthy only once they are loaded.
        from bot.domain import knowledge

        knowledge.start_warm_up()
    from bot.rasa_server import actions_down, actions_in_process, faq_api, hot_path
    from bot.rasa_server.channels import live_typing, outbox

    apply_patches()
    hot_path.install()
    actions_in_process.install()
    actions_down.install()
    faq_api.install()
    live_typing.install()
    outbox.install()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
