"""The whitespace tokenizer's regular expression matches without letting go of the GIL.

Rasa's WhitespaceTokenizer cleans every message with one `regex.sub` (the third-party `regex`
module, for its Unicode word characters). That module releases the GIL while it matches a
`str`, for about 13 µs of work; getting the GIL back then waits for whichever thread took it,
up to a switch interval (5 ms) or two. Under 40 concurrent conversations this wait was 21 % of
the NLU thread's busy time (py-spy, docs/benchmarks.md, session 16); one call beside a single
busy Python thread took 10.8 ms, and 0.024 ms with `concurrent=False`, which keeps the GIL for
the match. Same module, same pattern, same result (tests/unit/test_tokenizer_gil.py).

Installed in the Rasa server by bot/rasa_server/__main__.py (through hot_path.install).
"""

from __future__ import annotations

from typing import Any

import regex
from rasa.nlu.tokenizers import whitespace_tokenizer


class _KeepingTheGil:
    """The `regex` module as the tokenizer calls it, with `sub` matching under the GIL."""

    def __getattr__(self, name: str) -> Any:
        return getattr(regex, name)

    @staticmethod
    def sub(pattern: Any, repl: Any, string: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("concurrent", False)
        return regex.sub(pattern, repl, string, *args, **kwargs)


def install() -> None:
    """The tokenizer's `regex.sub` keeps the GIL (called before Rasa starts)."""
    if not isinstance(whitespace_tokenizer.regex, _KeepingTheGil):
        whitespace_tokenizer.regex = _KeepingTheGil()  # type: ignore[assignment]
