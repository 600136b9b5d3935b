"""After a supervisor writes to data/faq/ from the dashboard: the FAQ index is rebuilt and its
decision thresholds recalibrated on the customer questions (`python -m faq_index build` with
`--calibration`, the step `bot prepare` takes), in a child process so the console stays
responsive and loads no model. The Rasa server's index watcher loads the new version when it
lands. One build at a time; an edit during a build asks for one more after it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from typing import Any

from bot.config import Settings

BUILD_TIMEOUT_SECONDS = 900
_lock = threading.Lock()
_state: dict[str, Any] = {"state": "idle"}
_again = False


def request(settings: Settings) -> dict[str, Any]:
    """Start a rebuild (or ask for one more after the running one); the state as it is now."""
    global _again
    with _lock:
        if _state["state"] == "running":
            _again = True
            return dict(_state)
        _state.clear()
        _state.update({"state": "running", "started_at": time.time()})
    threading.Thread(target=_run, args=(settings,), name="kb-rebuild", daemon=True).start()
    return status()


def status() -> dict[str, Any]:
    with _lock:
        return dict(_state)


def _run(settings: Settings) -> None:
    global _again
    while True:
        command = [sys.executable, "-m", "faq_index", "build", "--kb", str(settings.kb_dir), "--out",
                   str(settings.index_dir), "--encoders", str(settings.encoders_dir), "--calibration",
                   str(settings.calibration_dir), "--quiet"]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=BUILD_TIMEOUT_SECONDS,
                                  env=os.environ | settings.as_env() | {"HF_HUB_OFFLINE": "1"})
            outcome = _outcome(done)
        except subprocess.TimeoutExpired:
            outcome = {"state": "failed", "error": f"the build took longer than {BUILD_TIMEOUT_SECONDS} s"}
        with _lock:
            if _again:
                _again = False
                continue
            _state.clear()
            _state.update(outcome | {"finished_at": time.time()})
            return


def _outcome(done: subprocess.CompletedProcess) -> dict[str, Any]:
    if done.returncode != 0:
        return {"state": "failed", "error": (done.stderr.strip().splitlines() or ["the build failed"])[-1][:300]}
    manifest = json.loads(done.stdout.strip().splitlines()[-1])
    thresholds = {space: found["thresholds"] for space, found in (manifest.get("decisions") or {}).items()}
    return {"state": "done", "version": manifest["version"], "entries": manifest["entries"],
            "thresholds": thresholds}
