"""Which language a text is in, for the languages the bot serves.

Only two are served (English and Chinese), and they are told apart by script: a message
with a fair share of CJK characters is Chinese. That is exact for these two languages,
instant, and needs no model; a third language would need a real detector here.
"""

from __future__ import annotations

import re

ENGLISH = "en"
CHINESE = "zh"
LANGUAGES = (ENGLISH, CHINESE)
LANGUAGE_NAMES = {ENGLISH: "English", CHINESE: "中文"}

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
# Order references, emails, links and codes say nothing about the writer's language.
_CODE = re.compile(r"[!-~]*[\d@/.][!-~]*")  # printable ASCII only: Chinese text has no spaces
# Fewer Latin letters than this ("ok", "yes", "hi") is too little to switch language on.
_MIN_LATIN = 4


def detect_language(text: str) -> str | None:
    """'zh' or 'en' when the text says which, None when it does not ("ok", "BC-123456", "5")."""
    words = _CODE.sub(" ", text)
    cjk = len(_CJK.findall(words))
    latin = len(_LATIN.findall(words))
    # One Chinese character carries about as much as a short English word (3-4 letters):
    # "我的PayPal付款失败了" is Chinese with an English brand name in it.
    if cjk and cjk * 4 >= latin:
        return CHINESE
    if latin >= _MIN_LATIN:
        return ENGLISH
    return None
