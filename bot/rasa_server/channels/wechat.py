"""WeChat Official Account (公众号) customer service as a Rasa custom channel, plain mode.

WeChat calls `/webhooks/wechat/webhook`:
- GET `signature, timestamp, nonce, echostr` when the shop saves the server URL: answered with
  `echostr` when signature = SHA1 of the sorted token, timestamp and nonce, 403 otherwise;
- POST an XML message, with the same signature in the query string, checked on every call
  (403 and nothing processed without it). Text is a turn; a menu click (`CLICK`, its
  EventKey) and `subscribe` are turns too (the key, or a greeting); other kinds (images, voice)
  are told we read text. Each message is processed once: WeChat sends it again up to three
  times when it hears nothing within 5 seconds, and `MsgId` (or sender + time for events) is
  claimed in `channel_updates`.

WeChat waits 5 seconds for the reply. When the turn is recorded within PASSIVE_SECONDS and
says one thing, that is the reply (XML, in the same response). Otherwise the response is
"success" and the messages go through the customer-service message API (`message/custom/send`)
with an access_token cached until it expires, kept for later tries when WeChat refuses them,
as every channel's are (bot/rasa_server/channels/outbox.py). Buttons do not exist in WeChat
text: the choices are numbered and a reply with the number sends the choice. Agents may answer
within 48 hours of the customer's last message, WeChat's customer-service window
(bot/domain/handoff/reply_windows.py).

Encrypted mode (AES) is not supported: no well-kept Python library does it, so set the
account's message encryption to plain text (明文模式). Chinese is the bot's language here
unless the customer writes in English.

    bot.rasa_server.channels.wechat.WeChatInput:
      app_id: "wx1234567890abcdef"       # 开发 > 基本配置: AppID
      app_secret: "…"                    # AppSecret
      token: "a-random-string"           # the token you enter beside the server URL
      api_url: "https://api.weixin.qq.com"   # optional: a test fake
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.rasa_server.channels import delivery, outbox
from bot.rasa_server.channels.replica_memory import ReplicaMemory
from bot.rasa_server.channels.rest import clean_text

logger = logging.getLogger(__name__)

WECHAT_API = "https://api.weixin.qq.com"
PASSIVE_SECONDS = 4.0  # WeChat gives up after 5 s; the rest goes through the customer-service API
MAX_TEXT_CHARS = 2000  # a customer-service text message's limit, in characters (2048 bytes is the passive one)
MAX_BODY_BYTES = 64 * 1024
ONLY_TEXT = "抱歉，我目前只能读懂文字消息。请直接输入您的问题。"
CHOOSE = "回复数字即可选择（Reply with the number）："
GREETING = "你好"  # what a new follower "says": the bot greets them as it greets anyone


class WeChatInput(InputChannel):
    """Receives WeChat Official Account messages and hands them to Rasa."""

    @classmethod
    def name(cls) -> str:
        return "wechat"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WeChatInput:
        needed = ("app_id", "app_secret", "token")
        if not credentials or not all(credentials.get(key) for key in needed):
            cls.raise_missing_credentials_exception()
        return cls(*(str(credentials[key]) for key in needed), credentials.get("api_url") or WECHAT_API)

    def __init__(self, app_id: str, app_secret: str, token: str, api_url: str = WECHAT_API) -> None:
        self.token = token
        self.output = WeChatOutput(app_id, app_secret, api_url)

    def get_output_channel(self) -> OutputChannel:
        """Where pushed messages (agents, status updates) go: the customer-service API."""
        return self.output

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("wechat_webhook", __name__)

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            """WeChat's check of the server URL."""
            if not self._signed(request):
                return response.text("wrong signature", status=403)
            return response.text(request.args.get("echostr") or "")

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            """Check the signature; answer within WeChat's 5 seconds, or say "success" and send later."""
            if not self._signed(request):
                return response.text("wrong signature", status=403)
            message = _parse(request.body)
            if message is None:
                return response.text("the body is not a WeChat message", status=400)
            if not await delivery.first_delivery(self.name(), _delivery_key(message)):
                return response.text("success")  # WeChat's retry of a message being (or already) answered
            try:
                return await self._answer(message, on_new_message)
            except Exception:
                logger.exception("processing a WeChat message failed")
                await delivery.forget_delivery(self.name(), _delivery_key(message))
                return response.text("not processed", status=500)  # WeChat sends it again

        return webhook

    def _signed(self, request: Request) -> bool:
        args = request.args
        parts = sorted([self.token, args.get("timestamp") or "", args.get("nonce") or ""])
        expected = hashlib.sha1("".join(parts).encode()).hexdigest()
        return hmac.compare_digest((args.get("signature") or "").encode(), expected.encode())

    async def _answer(self, message: dict[str, str], on_new_message: Callable[[UserMessage], Awaitable[Any]]
                      ) -> HTTPResponse:
        openid = message.get("FromUserName", "")
        customer_id = f"wechat:{openid}"
        text = self._text_of(message)
        if text is None:
            await outbox.send_notice(self.output, openid, customer_id, None, ONLY_TEXT, "not_text")
            return response.text("success")
        collector = CollectingOutputChannel()
        turn = UserMessage(clean_text(text)[:MAX_TEXT_CHARS], CollectingOutputChannel(), openid,
                           input_channel=self.name(), metadata={"customer_id": customer_id})
        running = asyncio.ensure_future(outbox.run_turn(turn, collector, on_new_message))
        try:
            await asyncio.wait_for(asyncio.shield(running), PASSIVE_SECONDS)
        except asyncio.TimeoutError:  # slower than WeChat waits: the answer follows through the API
            running.add_done_callback(lambda done: self._send_later(done, openid, collector))
            return response.text("success")
        replies = outbox.said(collector)
        if len(replies) == 1:  # one thing to say: in the same HTTP response (buttons as numbered lines)
            reply = replies[0]
            self.output.remember_choices(openid, reply.get("buttons") or [])
            text = numbered(reply.get("text") or "", reply.get("buttons") or [])
            return response.raw(_passive_xml(message, text), content_type="application/xml")
        await _deliver(self.output, openid, replies)
        return response.text("success")

    def _send_later(self, done: asyncio.Future, openid: str, collector: CollectingOutputChannel) -> None:
        if done.exception() is None:
            replies = outbox.said(collector)
            asyncio.ensure_future(_deliver(self.output, openid, replies))

    def _text_of(self, message: dict[str, str]) -> str | None:
        kind = message.get("MsgType")
        if kind == "text":
            said = message.get("Content") or ""
            return self.output.choice(message.get("FromUserName", ""), said) or said or None
        if kind == "event":
            event = (message.get("Event") or "").lower()
            if event == "subscribe":
                return GREETING
            if event == "click":
                return message.get("EventKey") or None
            return None
        return None


async def _deliver(output: WeChatOutput, openid: str, replies: list[dict[str, Any]]) -> None:
    """Send recorded replies through the customer-service API (undelivered ones kept for later tries)."""
    await outbox.Outbox(output, messages=[(openid, m) for m in replies], recorded=True).deliver()


def _parse(body: bytes) -> dict[str, str] | None:
    """The message's fields; None for a body that is not WeChat's XML (no DTDs, no entities)."""
    if len(body) > MAX_BODY_BYTES or b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        return None
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return None
    fields = {child.tag: (child.text or "") for child in root}
    return fields if root.tag == "xml" and fields.get("FromUserName") and fields.get("MsgType") else None


def _delivery_key(message: dict[str, str]) -> str:
    """MsgId for messages; sender and time for events, which have none."""
    return message.get("MsgId") or f"{message.get('FromUserName')}:{message.get('CreateTime')}:{message.get('Event')}"


def _passive_xml(message: dict[str, str], text: str) -> bytes:
    """The reply in the same HTTP response: from the account to the customer."""
    return (f"<xml><ToUserName><![CDATA[{_cdata(message.get('FromUserName', ''))}]]></ToUserName>"
            f"<FromUserName><![CDATA[{_cdata(message.get('ToUserName', ''))}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{_cdata(text[:MAX_TEXT_CHARS])}]]></Content></xml>").encode()


def _cdata(text: str) -> str:
    return text.replace("]]>", "]]]]><![CDATA[>")


class NotDelivered(RuntimeError):
    """WeChat's API did not take a message."""


class WeChatOutput(OutputChannel):
    """Sends messages through the customer-service message API, with a cached access_token."""

    retries_on_its_own = True

    @classmethod
    def name(cls) -> str:
        return "wechat"

    def __init__(self, app_id: str, app_secret: str, api_url: str) -> None:
        self.app_id, self.app_secret, self.api_url = app_id, app_secret, api_url.rstrip("/")
        self._token: tuple[str, float] | None = None  # (access_token, expires at)
        self._token_lock = asyncio.Lock()
        self._choices = ReplicaMemory("wechat-choices")  # openid -> payloads of the numbered choices, as JSON

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for start in range(0, max(len(text), 1), MAX_TEXT_CHARS):
            await self._send(recipient_id, text[start:start + MAX_TEXT_CHARS])

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list[dict[str, Any]],
                                     **kwargs: Any) -> None:
        await self.send_text_message(recipient_id, numbered(text, buttons))
        self.remember_choices(recipient_id, buttons)

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        if json_message.get("text"):
            await self.send_text_message(recipient_id, str(json_message["text"]))

    def remember_choices(self, openid: str, buttons: list[dict[str, Any]]) -> None:
        self._choices.put(openid, json.dumps([str(b["payload"]) for b in buttons if b.get("payload")]))

    def choice(self, openid: str, said: str) -> str | None:
        """The payload of the numbered choice a customer replied with, if they replied a number we offered."""
        match = re.fullmatch(r"\s*(\d{1,2})\s*", said)
        if not match:  # most messages: no need to ask what was offered
            return None
        offered = json.loads(self._choices.get(openid) or "[]")
        if not 1 <= int(match.group(1)) <= len(offered):
            return None
        return offered[int(match.group(1)) - 1]

    async def _send(self, openid: str, text: str) -> None:
        body = {"touser": openid, "msgtype": "text", "text": {"content": text}}
        async with httpx.AsyncClient(timeout=10) as client:
            for attempt in range(2):
                token = await self._access_token(client, refresh=attempt > 0)
                try:
                    reply = (await client.post(f"{self.api_url}/cgi-bin/message/custom/send",
                                               params={"access_token": token}, json=body)).json()
                except (httpx.HTTPError, ValueError) as error:
                    raise NotDelivered(f"WeChat did not take a message to {openid}: {error!r}") from error
                if reply.get("errcode", 0) == 0:
                    return
                if reply.get("errcode") not in (40001, 40014, 42001):  # only an expired token is worth a retry
                    break
        raise NotDelivered(f"WeChat did not take a message to {openid}: {reply}")

    async def _access_token(self, client: httpx.AsyncClient, refresh: bool) -> str:
        """The access_token, fetched once and again shortly before it expires (or when refused)."""
        async with self._token_lock:
            if self._token and not refresh and time.time() < self._token[1]:
                return self._token[0]
            reply = (await client.get(f"{self.api_url}/cgi-bin/token", params={
                "grant_type": "client_credential", "appid": self.app_id, "secret": self.app_secret})).json()
            if not reply.get("access_token"):
                raise NotDelivered(f"WeChat gave no access_token: {reply}")
            self._token = (reply["access_token"], time.time() + int(reply.get("expires_in", 7200)) - 300)
            return self._token[0]


def numbered(text: str, buttons: list[dict[str, Any]]) -> str:
    """Buttons as numbered lines under the text: WeChat has no buttons in a text message."""
    lines = [f"{n}. {b.get('title', '')}" for n, b in enumerate(buttons, start=1) if b.get("payload")]
    return "\n".join([text, CHOOSE, *lines]) if lines else text

