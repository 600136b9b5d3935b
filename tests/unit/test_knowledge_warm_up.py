"""The FAQ warm-up the Rasa server begins on a thread before its imports (bot/domain/knowledge.py):
what goes wrong on the thread is raised where the model load waits for it, so it is reported as
before instead of being lost with the thread."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.config import ROOT

WARM_UP = """
from bot.domain import knowledge
knowledge.start_warm_up()
try:
    knowledge.warm_up()
except FileNotFoundError as error:
    print("raised:", error)
"""


def test_a_warm_up_failing_on_its_thread_is_raised_where_the_load_waits(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", WARM_UP], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env=os.environ | {"PYTHONPATH": str(ROOT), "BOT_INDEX_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"raised: no FAQ index in {tmp_path}" in done.stdout
