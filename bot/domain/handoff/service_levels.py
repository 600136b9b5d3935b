"""The waits a shop promises (data/service_levels.yml): when the console colours a waiting
customer amber or red, and the targets the dashboard measures against (docs/metrics.md)."""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.config import ROOT

SERVICE_LEVELS = ROOT / "data" / "service_levels.yml"


@dataclass(frozen=True)
class Wait:
    warn: float
    alarm: float


@dataclass(frozen=True)
class ServiceLevels:
    queue_wait_seconds: Wait = Wait(60, 180)
    reply_wait_seconds: Wait = Wait(60, 180)
    first_response_target_seconds: float = 120
    complaint_resolution_target_hours: float = 48

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def load(path: Path = SERVICE_LEVELS) -> ServiceLevels:
    """The file's levels over the defaults (read again when the file changes: the console's live
    stream asks every second); ValueError naming what is wrong in it."""
    return _read(path, path.stat().st_mtime if path.exists() else 0.0)


@functools.lru_cache(maxsize=4)
def _read(path: Path, _changed: float) -> ServiceLevels:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    raw = raw or {}
    try:
        waits = {key: Wait(float(raw[key]["warn"]), float(raw[key]["alarm"]))
                 for key in ("queue_wait_seconds", "reply_wait_seconds") if key in raw}
        targets = {key: float(raw[key]) for key in ("first_response_target_seconds",
                                                     "complaint_resolution_target_hours") if key in raw}
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{path}: each wait needs numbers `warn` and `alarm`, each target a number ({error})") \
            from error
    levels = ServiceLevels(**waits, **targets)
    if any(w.warn > w.alarm for w in (levels.queue_wait_seconds, levels.reply_wait_seconds)):
        raise ValueError(f"{path}: `warn` must not be later than `alarm`")
    return levels
