"""Start and supervise the whole stack: FAQ index, Rasa model, database, action server, Rasa,
agent console.

`make run` calls `python -m bot run`; the integration tests and the latency benchmark start
the same `Stack` on free ports, so what is tested is what runs.

Steps, each skipped when its inputs did not change: fine-tune the FAQ encoder on the KB,
build the FAQ index, train the Rasa model, migrate the database. Then both servers start in
parallel with the console; the stack is up when all answer their health checks. A server that dies is
restarted (a few times, with back-off).
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.error import URLError
from urllib.parse import unquote, urlsplit
from urllib.request import urlopen

import yaml

from bot.config import ROOT, Settings, channel_credentials, load_settings
from bot.rasa_api import api_token

MAX_RESTARTS = 5
STABLE_SECONDS = 300


# Below Linux's ephemeral range (32768-60999): a port the kernel handed out for "any free port"
# can be taken by an outgoing connection (a database client's) before the server binds it; this
# made the production stack's consumer fail with "address already in use" once.
PORT_RANGE = (20000, 32000)
_handed_out: set[int] = set()  # not the same port twice to one process's services


def free_port() -> int:
    """A TCP port nobody listens on right now (for tests and benchmarks), outside the range the
    kernel gives outgoing connections."""
    for _ in range(200):
        port = random.randint(*PORT_RANGE)
        if port in _handed_out:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free port in {PORT_RANGE}")


@dataclass
class Service:
    """One supervised child process with its log file."""

    name: str
    command: list[str]
    health_url: str
    log_path: Path
    env: dict[str, str]
    cwd: Path = ROOT
    process: subprocess.Popen | None = None
    restarts: int = 0
    started_at: float = 0.0

    def start(self) -> None:
        self.started_at = time.monotonic()
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child owns it for its lifetime
        self.process = subprocess.Popen(
            self.command, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def healthy(self) -> bool:
        try:
            with urlopen(self.health_url, timeout=2) as reply:
                return reply.status == 200
        except (URLError, OSError):
            return False

    def exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def stop(self, timeout: float = 15) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


@dataclass
class Stack:
    """The action server, the Rasa server and the agent console for one set of settings."""

    settings: Settings
    services: list[Service] = field(default_factory=list)
    cold_start_seconds: float | None = None

    def prepare(self, progress: bool = True) -> Path:
        """Build the index, train the model, migrate the DB; return the model path."""
        from bot.console.customer_pages import widget_bundle
        from bot.domain.handoff import hours
        from bot.domain.storage.migrate import upgrade
        from bot.ops.rasa_model import ensure_model
        from faq_index.build import build
        from faq_index.train import ensure_tuned

        hours.check(self.settings.opening_hours, self.settings.timezone)
        widget_bundle()  # the web widget's socket.io client must be installed (make install)
        model_dir = ensure_tuned(self.settings.kb_dir, self.settings.encoders_dir, progress=progress)
        manifest = build(self.settings.kb_dir, self.settings.index_dir, english_model=model_dir, progress=progress,
                         calibration_dir=self.settings.calibration_dir)
        state = "up to date" if manifest.get("up_to_date") else "built"
        print(f"FAQ index {state}: {manifest['entries']} entries, version {manifest['version']}", file=sys.stderr)
        model = ensure_model(self.settings.models_dir)
        print(f"Rasa model: {model.name}", file=sys.stderr)
        upgrade(self.settings.database_url)
        return model

    def start(self, model: Path, timeout: float = 180) -> None:
        """Start the servers and wait until all are healthy."""
        started = time.perf_counter()
        run_dir = self.settings.run_dir
        run_dir.mkdir(parents=True, exist_ok=True)
        endpoints = run_dir / f"endpoints-{self.settings.rasa_port}.yml"
        endpoints.write_text(_endpoints_yaml(self.settings), encoding="utf-8")
        credentials = run_dir / f"credentials-{self.settings.rasa_port}.yml"
        credentials.write_text(_credentials_yaml(self.settings), encoding="utf-8")
        env = os.environ | self.settings.as_env() | {"HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
        self.services = self.service_list(model, endpoints, credentials, env)
        for service in self.services:
            service.start()
        self._wait_healthy(timeout)
        self.cold_start_seconds = time.perf_counter() - started

    def service_list(self, model: Path, endpoints: Path, credentials: Path, env: dict[str, str]) -> list[Service]:
        """The processes to start: one action server, one Rasa server, the console."""
        return [
            self.action_server(self.settings.actions_port, env),
            self.rasa_server(self.settings.rasa_port, model, endpoints, credentials, env),
            self.console(env),
        ]

    def action_server(self, port: int, env: dict[str, str], name: str = "action server") -> Service:
        return Service(
            name, [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)],
            f"http://127.0.0.1:{port}/health", self.settings.run_dir / f"actions-{port}.log", env,
        )

    def rasa_server(self, port: int, model: Path, endpoints: Path, credentials: Path, env: dict[str, str],
                    name: str = "rasa server") -> Service:
        return Service(
            name,
            [sys.executable, "-m", "bot.rasa_server", "run", "--model", str(model), "--port", str(port),
             "--endpoints", str(endpoints), "--credentials", str(credentials),
             # the API (token-protected) lets the bot push messages: complaint updates, agents
             "--enable-api", f"--auth-token={api_token(self.settings)}"],
            f"http://127.0.0.1:{port}/", self.settings.run_dir / f"rasa-{port}.log", env,
        )

    def console(self, env: dict[str, str]) -> Service:
        return Service(
            "agent console", [sys.executable, "-m", "bot.console"], f"{self.settings.console_url}/login",
            self.settings.run_dir / f"console-{self.settings.console_port}.log", env,
        )

    def supervise(self, on_restart: Callable[[], object] | None = None) -> None:
        """Block, restarting a server that exits; return on Ctrl-C or SIGTERM.

        Restarts back off (2 s, 4 s, ... 30 s) per service without holding up the others; a
        service that ran for STABLE_SECONDS starts again from the shortest delay, and one that
        keeps exiting right away stops the stack with its log."""
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
        due: dict[str, float] = {}
        try:
            while True:
                time.sleep(0.5)
                for service in self.services:
                    if service.exited() and service.name not in due:
                        due[service.name] = time.monotonic() + self._restart_delay(service)
                    if service.name in due and time.monotonic() >= due[service.name]:
                        del due[service.name]
                        service.start()
                        if on_restart:
                            on_restart()
        except KeyboardInterrupt:
            print("\nstopping", file=sys.stderr)
        finally:
            self.stop()

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()

    @staticmethod
    def _restart_delay(service: Service) -> float:
        if time.monotonic() - service.started_at > STABLE_SECONDS:
            service.restarts = 0
        if service.restarts >= MAX_RESTARTS:
            raise RuntimeError(f"{service.name} keeps exiting; see {service.log_path}:\n{service.log_tail()}")
        service.restarts += 1
        delay = min(2 ** service.restarts, 30)
        print(f"{service.name} exited; restarting in {delay}s (see {service.log_path})", file=sys.stderr, flush=True)
        return delay

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        waiting = list(self.services)
        while waiting:
            for service in list(waiting):
                if service.exited():
                    self.stop()
                    raise RuntimeError(f"{service.name} failed to start; log {service.log_path}:\n{service.log_tail()}")
                if service.healthy():
                    waiting.remove(service)
            if time.monotonic() > deadline:
                self.stop()
                names = ", ".join(s.name for s in waiting)
                raise TimeoutError(f"{names} not healthy after {timeout:.0f}s")
            time.sleep(0.2)


def _endpoints_yaml(settings: Settings) -> str:
    """This run's endpoints.yml: the action server, our tracker store, and with BOT_REDIS_URL /
    BOT_RABBITMQ_URL Rasa's Redis lock store and RabbitMQ event broker (the production stack)."""
    endpoints: dict[str, Any] = {
        "action_endpoint": {"url": settings.action_endpoint},
        "tracker_store": {"type": "bot.rasa_server.stores.recording_tracker_store.RecordingTrackerStore"},
    }
    if settings.redis_url:
        redis = urlsplit(settings.redis_url)
        endpoints["lock_store"] = {
            # Rasa's Redis lock store with atomic ticket changes (see bot/rasa_server/stores/redis_lock_store.py)
            "type": "bot.rasa_server.stores.redis_lock_store.AtomicRedisLockStore",
            "url": redis.hostname or "127.0.0.1", "port": redis.port or 6379,
            "db": int(redis.path.strip("/") or 0), "password": redis.password,
            "key_prefix": "".join(c for c in settings.events_queue if c.isalnum()),  # Rasa: alphanumeric only
        }
    if settings.rabbitmq_url:
        amqp = urlsplit(settings.rabbitmq_url)
        endpoints["event_broker"] = {
            "type": "pika", "url": amqp.hostname or "127.0.0.1", "port": amqp.port or 5672,
            "username": unquote(amqp.username or "guest"), "password": unquote(amqp.password or "guest"),
            "queues": [settings.events_queue], "exchange_name": settings.events_queue,
        }
    return yaml.safe_dump(endpoints, sort_keys=False)


def _credentials_yaml(settings: Settings) -> str:
    """This run's credentials.yml (see bot.config.channel_credentials)."""
    return yaml.safe_dump(channel_credentials(settings), sort_keys=False)


def run() -> int:
    """`make run`: prepare, start, print how to talk to the bot, supervise until Ctrl-C."""
    settings = load_settings()
    stack = Stack(settings)
    model = stack.prepare()
    stack.start(model)
    url = f"{settings.rasa_url}/webhooks/rest/webhook"
    print(
        f"\nBrightcart assistant is up (started in {stack.cold_start_seconds:.1f}s).\n"
        f"  Rasa server:    {settings.rasa_url}   (log {stack.services[1].log_path})\n"
        f"  Action server:  http://127.0.0.1:{settings.actions_port}   (log {stack.services[0].log_path})\n"
        f"  Agent console:  {settings.console_url}/   (log {stack.services[2].log_path})\n"
        f"  Demo shop:      {settings.console_url}/shop   (the web widget, embedded with one tag)\n"
        f"  Records:        {settings.database_url}\n\n"
        "Talk to it:\n"
        f"  curl -s {url} -H 'Content-Type: application/json' \\\n"
        "       -d '{\"sender\": \"c1\", \"message\": \"how long does delivery take?\"}'\n"
        "  .venv/bin/rasa shell --port 5006   (in another terminal; uses the running action server)\n"
        "  .venv/bin/python -m bot records export --format jsonl\n"
        "Add an agent for the console (password from stdin):\n"
        "  .venv/bin/python -m bot agents add alice --skills delivery,returns --capacity 3\n\n"
        "Ctrl-C stops it.",
        flush=True,
    )
    stack.supervise()
    return 0
