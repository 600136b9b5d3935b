"""What this project adds to Rasa's own HTTP app: routes (behind its token), middleware, listeners.

Rasa builds its Sanic app in `rasa.server.create_app`; each module that adds to it
(bot/rasa_server/faq_api.py, bot/rasa_server/channels/live_typing.py and outbox.py,
bot/rasa_server/hot_path/frozen_heap.py) wraps it once, by name, before Rasa starts
(bot/rasa_server/__main__.py), so the additions are there whatever Rasa serves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sanic import Blueprint, Sanic


def configure(name: str, setup: Callable[[Sanic, str | None], None]) -> None:
    """Call `setup(app, auth_token)` on every app Rasa builds; a second call with the same name does nothing."""
    import rasa.server

    original_create_app = rasa.server.create_app
    added = getattr(original_create_app, "extra_routes", frozenset())
    if name in added:
        return

    def create_app(*args: Any, **kwargs: Any) -> Sanic:
        app = original_create_app(*args, **kwargs)
        setup(app, kwargs.get("auth_token"))
        return app

    create_app.extra_routes = added | {name}  # type: ignore[attr-defined]
    rasa.server.create_app = create_app


def add(name: str, routes: Callable[[Sanic, str | None], Blueprint]) -> None:
    """Serve `routes(app, auth_token)` on Rasa's app too; a second call with the same name does nothing."""
    configure(name, lambda app, auth_token: app.blueprint(routes(app, auth_token)))
