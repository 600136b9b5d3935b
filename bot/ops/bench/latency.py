"""`python -m bot bench latency`: REST latency and throughput, ours against a stock Rasa bot.

Both run in the same invocation on this machine, so the ratios are fair even when the
machine is noisy. Loads: one customer at a time (conversations of 10 questions, one after
another), then 40 concurrent conversations of 15 questions. Questions are the KB's own
wordings (the questions customers ask the bot). After the 40-user load every turn's records
are counted: sent + received must equal stored.

    python -m bot bench latency [--turns 200] [--users 40] [--turns-per-user 15] [--chart PATH]
                                [--profile DIR]

With --profile, py-spy samples each Rasa server during its 40-user load and the report adds
where a turn's CPU went (bot/ops/bench/turn_profile.py); the collapsed stacks stay in DIR.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path

import aiohttp
from tqdm import tqdm

from bot.config import ROOT, load_settings
from bot.ops.bench.turn_profile import Profiler
from bot.ops.runner import Stack
from faq_index.kb import load_kb

CONVERSATION_TURNS = 10


@dataclass
class LoadResult:
    latencies_ms: list[float] = field(default_factory=list)
    wall_seconds: float = 0.0
    turns: int = 0
    replies: int = 0
    errors: int = 0
    senders: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        ordered = sorted(self.latencies_ms)

        def pct(p: float) -> float:
            return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 1)

        return {"p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99),
                "mean_ms": round(statistics.fmean(ordered), 1),
                "turns_per_s": round(self.turns / self.wall_seconds, 1), "turns": self.turns, "errors": self.errors}


async def _conversation(session: aiohttp.ClientSession, url: str, sender: str, messages: list[str],
                        result: LoadResult, bar: tqdm) -> None:
    for message in messages:
        started = time.perf_counter()
        try:
            async with session.post(url, json={"sender": sender, "message": message}) as reply:
                body = await reply.json()
                ok = reply.status == 200
        except (aiohttp.ClientError, asyncio.TimeoutError):
            ok, body = False, []
        result.latencies_ms.append((time.perf_counter() - started) * 1000)
        result.turns += 1
        result.replies += len(body) if ok else 0
        result.errors += 0 if ok else 1
        bar.update(1)


async def _load(url: str, conversations: int, turns: int, concurrency: int, questions: list[str],
                label: str) -> LoadResult:
    """`conversations` conversations of `turns` questions each, at most `concurrency` at once."""
    rng = random.Random(conversations * 1000 + concurrency)
    result = LoadResult(senders=[f"bench-{uuid.uuid4().hex[:8]}-{i}" for i in range(conversations)])
    gate = asyncio.Semaphore(concurrency)
    timeout = aiohttp.ClientTimeout(total=120)
    connector = aiohttp.TCPConnector(limit=concurrency + 4)

    async def one(session: aiohttp.ClientSession, sender: str, bar: tqdm) -> None:
        async with gate:
            await _conversation(session, url, sender, rng.sample(questions, turns), result, bar)

    with tqdm(total=conversations * turns, desc=label, unit="turn", leave=False) as bar:
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
            started = time.perf_counter()
            await asyncio.gather(*[one(session, sender, bar) for sender in result.senders])
            result.wall_seconds = time.perf_counter() - started
    return result


def _measure(url: str, name: str, questions: list[str], turns: int, users: int, per_user: int,
             profile: tuple[int, Path] | None = None) -> dict:
    asyncio.run(_load(url, 4, 5, 4, questions, f"{name}: warm-up"))
    # One customer at a time, each a conversation of CONVERSATION_TURNS questions.
    single = asyncio.run(_load(url, max(1, turns // CONVERSATION_TURNS), CONVERSATION_TURNS, 1, questions,
                               f"{name}: 1 user"))
    profiler = Profiler(profile[0], profile[1] / f"{name}.txt") if profile else None
    many = asyncio.run(_load(url, users, per_user, users, questions, f"{name}: {users} users"))
    report = {"one_user": single.summary(), "many_users": many.summary(), "_many": many}
    if profiler is not None:
        report |= profiler.stop(many.turns, many.wall_seconds)
    return report


def _records_check(database_url: str, result: LoadResult) -> dict:
    from bot.domain.storage.records import iter_records

    stored = sum(1 for sender in result.senders for _ in iter_records(database_url, conversation_id=sender))
    expected = result.turns - result.errors + result.replies
    return {"expected_records": expected, "stored_records": stored, "lost": expected - stored}


def run(turns: int, users: int, per_user: int, chart: Path | None, profile_dir: Path | None = None) -> dict:
    """Start our stack and the stock bot on free ports, load both, report, stop both."""
    from bot.ops.bench.production import rss_mb
    from bot.ops.bench.stock_bot import stock_service
    from bot.ops.runner import free_port

    questions = [text for entry in load_kb(ROOT / "data" / "faq") for text in entry.texts]
    work = Path(tempfile.mkdtemp(prefix="bench-latency-"))
    settings = replace(load_settings(), database_url=f"sqlite:///{work / 'records.sqlite3'}",
                       rasa_port=free_port(), actions_port=free_port(), run_dir=work)
    stack = Stack(settings)
    model = stack.prepare(progress=True)
    stack.start(model)
    report: dict = {"cold_start_s": round(stack.cold_start_seconds or 0, 1)}
    try:
        ours = _measure(f"{settings.rasa_url}/webhooks/rest/webhook", "ours", questions, turns, users, per_user,
                        _profiled(stack.services[1].process, profile_dir))
        report["records"] = _records_check(settings.database_url, ours.pop("_many"))
        report["ours"] = ours
        report["memory_mib"] = {service.name: rss_mb(service.process.pid)
                                for service in stack.services if service.process is not None}
        report["memory_mib"]["total"] = round(sum(report["memory_mib"].values()), 1)
    finally:
        stack.stop()
    stock_port = free_port()
    stock = stock_service(stock_port, work, dict(os.environ))
    stock.start()
    try:
        _wait(stock)
        theirs = _measure(f"http://127.0.0.1:{stock_port}/webhooks/rest/webhook",
                          "stock", questions, turns, users, per_user, _profiled(stock.process, profile_dir))
        theirs.pop("_many")
        report["stock"] = theirs
    finally:
        stock.stop()
    report["ratios"] = {
        "one_user_p50_vs_stock": round(ours["one_user"]["p50_ms"] / theirs["one_user"]["p50_ms"], 2),
        "many_users_throughput_vs_stock": round(
            ours["many_users"]["turns_per_s"] / theirs["many_users"]["turns_per_s"], 2),
    }
    if chart is not None:
        _chart(report, users, chart)
    return report


def _profiled(process: subprocess.Popen | None, profile_dir: Path | None) -> tuple[int, Path] | None:
    if process is None or profile_dir is None:
        return None
    profile_dir.mkdir(parents=True, exist_ok=True)
    return process.pid, profile_dir


def _wait(service, timeout: float = 180) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not service.healthy():
        if service.exited() or time.monotonic() > deadline:
            raise RuntimeError(f"{service.name} did not start:\n{service.log_tail()}")
        time.sleep(0.3)


def _chart(report: dict, users: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (lat, thr) = plt.subplots(1, 2, figsize=(10, 4))
    labels = ["p50", "p95", "p99"]
    for offset, (name, colour) in enumerate((("ours", "tab:blue"), ("stock", "tab:gray"))):
        for row, load in enumerate(("one_user", "many_users")):
            values = [report[name][load][f"{k}_ms"] for k in labels]
            xs = [row * 4 + i + offset * 0.4 for i in range(3)]
            lat.bar(xs, values, width=0.4, color=colour, label=name if row == 0 else None)
    lat.set_xticks([i + 0.2 for i in range(3)] + [4 + i + 0.2 for i in range(3)])
    lat.set_xticklabels([f"1 user\n{k}" for k in labels] + [f"{users} users\n{k}" for k in labels], fontsize=8)
    lat.set_ylabel("latency (ms)")
    lat.set_yscale("log")
    lat.legend()
    lat.set_title("REST reply latency")
    thr.bar(["ours", "stock rasa init"], [report["ours"]["many_users"]["turns_per_s"],
                                          report["stock"]["many_users"]["turns_per_s"]], color=["tab:blue", "tab:gray"])
    thr.set_ylabel("turns / s")
    thr.set_title(f"throughput, {users} concurrent conversations")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main(turns: int, users: int, per_user: int, chart: str | None, profile: str | None = None) -> int:
    report = run(turns, users, per_user, Path(chart) if chart else None, Path(profile) if profile else None)
    for name in ("ours", "stock"):
        for load in ("one_user", "many_users"):
            print(f"{name:6} {load:10} {report[name][load]}", file=sys.stderr)
    print(f"records: {report['records']}   cold start: {report['cold_start_s']} s   ratios: {report['ratios']}",
          file=sys.stderr)
    print(json.dumps(report))
    return 0
