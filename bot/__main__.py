"""The bot's command line.

    python -m bot run                                   start everything (what `make run` does)
    python -m bot run-prod                              the production stack (what `make run-prod` does)
    python -m bot records export --format jsonl|csv [--conversation ID] [--since ISO-8601]
    python -m bot complaints list|show|set-status|notify   (see bot/domain/complaints/cli.py)
    python -m bot agents add USERNAME --skills a,b --capacity N [--role supervisor]   (password on stdin)
    python -m bot agents list
    python -m bot telegram --polling | --set-webhook     (see bot/rasa_server/channels/telegram_cli.py)
    python -m bot report [--since DAY] [--until DAY] [--channel C] [--format text|json|csv]
    python -m bot erase-customer CUSTOMER_ID            forget one customer everywhere (bot/domain/privacy/erase.py)
    python -m bot purge [--days N]                      forget conversations older than the retention period
    python -m bot db upgrade                            apply database migrations
    python -m bot train                                 train the Rasa model if its inputs changed
    python -m bot prepare                               tune + index the FAQ, train Rasa, migrate (each if needed)
    python -m bot bench latency                         latency/throughput vs a stock Rasa bot
    python -m bot bench long-conversation               the tracker store at turn 1 and turn 200
    python -m bot bench languages                       FAQ answer quality in Chinese and English
    python -m bot bench decisions                       what the running bot decides on customer questions
    python -m bot bench clusters                        purity of the unanswered-question groups
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.handler(args)
    except ValueError as error:  # includes ComplaintError: a clear message, exit 2
        print(f"error: {error}", file=sys.stderr)
        return 2


def _run(_: argparse.Namespace) -> int:
    from bot.ops.runner import run

    return run()


def _run_prod(_: argparse.Namespace) -> int:
    from bot.ops.production.stack import run

    return run()


def _export(args: argparse.Namespace) -> int:
    from bot.records_export import export

    export(args.format, args.conversation, args.since)
    return 0


def _complaints(args: argparse.Namespace) -> int:
    from bot.domain.complaints import cli

    if args.action == "list":
        return cli.list_complaints(args.status, args.format)
    if args.action == "show":
        return cli.show(args.reference)
    if args.action == "set-status":
        return cli.set_status(args.reference, args.status, args.note, args.by)
    return cli.notify()


def _agents(args: argparse.Namespace) -> int:
    from bot.config import load_settings
    from bot.domain.handoff import cli
    from bot.domain.storage.migrate import require_current

    require_current(load_settings().database_url)
    if args.action == "add":
        return cli.add(args.username, args.skills, args.capacity, args.role)
    return cli.list_agents()


def _telegram(args: argparse.Namespace) -> int:
    from bot.rasa_server.channels.telegram_cli import main

    return main(args.polling, args.set_webhook)


def _report(args: argparse.Namespace) -> int:
    from bot.domain.insight.report import main

    return main(args.since, args.until, args.channel, args.format)


def _erase(args: argparse.Namespace) -> int:
    import json

    from bot.config import load_settings
    from bot.domain import attachment_files
    from bot.domain.attachments import remove_orphans
    from bot.domain.privacy.erase import erase_customer, purge
    from bot.domain.storage.migrate import require_current

    settings = load_settings()
    require_current(settings.database_url)
    if args.command == "purge":
        removed = purge(settings.database_url, settings.retention_days if args.days is None else args.days)
    else:
        removed = erase_customer(settings.database_url, args.customer_id)
    removed["attachment_files"] = remove_orphans(settings.database_url, attachment_files.for_settings(settings))
    print(json.dumps(removed))
    return 0


def _db_upgrade(_: argparse.Namespace) -> int:
    from bot.config import load_settings
    from bot.domain.storage.migrate import upgrade

    upgrade(load_settings().database_url)
    return 0


def _train(_: argparse.Namespace) -> int:
    from bot.config import load_settings
    from bot.ops.rasa_model import ensure_model

    print(ensure_model(load_settings().models_dir))
    return 0


def _prepare(_: argparse.Namespace) -> int:
    from bot.config import load_settings
    from bot.ops.runner import Stack

    print(Stack(load_settings()).prepare(progress=True))
    return 0


def _bench_latency(args: argparse.Namespace) -> int:
    from bot.ops.bench.latency import main

    return main(args.turns, args.users, args.turns_per_user, args.chart, args.profile)


def _bench_production(args: argparse.Namespace) -> int:
    from bot.ops.bench.production import main

    return main(args.per_user, args.chart)


def _bench_languages(args: argparse.Namespace) -> int:
    from bot.ops.bench.languages import main

    return main(args.chart)


def _bench_clusters(args: argparse.Namespace) -> int:
    from bot.ops.bench.clusters import main

    return main(args.part, args.bounds)


def _bench_long_conversation(args: argparse.Namespace) -> int:
    from bot.ops.bench.long_conversation import main

    return main(args.turns)


def _bench_decisions(args: argparse.Namespace) -> int:
    from bot.ops.bench.decisions import main

    return main(args.part, args.chart)


def _parser() -> argparse.ArgumentParser:
    from bot.config import ROOT

    parser = argparse.ArgumentParser(prog="python -m bot", description="Brightcart customer assistant")
    commands = parser.add_subparsers(required=True, metavar="command")
    commands.add_parser("run", help="build, train if needed, start and supervise the stack").set_defaults(handler=_run)
    commands.add_parser("run-prod", help="the production stack: Rasa replicas, action servers, nginx, "
                        "PostgreSQL, Redis, RabbitMQ (docs/production.md)").set_defaults(handler=_run_prod)

    records = commands.add_parser("records", help="interaction records").add_subparsers(required=True, metavar="action")
    export = records.add_parser("export", help="print records, one per line")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument("--conversation", help="only this conversation id")
    export.add_argument("--since", help="only records at or after this ISO-8601 time")
    export.set_defaults(handler=_export)

    complaints = commands.add_parser("complaints", help="customer complaints").add_subparsers(
        required=True, metavar="action", dest="action")
    listing = complaints.add_parser("list", help="print complaints, one per line")
    listing.add_argument("--status", help="only complaints with this status (open, in_progress, resolved, ...)")
    listing.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    show = complaints.add_parser("show", help="one complaint with its history")
    show.add_argument("reference")
    change = complaints.add_parser("set-status", help="change a status and tell the customer")
    change.add_argument("reference", help="e.g. C-2026-000123")
    change.add_argument("status", help="open, in_progress, resolved or rejected")
    change.add_argument("--note", help="what was done; the customer sees it")
    change.add_argument("--by", help="who made the change (default: your user name)")
    resend = complaints.add_parser("notify", help="re-send status updates the customer has not received")
    for sub in (listing, show, change, resend):
        sub.set_defaults(handler=_complaints)

    agent_commands = commands.add_parser("agents", help="agent console accounts").add_subparsers(
        required=True, metavar="action", dest="action")
    add = agent_commands.add_parser("add", help="create an account; the password is read from stdin")
    add.add_argument("username")
    add.add_argument("--skills", default="", help="comma-separated FAQ/complaint categories, e.g. delivery,billing")
    add.add_argument("--capacity", type=int, default=3, help="chats at once (default 3)")
    add.add_argument("--role", choices=("agent", "supervisor"), default="agent")
    listed = agent_commands.add_parser("list", help="print the accounts, one JSON line each")
    for sub in (add, listed):
        sub.set_defaults(handler=_agents)

    telegram = commands.add_parser("telegram", help="Telegram: poll without a public URL, or set the webhook")
    mode = telegram.add_mutually_exclusive_group(required=True)
    mode.add_argument("--polling", action="store_true", help="long-poll Telegram and feed the running bot")
    mode.add_argument("--set-webhook", action="store_true", help="point Telegram at BOT_TELEGRAM_WEBHOOK_URL")
    telegram.set_defaults(handler=_telegram)

    report = commands.add_parser("report", help="the metrics (docs/metrics.md) for a date range")
    report.add_argument("--since", help="first UTC day (default: 30 days before --until)")
    report.add_argument("--until", help="day after the last (exclusive; default: now)")
    report.add_argument("--channel", help="only this channel (rest, callback, widget, telegram)")
    report.add_argument("--format", choices=("text", "json", "csv"), default="text")
    report.set_defaults(handler=_report)

    erase = commands.add_parser("erase-customer", help="remove a customer's personal data everywhere")
    erase.add_argument("customer_id", help="as in the records, e.g. telegram:12345, widget:ab12..., or a REST sender")
    erase.set_defaults(handler=_erase, command="erase")
    purge = commands.add_parser("purge", help="forget conversations older than BOT_RETENTION_DAYS (cron-safe)")
    purge.add_argument("--days", type=int, help="override the retention period")
    purge.set_defaults(handler=_erase, command="purge")

    db = commands.add_parser("db", help="database").add_subparsers(required=True, metavar="action")
    db.add_parser("upgrade", help="apply migrations").set_defaults(handler=_db_upgrade)
    commands.add_parser("train", help="train the Rasa model if needed").set_defaults(handler=_train)
    commands.add_parser("prepare", help="tune + index the FAQ, train Rasa, migrate: what `run` does before starting"
                        ).set_defaults(handler=_prepare)

    bench = commands.add_parser("bench", help="benchmarks").add_subparsers(required=True, metavar="name")
    latency = bench.add_parser("latency", help="REST latency/throughput against a stock rasa init bot")
    latency.add_argument("--turns", type=int, default=200, help="turns for the 1-user load")
    latency.add_argument("--users", type=int, default=40)
    latency.add_argument("--turns-per-user", type=int, default=15)
    latency.add_argument("--chart", default=str(ROOT / "docs" / "img" / "latency.png"))
    latency.add_argument("--profile", metavar="DIR", help="py-spy each Rasa server under the 40-user load")
    latency.set_defaults(handler=_bench_latency)
    languages = bench.add_parser("languages", help="FAQ P@1 on held-out Chinese and English questions, per encoder")
    languages.add_argument("--chart", default=str(ROOT / "docs" / "img" / "languages.png"))
    languages.set_defaults(handler=_bench_languages)
    decisions = bench.add_parser("decisions", help="answered / hedged / misrouted / declined: the running bot and "
                                 "the FAQ engine on the customer questions' test part")
    decisions.add_argument("--part", default="test", help="which part of tests/data/customer_questions")
    decisions.add_argument("--chart", default=str(ROOT / "docs" / "img" / "decisions.png"))
    decisions.set_defaults(handler=_bench_decisions)
    clusters = bench.add_parser("clusters", help="purity of the dashboard's unanswered-question groups, per bound")
    clusters.add_argument("--part", choices=("tune", "test"), default="tune")
    clusters.add_argument("--bounds", default="0.5,0.55,0.6,0.65,0.7")
    clusters.set_defaults(handler=_bench_clusters)
    long_conversation = bench.add_parser("long-conversation", help="the tracker store's load and save at turn 1 "
                                         "and at turn 200 of one conversation")
    long_conversation.add_argument("--turns", type=int, default=200)
    long_conversation.set_defaults(handler=_bench_long_conversation)
    production = bench.add_parser("production", help="the production stack against the single-process default, "
                                  "40 and 200 concurrent conversations, memory per process")
    production.add_argument("--per-user", type=int, default=8, help="turns per conversation")
    production.add_argument("--chart", default=str(ROOT / "docs" / "img" / "production.png"))
    production.set_defaults(handler=_bench_production)
    return parser


if __name__ == "__main__":
    sys.exit(main())
