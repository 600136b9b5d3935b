"""The one place settings come from: defaults, overridden by environment variables.

Every process (runner, Rasa server, action server, CLI, tests) reads settings through
`load_settings()`, so ports, paths, the database and thresholds cannot drift apart. The
runner passes its settings to the processes it starts as these same environment variables.

| setting | variable | default |
|---|---|---|
| database_url | DATABASE_URL | sqlite:///<root>/var/bot.sqlite3 |
| rasa_port | BOT_RASA_PORT | 5005 |
| actions_port | BOT_ACTIONS_PORT | 5055 |
| kb_dir | BOT_KB_DIR | <root>/data/faq |
| canned_replies | BOT_CANNED_REPLIES | <root>/data/canned_replies.yml (supervisors edit it in the dashboard) |
| index_dir | BOT_INDEX_DIR | <root>/build/faq_index |
| encoders_dir | BOT_ENCODERS_DIR | <root>/build/faq_encoders |
| calibration_dir | BOT_CALIBRATION_DIR | <root>/tests/data/customer_questions (see faq_index/customers.py) |
| models_dir | BOT_MODELS_DIR | <root>/models |
| run_dir | BOT_RUN_DIR | <root>/var/run |
| index_poll_seconds | BOT_INDEX_POLL_SECONDS | 1.0 |
| rasa_token | BOT_RASA_TOKEN | (empty: generated into <run_dir>/rasa-token, see bot.rasa_api) |
| callback_url | BOT_CALLBACK_URL | http://127.0.0.1:5034/bot (where the `callback` channel posts replies) |
| console_port | BOT_CONSOLE_PORT | 5080 (the agent console, http://127.0.0.1:5080/) |
| opening_hours | BOT_OPENING_HOURS | (empty: agents may be online any time) e.g. "mon-fri 09:00-17:00" |
| timezone | BOT_TIMEZONE | UTC (the zone opening hours are in) |
| console_host | BOT_CONSOLE_HOST | 127.0.0.1 (0.0.0.0 to let other machines in; put TLS in front) |
| console_secure_cookies | BOT_CONSOLE_SECURE_COOKIES | false (true when the console is served over HTTPS) |
| telegram_token | BOT_TELEGRAM_TOKEN | (empty: no Telegram channel unless credentials.yml has one) |
| telegram_secret | BOT_TELEGRAM_SECRET | (the webhook's secret token; required with a token) |
| telegram_webhook_url | BOT_TELEGRAM_WEBHOOK_URL | (public URL of /webhooks/telegram/webhook, for --set-webhook) |
| telegram_api_url | BOT_TELEGRAM_API_URL | https://api.telegram.org (a self-hosted Bot API server) |
| whatsapp_token | BOT_WHATSAPP_TOKEN | (empty: no WhatsApp channel unless credentials.yml has one) |
| whatsapp_app_secret | BOT_WHATSAPP_APP_SECRET | (the Meta app's secret: checks every webhook's signature) |
| whatsapp_verify_token | BOT_WHATSAPP_VERIFY_TOKEN | (yours: Meta sends it back when the webhook is set up) |
| whatsapp_phone_number_id | BOT_WHATSAPP_PHONE_NUMBER_ID | (the business number's id) |
| whatsapp_api_url | BOT_WHATSAPP_API_URL | https://graph.facebook.com/v21.0 |
| wechat_app_id | BOT_WECHAT_APP_ID | (empty: no WeChat channel unless credentials.yml has one) |
| wechat_app_secret | BOT_WECHAT_APP_SECRET | (the Official Account's AppSecret) |
| wechat_token | BOT_WECHAT_TOKEN | (the token entered beside the server URL: signs every call) |
| wechat_api_url | BOT_WECHAT_API_URL | https://api.weixin.qq.com |
| email_imap_url | BOT_EMAIL_IMAP_URL | (empty: no email channel) imaps://user:password@imap.host:993/INBOX |
| email_address | BOT_EMAIL_ADDRESS | (the address customers write to; From: of the answers, sent via BOT_SMTP_URL) |
| email_poll_seconds | BOT_EMAIL_POLL_SECONDS | 30 (how often the mailbox is read) |
| smtp_url | BOT_SMTP_URL | (empty: no email verification) e.g. smtp://user:pass@mail.example:587 |
| mail_from | BOT_MAIL_FROM | Brightcart <no-reply@brightcart.example> |
| redact | BOT_REDACT | email,phone,card,number (personal data replaced in stored text; "none" = off) |
| retention_days | BOT_RETENTION_DAYS | 365 (`python -m bot purge` forgets conversations older than this) |
| rasa_replicas | BOT_RASA_REPLICAS | 2 (production stack only: Rasa servers behind nginx) |
| action_servers | BOT_ACTION_SERVERS | 2 (production stack only: action servers behind nginx) |
| redis_url | BOT_REDIS_URL | (empty: in-memory locks) production: redis://127.0.0.1:6379/1, Rasa's lock store |
| rabbitmq_url | BOT_RABBITMQ_URL | (empty: no event broker) production: amqp://guest:guest@127.0.0.1:5672/%2F |
| events_queue | BOT_EVENTS_QUEUE | brightcart-events (RabbitMQ queue and exchange the event consumer reads) |
| rate_limit | BOT_RATE_LIMIT | 30/60 (messages/seconds per customer on REST, Telegram and the widget; "off" = none) |
| action_timeout | BOT_ACTION_TIMEOUT | 5 (seconds Rasa waits for an action call before it apologises in its place) |
| redelivery_seconds | BOT_REDELIVERY_SECONDS | 30 (pause before a refused message is retried; doubles, to 1 h) |
| attachments_dir | BOT_ATTACHMENTS_DIR | <root>/var/attachments (files customers sent; outside any web root) |
| attachments_url | BOT_ATTACHMENTS_URL | (empty: that directory) s3://bucket/prefix?endpoint_url=... (keys: AWS_*) |

The rate limit is counted per sender, in Redis when BOT_REDIS_URL is set (every replica counts
against the same limit), else in the Rasa process; the production nginx also limits per client
IP (bot/ops/production/nginx.py). See bot/rasa_server/channels/rate_limit.py.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

_ENV = {
    "database_url": "DATABASE_URL",
    "rasa_port": "BOT_RASA_PORT",
    "actions_port": "BOT_ACTIONS_PORT",
    "kb_dir": "BOT_KB_DIR",
    "canned_replies": "BOT_CANNED_REPLIES",
    "index_dir": "BOT_INDEX_DIR",
    "encoders_dir": "BOT_ENCODERS_DIR",
    "calibration_dir": "BOT_CALIBRATION_DIR",
    "models_dir": "BOT_MODELS_DIR",
    "run_dir": "BOT_RUN_DIR",
    "index_poll_seconds": "BOT_INDEX_POLL_SECONDS",
    "rasa_token": "BOT_RASA_TOKEN",
    "callback_url": "BOT_CALLBACK_URL",
    "console_port": "BOT_CONSOLE_PORT",
    "opening_hours": "BOT_OPENING_HOURS",
    "timezone": "BOT_TIMEZONE",
    "console_host": "BOT_CONSOLE_HOST",
    "console_secure_cookies": "BOT_CONSOLE_SECURE_COOKIES",
    "telegram_token": "BOT_TELEGRAM_TOKEN",
    "telegram_secret": "BOT_TELEGRAM_SECRET",
    "telegram_webhook_url": "BOT_TELEGRAM_WEBHOOK_URL",
    "telegram_api_url": "BOT_TELEGRAM_API_URL",
    "whatsapp_token": "BOT_WHATSAPP_TOKEN",
    "whatsapp_app_secret": "BOT_WHATSAPP_APP_SECRET",
    "whatsapp_verify_token": "BOT_WHATSAPP_VERIFY_TOKEN",
    "whatsapp_phone_number_id": "BOT_WHATSAPP_PHONE_NUMBER_ID",
    "whatsapp_api_url": "BOT_WHATSAPP_API_URL",
    "wechat_app_id": "BOT_WECHAT_APP_ID",
    "wechat_app_secret": "BOT_WECHAT_APP_SECRET",
    "wechat_token": "BOT_WECHAT_TOKEN",
    "wechat_api_url": "BOT_WECHAT_API_URL",
    "email_imap_url": "BOT_EMAIL_IMAP_URL",
    "email_address": "BOT_EMAIL_ADDRESS",
    "email_poll_seconds": "BOT_EMAIL_POLL_SECONDS",
    "smtp_url": "BOT_SMTP_URL",
    "mail_from": "BOT_MAIL_FROM",
    "redact": "BOT_REDACT",
    "retention_days": "BOT_RETENTION_DAYS",
    "rate_limit": "BOT_RATE_LIMIT",
    "rasa_replicas": "BOT_RASA_REPLICAS",
    "action_servers": "BOT_ACTION_SERVERS",
    "redis_url": "BOT_REDIS_URL",
    "rabbitmq_url": "BOT_RABBITMQ_URL",
    "events_queue": "BOT_EVENTS_QUEUE",
    "action_timeout": "BOT_ACTION_TIMEOUT",
    "redelivery_seconds": "BOT_REDELIVERY_SECONDS",
    "attachments_dir": "BOT_ATTACHMENTS_DIR",
    "attachments_url": "BOT_ATTACHMENTS_URL",
}
TELEGRAM_CHANNEL = "bot.rasa_server.channels.telegram.TelegramInput"
WHATSAPP_CHANNEL = "bot.rasa_server.channels.whatsapp.WhatsAppInput"
WECHAT_CHANNEL = "bot.rasa_server.channels.wechat.WeChatInput"
EMAIL_CHANNEL = "bot.rasa_server.channels.email_channel.EmailInput"
CALLBACK_CHANNEL = "bot.rasa_server.channels.callback.CallbackInput"


@dataclass(frozen=True)
class Settings:
    database_url: str = f"sqlite:///{ROOT / 'var' / 'bot.sqlite3'}"
    rasa_port: int = 5005
    actions_port: int = 5055
    kb_dir: Path = ROOT / "data" / "faq"
    canned_replies: Path = ROOT / "data" / "canned_replies.yml"
    index_dir: Path = ROOT / "build" / "faq_index"
    encoders_dir: Path = ROOT / "build" / "faq_encoders"
    calibration_dir: Path = ROOT / "tests" / "data" / "customer_questions"
    models_dir: Path = ROOT / "models"
    run_dir: Path = ROOT / "var" / "run"
    index_poll_seconds: float = 1.0
    rasa_token: str = ""
    callback_url: str = "http://127.0.0.1:5034/bot"
    console_port: int = 5080
    opening_hours: str = ""
    timezone: str = "UTC"
    console_host: str = "127.0.0.1"
    console_secure_cookies: bool = False
    telegram_token: str = ""
    telegram_secret: str = ""
    telegram_webhook_url: str = ""
    telegram_api_url: str = "https://api.telegram.org"
    whatsapp_token: str = ""
    whatsapp_app_secret: str = ""
    whatsapp_verify_token: str = ""
    whatsapp_phone_number_id: str = ""
    whatsapp_api_url: str = "https://graph.facebook.com/v21.0"
    wechat_app_id: str = ""
    wechat_app_secret: str = ""
    wechat_token: str = ""
    wechat_api_url: str = "https://api.weixin.qq.com"
    email_imap_url: str = ""
    email_address: str = ""
    email_poll_seconds: float = 30.0
    smtp_url: str = ""
    mail_from: str = "Brightcart <no-reply@brightcart.example>"
    redact: str = "email,phone,card,number"
    retention_days: int = 365
    rasa_replicas: int = 2
    action_servers: int = 2
    redis_url: str = ""
    rabbitmq_url: str = ""
    events_queue: str = "brightcart-events"
    rate_limit: str = "30/60"
    action_timeout: float = 5.0
    redelivery_seconds: float = 30.0
    attachments_dir: Path = ROOT / "var" / "attachments"
    attachments_url: str = ""

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def action_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.actions_port}/webhook"

    @property
    def console_url(self) -> str:
        return f"http://127.0.0.1:{self.console_port}"

    def as_env(self) -> dict[str, str]:
        """These settings as environment variables, for child processes."""
        return {_ENV[f.name]: str(getattr(self, f.name)) for f in fields(self)}


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Defaults overridden by whatever the environment sets."""
    env = os.environ if env is None else env
    values: dict[str, object] = {}
    for f in fields(Settings):
        raw = env.get(_ENV[f.name])
        if raw is None or raw == "":
            continue
        values[f.name] = _parse(raw, f.default)
    return Settings(**values)


def channel_credentials(settings: Settings) -> dict[str, Any]:
    """The channels Rasa runs with: credentials.yml, the callback channel pointed at this run's
    callback URL, and Telegram, WhatsApp, WeChat and email from the environment when
    credentials.yml does not configure them."""
    import yaml

    channels = yaml.safe_load((ROOT / "credentials.yml").read_text(encoding="utf-8")) or {}
    channels[CALLBACK_CHANNEL] = {"url": settings.callback_url}
    if settings.telegram_token and not channels.get(TELEGRAM_CHANNEL):
        if not settings.telegram_secret:
            raise ValueError("BOT_TELEGRAM_SECRET is required with BOT_TELEGRAM_TOKEN (Telegram's webhook secret)")
        channels[TELEGRAM_CHANNEL] = {
            "access_token": settings.telegram_token, "secret_token": settings.telegram_secret,
            "webhook_url": settings.telegram_webhook_url or None, "base_url": settings.telegram_api_url,
        }
    if settings.whatsapp_token and not channels.get(WHATSAPP_CHANNEL):
        if not (settings.whatsapp_app_secret and settings.whatsapp_verify_token and settings.whatsapp_phone_number_id):
            raise ValueError("BOT_WHATSAPP_APP_SECRET, BOT_WHATSAPP_VERIFY_TOKEN and BOT_WHATSAPP_PHONE_NUMBER_ID "
                             "are required with BOT_WHATSAPP_TOKEN")
        channels[WHATSAPP_CHANNEL] = {
            "access_token": settings.whatsapp_token, "app_secret": settings.whatsapp_app_secret,
            "verify_token": settings.whatsapp_verify_token, "phone_number_id": settings.whatsapp_phone_number_id,
            "api_url": settings.whatsapp_api_url,
        }
    if settings.wechat_app_id and not channels.get(WECHAT_CHANNEL):
        if not (settings.wechat_app_secret and settings.wechat_token):
            raise ValueError("BOT_WECHAT_APP_SECRET and BOT_WECHAT_TOKEN are required with BOT_WECHAT_APP_ID")
        channels[WECHAT_CHANNEL] = {"app_id": settings.wechat_app_id, "app_secret": settings.wechat_app_secret,
                                    "token": settings.wechat_token, "api_url": settings.wechat_api_url}
    if settings.email_imap_url and not channels.get(EMAIL_CHANNEL):
        if not (settings.email_address and settings.smtp_url):
            raise ValueError("BOT_EMAIL_ADDRESS and BOT_SMTP_URL are required with BOT_EMAIL_IMAP_URL")
        channels[EMAIL_CHANNEL] = {"imap_url": settings.email_imap_url, "address": settings.email_address,
                                   "poll_seconds": settings.email_poll_seconds}
    return channels


def _parse(raw: str, default: object) -> object:
    if isinstance(default, bool):  # bool("false") would be True
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, Path):
        return Path(raw)
    return type(default)(raw)
