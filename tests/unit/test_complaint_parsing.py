"""What the complaint form reads out of customers' words."""

from __future__ import annotations

import pytest

from bot.domain.complaints import parsing


@pytest.mark.parametrize(("text", "category"), [
    ("my order arrived broken", "product_quality"),
    ("you charged me twice", "billing"),
    ("the parcel is two weeks late", "delivery"),
    ("the courier was rude", "delivery"),  # courier beats rude: it is about the delivery
    ("your staff were rude to me", "service"),
    ("something else", "other"),
    ("Billing", "billing"),
    ("I want to complain", None),
])
def test_category(text: str, category: str | None) -> None:
    assert parsing.category_in(text) == category


@pytest.mark.parametrize(("text", "ref"), [
    ("order BC-123456 arrived broken", "BC-123456"),
    ("bc123456", "BC-123456"),
    ("it was BC 654321", "BC-654321"),
    ("BC-12345", None),
    ("123456", None),
])
def test_order_reference(text: str, ref: str | None) -> None:
    assert parsing.order_ref_in(text) == ref


@pytest.mark.parametrize(("text", "contact"), [
    ("jane.doe+shop@example.co.uk", "jane.doe+shop@example.co.uk"),
    ("you can email me at Jane@Example.com thanks", "jane@example.com"),
    ("+44 20 7946 0958", "+442079460958"),
    ("call 0161-496-0000", "01614960000"),
    ("jane at example dot com", None),
    ("jane@example", None),
    ("12345", None),
    ("BC-123456", None),
    ("C-2026-000123", None),
])
def test_contact(text: str, contact: str | None) -> None:
    assert parsing.contact_in(text) == contact


def test_complaint_reference_is_normalised() -> None:
    assert parsing.complaint_ref_in("status of c-2026-000123?") == "C-2026-000123"
    assert parsing.complaint_ref_in("status of BC-123456") is None


@pytest.mark.parametrize(("text", "urgent"), [
    ("This is UNACCEPTABLE", True),
    ("I need this sorted urgently", True),
    ("MY ORDER IS STILL NOT HERE", True),
    ("where is it!!!", True),
    ("my order arrived broken", False),
    ("I want to complain", False),
])
def test_urgency(text: str, urgent: bool) -> None:
    assert parsing.is_urgent(text) is urgent


def test_a_first_message_that_says_what_went_wrong_is_the_description() -> None:
    assert parsing.describes_the_problem("my order arrived broken")
    assert not parsing.describes_the_problem("I want to complain about delivery")
    assert not parsing.describes_the_problem("broken")


def test_no_order_answers() -> None:
    assert all(parsing.says_no_order(t) for t in ("no", "None", "no order number", "I don't have one", "skip"))
    assert not parsing.says_no_order("no it arrived broken")
