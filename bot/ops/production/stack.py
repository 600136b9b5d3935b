"""Start and supervise the production stack on one machine (`make run-prod`).

    DATABASE_URL=postgresql://127.0.0.1:5432/brightcart python -m bot run-prod

What starts, each supervised (a process that dies is restarted, as in `make run`):
- BOT_RASA_REPLICAS Rasa servers and BOT_ACTION_SERVERS action servers on free ports;
- nginx on BOT_RASA_PORT (customers, Rasa API) and BOT_ACTIONS_PORT (Rasa → actions), spreading
  requests over them (bot/ops/production/nginx.py);
- the RabbitMQ event consumer (bot/domain/events/consumer.py) and the agent console.
Every Rasa replica uses the same PostgreSQL (tracker store + records), the Redis lock store
(one conversation's messages are processed one at a time, whichever replica gets them) and
the RabbitMQ event broker. Every action server loads the same FAQ index read-only and follows
its `CURRENT` pointer, so one `python -m faq_index build` reaches all of them.

The ports of this run's processes are written to <run_dir>/prod-<rasa_port>.json, so
operators (and the resilience tests) can find them.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import sqlalchemy as sa

from bot.config import Settings, load_settings
from bot.ops.production import nginx
from bot.ops.runner import Service, Stack, free_port

PRODUCTION_DEFAULTS = {
    "database_url": "postgresql://127.0.0.1:5432/brightcart",
    "redis_url": "redis://127.0.0.1:6379/1",
    "rabbitmq_url": "amqp://guest:guest@127.0.0.1:5672/%2F",
}
NGINX = "/usr/sbin/nginx"


class NotProductionReady(RuntimeError):
    """A setting the production stack cannot run with; the message says which and why."""


def production_settings(settings: Settings) -> Settings:
    """The settings with the production services filled in where the environment left them out."""
    defaults = Settings()
    changes = {name: value for name, value in PRODUCTION_DEFAULTS.items()
               if getattr(settings, name) == getattr(defaults, name)}
    settings = replace(settings, **changes)
    if not settings.database_url.startswith("postgresql"):
        raise NotProductionReady(f"the production stack needs PostgreSQL in DATABASE_URL, not {settings.database_url}")
    if settings.rasa_replicas < 1 or settings.action_servers < 1:
        raise NotProductionReady("BOT_RASA_REPLICAS and BOT_ACTION_SERVERS must be at least 1")
    return settings


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database of `url` if it does not exist (first run on a machine)."""
    target = sa.engine.make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            query = sa.text("SELECT 1 FROM pg_database WHERE datname = :name")
            exists = connection.execute(query, {"name": target.database}).first()
            if not exists:
                connection.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()


@dataclass
class ProductionStack(Stack):
    """Rasa replicas and action servers behind nginx, the event consumer and the console."""

    replica_ports: list[int] | None = None
    action_ports: list[int] | None = None
    consumer_port: int | None = None

    def prepare(self, progress: bool = True) -> Path:
        ensure_database(self.settings.database_url)
        return super().prepare(progress)

    def service_list(self, model: Path, endpoints: Path, credentials: Path, env: dict[str, str]) -> list[Service]:
        settings = self.settings
        self.replica_ports = self.replica_ports or [free_port() for _ in range(settings.rasa_replicas)]
        self.action_ports = self.action_ports or [free_port() for _ in range(settings.action_servers)]
        self.consumer_port = self.consumer_port or free_port()
        for folder in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (settings.run_dir / "nginx-temp" / folder).mkdir(parents=True, exist_ok=True)
        conf = settings.run_dir / f"nginx-{settings.rasa_port}.conf"
        conf.write_text(nginx.config(settings.run_dir, settings.rasa_port, self.replica_ports,
                                     settings.actions_port, self.action_ports), encoding="utf-8")
        services = [self.action_server(port, env, f"action server {i + 1}") for i, port in enumerate(self.action_ports)]
        services += [self.rasa_server(port, model, endpoints, credentials, env, f"rasa server {i + 1}")
                     for i, port in enumerate(self.replica_ports)]
        consumer = [sys.executable, "-m", "bot.domain.events.consumer", "--health-port", str(self.consumer_port)]
        services += [
            Service("nginx", [_nginx(), "-c", str(conf), "-p", str(settings.run_dir)], f"{settings.rasa_url}/",
                    settings.run_dir / f"nginx-{settings.rasa_port}.log", env),
            Service("event consumer", consumer, f"http://127.0.0.1:{self.consumer_port}/health",
                    settings.run_dir / f"consumer-{self.consumer_port}.log", env),
            self.console(env),
        ]
        return services

    def write_state(self) -> Path:
        """<run_dir>/prod-<rasa_port>.json: every process's name, pid, port and log."""
        path = self.settings.run_dir / f"prod-{self.settings.rasa_port}.json"
        state = {
            "rasa_url": self.settings.rasa_url, "console_url": self.settings.console_url,
            "processes": [{"name": s.name, "pid": s.process.pid if s.process else None, "health": s.health_url,
                           "log": str(s.log_path)} for s in self.services],
        }
        # Replaced in one step: an operator's script (or the resilience tests, which once read
        # it empty mid-write during a restart) sees the old file or the new one, never half.
        staged = path.with_suffix(".json.tmp")
        staged.write_text(json.dumps(state, indent=1), encoding="utf-8")
        os.replace(staged, path)
        return path


def _nginx() -> str:
    found = shutil.which("nginx") or (NGINX if Path(NGINX).exists() else None)
    if not found:
        raise NotProductionReady("nginx is not installed (Debian: apt-get install nginx; `make run-prod` does it)")
    return found


def run() -> int:
    """`make run-prod`: prepare, start everything, print where it is, supervise until Ctrl-C."""
    try:
        settings = production_settings(load_settings())
        _nginx()
    except NotProductionReady as problem:
        print(f"cannot start the production stack: {problem}", file=sys.stderr)
        return 2
    stack = ProductionStack(settings)
    model = stack.prepare()
    stack.start(model)
    state = stack.write_state()
    lines = "\n".join(f"  {s.name:<16} pid {s.process.pid if s.process else '-':<8} {s.health_url}"
                      for s in stack.services)
    print(
        f"\nBrightcart production stack is up (started in {stack.cold_start_seconds:.1f}s).\n{lines}\n"
        f"  Customers and Rasa API: {settings.rasa_url}  (nginx)\n"
        f"  Agent console:          {settings.console_url}/\n"
        f"  Records:                {settings.database_url}\n"
        f"  Lock store / broker:    {settings.redis_url} / {settings.rabbitmq_url.split('@')[-1]}\n"
        f"  Processes and logs:     {state}\n"
        "Ctrl-C stops it.",
        flush=True,
    )
    stack.supervise(on_restart=stack.write_state)
    return 0
