"""The web server's customer-facing routes (no login: they are for customers):

    GET /widget.js   the chat widget: the socket.io client and widget.js in one file
    GET /shop        a demo shop page with the widget embedded by its one tag

The socket.io client comes from the npm registry (bot/console/widget_assets/package.json,
installed by `make install` with `npm ci`); nothing is bundled by hand or at run time.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from bot.config import Settings

ASSETS = Path(__file__).resolve().parent / "widget_assets"
SOCKETIO_CLIENT = ASSETS / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
CUSTOMER_ROUTES = {("GET", "/widget.js"), ("GET", "/shop")}


@lru_cache(maxsize=1)
def widget_bundle() -> tuple[bytes, str]:
    """The served widget and its ETag. Fails loudly if `make install` did not fetch the client."""
    if not SOCKETIO_CLIENT.exists():
        raise FileNotFoundError(f"{SOCKETIO_CLIENT} is missing: run `make install` (npm ci in {ASSETS})")
    body = SOCKETIO_CLIENT.read_bytes() + b"\n;\n" + (ASSETS / "widget.js").read_bytes()
    return body, hashlib.sha256(body).hexdigest()[:16]


def add_routes(app: FastAPI, settings: Settings) -> None:
    @app.get("/widget.js", include_in_schema=False)
    def widget(request: Request) -> Response:
        body, etag = widget_bundle()
        headers = {"ETag": etag, "Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*",
                   "Cross-Origin-Resource-Policy": "cross-origin"}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        return Response(body, media_type="application/javascript", headers=headers)

    @app.get("/shop", include_in_schema=False)
    def shop(request: Request) -> HTMLResponse:
        """The demo shop, pointing its widget at this machine's Rasa server."""
        rasa = f"{request.url.scheme}://{request.url.hostname}:{settings.rasa_port}"
        html = (ASSETS / "shop.html").read_text(encoding="utf-8").replace("{{RASA_SERVER}}", rasa)
        websocket = rasa.replace("http", "ws", 1)
        return HTMLResponse(html, headers={
            "Content-Security-Policy": f"default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                                       f"connect-src 'self' {rasa} {websocket}; object-src 'none'"})
