"""The web widget in a real browser (Debian's chromium through Playwright) on the demo shop:
an FAQ answer, a did-you-mean button, the conversation surviving a reload, an agent's message
with their name, markup shown as text, keyboard use and a phone-sized screen.

Set WIDGET_SCREENSHOT=docs/img/widget.png to save the README's screenshot from this run.
"""

from __future__ import annotations

import os

import pytest

from bot.domain.handoff import rasa_push
from bot.domain.storage.records import iter_records
from faq_index import LiveIndex
from tests.conftest import RunningBot

pytestmark = pytest.mark.integration
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
    page.reload()
    expect(page.locator(".msg")).to_have_count(said_before_reload)  # the panel reopens with the history
    ask(page, "can I pay with paypal?")
    conversations = {r["conversation_id"] for r in iter_records(bot.settings.database_url)
                     if r["channel"] == "widget"}
    assert len(conversations) == 1  # one conversation across the reload
    [session] = conversations

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
