"""The whitespace tokenizer keeping the GIL for its regular expression
(bot/rasa_server/hot_path/tokenizer_gil.py) splits every message as Rasa's own does."""

from __future__ import annotations

import regex
import yaml
from rasa.nlu.tokenizers import whitespace_tokenizer
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message

from bot.config import ROOT
from bot.rasa_server.hot_path import tokenizer_gil

ODD = ["", " ", "😀", "hi :) how are you?", "10'000.00 or blabla@gmail.com", "see https://shop.example/a?b=1#c",
       "नमस्ते, मेरा ऑर्डर कहाँ है?", "我的包裹在哪里？", "Où est mon colis ?!", "#order-123 & co.", "don't—won't…"]


def tokens(texts: list[str]) -> list[list[tuple[str, int, int]]]:
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    return [[(t.text, t.start, t.end) for t in tokenizer.tokenize(Message(data={"text": text}), "text")]
            for text in texts]


def test_the_tokenizer_keeping_the_gil_splits_every_message_as_rasas_own() -> None:
    nlu = yaml.safe_load((ROOT / "data" / "nlu.yml").read_text(encoding="utf-8"))["nlu"]
    texts = [line.strip()[2:] for item in nlu if "examples" in item
             for line in item["examples"].splitlines() if line.strip().startswith("- ")] + ODD
    assert whitespace_tokenizer.regex is regex
    rasas = tokens(texts)
    try:
        tokenizer_gil.install()
        tokenizer_gil.install()  # twice is once
        assert isinstance(whitespace_tokenizer.regex, tokenizer_gil._KeepingTheGil)
        assert tokens(texts) == rasas
    finally:
        whitespace_tokenizer.regex = regex
    assert len(texts) > 500
