"""Knowledge-base loading and validation: every problem named with file, entry and cause."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ROOT
from faq_index.kb import CATEGORIES, KnowledgeBaseError, kb_hash, load_kb

GOOD = """
entries:
  - id: delivery-time
    category: delivery
    question: How long does delivery take?
    answer: Two to four working days.
    paraphrases: [when does it arrive, shipping time, how many days for delivery, delivry time]
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def problems(kb_dir: Path) -> list[str]:
    with pytest.raises(KnowledgeBaseError) as caught:
        load_kb(kb_dir)
    return caught.value.problems


def test_the_shipped_kb_is_valid_and_covers_every_category() -> None:
    entries = load_kb(ROOT / "data" / "faq")
    assert len(entries) >= 80
    assert {e.category for e in entries} == set(CATEGORIES)
    assert all(len(e.paraphrases) >= 4 for e in entries)


def test_a_valid_entry_loads(tmp_path: Path) -> None:
    [entry] = load_kb(write(tmp_path, "delivery.yml", GOOD))
    assert entry.id == "delivery-time"
    assert entry.texts[0] == "How long does delivery take?"
    assert len(entry.texts) == 5


def test_duplicate_id_names_both_files(tmp_path: Path) -> None:
    write(tmp_path, "a.yml", GOOD)
    write(tmp_path, "b.yml", GOOD)
    [problem] = problems(tmp_path)
    assert "b.yml" in problem and "delivery-time" in problem and "duplicate id" in problem and "a.yml" in problem


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("answer: Two to four working days.", "answer: '  '"), "'answer' is missing or empty"),
        (("category: delivery", "category: shipping"), "unknown category 'shipping'"),
        (("id: delivery-time", "id: Delivery Time"), "id must be lowercase"),
        (("paraphrases: [when does it arrive, shipping time, ", "paraphrases: ["), "at least 4 paraphrases"),
        (("paraphrases:", "paraphrase:"), "unknown field(s) paraphrase"),
        (("[when does it arrive,", "['How long does delivery take?',"), "a paraphrase repeats the question"),
    ],
)
def test_each_problem_is_named_with_file_and_entry(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    write(tmp_path, "delivery.yml", GOOD.replace(*change))
    found = problems(tmp_path)
    assert any(expected in p and "delivery.yml: entry 1" in p for p in found), found


def test_broken_yaml_names_the_file(tmp_path: Path) -> None:
    write(tmp_path, "cart.yml", "entries: [ {id: x")
    [problem] = problems(tmp_path)
    assert "cart.yml" in problem and "not valid YAML" in problem


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    write(tmp_path, "delivery.yml", GOOD.replace("category: delivery", "category: nope").replace(
        "answer: Two to four working days.", "answer: ''"))
    assert len(problems(tmp_path)) == 2


def test_hash_changes_with_content_only(tmp_path: Path) -> None:
    first = kb_hash(load_kb(write(tmp_path, "delivery.yml", GOOD)))
    assert kb_hash(load_kb(write(tmp_path, "delivery.yml", GOOD + "\n# a comment\n"))) == first
    assert kb_hash(load_kb(write(tmp_path, "delivery.yml", GOOD.replace("Two", "Three")))) != first


BILINGUAL = """
entries:
  - id: delivery-time
    category: delivery
    question:
      en: How long does delivery take?
      zh: 送货需要多长时间？
    answer:
      en: Two to four working days.
      zh: 两到四个工作日。
    paraphrases:
      en: [when does it arrive, shipping time, how many days for delivery, delivry time]
      zh: [几天能到, 快递要多久]
"""


def test_an_entry_covers_the_languages_it_has_an_answer_in(tmp_path: Path) -> None:
    [entry] = load_kb(write(tmp_path, "delivery.yml", BILINGUAL))
    assert entry.languages == ("en", "zh")
    assert entry.question == "How long does delivery take?" and entry.answer == "Two to four working days."
    assert entry.answers["zh"] == "两到四个工作日。"
    assert entry.texts_in("zh") == ("送货需要多长时间？", "几天能到", "快递要多久")
    assert len(entry.texts) == 5 + 3
    assert entry.public()["answers"] == {"en": "Two to four working days.", "zh": "两到四个工作日。"}


def test_the_shipped_kb_answers_every_entry_in_english_and_chinese() -> None:
    entries = load_kb(ROOT / "data" / "faq")
    assert all(e.languages == ("en", "zh") for e in entries)
    assert all(len(e.paraphrases_by_language["zh"]) >= 4 for e in entries)


ZH_ANSWER, ZH_QUESTION = "      zh: 两到四个工作日。\n", "      zh: 送货需要多长时间？\n"
ZH_PARAPHRASES = "      zh: [几天能到, 快递要多久]\n"


@pytest.mark.parametrize("text, expected", [
    (BILINGUAL.replace(ZH_ANSWER, ""), "a 'zh' question but no 'zh' answer"),
    (BILINGUAL.replace(ZH_ANSWER, "").replace(ZH_QUESTION, ""), "paraphrases in 'zh' but no 'zh' answer"),
    (BILINGUAL.replace(ZH_PARAPHRASES, "      zh: [几天能到]\n"), "needs at least 2 paraphrases"),
    (BILINGUAL.replace(ZH_ANSWER, ZH_ANSWER + "      fr: Deux à quatre jours.\n"), "unknown language 'fr'"),
])
def test_language_problems_are_named(tmp_path: Path, text: str, expected: str) -> None:
    assert any(expected in problem for problem in problems(write(tmp_path, "delivery.yml", text)))


def test_paraphrases_are_added_to_the_list_of_their_language(tmp_path: Path) -> None:
    from faq_index.kb_edit import add_paraphrases

    write(tmp_path, "delivery.yml", BILINGUAL.replace(
        "      en: [when does it arrive, shipping time, how many days for delivery, delivry time]\n",
        "      en:\n        - when does it arrive\n        - shipping time\n"
        "        - how many days\n        - delivry time\n"
    ).replace(ZH_PARAPHRASES, "      zh:\n        - 几天能到\n        - 快递要多久\n"))
    add_paraphrases(tmp_path, "delivery-time", ["parcel ETA please", "包裹什么时候到"])
    [entry] = load_kb(tmp_path)
    assert entry.paraphrases_by_language["en"][-1] == "parcel ETA please"
    assert entry.paraphrases_by_language["zh"] == ("几天能到", "快递要多久", "包裹什么时候到")


def test_paraphrases_are_added_to_a_plain_list(tmp_path: Path) -> None:
    from faq_index.kb_edit import add_paraphrases

    write(tmp_path, "delivery.yml", GOOD.replace(
        "    paraphrases: [when does it arrive, shipping time, how many days for delivery, delivry time]\n",
        "    paraphrases:\n      - when does it arrive\n      - shipping time\n"
        "      - how many days\n      - delivry time\n"))
    add_paraphrases(tmp_path, "delivery-time", ["parcel ETA please"])
    [entry] = load_kb(tmp_path)
    assert entry.paraphrases[-1] == "parcel ETA please" and len(entry.paraphrases) == 5
