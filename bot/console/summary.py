"""The conversation so far in five lines, for the agent who has just taken it: who, what they
asked, what the bot answered (or could not), their complaints and files, and why they want a
person. Extractive: every line is made of the records' own words, no model writes anything.
"""

from __future__ import annotations

from typing import Any

REASONS = {"customer_asked": "asked for a person", "faq_unknown": "the bot did not know the answer",
           "not_understood": "the bot did not understand them twice", "urgent_complaint": "an urgent complaint"}
MAX_QUOTE = 90


def summary(pop: dict[str, Any], questions: dict[str, str]) -> list[str]:
    """At most five lines from a screen pop (bot/console/views.py) and the KB's questions by id."""
    handoff, records = pop["handoff"], pop["transcript"]
    said = [r.get("shown") or r.get("text") or "" for r in records
            if r["actor"] == "customer" and not (r.get("text") or "").startswith(("/", "["))]
    answered = _titles(records, ("answer", "selected"), questions)
    unknown = [r for r in records if r["actor"] == "bot" and r.get("faq_decision") == "unknown"]
    earlier = len(pop["earlier_conversations"])
    lines = [f"Customer {handoff['customer_id']} on {handoff['channel']}"
             + (" (returning visitor)" if (pop.get("visitor") or {}).get("returning") else "")
             + (f", {earlier} earlier conversation(s)" if earlier else "")]
    if said:
        lines.append("Asked: " + " · ".join(f"“{_quote(text)}”" for text in said[:2]) + (" …" if len(said) > 2 else ""))
    if answered or unknown:
        lines.append("Bot answered: " + (", ".join(answered) or "nothing")
                     + (f"; could not answer {len(unknown)} question(s)" if unknown else ""))
    extras = [f"{c['reference']} ({c['status']}, {c.get('category') or 'other'})" for c in pop["complaints"][:2]]
    if pop["files"]:
        extras.append(f"{len(pop['files'])} file(s) sent")
    if extras:
        lines.append("Complaints and files: " + ", ".join(extras))
    why = REASONS.get(handoff["reason"], handoff["reason"])
    lines.append(f"Handed over because {why}" + (f": “{_quote(handoff['message'])}”" if handoff.get("message") else ""))
    return lines[:5]


def _titles(records: list[dict[str, Any]], decisions: tuple[str, ...], questions: dict[str, str]) -> list[str]:
    """The KB questions the bot answered, in order, each once."""
    seen: list[str] = []
    for record in records:
        if record["actor"] == "bot" and record.get("faq_decision") in decisions and record.get("faq_id"):
            title = f"“{questions.get(record['faq_id'], record['faq_id'])}”"
            if title not in seen:
                seen.append(title)
    return seen[:3]


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_QUOTE else text[:MAX_QUOTE - 1] + "…"
