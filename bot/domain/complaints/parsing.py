"""Read complaint details out of what a customer types. Pure functions, no I/O.

Rules are deliberately plain (keywords and patterns, not a model): a customer's order
reference or email must be taken exactly as typed, and a wrong guess of the category is
shown in the summary the customer confirms, where one button corrects it.

Customers write in English or Chinese. Chinese has no spaces, so (1) Chinese keywords are
matched without word boundaries, (2) patterns for references, phones and codes use ASCII
word boundaries (re.ASCII): to Unicode \\b, "订单号BC-123456" has no boundary before "BC",
and (3) lengths are counted with `word_count`, not `str.split`.
"""

from __future__ import annotations

import math
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
# The same in Chinese (no word boundaries in Chinese text), in the same order of precedence.
_CATEGORY_WORDS_ZH = {
    "product_quality": r"坏|破|碎|裂|损坏|质量|瑕疵|故障|次品|划痕|不能用|用不了|没法用|不工作|不好用"
                       r"|发错|尺码不对|颜色不对",
    "delivery": r"快递|物流|配送|送货|包裹|发货|到货|没到|未到|没收到|收不到|丢件|丢了|延迟|迟到|晚到|运单|派送",
    "billing": r"扣款|扣费|扣了|扣钱|收费|账单|发票|退款|多收|价格|付款|支付|付了|钱|信用卡|银行卡",
    "service": r"客服|态度|服务|不理|没人回|没有回复|没人理|工作人员|员工",
}
_CATEGORY_PATTERNS = {
    c: re.compile(rf"\b(?:{w})|{_CATEGORY_WORDS_ZH[c]}", re.IGNORECASE | re.ASCII) for c, w in _CATEGORY_WORDS.items()
}
_CATEGORY_ANSWERS = {
    "other": re.compile(r"^\s*(?:other|something else|else|none of (?:these|them)"
                        r"|其他|其它|别的|其他问题|都不是)\s*[.。]?\s*$", re.IGNORECASE),
    "product_quality": re.compile(r"^\s*(?:the )?(?:product|item|goods)(?: quality)?\s*\.?\s*$"
                                  r"|^\s*(?:产品|商品|东西)\s*。?\s*$", re.IGNORECASE),
}

ORDER_REF = re.compile(r"\bBC[-\s]?(\d{6})\b", re.IGNORECASE | re.ASCII)
COMPLAINT_REF = re.compile(r"\bC-?(\d{4})-?(\d{6})\b", re.IGNORECASE | re.ASCII)
EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
EMAIL_IN_TEXT = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_PHONE_IN_TEXT = re.compile(r"(?<![\w-])\+?\(?\d[\d\s().-]{5,}\d(?![\w-])", re.ASCII)
_NO_ORDER = re.compile(
    r"^\s*(?:no|nope|none|n/?a|skip|no order(?: number| reference| ref)?|not about an order|"
    r"i (?:don'?t|do not) have (?:one|it|an? order (?:number|reference))|don'?t (?:have|know)(?: it)?|"
    r"没有|没|无|跳过|不知道|不记得了?|忘了|没有订单号?|没订单号?|不是订单的问题|我没有订单号?)\s*[.!。！]?\s*$",
    re.IGNORECASE,
)

_URGENT = re.compile(
    r"\b(?:urgent\w*|asap|immediately|right now|emergency|unacceptable|outrageous|disgusting|furious|"
    r"ridiculous|appalling|terrible|worst|scam|fraud|lawyer|legal action|sue|never again|fed up|"
    r"sick of|angry|livid|third time|again and again)\b",
    re.IGNORECASE | re.ASCII,
)
_URGENT_ZH = re.compile(
    r"紧急|加急|着急|很急|好急|急死|急用|急需|马上|立刻|立即|尽快|赶紧|今天就要|今天必须|不能接受|无法接受|不可接受|太过分|过分|"
    r"受不了|气死|生气|愤怒|火大|垃圾|骗子|诈骗|欺诈|律师|起诉|法律|投诉到|再也不|第三次|一次又一次|最差|太差劲"
)

# Words that say what went wrong (not just the topic): "arrived broken", "charged twice".
_SYMPTOMS = re.compile(
    r"\b(?:broken|broke|damaged|faulty|defective|cracked|scratched|smashed|torn|ripped|stopped working|"
    r"doesn'?t work|not working|late|lost|missing|never (?:came|arrived)|still (?:not|hasn'?t|haven'?t)|"
    r"charged|twice|double|overcharged|wrong|rude|ignored|no reply|not received|didn'?t (?:get|receive|arrive))",
    re.IGNORECASE | re.ASCII,
)
_SYMPTOMS_ZH = re.compile(
    r"坏了|坏掉|破了|碎了|裂了|损坏|有问题|不能用|用不了|没法用|不工作|划痕|迟到|延迟|还没到|没到|没收到|没有收到|"
    r"丢了|丢失|少了|漏发|发错|错了|扣了两次|重复扣|多扣|多收|扣错|态度差|态度很差|不理|没人回|没有回复"
)
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# A Chinese word is 1.5 characters on average: "杯子碎了" counts as 3 words, like "cup is broken".
_CHARACTERS_PER_WORD = 1.5
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
    return bool(_URGENT.search(text) or _URGENT_ZH.search(text)) or _shouting(text)


def _shouting(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    capitals = sum(c.isupper() for c in letters) / len(letters) if letters else 0.0
    return (len(letters) >= 12 and capitals > 0.7) or "!!!" in text or "！！！" in text


def describes_the_problem(text: str) -> bool:
    """A first message that already says what went wrong (so it is not asked again)."""
    return word_count(text) >= 4 and bool(_SYMPTOMS.search(text) or _SYMPTOMS_ZH.search(text))


def too_short_to_describe(text: str) -> bool:
    """Too few words to tell what happened (the form asks for a sentence or two)."""
    return word_count(text) < MIN_DESCRIPTION_WORDS


def word_count(text: str) -> int:
    """Words in English, Chinese or mixed text (Chinese characters counted as words of 1.5)."""
    characters = len(_CJK.findall(text))
    return len(_CJK.sub(" ", text).split()) + math.ceil(characters / _CHARACTERS_PER_WORD)
