"""A stock `rasa init` bot, the reference the latency benchmark compares against.

Created and trained once under build/bench/stock (Rasa's default pipeline and policies,
in-memory tracker store), then served by a plain `rasa run` on a free port.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.config import ROOT
from bot.ops.runner import Service

STOCK_DIR = ROOT / "build" / "bench" / "stock"


def ensure_stock_model() -> Path:
    """Path of the stock bot's trained model, creating the project on first use."""
    models = sorted((STOCK_DIR / "models").glob("*.tar.gz"))
    if models:
        return models[-1]
    STOCK_DIR.mkdir(parents=True, exist_ok=True)
    print("creating and training the stock `rasa init` bot (once; a few minutes)", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "rasa", "init", "--no-prompt", "--init-dir", str(STOCK_DIR)],
                   cwd=STOCK_DIR, check=True, stdout=subprocess.DEVNULL)
    return sorted((STOCK_DIR / "models").glob("*.tar.gz"))[-1]


def stock_service(port: int, log_dir: Path, env: dict[str, str]) -> Service:
    model = ensure_stock_model()
    return Service(
        "stock rasa bot",
        [sys.executable, "-m", "rasa", "run", "--model", str(model), "--port", str(port),
         "--credentials", str(STOCK_DIR / "credentials.yml")],
        f"http://127.0.0.1:{port}/",
        log_dir / f"stock-{port}.log",
        env,
        cwd=STOCK_DIR,
    )
