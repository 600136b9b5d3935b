"""One headless Debian chromium per browser test module, driven by Playwright (no browser download)."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import RunningBot

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser(bot: RunningBot) -> Iterator[object]:
    """The browser, started after this module's stack (`bot`) is up."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield browser
        browser.close()


@contextmanager
def shop_site(bot: RunningBot) -> Iterator[str]:
    """The shop's own web site (a server of its own on this machine): every path is a page, titled
    after its last part, embedding the widget. Yields the site's base address."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            title = self.path.split("?")[0].rstrip("/").rsplit("/", 1)[-1].capitalize() or "Home"
            body = (f'<!doctype html><title>{title}</title><h1>{title}</h1><script src="{bot.settings.console_url}'
                    f'/widget.js" data-server="{bot.settings.rasa_url}"></script>').encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def session_of(page: object) -> str:
    """The conversation id the widget keeps in this browser."""
    kept = page.evaluate("Object.entries(localStorage).find(([key]) => key.startsWith('brightcart-chat:'))[1]")
    return json.loads(kept)["sessionId"]


AXE = Path(__file__).resolve().parent / "a11y" / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(page: object, context: str = "document") -> list[str]:
    """WCAG 2 A and AA rules axe-core finds broken on the page as it is now (colour contrast,
    names of controls, focus order, ...), each as "rule: the first element's selector"."""
    if not AXE.exists():
        pytest.fail("axe-core is missing: `make test` installs it (npm ci in tests/browser/a11y)")
    if not page.evaluate("!!window.axe"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate(f"""async () => (await axe.run({context}, {{runOnly: ["wcag2a", "wcag2aa"]}}))
        .violations.map((v) => v.id + ": " + v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", "))""")
    return list(found)


def assert_accessible(page: object, context: str = "document") -> None:
    found = axe_violations(page, context)
    assert not found, "axe-core: " + " | ".join(found)
