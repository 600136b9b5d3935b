"""The customer questions (tests/data/customer_questions) are what the issue asks for: enough of
each kind per language, labelled with entries that exist, tuning and test parts apart, and
never copied into the knowledge base."""

from __future__ import annotations

import pytest

from bot.config import ROOT, load_settings
from faq_index.customers import load_questions
from faq_index.kb import load_kb

LANGUAGES = ("en", "zh")


@pytest.fixture(scope="module")
def parts() -> dict[str, list]:
    directory = load_settings().calibration_dir
    return {part: load_questions(directory, part) for part in ("tune", "test")}


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_language_has_enough_answerable_and_out_of_scope_questions(parts: dict, language: str) -> None:
    both = [q for part in parts.values() for q in part if q.language == language]
    assert sum(q.answerable for q in both) >= 150
    assert sum(not q.answerable for q in both) >= 80
    for part in parts.values():  # each part has both kinds, so tuning and measuring see the same mix
        assert sum(q.answerable for q in part if q.language == language) >= 60
        assert sum(not q.answerable for q in part if q.language == language) >= 30


def test_labels_name_entries_of_the_knowledge_base(parts: dict) -> None:
    ids = {entry.id for entry in load_kb(ROOT / "data" / "faq")}
    unknown = {i for part in parts.values() for q in part for i in q.faq_ids} - ids
    assert not unknown


def test_tuning_and_test_parts_share_no_question(parts: dict) -> None:
    assert not {q.text for q in parts["tune"]} & {q.text for q in parts["test"]}


def test_no_question_was_copied_into_the_knowledge_base(parts: dict) -> None:
    wordings = {text.strip().lower() for entry in load_kb(ROOT / "data" / "faq") for text in entry.texts}
    assert not {q.text.strip().lower() for part in parts.values() for q in part} & wordings
