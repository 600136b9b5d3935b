"""The callback channel: `POST /webhooks/callback/webhook` with {"sender", "message"}; the bot's
replies are POSTed to the configured URL (BOT_CALLBACK_URL), as with Rasa's stock channel.

Unlike the stock one, which POSTs each reply while the turn runs (before it is saved) and logs a
failed POST, this one is the REST channel's checks and limits with another destination: the
replies are POSTed only once the turn is recorded (bot/rasa_server/channels/outbox.py), the request is
answered 503 when it could not be, and a reply the URL refused is kept in
`undelivered_messages`. Pushes (an agent's message, the rating question) reach the same URL.

    callback:                       # credentials.yml; the runner points it at BOT_CALLBACK_URL
      url: "http://127.0.0.1:5034/bot"
"""

from __future__ import annotations

from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel
from rasa.utils.endpoints import EndpointConfig
from sanic import response
from sanic.response import HTTPResponse

from bot.rasa_server.channels.rest import CustomerRestInput


class CallbackOutput(CollectingOutputChannel):
    """POSTs each message to the callback URL; a refused POST raises (the outbox keeps it)."""

    @classmethod
    def name(cls) -> str:
        return "callback"

    def __init__(self, endpoint: EndpointConfig) -> None:
        super().__init__()
        self.endpoint = endpoint

    async def _persist_message(self, message: dict[str, Any]) -> None:
        await super()._persist_message(message)
        await self.endpoint.request("post", content_type="application/json", json=message)


class CallbackInput(CustomerRestInput):
    """The REST channel whose replies go to a URL instead of into the HTTP answer."""

    @classmethod
    def name(cls) -> str:
        return "callback"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls(EndpointConfig.from_dict(credentials or {}))

    def __init__(self, endpoint: EndpointConfig) -> None:
        self.endpoint = endpoint

    def get_output_channel(self) -> OutputChannel:
        """Where pushes through Rasa's HTTP API go for a conversation on this channel."""
        return CallbackOutput(self.endpoint)

    def reply_channel(self) -> OutputChannel:
        return CallbackOutput(self.endpoint)

    def answer(self, channel: OutputChannel) -> HTTPResponse:
        return response.text("success")
