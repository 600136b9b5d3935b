"""`python -m bot bench production`: the production stack against the single-process default.

Both run in one invocation on this machine (ratios are fair on a noisy machine): first the
default `make run` stack (one Rasa server, one action server, SQLite), then the production
stack (two Rasa replicas and two action servers behind nginx, PostgreSQL, Redis lock store,
RabbitMQ broker and consumer). Each gets the same loads: 40 and 200 concurrent conversations of
the KB's own wordings. Reported: throughput, p50/p99 latency, errors, and each process's memory
(resident set) after the loads; a chart goes to docs/img/production.png.

    python -m bot bench production [--per-user 8] [--chart docs/img/production.png]
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import uuid
from dataclasses import replace
from pathlib import Path

import sqlalchemy as sa

from bot.config import ROOT, load_settings
from bot.domain.events.consumer import delete_queue
from bot.ops.bench.latency import _load
from bot.ops.production.stack import ProductionStack, production_settings
from bot.ops.runner import Stack, free_port
from faq_index.kb import load_kb

LOADS = (40, 200)


def run(per_user: int, chart: Path | None) -> dict:
    questions = [text for entry in load_kb(ROOT / "data" / "faq") for text in entry.texts]
    work = Path(tempfile.mkdtemp(prefix="bench-production-"))
    base = replace(load_settings(), rasa_port=free_port(), actions_port=free_port(), console_port=free_port())
    single = replace(base, database_url=f"sqlite:///{work / 'single.sqlite3'}", run_dir=work / "single")
    report = {"single": _measure(Stack(single), questions, per_user, "single")}
    database = f"bench_production_{uuid.uuid4().hex[:8]}"
    prod = replace(production_settings(replace(base, database_url=_pg_url(database))),
                   rasa_port=free_port(), actions_port=free_port(), console_port=free_port(),
                   run_dir=work / "prod", events_queue=f"bench-{uuid.uuid4().hex[:8]}")
    try:
        report["production"] = _measure(ProductionStack(prod), questions, per_user, "production")
    finally:
        _drop_database(prod.database_url)
        asyncio.run(delete_queue(prod.rabbitmq_url, prod.events_queue))
    report["ratios"] = {f"{users}_users_throughput_production_vs_single": round(
        report["production"][f"{users}_users"]["turns_per_s"] / report["single"][f"{users}_users"]["turns_per_s"], 2)
        for users in LOADS}
    if chart is not None:
        _chart(report, chart)
    return report


def _measure(stack: Stack, questions: list[str], per_user: int, name: str) -> dict:
    model = stack.prepare(progress=True)
    stack.start(model)
    url = f"{stack.settings.rasa_url}/webhooks/rest/webhook"
    result: dict = {"cold_start_s": round(stack.cold_start_seconds or 0, 1)}
    try:
        asyncio.run(_load(url, 8, 4, 8, questions, f"{name}: warm-up"))
        for users in LOADS:
            load = asyncio.run(_load(url, users, per_user, users, questions, f"{name}: {users} users"))
            result[f"{users}_users"] = load.summary()
        result["memory_mb"] = {s.name: rss_mb(s.process.pid) for s in stack.services if s.process}
    finally:
        stack.stop()
    return result


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (nginx workers, Rasa's helpers)."""
    total = 0
    for candidate in [pid, *_children(pid)]:
        try:
            status = Path(f"/proc/{candidate}/status").read_text()
        except FileNotFoundError:
            continue
        # a zombie (a child exited, not yet reaped) has no VmRSS line: it holds no memory
        total += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return round(total / 1024, 1)


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = (task / "children").read_text().split() if (task / "children").exists() else []
        for child in map(int, children):
            found += [child, *_children(child)]
    return found


def _pg_url(database: str) -> str:
    admin = sa.engine.make_url("postgresql://127.0.0.1:5432/postgres")
    return admin.set(database=database).render_as_string(hide_password=False)


def _drop_database(url: str) -> None:
    from bot.domain.storage.db import get_engine

    get_engine(url).dispose()
    target = sa.engine.make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    admin.dispose()


def _chart(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (throughput, latency, memory) = plt.subplots(1, 3, figsize=(14, 4))
    width = 0.38
    for offset, (name, colour) in enumerate((("single", "tab:gray"), ("production", "tab:blue"))):
        xs = [i + offset * width for i in range(len(LOADS))]
        throughput.bar(xs, [report[name][f"{u}_users"]["turns_per_s"] for u in LOADS], width, color=colour, label=name)
        for row, pct in enumerate(("p50", "p99")):
            xs = [row * 3 + i + offset * width for i in range(len(LOADS))]
            latency.bar(xs, [report[name][f"{u}_users"][f"{pct}_ms"] for u in LOADS], width, color=colour,
                        label=name if row == 0 else None)
    throughput.set_xticks([i + width / 2 for i in range(len(LOADS))], [f"{u} conversations" for u in LOADS])
    throughput.set_ylabel("turns / s")
    throughput.set_title("throughput")
    throughput.legend()
    latency.set_xticks([r * 3 + i + width / 2 for r in range(2) for i in range(len(LOADS))],
                       [f"{p} @{u}" for p in ("p50", "p99") for u in LOADS], fontsize=8)
    latency.set_ylabel("reply latency (ms)")
    latency.set_title("latency")
    latency.legend()
    for name, colour in (("single", "tab:gray"), ("production", "tab:blue")):
        processes = report[name]["memory_mb"]
        memory.barh([f"{name}: {p}" for p in processes], list(processes.values()), color=colour)
    memory.set_xlabel("resident memory (MB)")
    memory.set_title("memory per process")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main(per_user: int, chart: str | None) -> int:
    report = run(per_user, Path(chart) if chart else None)
    for name in ("single", "production"):
        for users in LOADS:
            print(f"{name:10} {users:4} users {report[name][f'{users}_users']}", file=sys.stderr)
        print(f"{name:10} memory MB {report[name]['memory_mb']}", file=sys.stderr)
    print(f"ratios: {report['ratios']}", file=sys.stderr)
    print(json.dumps(report))
    return 0
