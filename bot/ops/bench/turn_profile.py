"""Where a turn's time goes: py-spy samples of a server under load, sorted into the parts of a turn.

Used by `python -m bot bench latency --profile DIR`: while the 40-user load runs, py-spy
samples the Rasa server (ours, then the stock bot) 100 times a second, only the thread that
holds the GIL (`--gil`). That is the work one process cannot spread over cores, what bounds
its turns per second: a thread waiting for SQLite's lock or the disk is not counted, nor is
work in C that releases the GIL (the ONNX encoder, TensorFlow's kernels). The samples are
sorted into the parts below and reported beside the turns served, as ms per turn.

py-spy is a development tool (requirements/dev.in); without it the bench runs unprofiled.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

# (part, markers): a sample belongs to the first part one of whose markers appears anywhere in
# its stack. Order matters: the FAQ search runs inside the NLU pipeline, TED's TensorFlow inside
# the policies, the JSON of the events inside the tracker store: the specific parts come first.
PARTS: list[tuple[str, tuple[str, ...]]] = [
    ("FAQ search and turn decision (ONNX encoder, FAISS)", ("faq_index/", "bot/domain/knowledge.py",
                                                           "rasa_server/understanding/")),
    ("dialogue policies (rules, memoization, TED)", ("rasa/core/policies/", "rasa/core/featurizers/")),
    ("intent classifier (DIET, TensorFlow)", ("diet_classifier.py", "tensorflow/", "rasa/utils/tensorflow/",
                                              "keras/")),
    ("featurizers and tokenizer", ("nlu/featurizers/", "tokenizers/")),
    ("tracker store and records (SQL commit)", ("rasa_server/stores/", "sqlalchemy/", "rasa/core/tracker_store.py",
                                                "sqlite3")),
    ("actions (in process)", ("actions/", "rasa_sdk/", "rasa/core/actions/")),
    ("tracker and events (Rasa)", ("rasa/shared/core/trackers.py", "rasa/shared/core/events.py")),
    ("HTTP server and JSON (Sanic)", ("sanic/", "rasa/core/channels/", "json", "uvloop", "httptools")),
    ("message processing (Rasa graph, processor)", ("rasa/core/processor.py", "rasa/engine/", "rasa/core/agent.py")),
]
OTHER = "other (event loop, threads, idle waits)"


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time used so far by a process (user + system), or by the whole machine without a pid."""
    ticks = os.sysconf("SC_CLK_TCK")
    if pid is None:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        busy = sum(int(value) for value in fields) - int(fields[3]) - int(fields[4])  # not idle, not iowait
        return busy / ticks
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime (after the name and state)


class Profiler:
    """One process's CPU time, and py-spy recording it (when installed), until stopped."""

    def __init__(self, pid: int, output: Path) -> None:
        self.output = output
        self.pid = pid
        self.cpu_started = cpu_seconds(pid), cpu_seconds()
        self.process: subprocess.Popen[bytes] | None = None
        # The virtualenv's own py-spy first: `.venv/bin/python -m bot bench ...` does not put
        # .venv/bin on PATH, and the bench then ran unprofiled without a word.
        executable = shutil.which("py-spy", path=os.pathsep.join([str(Path(sys.executable).parent),
                                                                 os.environ.get("PATH", "")]))
        if executable is None:
            print("py-spy not found (requirements/dev.in): the CPU per turn only, no breakdown", file=sys.stderr)
        else:
            self.process = subprocess.Popen(
                [executable, "record", "--pid", str(pid), "--subprocesses", "--rate", "100", "--format", "raw",
                 "--gil", "--output", str(output), "--nonblocking"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self, turns: int, seconds: float) -> dict[str, Any]:
        """Stop; the server's CPU per turn and, with py-spy, where its GIL time went."""
        server = cpu_seconds(self.pid) - self.cpu_started[0]
        machine = cpu_seconds() - self.cpu_started[1]
        report: dict[str, Any] = {"cpu": {"server_cpu_ms_per_turn": round(1000 * server / max(turns, 1), 1),
                                          "server_cores": round(server / max(seconds, 1e-9), 2),
                                          "machine_cores_busy": round(machine / max(seconds, 1e-9), 2)}}
        if self.process is not None:
            self.process.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
            self.process.wait(timeout=60)
            if self.output.exists():
                report["cpu_breakdown"] = breakdown(self.output, turns, seconds)
        return report


def breakdown(collapsed: Path, turns: int, seconds: float) -> dict[str, float]:
    """Each part's share (%) of the GIL samples, and the GIL's ms per turn (100 samples a second)."""
    counts: Counter[str] = Counter()
    for line in collapsed.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit() or _idle(stack):
            continue
        counts[_part(stack)] += int(count)
    total = sum(counts.values()) or 1
    report = {part: round(100 * counts[part] / total, 1) for part, _ in [*PARTS, (OTHER, ())]}
    report["gil_ms_per_turn"] = round(total * 10 / max(turns, 1), 1)
    report["gil_busy_share"] = round(total / 100 / max(seconds, 1e-9), 2)  # 1.0: the GIL never free
    return report


def _part(stack: str) -> str:
    for part, markers in PARTS:
        if any(marker in stack for marker in markers):
            return part
    return OTHER


def _idle(stack: str) -> bool:
    """A thread waiting (py-spy's --idle is off, but a select() in C still shows as running)."""
    innermost = stack.rsplit(";", 1)[-1]
    return any(word in innermost for word in ("select (", "epoll", "wait (threading", "_worker (concurrent"))
