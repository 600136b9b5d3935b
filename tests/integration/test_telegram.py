"""The Telegram channel through the real stack, against a local fake of Telegram's Bot API
(`FakeBotApi` in tests/conftest.py: an HTTP server that implements the few methods used and
records the calls)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from bot.domain import attachments
from bot.domain.handoff import rasa_push
from bot.domain.storage.records import iter_records
from bot.rasa_server.channels.delivery import undelivered
from bot.rasa_server.channels.telegram import split_text
from tests.conftest import (
    FakeBotApi,
    RunningBot,
    new_chat,
    post_telegram,
    records_unwritable,
    telegram_ids,
    telegram_update,
)
from tests.integration.test_complaints import file_complaint

pytestmark = pytest.mark.integration


@pytest.fixture
def tg_bot(bot: RunningBot) -> RunningBot:
    """The shared stack, whose Telegram channel talks to `fake_api`."""
    return bot


def test_a_question_is_answered_in_the_chat(tg_bot: RunningBot, fake_api: FakeBotApi) -> None:
    chat = new_chat()
    assert post_telegram(tg_bot, telegram_update(chat, "how long does delivery take?")).status_code == 200
    answer = fake_api.wait_sent(chat, 1)[0]["text"]
    assert "deliver" in answer.lower() and "working days" in answer.lower()
    records = list(iter_records(tg_bot.settings.database_url, conversation_id=str(chat)))
    assert [(r["actor"], r["channel"]) for r in records] == [("customer", "telegram"), ("bot", "telegram")]
    assert records[0]["customer_id"] == f"telegram:{chat}"


def test_buttons_are_an_inline_keyboard_and_a_press_sends_its_payload(tg_bot: RunningBot,
                                                                       fake_api: FakeBotApi) -> None:
    chat = new_chat()
    post_telegram(tg_bot, telegram_update(chat, "I want to make a complaint"))
    asked = fake_api.wait_sent(chat, 1)[-1]
    keyboard = asked["reply_markup"]["inline_keyboard"]
    billing = next(row[0] for row in keyboard if row[0]["text"] == "Billing")
    press = {"update_id": next(telegram_ids), "callback_query": {
        "id": str(next(telegram_ids)), "chat_instance": "ci", "data": billing["callback_data"],
        "from": {"id": chat, "is_bot": False, "first_name": "Jane"},
        "message": {"message_id": next(telegram_ids), "date": int(time.time()), "chat": {"id": chat, "type": "private"},
                    "text": asked["text"]}}}
    assert post_telegram(tg_bot, press).status_code == 200
    assert "order reference" in fake_api.wait_sent(chat, 2)[-1]["text"]
    answered = [c["callback_query_id"] for c in fake_api.calls_of("answerCallbackQuery")]
    assert press["callback_query"]["id"] in answered
    customer = [r for r in iter_records(tg_bot.settings.database_url, conversation_id=str(chat))
                if r["actor"] == "customer"]
    assert customer[-1]["text"] == billing["callback_data"]  # the payload, e.g. /inform{"complaint_category": ...}


def test_a_redelivered_update_is_processed_once(tg_bot: RunningBot, fake_api: FakeBotApi) -> None:
    chat = new_chat()
    update = telegram_update(chat, "can I pay with paypal?")
    assert post_telegram(tg_bot, update).status_code == 200
    assert post_telegram(tg_bot, update).status_code == 200
    fake_api.wait_sent(chat, 1)
    time.sleep(1)
    assert len(fake_api.sent_to(chat)) == 1
    customer = [r for r in iter_records(tg_bot.settings.database_url, conversation_id=str(chat))
                if r["actor"] == "customer"]
    assert len(customer) == 1


def test_a_wrong_or_missing_secret_is_refused_and_nothing_processed(tg_bot: RunningBot, fake_api: FakeBotApi) -> None:
    chat = new_chat()
    assert post_telegram(tg_bot, telegram_update(chat, "hello"), secret="guess").status_code == 403
    assert post_telegram(tg_bot, telegram_update(chat, "hello"), secret=None).status_code == 403
    time.sleep(1)
    assert fake_api.sent_to(chat) == []
    assert list(iter_records(tg_bot.settings.database_url, conversation_id=str(chat))) == []


def test_stickers_photos_and_edits_get_a_polite_answer(tg_bot: RunningBot, fake_api: FakeBotApi) -> None:
    chat = new_chat()
    sticker = telegram_update(chat, None, sticker={"file_id": "f", "file_unique_id": "u", "type": "regular",
                                                  "width": 512, "height": 512, "is_animated": False,
                                                  "is_video": False})
    assert post_telegram(tg_bot, sticker).status_code == 200
    assert "only read text" in fake_api.wait_sent(chat, 1)[-1]["text"]
    edited = telegram_update(chat, "edited text")
    edited["edited_message"] = edited.pop("message") | {"edit_date": int(time.time())}
    assert post_telegram(tg_bot, edited).status_code == 200
    assert "edited" in fake_api.wait_sent(chat, 2)[-1]["text"]
    edited = telegram_update(chat, "edited \ud800text")  # an unpaired surrogate: found by tests/fuzz
    edited["edited_message"] = edited.pop("message") | {"edit_date": int(time.time())}
    assert post_telegram(tg_bot, edited).status_code == 200
    fake_api.wait_sent(chat, 3)
    records = [(r["actor"], r["text"], r["action"]) for r in iter_records(tg_bot.settings.database_url,
                                                                            conversation_id=str(chat))]
    sent = [m["text"] for m in fake_api.sent_to(chat)]
    assert records == [("customer", None, "notice:not_text"), ("bot", sent[0], "notice:not_text"),
                       ("customer", "edited text", "notice:edited"), ("bot", sent[1], "notice:edited"),
                       ("customer", "edited text", "notice:edited"), ("bot", sent[2], "notice:edited")]
    assert post_telegram(tg_bot, {"update_id": next(telegram_ids)}).status_code == 200  # an update kind we don't use
    assert post_telegram(tg_bot, ["not", "an", "update"]).status_code == 400


def test_429_and_5xx_are_retried_until_delivered(tg_bot: RunningBot, fake_api: FakeBotApi) -> None:
    chat = new_chat()
    fake_api.fail_next(
        (429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
               "parameters": {"retry_after": 1}}),
        (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}),
    )
    post_telegram(tg_bot, telegram_update(chat, "hi"))
    assert fake_api.wait_sent(chat, 1)[0]["text"].startswith("Hi!")
    failed = [p for m, p in fake_api.calls if m == "sendMessage:failed" and str(p["chat_id"]) == str(chat)]
    assert len(failed) == 2


def test_a_reply_telegram_keeps_refusing_is_kept_then_delivered_once_later(tg_bot: RunningBot,
                                                                          fake_api: FakeBotApi) -> None:
    chat = new_chat()
    fake_api.fail_next(*[(500, {"ok": False, "error_code": 500, "description": "Internal Server Error"})] * 5)
    post_telegram(tg_bot, telegram_update(chat, "hello there"))
    deadline = time.monotonic() + 30
    while not undelivered(tg_bot.settings.database_url, str(chat)) and time.monotonic() < deadline:
        time.sleep(0.2)
    lost = undelivered(tg_bot.settings.database_url, str(chat))
    assert len(lost) == 1 and lost[0]["channel"] == "telegram" and lost[0]["text"].startswith("Hi!")
    assert fake_api.sent_to(chat) == []  # the customer has nothing yet

    [reply] = fake_api.wait_sent(chat, 1)  # Telegram takes messages again: the next round delivers it
    assert reply["text"] == lost[0]["text"]
    while undelivered(tg_bot.settings.database_url, str(chat)) and time.monotonic() < deadline + 10:
        time.sleep(0.2)
    assert undelivered(tg_bot.settings.database_url, str(chat)) == []
    time.sleep(3)
    assert len(fake_api.sent_to(chat)) == 1  # once


def test_an_agent_message_reaches_the_telegram_chat(tg_bot: RunningBot, fake_api: FakeBotApi) -> None:
    chat = new_chat()
    post_telegram(tg_bot, telegram_update(chat, "hi"))
    fake_api.wait_sent(chat, 1)
    rasa_push.send_agent_message(tg_bot.settings, str(chat), "Hello from Alice at Brightcart", "alice")
    assert fake_api.wait_sent(chat, 2)[-1]["text"] == "Hello from Alice at Brightcart"
    records = list(iter_records(tg_bot.settings.database_url, conversation_id=str(chat)))
    assert (records[-1]["actor"], records[-1]["channel"]) == ("agent", "telegram")


def test_polling_mode_feeds_updates_to_the_running_bot(tg_bot: RunningBot, fake_api: FakeBotApi) -> None:
    chat = new_chat()
    with fake_api._lock:
        fake_api.pending_updates.append(telegram_update(chat, "do you ship to Ireland?"))
    poller = subprocess.Popen([sys.executable, "-m", "bot", "telegram", "--polling"], env=tg_bot.env(),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        answer = fake_api.wait_sent(chat, 1, timeout=60)[0]["text"]
    finally:
        poller.terminate()
        output = poller.communicate(timeout=30)[0]
    assert answer and "polling Telegram as @brightcart_test_bot" in output
    assert fake_api.calls_of("deleteWebhook")  # getUpdates only works without a webhook
    assert len(fake_api.sent_to(chat)) == 1  # the update was handed over once


def test_a_turn_that_cannot_be_recorded_sends_nothing_and_is_processed_on_redelivery(
        tg_bot: RunningBot, fake_api: FakeBotApi) -> None:
    chat = new_chat()
    update = telegram_update(chat, "how long does delivery take?")
    with records_unwritable(tg_bot):
        failed = post_telegram(tg_bot, update)
    assert failed.status_code == 500  # Telegram will deliver it again
    time.sleep(1)
    assert fake_api.sent_to(chat) == []  # no reply that the records do not back
    assert post_telegram(tg_bot, update).status_code == 200  # the redelivery
    assert "deliver" in fake_api.wait_sent(chat, 1)[0]["text"].lower()
    records = list(iter_records(tg_bot.settings.database_url, conversation_id=str(chat)))
    assert [r["actor"] for r in records] == ["customer", "bot"]


def test_what_telegram_itself_never_sends_is_answered_not_retried(tg_bot: RunningBot, fake_api: FakeBotApi) -> None:
    """Found by tests/fuzz: each of these used to fail the update (500, so Telegram would deliver it
    again and again): an unpaired surrogate could not be stored, and text or button data beyond
    Telegram's limits ran the NLU out of memory."""
    chat = new_chat()
    assert post_telegram(tg_bot, telegram_update(chat, "how long does \ud800delivery take?")).status_code == 200
    assert "deliver" in fake_api.wait_sent(chat, 1)[-1]["text"].lower()
    assert post_telegram(tg_bot, telegram_update(chat, "a " * 5000)).status_code == 200
    assert "too long" in fake_api.wait_sent(chat, 2)[-1]["text"]
    press = {"update_id": next(telegram_ids), "callback_query": {
        "id": str(next(telegram_ids)), "chat_instance": "ci", "data": "/greet " + "a " * 5000,
        "from": {"id": chat, "is_bot": False, "first_name": "Jane"},
        "message": {"message_id": next(telegram_ids), "date": int(time.time()), "chat": {"id": chat, "type": "private"},
                    "text": "a button"}}}
    assert post_telegram(tg_bot, press).status_code == 200
    records = list(iter_records(tg_bot.settings.database_url, conversation_id=str(chat)))
    customer = [r["text"] for r in records if r["actor"] == "customer" and not r["action"]]
    assert customer == ["how long does delivery take?"]  # the surrogate dropped; the rest never reached Rasa
    notices = [(r["actor"], r["action"]) for r in records if r["action"] == "notice:too_long"]
    assert notices == [("customer", "notice:too_long"), ("bot", "notice:too_long")]  # recorded, then answered
    for malformed in (telegram_update(chat, "hi", chat=None), telegram_update(chat, 42),
                      telegram_update(chat, "hi") | {"update_id": "x"}):
        refused = post_telegram(tg_bot, malformed)
        assert refused.status_code == 400 and "not a Telegram update" in refused.json()["error"]


def test_long_text_is_split_at_telegrams_limit() -> None:
    text = ("A sentence about delivery times and returns. " * 200).strip()
    parts = split_text(text)
    assert len(parts) == 3 and all(len(p) <= 4096 for p in parts)
    assert " ".join(parts) == text
    assert split_text("x" * 5000) == ["x" * 4096, "x" * 904]


JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 2048


def photo_update(chat: int, file_ids: dict[str, bytes], caption: str | None = None) -> dict:
    """A photo message as Telegram sends it: the same picture in several sizes, smallest first."""
    sizes = [{"file_id": file_id, "file_unique_id": file_id, "width": 90 * (n + 1), "height": 90 * (n + 1),
              "file_size": len(data)} for n, (file_id, data) in enumerate(file_ids.items())]
    return telegram_update(chat, None, photo=sizes, **({"caption": caption} if caption else {}))


def document_update(chat: int, file_id: str, name: str, size: int) -> dict:
    return telegram_update(chat, None, document={"file_id": file_id, "file_unique_id": file_id, "file_name": name,
                                                 "mime_type": "application/pdf", "file_size": size})


def test_a_photo_is_kept_and_recorded_and_its_caption_answered(tg_bot: RunningBot, fake_api: FakeBotApi) -> None:
    chat = new_chat()
    small, large = f"small-{chat}", f"large-{chat}"
    fake_api.files |= {small: JPEG[:200], large: JPEG + b"the full picture"}
    update = photo_update(chat, {small: fake_api.files[small], large: fake_api.files[large]},
                          caption="how long does delivery take?")
    assert post_telegram(tg_bot, update).status_code == 200
    assert "working days" in fake_api.wait_sent(chat, 1)[0]["text"]  # the caption is the customer's question
    url = tg_bot.settings.database_url
    [kept] = attachments.for_conversation(url, str(chat))
    assert (kept.kind, kept.name) == ("jpeg", "photo.jpg")
    assert (tg_bot.settings.attachments_dir / kept.sha256).read_bytes() == fake_api.files[large]
    assert [c["file_id"] for c in fake_api.calls_of("download") if str(chat) in c["file_id"]] == [large]
    records = list(iter_records(url, conversation_id=str(chat)))
    assert [(r["actor"], r["text"]) for r in records[:2]] == [("customer", "[photo: photo.jpg]"),
                                                              ("customer", "how long does delivery take?")]
    assert records[0]["entities"][0] == {"entity": "attachment", "value": attachments.reference(kept.id),
                                         "start": 0, "end": 0}
    assert post_telegram(tg_bot, update).status_code == 200  # Telegram sending it again changes nothing
    assert len(attachments.for_conversation(url, str(chat))) == 1


def test_a_disguised_or_oversized_document_is_refused_in_words(tg_bot: RunningBot, fake_api: FakeBotApi) -> None:
    chat = new_chat()
    disguised = f"html-{chat}"
    fake_api.files[disguised] = b"<html><script>alert(1)</script></html>"
    assert post_telegram(tg_bot, document_update(chat, disguised, "receipt.pdf", 38)).status_code == 200
    assert fake_api.wait_sent(chat, 1)[-1]["text"] == attachments.REFUSED_TYPE
    oversized = f"big-{chat}"  # never fetched: Telegram says how large it is
    assert post_telegram(tg_bot, document_update(chat, oversized, "scan.pdf", 6 * 1024 * 1024)).status_code == 200
    assert fake_api.wait_sent(chat, 2)[-1]["text"] == attachments.REFUSED_SIZE
    assert not [c for c in fake_api.calls_of("getFile") if c["file_id"] == oversized]
    assert attachments.for_conversation(tg_bot.settings.database_url, str(chat)) == []
    actions = [r["action"] for r in iter_records(tg_bot.settings.database_url, conversation_id=str(chat))]
    assert actions == ["notice:file_refused"] * 4  # each: what the customer sent, and the bot's answer


def test_a_file_telegram_could_not_hand_over_is_taken_when_sent_again(tg_bot: RunningBot,
                                                                      fake_api: FakeBotApi) -> None:
    chat = new_chat()
    receipt = f"receipt-{chat}"
    update = document_update(chat, receipt, "receipt.pdf", 2048)
    assert post_telegram(tg_bot, update).status_code == 500  # getFile failed: Telegram will send it again
    assert attachments.for_conversation(tg_bot.settings.database_url, str(chat)) == []
    fake_api.files[receipt] = b"%PDF-1.7\n" + b"0" * 2039
    assert post_telegram(tg_bot, update).status_code == 200
    [kept] = attachments.for_conversation(tg_bot.settings.database_url, str(chat))
    assert (kept.kind, kept.name) == ("pdf", "receipt.pdf")
    customer = [r["text"] for r in iter_records(tg_bot.settings.database_url, conversation_id=str(chat))]
    assert customer == ["[document: receipt.pdf]"]


def test_a_photo_sent_after_a_complaint_is_filed_is_part_of_it(tg_bot: RunningBot, fake_api: FakeBotApi) -> None:
    chat = new_chat()

    def say(text: str) -> list[dict]:
        before = len(fake_api.sent_to(chat))
        assert post_telegram(tg_bot, telegram_update(chat, text)).status_code == 200  # answers once delivered
        return fake_api.sent_to(chat)[before:]

    reference = file_complaint(tg_bot, str(chat), say)
    assert "send it here" in fake_api.sent_to(chat)[-1]["text"]  # the filing invites the photo
    photo = f"soaked-{chat}"
    fake_api.files[photo] = JPEG + b"soaked parcel"
    assert post_telegram(tg_bot, photo_update(chat, {photo: fake_api.files[photo]})).status_code == 200
    shown = subprocess.run([sys.executable, "-m", "bot", "complaints", "show", reference], env=tg_bot.env(),
                           capture_output=True, text=True, timeout=120, check=True)
    assert [(f["name"], f["kind"]) for f in json.loads(shown.stdout)["files"]] == [("photo.jpg", "jpeg")]
