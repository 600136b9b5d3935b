"""The web widget in a real browser (Debian's chromium through Playwright) on the demo shop:
an FAQ answer, a did-you-mean button, the conversation surviving a reload, an agent's message
with their name, markup shown as text, keyboard use and a phone-sized screen.

Set WIDGET_SCREENSHOT=docs/img/widget.png to save the README's screenshot from this run.
"""

from __future__ import annotations

import os

import pytest
import requests

from bot.config import channel_credentials
from bot.domain import attachments
from bot.domain.handoff import rasa_push
from bot.domain.storage.records import iter_records
from faq_index import LiveIndex
from tests.browser.conftest import session_of, shop_site
from tests.conftest import RunningBot

pytestmark = pytest.mark.integration
WIDGET_CHANNEL = "bot.rasa_server.channels.widget.WidgetInput"
HOSTILE = '<img src=x onerror="window.__pwned = 1"><script>window.__pwned = 2</script> is my order lost?'
# Vague enough for a did-you-mean; the first one the bot's index offers buttons for is used.
SUGGEST_QUERIES = ("my account", "question about my account", "payment question", "returns", "problem with my order")


def open_chat(page: object) -> None:
    page.get_by_role("button", name="Open chat with Brightcart").click()
    page.wait_for_selector("textarea#input")


def ask(page: object, text: str) -> None:
    before = page.locator(".msg.bot").count()
    page.fill("textarea#input", text)
    page.keyboard.press("Enter")
    page.wait_for_function(f"document.querySelector('#brightcart-chat').shadowRoot"
                           f".querySelectorAll('.msg.bot').length > {before}", timeout=30000)


def test_faq_buttons_reload_agent_and_markup(bot: RunningBot, browser: object) -> None:
    from playwright.sync_api import expect

    # bypass_csp: the shop's CSP would block injected scripts anyway; without it the test shows that
    # the widget itself never turns a message into markup (and lets Playwright evaluate its waits).
    page = browser.new_page(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    page.goto(f"{bot.settings.console_url}/shop")
    open_chat(page)
    ask(page, "how long does delivery take?")
    expect(page.locator(".msg.bot .text").last).to_contain_text("working days")

    index = LiveIndex(bot.settings.index_dir, poll_seconds=60)
    vague = next((q for q in SUGGEST_QUERIES if index.search(q).decision == "suggest"), None)
    assert vague is not None, "no vague question got a did-you-mean"
    ask(page, vague)
    choices = page.locator(".buttons").last.get_by_role("button")
    first_title = choices.first.text_content()
    expected = index.entry(index.search(vague).candidates[0].id)["answer"]
    before = page.locator(".msg.bot").count()
    choices.first.click()
    expect(page.locator(".msg.bot")).to_have_count(before + 1, timeout=30000)
    expect(page.locator(".msg.customer .text").last).to_have_text(first_title)
    expect(page.locator(".msg.bot .text").last).to_have_text(expected)

    ask(page, HOSTILE)
    expect(page.locator(".msg.customer .text").filter(has_text="onerror")).to_have_text(HOSTILE)
    assert page.evaluate("window.__pwned") is None
    assert page.locator(".log img, .log script").count() == 0

    said_before_reload = page.locator(".msg").count()
    session = session_of(page)
    page.reload()
    expect(page.locator(".msg")).to_have_count(said_before_reload)  # the panel reopens with the history
    ask(page, "can I pay with paypal?")
    assert session_of(page) == session  # one conversation across the reload
    assert customer_records(bot, session, "how long does delivery take?") and customer_records(bot, session, "paypal")

    rasa_push.send_agent_message(bot.settings, session, "Hi, this is Alice. I'm looking at your order now.", "alice")
    agent = page.locator(".msg.agent")
    expect(agent).to_contain_text("alice (Brightcart team)", timeout=30000)
    expect(agent.locator(".text")).to_have_text("Hi, this is Alice. I'm looking at your order now.")
    if os.environ.get("WIDGET_SCREENSHOT"):
        page.screenshot(path=os.environ["WIDGET_SCREENSHOT"])
    page.close()


def test_keyboard_and_phone_screen(bot: RunningBot, browser: object) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 375, "height": 667}, is_mobile=True, bypass_csp=True)
    page.goto(f"{bot.settings.console_url}/shop")
    bubble = page.get_by_role("button", name="Open chat with Brightcart")
    bubble.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Chat with Brightcart")
    expect(dialog).to_be_visible()
    assert page.evaluate("document.querySelector('#brightcart-chat').shadowRoot.activeElement.id") == "input"
    box = dialog.bounding_box()
    assert box["width"] == 375 and box["height"] == 667  # full screen on a phone
    expect(page.get_by_role("log", name="Conversation")).to_be_attached()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert bubble.get_attribute("aria-expanded") == "false"
    page.close()


def customer_asking(bot: RunningBot, browser: object, question: str) -> tuple[object, object]:
    """A new browser (its own storage) on the shop, the chat opened and `question` answered."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    page = context.new_page()
    page.goto(f"{bot.settings.console_url}/shop")
    open_chat(page)
    ask(page, question)
    return context, page


def customer_records(bot: RunningBot, session: str, containing: str) -> list[dict]:
    return [r for r in iter_records(bot.settings.database_url)
            if r["conversation_id"] == session and r["actor"] == "customer" and containing in (r["text"] or "")]


def test_a_message_typed_offline_is_sent_once_on_reconnect_with_what_the_agent_said_meanwhile(
        bot: RunningBot, browser: object) -> None:
    from playwright.sync_api import expect

    context, page = customer_asking(bot, browser, "how long does delivery take?")
    session = session_of(page)
    answers = page.locator(".msg.bot").count()

    context.set_offline(True)
    expect(page.locator(".status")).to_have_text("reconnecting…", timeout=60000)
    page.fill("textarea#input", "can I pay with paypal?")
    page.keyboard.press("Enter")
    pending = page.locator(".msg.customer.pending")
    expect(pending).to_have_count(1)  # shown as not sent yet, never as sent
    expect(pending.locator(".state")).to_have_text("Sending…")
    rasa_push.send_agent_message(bot.settings, session, "Hello from Bob while you were away.", "bob")

    context.set_offline(False)
    expect(page.locator(".msg.agent .text")).to_have_text("Hello from Bob while you were away.", timeout=60000)
    expect(page.locator(".msg.customer.pending")).to_have_count(0, timeout=60000)
    expect(page.locator(".msg.customer .text").last).to_have_text("can I pay with paypal?")
    expect(page.locator(".msg.bot")).to_have_count(answers + 1, timeout=30000)  # and answered
    assert page.locator(".error").text_content() == ""  # no internal error text, ever
    assert len(customer_records(bot, session, "paypal")) == 1  # sent once

    page.reload()  # the history comes back in order, opened at the latest message
    expect(page.locator(".status")).to_have_text("")  # connected
    texts = page.locator(".msg .text").all_text_contents()
    assert texts.index("how long does delivery take?") < texts.index("Hello from Bob while you were away.") \
        < texts.index("can I pay with paypal?")
    assert page.locator(".msg time").count() == page.locator(".msg").count()  # every message has its time
    at_bottom = ("(() => { const log = document.querySelector('#brightcart-chat').shadowRoot.querySelector('.log');"
                 " return log.scrollHeight - log.scrollTop - log.clientHeight < 4; })()")
    page.wait_for_function(at_bottom)
    context.close()


def test_a_second_tab_shows_the_customers_questions_as_well_as_the_answers(bot: RunningBot, browser: object) -> None:
    from playwright.sync_api import expect

    context, first = customer_asking(bot, browser, "do you ship abroad?")
    second = context.new_page()
    second.goto(f"{bot.settings.console_url}/shop")
    expect(second.locator(".msg")).to_have_count(first.locator(".msg").count(), timeout=30000)
    ask(first, "how long does delivery take?")
    expect(second.locator(".msg.customer .text").last).to_have_text("how long does delivery take?", timeout=30000)
    expect(second.locator(".msg .text")).to_have_text(first.locator(".msg .text").all_text_contents(), timeout=30000)
    context.close()


def test_with_the_panel_closed_a_message_shows_an_unread_count_and_a_preview_with_links(
        bot: RunningBot, browser: object) -> None:
    from playwright.sync_api import expect

    context, page = customer_asking(bot, browser, "hello")
    page.keyboard.press("Escape")
    rasa_push.send_agent_message(bot.settings, session_of(page), "Your label: https://brightcart.example/returns/label.",
                                 "carol")
    expect(page.locator(".badge")).to_have_text("1", timeout=30000)
    expect(page.locator(".preview")).to_have_text("carol: Your label: https://brightcart.example/returns/label.")
    expect(page.get_by_role("button", name="Open chat with Brightcart (1 unread)")).to_be_visible()
    page.locator(".preview").click()
    expect(page.locator(".badge")).to_be_hidden()
    link = page.locator(".msg.agent a")
    expect(link).to_have_attribute("href", "https://brightcart.example/returns/label")  # not the full stop
    assert set(link.get_attribute("rel").split()) >= {"noopener", "noreferrer"}
    context.close()


def welcomed(page: object) -> None:
    """The widget has its welcome (greeting, topics, the invitation rule): the invitation's timer
    starts then, so the fake clock may run. The greeting is in the log even with the panel closed."""
    from playwright.sync_api import expect

    expect(page.locator(".welcome")).to_be_attached(timeout=30000)


def test_the_shops_invitation_appears_once_a_day_on_its_pages_and_the_chat_opens_with_topics(
        bot: RunningBot, browser: object) -> None:
    from playwright.sync_api import expect

    rule = channel_credentials(bot.settings)[WIDGET_CHANNEL]["welcome"]["invitation"]
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    page = context.new_page()
    page.clock.install()
    page.goto(f"{bot.settings.console_url}/shop")
    welcomed(page)
    preview = page.locator(".preview")
    page.clock.run_for(int(rule["after_seconds"] * 1000) - 2000)
    expect(preview).to_be_hidden()
    page.clock.run_for(3000)
    expect(preview).to_have_text(rule["text"]["en"])

    preview.click()
    expect(page.locator(".welcome")).to_be_visible()
    expect(page.locator(".availability")).to_contain_text("offline")  # no agent's console is open
    topics = page.get_by_role("listitem", name="Popular questions").get_by_role("button")
    expect(topics).to_have_count(4)
    title = topics.first.text_content()
    topics.first.click()
    expect(page.locator(".msg.customer .text")).to_have_text([title])
    index = LiveIndex(bot.settings.index_dir, poll_seconds=60)
    expect(page.locator(".msg.bot .text")).to_have_text([index.entry(index.search(title).top.id)["answer"]],
                                                       timeout=30000)
    expect(topics).to_have_count(0)  # topics only before the conversation starts

    page.keyboard.press("Escape")
    page.reload()
    welcomed(page)
    page.clock.run_for(int(rule["after_seconds"] * 1000) + 5000)
    expect(preview).to_be_hidden()  # once a day

    context.close()

    other = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)  # a new visitor
    help_page = other.new_page()
    help_page.clock.install()
    with shop_site(bot) as site:
        help_page.goto(f"{site}/help/returns")  # a page the rule does not name
        welcomed(help_page)
        help_page.clock.run_for(int(rule["after_seconds"] * 1000) + 5000)
        expect(help_page.locator(".bubble")).to_be_visible()
        expect(help_page.locator(".preview")).to_be_hidden()
    other.close()


PNG = b"\x89PNG\r\n\x1a\n" + bytes(200)  # a PNG signature: what the server checks, whatever the name


def test_a_photo_is_sent_and_recorded_and_a_disguised_or_oversized_file_is_refused_in_words(
        bot: RunningBot, browser: object) -> None:
    from playwright.sync_api import expect

    context, page = customer_asking(bot, browser, "my kettle arrived with a cracked lid")
    session = session_of(page)
    page.set_input_files(".file", files=[{"name": "cracked lid.png", "mimeType": "image/png", "buffer": PNG}])
    expect(page.locator(".msg.customer .text").last).to_have_text("[photo: cracked lid.png]", timeout=30000)

    page.set_input_files(".file", files=[{"name": "invoice.png", "mimeType": "image/png",
                                          "buffer": b"<html><script>alert(1)</script></html>"}])
    expect(page.locator(".error")).to_have_text("Only photos (PNG, JPEG, WebP) and PDF files can be sent.")
    page.set_input_files(".file", files=[{"name": "huge.png", "mimeType": "image/png",
                                          "buffer": PNG + bytes(6 * 1024 * 1024)}])
    expect(page.locator(".error")).to_have_text("The file is too large: at most 5 MB.")
    too_big = requests.post(f"{bot.settings.rasa_url}/webhooks/widget/attachments", data={"session_id": session},
                            files={"file": ("huge.png", PNG + bytes(6 * 1024 * 1024))}, timeout=60)
    assert (too_big.status_code, too_big.json()["error"]) == (400, "The file is too large: at most 5 MB.")

    [photo] = [r for r in iter_records(bot.settings.database_url, conversation_id=session) if "[photo" in r["text"]]
    assert photo["actor"] == "customer" and photo["entities"][0]["entity"] == "attachment"
    [kept] = attachments.for_conversation(bot.settings.database_url, session)
    assert (kept.kind, kept.name) == ("png", "cracked lid.png")
    assert (bot.settings.attachments_dir / kept.sha256).read_bytes() == PNG
    assert attachments.reference(kept.id) == photo["entities"][0]["value"]
    assert len(list(bot.settings.attachments_dir.iterdir())) >= 1  # outside the web root, under its digest
    context.close()


def test_a_photo_chosen_while_offline_waits_and_is_sent_once_on_reconnect(bot: RunningBot, browser: object) -> None:
    from playwright.sync_api import expect

    context, page = customer_asking(bot, browser, "the handle of my mug broke off")
    session = session_of(page)
    context.set_offline(True)
    expect(page.locator(".status")).to_have_text("reconnecting…", timeout=60000)
    page.set_input_files(".file", files=[{"name": "broken handle.png", "mimeType": "image/png", "buffer": PNG}])
    pending = page.locator(".msg.customer.pending")
    expect(pending.locator(".text")).to_have_text("[photo: broken handle.png]")  # waiting, not shown as sent
    context.set_offline(False)
    expect(page.locator(".msg.customer.pending")).to_have_count(0, timeout=60000)
    expect(page.locator(".msg.customer .text").last).to_have_text("[photo: broken handle.png]")
    assert page.locator(".error").text_content() == ""
    assert len(customer_records(bot, session, "[photo: broken handle.png]")) == 1

    context.set_offline(True)  # another one chosen offline, and the tab closed before it could go
    expect(page.locator(".status")).to_have_text("reconnecting…", timeout=60000)
    page.set_input_files(".file", files=[{"name": "box.png", "mimeType": "image/png", "buffer": PNG + b"box"}])
    expect(page.locator(".msg.customer.pending .text")).to_have_text("[photo: box.png]")
    page.close()
    context.set_offline(False)
    page = context.new_page()  # the customer comes back later
    page.goto(f"{bot.settings.console_url}/shop")
    expect(page.locator(".msg.customer .text").last).to_have_text("[photo: box.png]", timeout=60000)
    expect(page.locator(".msg.customer.pending")).to_have_count(0, timeout=30000)
    assert len(customer_records(bot, session, "[photo: box.png]")) == 1
    kept = attachments.for_conversation(bot.settings.database_url, session)[0]

    # An answer lost on the way back: the widget sends the file again with its id, kept once.
    upload = {"session_id": session, "id": "resent-file-1"}
    first = requests.post(f"{bot.settings.rasa_url}/webhooks/widget/attachments", data=upload,
                          files={"file": ("again.png", PNG)}, timeout=60)
    again = requests.post(f"{bot.settings.rasa_url}/webhooks/widget/attachments", data=upload,
                          files={"file": ("again.png", PNG)}, timeout=60)
    assert (first.json()["status"], again.json()["status"]) == ("recorded", "duplicate")
    assert len(customer_records(bot, session, "[photo: again.png]")) == 1
    assert [a.name for a in attachments.for_conversation(bot.settings.database_url, session)] == [
        kept.name, "box.png", "again.png"]
    context.close()
