"""Read complaint details out of what a customer types. Pure functions, no I/O.

Rules are deliberately plain (keywords and patterns, not a model): a customer's order
reference or email must be taken exactly as typed, and a wrong guess of the category is
shown in the summary the customer confirms, where one button corrects it.
"""

from __future__ import annotations

import re

CATEGORIES = ("delivery", "product_quality", "billing", "service", "other")
CATEGORY_TITLES = {
    "delivery": "Delivery",
    "product_quality": "Product quality",
    "billing": "Billing",
    "service": "Customer service",
    "other": "Something else",
}

# Whole words (or word starts) that say what a complaint is about; the first category with
# a hit wins, in this order, because "charged for a broken item" is about the item.
_CATEGORY_WORDS = {
    "product_quality": r"broken|broke|damaged|faulty|defective|cracked|scratched|smashed|torn|ripped"
                       r"|stopped working|doesn'?t work|does not work|not working|quality|wrong (?:item|size|colou?r)",
    "delivery": r"deliver\w*|parcel|package|courier|shipping|shipped|arriv\w*|late|lost|missing|never came|tracking",
    "billing": r"charg\w*|bill\w*|invoice|refund\w*|overcharg\w*|payment|paid|price|money|card",
    "service": r"rude|staff|service|support|agent|ignored|no (?:one|reply|answer)|nobody|unhelpful|waiting",
}
_CATEGORY_PATTERNS = {c: re.compile(rf"\b(?:{w})", re.IGNORECASE) for c, w in _CATEGORY_WORDS.items()}
_CATEGORY_ANSWERS = {
    "other": re.compile(r"^\s*(?:other|something else|else|none of (?:these|them))\s*\.?\s*$", re.IGNORECASE),
    "product_quality": re.compile(r"^\s*(?:the )?(?:product|item|goods)(?: quality)?\s*\.?\s*$", re.IGNORECASE),
}

ORDER_REF = re.compile(r"\bBC[-\s]?(\d{6})\b", re.IGNORECASE)
COMPLAINT_REF = re.compile(r"\bC-?(\d{4})-?(\d{6})\b", re.IGNORECASE)
EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
EMAIL_IN_TEXT = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_PHONE_IN_TEXT = re.compile(r"(?<![\w-])\+?\(?\d[\d\s().-]{5,}\d(?![\w-])")
_NO_ORDER = re.compile(
    r"^\s*(?:no|nope|none|n/?a|skip|no order(?: number| reference| ref)?|not about an order|"
    r"i (?:don'?t|do not) have (?:one|it|an? order (?:number|reference))|don'?t (?:have|know)(?: it)?)\s*[.!]?\s*$",
    re.IGNORECASE,
)

_URGENT = re.compile(
    r"\b(?:urgent\w*|asap|immediately|right now|emergency|unacceptable|outrageous|disgusting|furious|"
    r"ridiculous|appalling|terrible|worst|scam|fraud|lawyer|legal action|sue|never again|fed up|"
    r"sick of|angry|livid|third time|again and again)\b",
    re.IGNORECASE,
)

# Words that say what went wrong (not just the topic): "arrived broken", "charged twice".
_SYMPTOMS = re.compile(
    r"\b(?:broken|broke|damaged|faulty|defective|cracked|scratched|smashed|torn|ripped|stopped working|"
    r"doesn'?t work|not working|late|lost|missing|never (?:came|arrived)|still (?:not|hasn'?t|haven'?t)|"
    r"charged|twice|double|overcharged|wrong|rude|ignored|no reply|not received|didn'?t (?:get|receive|arrive))",
    re.IGNORECASE,
)
MIN_DESCRIPTION_WORDS = 3


def category_in(text: str) -> str | None:
    """The category a free-text message points to, or None when it names none."""
    for category, pattern in _CATEGORY_ANSWERS.items():
        if pattern.match(text):
            return category
    for category, pattern in _CATEGORY_PATTERNS.items():
        if pattern.search(text):
            return category
    return None


def order_ref_in(text: str) -> str | None:
    """An order reference (BC-123456, also typed as bc123456 or 'BC 123456'), normalised."""
    match = ORDER_REF.search(text)
    return f"BC-{match.group(1)}" if match else None


def says_no_order(text: str) -> bool:
    """The customer says there is no order reference to give."""
    return bool(_NO_ORDER.match(text))


def complaint_ref_in(text: str) -> str | None:
    """A complaint reference (C-2026-000123), normalised."""
    match = COMPLAINT_REF.search(text)
    return f"C-{match.group(1)}-{match.group(2)}" if match else None


def contact_in(text: str) -> str | None:
    """An email address or phone number in the message, normalised; None if there is none."""
    email = EMAIL_IN_TEXT.search(text)
    if email:
        return email.group(0).lower()
    for candidate in _PHONE_IN_TEXT.findall(text):
        phone = normalise_phone(candidate)
        if phone:
            return phone
    return None


def normalise_phone(text: str) -> str | None:
    """+, then 7 to 15 digits (E.164 allows at most 15); separators dropped. None if not a phone."""
    stripped = text.strip()
    if ORDER_REF.search(stripped) or COMPLAINT_REF.search(stripped):
        return None
    if not re.fullmatch(r"\+?[\d\s().-]+", stripped):
        return None
    digits = re.sub(r"\D", "", stripped)
    if not 7 <= len(digits) <= 15:
        return None
    return ("+" if stripped.startswith("+") else "") + digits


def is_urgent(text: str) -> bool:
    """Angry or urgent wording: the complaint gets priority and a person is offered at once."""
    return bool(_URGENT.search(text)) or _shouting(text)


def _shouting(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    capitals = sum(c.isupper() for c in letters) / len(letters) if letters else 0.0
    return (len(letters) >= 12 and capitals > 0.7) or "!!!" in text


def describes_the_problem(text: str) -> bool:
    """A first message that already says what went wrong (so it is not asked again)."""
    return len(text.split()) >= 4 and bool(_SYMPTOMS.search(text))


def description_problem(text: str) -> str | None:
    """Why a description is not usable, or None when it is."""
    if len(text.split()) < MIN_DESCRIPTION_WORDS:
        return "Could you tell me a little more about what happened? A sentence or two is enough."
    return None
