"""Write rows (dicts) as JSON lines or CSV: the one output format of every CLI export."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

FORMATS = ("jsonl", "csv")


def write_rows(rows: Iterable[dict[str, Any]], fields: Sequence[str], fmt: str, out: TextIO) -> int:
    """Write `rows` to `out` in `fmt`; return how many were written. CSV cells hold lists as JSON."""
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=list(fields))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _csv_value(v) for k, v in row.items()})
            count += 1
        return count
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count


def _csv_value(value: object) -> object:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (list, dict)) else value
