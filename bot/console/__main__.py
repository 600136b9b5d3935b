"""Serve the agent console: `python -m bot.console` (port BOT_CONSOLE_PORT, default 5080)."""

from __future__ import annotations

import uvicorn

from bot.config import load_settings
from bot.console.app import create_app
from bot.domain.storage.migrate import SchemaOutOfDate


def main() -> None:
    settings = load_settings()
    try:
        app = create_app(settings)
    except SchemaOutOfDate as error:
        raise SystemExit(f"agent console: {error}") from None
    uvicorn.run(app, host=settings.console_host, port=settings.console_port, log_level="info",
                access_log=False, ws="none")  # no WebSockets (live updates are server-sent events);
    # uvicorn's WebSocket support would need a newer `websockets` than Rasa pins


if __name__ == "__main__":
    main()
