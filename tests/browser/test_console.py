"""The agent console in a real browser (Debian's chromium through Playwright): log in, see
handoffs arrive without reloading, claim, reply, close; customer markup shows as text.

Set CONSOLE_SCREENSHOT=docs/img/console.png to save the README's screenshot from this run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from bot.domain.handoff import service
from tests.conftest import RunningBot, add_agent, own_stack

pytestmark = pytest.mark.integration
bot = own_stack()  # this module adds agents, who log in and count as online: a stack of its own
PASSWORD = "correct horse battery"
HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> where is my order?'
# Records the page's notifications (headless chromium shows none) and grants permission.
NOTIFICATION_SPY = """
window.__notifications = [];
window.Notification = class { constructor(title, options) { window.__notifications.push([title, options.body]); }
  static get permission() { return "granted"; } static async requestPermission() { return "granted"; } };
"""


@pytest.fixture(scope="module")
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 860})
    context.add_init_script(NOTIFICATION_SPY)
    yield context.new_page()
    context.close()


def customer() -> str:
    return f"cust-{uuid.uuid4().hex[:10]}"


def test_log_in_see_handoffs_arrive_claim_reply_and_close(bot: RunningBot, page: object) -> None:
    from playwright.sync_api import expect

    add_agent(bot, "bella", PASSWORD, "--skills", "delivery", "--capacity", "1")
    page.goto(bot.settings.console_url + "/")
    assert page.url.endswith("/login")
    page.fill("input[name=username]", "bella")
    page.fill("input[name=password]", "not her password")
    page.click("button[type=submit]")
    expect(page.locator("#failed")).to_be_visible()
    page.fill("input[name=username]", "bella")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#connection")).to_have_text("live", timeout=15000)
    page.click("#notify")

    first = customer()  # bella is online with a free seat: this one is routed to her
    bot.say_via_callback(first, "I'd like to talk to a human")
    expect(page.locator("#active li")).to_have_count(1, timeout=15000)
    expect(page.locator("#active li")).to_contain_text("asked for a person")

    second = customer()  # bella is full now: this one waits in the queue
    bot.say_via_callback(second, HOSTILE)
    bot.say_via_callback(second, "let me speak to a real person")
    queued = page.locator("#queue li", has_text=f"Customer {second}")
    expect(queued).to_be_visible(timeout=15000)  # arrived without reloading
    page.wait_for_function("window.__notifications.length >= 2")

    queued.click()
    expect(page.locator("#transcript")).to_contain_text(HOSTILE)  # shown as text, verbatim
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#transcript script, #transcript img").count() == 0
    page.click("#claim")
    expect(page.locator("#chat-meta")).to_contain_text("active (bella)")
    assert bot.callback.messages_for(second)[-1]["text"] == "bella from our team has joined the chat."

    before = len(bot.callback.messages_for(second))
    page.fill("#reply", "Hello, Bella here. Your order left our warehouse this morning.")
    page.click("#send")
    pushed = bot.callback.wait_for(second, before + 1)[-1]
    assert pushed["text"] == "Hello, Bella here. Your order left our warehouse this morning."
    expect(page.locator("#transcript li.agent")).to_contain_text("Bella here")
    bot.say_via_callback(second, "Thank you so much!")
    expect(page.locator("#transcript li.customer .text").last).to_have_text("Thank you so much!", timeout=15000)

    page.fill("#faq-query", "can I send it back")
    page.click("#faq-search")
    expect(page.locator("#faq-results li").first).to_contain_text("return", ignore_case=True, timeout=30000)
    if os.environ.get("CONSOLE_SCREENSHOT"):
        page.screenshot(path=os.environ["CONSOLE_SCREENSHOT"])

    page.click("#close")
    rating_question = bot.callback.wait_for(second, before + 2)[-1]
    assert rating_question["buttons"] and "satisfied" in rating_question["text"]
    handoff = service.open_for_conversation(bot.settings.database_url, first)
    assert handoff is not None and handoff.agent == "bella"  # the first chat is still hers
    expect(page.locator("#active li")).to_have_count(1)


def log_in(bot: RunningBot, page: object, username: str) -> None:
    from playwright.sync_api import expect

    page.goto(bot.settings.console_url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#connection")).to_have_text("live", timeout=15000)


def test_a_widget_customer_hears_who_joined_and_both_sides_see_the_other_typing(bot: RunningBot,
                                                                               browser: object) -> None:
    from playwright.sync_api import expect

    add_agent(bot, "dora", PASSWORD, "--capacity", "1")
    agent_side = browser.new_context(viewport={"width": 1400, "height": 860})
    console = agent_side.new_page()
    log_in(bot, console, "dora")
    busy = customer()  # fills dora's one seat
    bot.say_via_callback(busy, "I'd like to talk to a human")
    expect(console.locator("#active li", has_text=f"Customer {busy}")).to_be_visible(timeout=15000)

    customer_side = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    shop = customer_side.new_page()
    shop.goto(f"{bot.settings.console_url}/shop")
    shop.get_by_role("button", name="Open chat with Brightcart").click()
    shop.fill("textarea#input", "I want to talk to a real person please")
    shop.keyboard.press("Enter")
    expect(shop.locator(".msg.bot .text").last).to_contain_text("in line", timeout=30000)  # everyone is busy

    console.locator("#active li", has_text=f"Customer {busy}").click()
    console.click("#close")  # a seat comes free: the widget customer is routed to dora
    notice = shop.locator(".notice")
    expect(notice).to_have_text("dora from our team has joined the chat.", timeout=30000)

    waiting = console.locator("#active li", has_text="widget")
    expect(waiting).to_be_visible(timeout=15000)
    waiting.click()
    shop.fill("textarea#input", "my parcel BC-4411 arrived with a cracked lid")  # typed, not sent
    expect(console.locator("#draft")).to_have_text("Customer is typing: my parcel BC-4411 arrived with a cracked lid",
                                                   timeout=15000)
    console.fill("#reply", "Sorry to hear that")
    console.type("#reply", "!")
    expect(shop.locator(".typing")).to_have_text("dora is typing…", timeout=15000)
    console.click("#send")
    expect(shop.locator(".msg.agent .text")).to_have_text("Sorry to hear that!", timeout=30000)
    expect(shop.locator(".typing")).to_have_count(0)

    shop.keyboard.press("Enter")  # now sent: a message, and no longer a draft
    expect(console.locator("#transcript li.customer .text").last).to_have_text(
        "my parcel BC-4411 arrived with a cracked lid", timeout=15000)
    expect(console.locator("#draft")).to_be_hidden(timeout=15000)
    customer_side.close()
    agent_side.close()
