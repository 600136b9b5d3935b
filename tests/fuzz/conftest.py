"""What the fuzz tests share: one real stack for the package (Rasa server, action server and
console on SQLite, Telegram against the local fake Bot API, no rate limit so every generated
message reaches Rasa), a supervisor logged in to the console, the servers' resident memory read
from /proc, and the checks that every answer and the processes must pass."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings

from tests.conftest import ConsoleClient, FakeBotApi, RunningBot, add_agent, sqlite_url, start_bot, telegram_settings

# Bounded for CI: no per-example deadline (a message through Rasa takes a while on 2 cores), no
# example database left in the work tree, no complaint that a shared stack is "too slow".
settings.register_profile("fuzz", deadline=None, database=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FUZZ = settings.get_profile("fuzz")
SUPERVISOR_PASSWORD = "fuzzing is a supervisor's hobby"
# Growth allowed across one fuzz run: generous (allocator caches, Rasa's lock store, a tracker per
# generated sender) but finite: a leak per request over hundreds of requests would exceed it.
MAX_GROWTH_MIB = 150


@pytest.fixture(scope="package")
def fuzz_bot(prepared_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBot]:
    fake = FakeBotApi()
    tmp = tmp_path_factory.mktemp("fuzzstack")
    try:
        yield from start_bot(tmp, sqlite_url(tmp), prepared_model, rate_limit="off", **telegram_settings(fake))
    finally:
        fake.close()


@pytest.fixture(scope="package")
def supervisor(fuzz_bot: RunningBot) -> ConsoleClient:
    """A supervisor (who may call every console route) logged in through the console's login."""
    add_agent(fuzz_bot, "fuzzer", SUPERVISOR_PASSWORD, "--role", "supervisor")
    client = ConsoleClient(fuzz_bot, "fuzzer")
    assert client.login(SUPERVISOR_PASSWORD).status_code == 200
    assert client.get("/api/faq", q="warm up the encoder").status_code == 200  # loaded before memory is read
    return client


def assert_json_error(reply: requests.Response | schemathesis.Response, key: str) -> None:
    """A refusal is a 4xx whose JSON body says why under `key`; nothing is ever a 5xx."""
    assert reply.status_code < 500, (reply.status_code, reply.text[:500])
    if reply.status_code >= 400:
        content_type = reply.headers.get("content-type") or ""
        if isinstance(content_type, list):  # schemathesis keeps every value of a header
            content_type = content_type[0]
        assert content_type.startswith("application/json"), reply.headers
        body = reply.json()
        assert isinstance(body, dict) and body.get(key), body


def assert_alive(bot: RunningBot) -> None:
    """Every process answers its health check, and a real question still gets a real answer."""
    settings_ = bot.settings
    for url in (f"{settings_.rasa_url}/", f"{settings_.rasa_url}/webhooks/rest/",
                f"{settings_.rasa_url}/webhooks/telegram/", f"http://127.0.0.1:{settings_.actions_port}/health",
                f"{settings_.console_url}/login"):
        assert requests.get(url, timeout=30).status_code == 200, url
    assert "working days" in json.dumps(bot.say("fuzz-after", "how long does delivery take?"))


def listening_pid(port: int) -> int:
    """The process listening on 127.0.0.1:`port` (found through /proc: its socket's inode)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # 0A: LISTEN
                inodes.add(f"socket:[{fields[9]}]")
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            if any(str(fd.readlink()) in inodes for fd in fd_dir.iterdir()):
                return int(fd_dir.parent.name)
        except OSError:  # a process that ended meanwhile, or one we may not look into
            continue
    raise LookupError(f"nothing listens on port {port}")


def rss_mib(pid: int) -> float:
    """Resident memory of a process, from /proc/<pid>/status."""
    found = re.search(r"^VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.MULTILINE)
    assert found, f"no VmRSS for {pid}"
    return int(found.group(1)) / 1024


@dataclass
class MemoryReport:
    before: dict[str, float]
    after: dict[str, float]


@contextmanager
def bounded_memory(bot: RunningBot, max_growth_mib: float = MAX_GROWTH_MIB) -> Iterator[MemoryReport]:
    """Read the Rasa server's and the console's RSS before and after the block; fail if either
    grew by more than `max_growth_mib` (the same processes must still be there: no restart)."""
    pids = {"rasa": listening_pid(bot.settings.rasa_port), "console": listening_pid(bot.settings.console_port)}
    report = MemoryReport({name: rss_mib(pid) for name, pid in pids.items()}, {})
    yield report
    assert {"rasa": listening_pid(bot.settings.rasa_port),
            "console": listening_pid(bot.settings.console_port)} == pids, "a server was restarted"
    report.after = {name: rss_mib(pid) for name, pid in pids.items()}
    for name in pids:
        growth = report.after[name] - report.before[name]
        print(f"{name}: RSS {report.before[name]:.0f} -> {report.after[name]:.0f} MiB")
        assert growth < max_growth_mib, f"{name} grew by {growth:.0f} MiB: {report}"
