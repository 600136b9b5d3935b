"""`python -m bot telegram --polling | --set-webhook`: Telegram without, or with, a public URL.

--polling     long-polls Telegram's getUpdates (removing any webhook first) and hands each
              update to the running bot's own webhook with the secret header, so updates take
              exactly the path they take in production. For development without a public URL.
--set-webhook tells Telegram to POST updates to the configured webhook_url with the secret.
"""

from __future__ import annotations

import asyncio
import logging

import httpx

from bot.config import TELEGRAM_CHANNEL, Settings, channel_credentials, load_settings
from bot.rasa_server.channels.telegram import SECRET_HEADER, make_bot

logger = logging.getLogger(__name__)
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]


def main(polling: bool, set_webhook: bool) -> int:
    settings = load_settings()
    credentials = channel_credentials(settings).get(TELEGRAM_CHANNEL)
    if not credentials:
        raise ValueError("Telegram is not configured: set BOT_TELEGRAM_TOKEN and BOT_TELEGRAM_SECRET "
                         "(or the bot.rasa_server.channels.telegram.TelegramInput section of credentials.yml)")
    if set_webhook:
        return asyncio.run(_set_webhook(credentials))
    if polling:
        return asyncio.run(_poll(settings, credentials))
    raise ValueError("say --polling or --set-webhook")


async def _set_webhook(credentials: dict) -> int:
    if not credentials.get("webhook_url"):
        raise ValueError("no webhook URL: set BOT_TELEGRAM_WEBHOOK_URL (https://.../webhooks/telegram/webhook)")
    async with make_bot(credentials["access_token"], credentials.get("base_url")) as bot:
        await bot.set_webhook(credentials["webhook_url"], secret_token=credentials["secret_token"],
                              allowed_updates=ALLOWED_UPDATES)
    print(f"Telegram will POST updates to {credentials['webhook_url']}")
    return 0


async def _poll(settings: Settings, credentials: dict) -> int:
    webhook = f"{settings.rasa_url}/webhooks/telegram/webhook"
    headers = {SECRET_HEADER: credentials["secret_token"]}
    async with make_bot(credentials["access_token"], credentials.get("base_url")) as bot, \
            httpx.AsyncClient(timeout=120) as client:
        await bot.delete_webhook()
        print(f"polling Telegram as @{bot.username}; updates go to {webhook} (Ctrl-C stops)", flush=True)
        offset = None
        while True:
            for update in await bot.get_updates(offset=offset, timeout=30, allowed_updates=ALLOWED_UPDATES):
                await _forward(client, webhook, headers, update.to_dict())
                offset = update.update_id + 1


async def _forward(client: httpx.AsyncClient, webhook: str, headers: dict[str, str], update: dict) -> None:
    """Hand one update to the bot's webhook, retrying while the bot is restarting."""
    for delay in (1, 2, 4, 8, 16):
        try:
            reply = await client.post(webhook, json=update, headers=headers)
            if reply.status_code == 200:
                return
            logger.warning("the bot answered %s for update %s", reply.status_code, update.get("update_id"))
        except httpx.HTTPError as error:
            logger.warning("the bot is unreachable (%s); retrying", error)
        await asyncio.sleep(delay)
    logger.error("update %s could not be handed to the bot; skipped", update.get("update_id"))
