"""`python -m bot report --since 2026-11-01 --until 2026-12-01 [--channel telegram] [--format text|json|csv]`

Prints the metrics of docs/metrics.md for the range (since inclusive, until exclusive; dates
are UTC days). json: everything; csv: one row per (day, channel); text: a readable summary.
The console's dashboard shows the same figures from the same code.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta, timezone
from typing import Any

from bot.config import load_settings
from bot.domain.handoff import service_levels
from bot.domain.insight import metrics, source
from bot.tabular import write_rows


def parse_day(text: str) -> datetime:
    """A UTC date or time: 2026-11-25 or 2026-11-25T10:00:00Z; ValueError with the expected form."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as error:
        raise ValueError(f"{text!r} is not a date: use e.g. 2026-11-25 or 2026-11-25T10:00:00Z") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def date_range(since: str | None, until: str | None) -> tuple[datetime, datetime]:
    """[since, until) from the user's dates; by default the last 30 days."""
    end = parse_day(until) if until else datetime.now(timezone.utc)
    start = parse_day(since) if since else end - timedelta(days=30)
    if start >= end:
        raise ValueError("since must be before until")
    return start, end


def figures(url: str, since: str | None, until: str | None, channel: str | None) -> dict[str, Any]:
    """Everything the report and the dashboard show, for the range and channel."""
    start, end = date_range(since, until)
    levels = service_levels.load()
    result = metrics.compute(source.load(url, start, end, channel or None),
                             first_response_target=levels.first_response_target_seconds,
                             resolution_target_hours=levels.complaint_resolution_target_hours)
    return {"since": start.isoformat(), "until": end.isoformat(), "channel": channel or None} | result


def main(since: str | None, until: str | None, channel: str | None, output: str) -> int:
    report = figures(load_settings().database_url, since, until, channel)
    if output == "json":
        print(json.dumps(report, indent=2, default=str))
    elif output == "csv":
        rows = report["by_day_channel"]
        write_rows(rows, list(rows[0]) if rows else ["day", "channel"], "csv", sys.stdout)
    else:
        print(_text(report))
    return 0


def _text(report: dict[str, Any]) -> str:
    totals = report["totals"]
    lines = [f"Brightcart assistant, {report['since'][:10]} to {report['until'][:10]}"
             + (f", channel {report['channel']}" if report["channel"] else "")]
    for key in ("conversations", "containment_rate", "handoff_rate", "faq_answer_rate", "fallback_rate",
                "complaints", "csat_mean", "csat_response_rate"):
        lines.append(f"  {key.replace('_', ' '):<28} {_show(totals[key], key.endswith('rate'))}")
    for reason, rate in totals["handoff_rate_by_reason"].items():
        lines.append(f"  {'handoff rate: ' + reason:<28} {_show(rate, True)}")
    wait = totals["time_to_first_agent_response_seconds"]
    lines.append(f"  {'first agent response (s)':<28} median {_show(wait['median'])}, mean {_show(wait['mean'])}")
    hours = totals["complaint_resolution_hours"]
    lines.append(f"  {'complaint resolution (h)':<28} median {_show(hours['median'])}, mean {_show(hours['mean'])}")
    categories = totals["complaints_by_category"].items()
    lines.append("  complaints by category: " + ", ".join(f"{k} {v}" for k, v in categories))
    lines.append("Top FAQ entries: " + ", ".join(f"{e['faq_id']} ({e['answers']})" for e in report["top_faq_entries"]))
    lines.append(f"Unanswered questions: {len(report['unanswered_questions'])}")
    lines += [f"  - {q['text']}" for q in report["unanswered_questions"][:10]]
    return "\n".join(lines)


def _show(value: Any, percent: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:.1%}" if percent else str(value)
