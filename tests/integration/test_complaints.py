"""Complaints with the real stack: filing over REST, interruptions, cancel, invalid answers,
status questions (own, unknown, someone else's), and a status change reaching the customer."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import uuid

import pytest

from actions.complaint_form import URGENT_HANDOFF_PAYLOAD
from bot.domain.complaints import service
from bot.domain.handoff import service as handoffs
from tests.conftest import RunningBot, records_unwritable

pytestmark = pytest.mark.integration
REFERENCE = re.compile(r"C-\d{4}-\d{6}")


def sender() -> str:
    return f"cust-{uuid.uuid4().hex[:10]}"


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


def payloads(replies: list[dict]) -> list[str]:
    return [b["payload"] for r in replies for b in r.get("buttons") or []]


def cli(bot: RunningBot, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", *args], env=bot.env(), capture_output=True, text=True,
                          timeout=120)


def records(bot: RunningBot, conversation: str) -> list[dict]:
    out = cli(bot, "records", "export", "--conversation", conversation).stdout
    return [json.loads(line) for line in out.splitlines()]


def file_complaint(bot: RunningBot, conversation: str, say=None) -> str:
    """Walk the form from "I want to complain" to the reference; return the reference."""
    say = say or (lambda text: bot.say(conversation, text))
    say("I want to complain")
    say('/inform{"complaint_category": "delivery"}')
    say("BC-123456")
    say("The parcel was left in the rain and the contents are soaked")
    say("jane@example.com")
    filed = say("/affirm")
    return REFERENCE.search(texts(filed)).group(0)


def test_happy_path_files_a_complaint_with_a_reference(bot: RunningBot) -> None:
    conversation = sender()
    opening = bot.say(conversation, "I want to complain")
    assert '/inform{"complaint_category": "delivery"}' in payloads(opening)
    assert "order reference" in texts(bot.say(conversation, "it's about the delivery"))
    assert "describe" in texts(bot.say(conversation, "bc123456"))
    assert "email" in texts(bot.say(conversation, "The parcel was left in the rain and the contents are soaked"))
    summary = bot.say(conversation, "You can reach me at jane@example.com")
    assert all(s in texts(summary) for s in ("Delivery", "BC-123456", "left in the rain", "jane@example.com"))
    assert "/affirm" in payloads(summary) and "/cancel" in payloads(summary)
    filed = texts(bot.say(conversation, "yes"))
    reference = REFERENCE.search(filed).group(0)
    assert "within 2 days" in filed

    stored = service.get(bot.settings.database_url, reference)
    assert (stored.status, stored.category, stored.order_ref, stored.contact, stored.customer_id, stored.channel) == (
        "open", "delivery", "BC-123456", "jane@example.com", conversation, "rest")
    assert stored.description == "The parcel was left in the rain and the contents are soaked"
    reply = [r for r in records(bot, conversation) if r["actor"] == "bot" and reference in (r["text"] or "")]
    assert reply and reply[0]["complaint_ref"] == reference


def test_details_in_the_first_message_are_not_asked_again(bot: RunningBot) -> None:
    conversation = sender()
    replies = bot.say(conversation, "my order BC-654321 arrived broken")
    # category, order reference and description came with the message: contact is next
    assert "email address or a phone number" in texts(replies)
    summary = texts(bot.say(conversation, "+44 20 7946 0958"))
    assert "Product quality" in summary and "BC-654321" in summary and "arrived broken" in summary


def test_an_faq_question_is_answered_and_the_form_resumes(bot: RunningBot) -> None:
    conversation = sender()
    bot.say(conversation, "I want to make a complaint")
    bot.say(conversation, '/inform{"complaint_category": "billing"}')
    replies = bot.say(conversation, "can I pay with paypal?")
    assert "paypal" in texts(replies).lower()
    assert "order reference" in replies[-1]["text"]  # the form asks its question again
    assert "describe" in texts(bot.say(conversation, "no order number"))


def test_cancel_keeps_the_draft_as_cancelled(bot: RunningBot) -> None:
    conversation = sender()
    bot.say(conversation, "I want to complain")
    bot.say(conversation, '/inform{"complaint_category": "service"}')
    assert "cancelled" in texts(bot.say(conversation, "cancel"))
    drafts = [c for c in service.iter_complaints(bot.settings.database_url, "cancelled")
              if c.conversation_id == conversation]
    assert len(drafts) == 1 and drafts[0].category == "service"
    assert "Brightcart" in texts(bot.say(conversation, "hello"))  # back to normal conversation


def test_an_invalid_contact_is_asked_again_with_a_clear_message(bot: RunningBot) -> None:
    conversation = sender()
    for step in ("I want to complain", '/inform{"complaint_category": "other"}', "/deny",
                 "Nobody told me my order would be split into three parcels"):
        bot.say(conversation, step)
    invalid = texts(bot.say(conversation, "jane at example dot com"))
    assert "doesn't look like an email address or a phone number" in invalid
    assert "Here is your complaint" in texts(bot.say(conversation, "jane@example.com"))


def test_a_correction_at_the_summary_is_applied(bot: RunningBot) -> None:
    conversation = sender()
    for step in ("I want to complain", '/inform{"complaint_category": "billing"}', "BC-111111",
                 "I was charged twice for the same order"):
        bot.say(conversation, step)
    bot.say(conversation, "jane@example.com")
    assert "bob@example.com" in texts(bot.say(conversation, "sorry, the email should be bob@example.com"))
    bot.say(conversation, '/complaint_change{"complaint_field": "order_ref"}')
    assert "BC-222222" in texts(bot.say(conversation, "BC-222222"))


def test_status_of_own_unknown_and_other_customers_complaints(bot: RunningBot) -> None:
    alice, mallory = sender(), sender()
    reference = file_complaint(bot, alice)
    own = texts(bot.say(alice, f"what's the status of {reference}?"))
    assert reference in own and "received" in own
    assert reference in texts(bot.say(alice, "any news on my complaint?"))

    unknown = texts(bot.say(alice, "what's the status of C-2026-999999?"))
    foreign = texts(bot.say(mallory, f"what's the status of {reference}?"))
    assert "can't find" in unknown and "can't find" in foreign
    assert "delivery" not in foreign.lower() and "jane" not in foreign.lower()  # nothing about alice's complaint


def test_urgent_wording_raises_priority_and_hands_over_to_a_person(bot: RunningBot) -> None:
    conversation = sender()
    replies = bot.say(conversation, "This is UNACCEPTABLE, my parcel is two weeks late!!!")
    assert URGENT_HANDOFF_PAYLOAD in payloads(replies) and "urgent" in texts(replies)
    assert "order reference" in texts(replies)  # category and description were in the message
    bot.say(conversation, "BC-333333")
    bot.say(conversation, "jane@example.com")
    filed = texts(bot.say(conversation, "/affirm"))
    assert "within 4 hours" in filed
    assert "nobody from our team is available" in filed  # urgent: straight to a person (none online here)
    assert service.get(bot.settings.database_url, REFERENCE.search(filed).group(0)).priority == "urgent"
    assert "ticket #" in texts(bot.say(conversation, "Please ring me on 07700 900123 today"))
    ticket = handoffs.open_for_conversation(bot.settings.database_url, conversation)
    assert (ticket.reason, ticket.skill) == ("urgent_complaint", "delivery")


def test_a_status_change_is_pushed_to_the_customer_and_recorded(bot: RunningBot) -> None:
    conversation = sender()
    reference = file_complaint(bot, conversation, say=lambda text: bot.say_via_callback(conversation, text))
    before = len(bot.callback.messages_for(conversation))

    done = cli(bot, "complaints", "set-status", reference, "in_progress", "--note", "A replacement is on its way",
               "--by", "agent-ann")
    assert done.returncode == 0, done.stderr
    [update] = bot.callback.wait_for(conversation, before + 1)[before:]
    assert reference in update["text"] and "being worked on" in update["text"]
    assert "A replacement is on its way" in update["text"]

    last = records(bot, conversation)[-1]
    assert (last["actor"], last["channel"], last["complaint_ref"]) == ("bot", "callback", reference)
    assert last["text"] == update["text"]
    history = json.loads(cli(bot, "complaints", "show", reference).stdout)["history"]
    assert history[-1]["by"] == "agent-ann" and history[-1]["to"] == "in_progress"
    assert service.unnotified_changes(bot.settings.database_url) == []


def test_an_update_that_cannot_be_recorded_is_not_sent_and_goes_once_with_notify(bot: RunningBot) -> None:
    conversation = sender()
    reference = file_complaint(bot, conversation, say=lambda text: bot.say_via_callback(conversation, text))
    before = len(bot.callback.messages_for(conversation))

    with records_unwritable(bot):
        done = cli(bot, "complaints", "set-status", reference, "in_progress", "--by", "agent-ann")
    assert done.returncode == 3 and "NOT notified" in done.stderr, done.stderr
    time.sleep(1)  # a push would have arrived by now
    assert len(bot.callback.messages_for(conversation)) == before

    retried = cli(bot, "complaints", "notify")
    assert retried.returncode == 0 and "still pending" in retried.stdout, retried.stderr
    [update] = bot.callback.wait_for(conversation, before + 1)[before:]
    assert reference in update["text"] and "being worked on" in update["text"]
    sent = [r["text"] for r in records(bot, conversation) if r["complaint_ref"] == reference and r["actor"] == "bot"]
    assert sent[-1] == update["text"] and sent.count(update["text"]) == 1
    assert cli(bot, "complaints", "notify").stdout.startswith("0 update(s) sent")


def test_cli_lists_and_refuses_bad_changes(bot: RunningBot) -> None:
    reference = file_complaint(bot, sender())
    listed = [json.loads(line) for line in cli(bot, "complaints", "list", "--status", "open").stdout.splitlines()]
    assert reference in [c["reference"] for c in listed]
    csv_out = cli(bot, "complaints", "list", "--format", "csv").stdout
    assert csv_out.startswith("reference,status") and reference in csv_out
    bad = cli(bot, "complaints", "set-status", reference, "finished")
    assert bad.returncode == 2 and "unknown status" in bad.stderr
    missing = cli(bot, "complaints", "set-status", "C-2026-999999", "resolved")
    assert missing.returncode == 2 and "no complaint" in missing.stderr
