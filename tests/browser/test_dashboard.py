"""The supervisors' dashboard in a real browser: the figures match `python -m bot report`, the
charts draw, the date filter works, an agent without the role is refused, and an unanswered
question group becomes wordings of an FAQ entry in the knowledge base files.

Set DASHBOARD_SCREENSHOT=docs/img/dashboard.png to save the README's screenshot from this run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import ConsoleClient, RunningBot, add_agent, own_stack

pytestmark = pytest.mark.integration
bot = own_stack()  # this module adds agents and reads every unanswered question of its stack: a stack of its own
PASSWORD = "correct horse battery"
# Two wordings of one question the KB cannot answer ("can you ship to the moon?" is answered now:
# with the countries delivered to).
MOON = ["do you sell moon rocks", "can I buy a moon rock from you?"]


@pytest.fixture(scope="module")
def page(browser: object) -> Iterator[object]:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    yield page
    page.close()


def report(bot: RunningBot, since: str, until: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "bot", "report", "--since", since, "--until", until, "--format",
                           "json"], env=bot.env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_dashboard_figures_filter_roles_and_the_unanswered_loop(bot: RunningBot, page: object) -> None:
    from playwright.sync_api import expect

    for question in ("how long does delivery take?", "can I pay with paypal?", *MOON):
        bot.say(f"dash-{uuid.uuid4().hex[:8]}", question)
    wants_a_person = f"dash-{uuid.uuid4().hex[:8]}"
    bot.say(wants_a_person, "I want to speak to a human")  # nobody online: a ticket
    bot.say(wants_a_person, "Please call me back about my refund")
    add_agent(bot, "sam", PASSWORD, "--role", "supervisor")
    add_agent(bot, "ann", PASSWORD)
    ann = ConsoleClient(bot, "ann")
    ann.login(PASSWORD)
    assert ann.get("/dashboard").status_code == 403 and ann.get("/api/metrics").status_code == 403
    assert ann.post("/api/kb/paraphrases", {"entry_id": "delivery-time", "paraphrases": ["x"]}).status_code == 403

    page.goto(bot.settings.console_url + "/login")
    page.fill("input[name=username]", "sam")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#dashboard-link")).to_be_visible()
    page.goto(bot.settings.console_url + "/dashboard")
    today = datetime.now(timezone.utc).date()
    expected = report(bot, (today - timedelta(days=29)).isoformat(), (today + timedelta(days=1)).isoformat())
    tile = page.locator("[data-metric=conversations] .value")
    expect(tile).to_have_text(str(expected["totals"]["conversations"]))
    containment = expected["totals"]["containment_rate"]
    expect(page.locator("[data-metric=containment_rate] .value")).to_have_text(f"{containment * 100:.1f}%")
    assert page.evaluate("!!Chart.getChart(document.getElementById('daily'))")

    moon = page.locator("#unanswered tr", has_text="moon")
    expect(moon).to_have_count(1, timeout=30000)  # both wordings in one group
    expect(moon.locator("td").first).to_have_text("2")
    if os.environ.get("DASHBOARD_SCREENSHOT"):
        page.screenshot(path=os.environ["DASHBOARD_SCREENSHOT"], full_page=True)
    add = moon.locator("button").first
    expect(add).to_contain_text("Add to")
    add.click()
    expect(add).to_contain_text("Saved in", timeout=15000)
    written = (bot.settings.kb_dir / add.text_content().split()[-1]).read_text(encoding="utf-8")
    assert all(question in written for question in MOON)

    page.fill("#since", "2020-01-01")
    page.fill("#until", "2020-01-02")
    page.click("#filters button[type=submit]")
    expect(tile).to_have_text("0")
