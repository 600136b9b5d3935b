"""One decision per customer turn: which intent the rules act on.

DIET alone sent shop questions to forms, ratings and small talk ("change my order" became
"anything else?", "bikes?" a yes). Intents with side effects now need both DIET's word and
the context that makes them possible; a message the knowledge base answers goes to the FAQ.
Each rule returns the intent and its reason; the reason is kept in the turn's parse data
(`understanding`), so a record says why the bot did what it did.

No Rasa import: `Context` and `Faq` are filled in by bot/rasa_server/understanding/component.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ASK_QUESTION = "ask_question"
# Messages the FAQ search answers already (the rules send them to action_answer_faq).
FAQ_INTENTS = {ASK_QUESTION, "out_of_scope", "nlu_fallback"}
# A complaint's reference or a language's name: the message says what it wants.
CARRY_THEIR_OWN_EVIDENCE = {"complaint_status", "choose_language"}
YES_NO = {"affirm", "deny"}
SMALL_TALK = {"greet", "goodbye", "thank", "bot_challenge"}
# Only a form has something to fill in, cancel or change.
FORM_ONLY = {"inform", "cancel", "complaint_change"}
# DIET at least this sure: its reading of a message that acts (a form, a handoff) or chats
# stands, unless the message is a question the knowledge base answers.
SURE = 0.8
VERY_SURE = 0.95  # a short question DIET reads as small talk ("am I talking to a bot?") stays small talk

_QUESTION_EN = re.compile(  # a question mark, or a clause that opens with a question word
    r"\?|(^|[.!,;:]\s*)(how|what|when|where|why|which|who|whom|whose|can|could|do|does|did|is|are|was|will|would|"
    r"should|shall|may|might|have|has)\b", re.IGNORECASE)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_QUESTION_ZH = re.compile(  # "难不难" (a word, 不/没, the word again) and "能改不" ask too
    r"[?？吗呢么嘛]|(\w)[不没]\1|[不没](\s|$)|啥|咋|怎么|怎样|如何|什么|多少|多久|几(?!乎)|哪|谁|能不能|可不可以|是不是|是否|有没有|要不要|会不会")


@dataclass(frozen=True)
class Context:
    """What the conversation allows right now."""

    active_loop: str | None = None  # a form is asking for something: its own rules handle the turn
    expects_yes_no: bool = False  # the bot's last message asked a yes/no question (or offered a person)
    expects_rating: bool = False  # the bot's last message asked for a 1-5 rating


@dataclass(frozen=True)
class Faq:
    """What the FAQ search made of the message (faq_index's decision)."""

    decision: str  # "answer" | "suggest" | "unknown"


@dataclass(frozen=True)
class Decision:
    intent: str
    reason: str


def decide(text: str, intent: str, confidence: float, faq: Faq, context: Context) -> Decision:
    """The intent the dialogue rules act on for this message, and why."""
    if context.active_loop:
        return Decision(intent, "a form is active: its rules take every intent")
    if intent in FAQ_INTENTS or intent in CARRY_THEIR_OWN_EVIDENCE:
        return Decision(intent, "as understood")
    if intent in YES_NO:
        return _yes_no(text, intent, confidence, faq, context)
    if intent == "rate":
        if context.expects_rating:
            return Decision(intent, "the bot asked for a rating")
        return Decision(ASK_QUESTION, "a rating nobody asked for")
    if intent in FORM_ONLY:
        return Decision(ASK_QUESTION, "no form to fill in, cancel or change")
    sure = confidence >= SURE
    asks = is_question(text)
    if intent == "request_human":  # escalation stays easy: only an unsure reading of a question yields
        if sure or not asks:
            return Decision(intent, "asks for a person")
        return Decision(ASK_QUESTION, "a question about people, not surely a request for one")
    if intent in SMALL_TALK and sure and not _substantial(text) and (not asks or confidence >= VERY_SURE):
        return Decision(intent, "short small talk")  # "am I talking to a bot?" even if the KB knows bots
    if asks and (intent == "complain" or (intent in SMALL_TALK and _substantial(text))):
        # DIET's Chinese readings are sure of themselves on long questions ("想加盟开个店 要什么条件" as
        # a greeting at 0.99): a question is for the FAQ, which declines it plainly if it must.
        return Decision(ASK_QUESTION, "a question, not a complaint or small talk")
    if faq.decision == "answer" and (asks or not sure):
        return Decision(ASK_QUESTION, "the knowledge base answers it")
    if sure and (not asks or faq.decision == "unknown"):
        return Decision(intent, "as understood")
    if confidence >= VERY_SURE and faq.decision == "suggest" and intent not in SMALL_TALK:
        # "can you link my chats?" read as linking at 0.99 beat a did-you-mean on the newsletter.
        return Decision(intent, "surely asks the bot to do something; the FAQ only guesses")
    return Decision(ASK_QUESTION, "an unsure reading of a question: the FAQ decides")


def _yes_no(text: str, intent: str, confidence: float, faq: Faq, context: Context) -> Decision:
    if context.expects_yes_no and not (faq.decision == "answer" and is_question(text)):
        return Decision(intent, "the bot asked a yes/no question")
    if faq.decision == "unknown" and confidence >= SURE and not is_question(text) and not _substantial(text):
        return Decision(intent, "a plain yes/no with nothing asked")
    return Decision(ASK_QUESTION, "a question, not a yes/no: nothing was asked")


def _substantial(text: str) -> bool:
    """Longer than small talk: seven words, or eight Chinese characters."""
    return len(text.split()) >= 7 or len(_CJK.findall(text)) >= 8


def is_question(text: str) -> bool:
    """Phrased as a question (English or Chinese)."""
    return bool(_QUESTION_EN.search(text) or _QUESTION_ZH.search(text))
