"""Load and validate the FAQ knowledge base (`data/faq/*.yml`).

The schema is documented in `docs/knowledge-base.md`. Validation collects every problem
before failing, and each message names the file, the entry and the problem, so an editor
can fix a whole file in one pass.

An entry covers one or more languages: `question`, `answer` and `paraphrases` are either
plain (English) or keyed by language (`en:`, `zh:`). The languages with an answer are the
languages the entry covers; the bot answers a customer in theirs when the entry has it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from faq_index.language import ENGLISH, LANGUAGES

CATEGORIES = ("ordering", "product", "cart", "payment", "delivery", "returns", "account")
MIN_PARAPHRASES = 4  # in the entry's first language
MIN_TRANSLATED_PARAPHRASES = 2  # in each further language
_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_FIELDS = {"id", "category", "question", "answer", "paraphrases"}


@dataclass(frozen=True)
class Entry:
    """One FAQ entry: per language, a canonical question, its answer and customer wordings."""

    id: str
    category: str
    questions: dict[str, str]
    answers: dict[str, str]
    paraphrases_by_language: dict[str, tuple[str, ...]] = field(default_factory=dict)
    source: str = ""

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages this entry answers in, its first (main) language first."""
        return tuple(self.answers)

    @property
    def question(self) -> str:
        return self.questions[self.languages[0]]

    @property
    def answer(self) -> str:
        return self.answers[self.languages[0]]

    @property
    def paraphrases(self) -> tuple[str, ...]:
        """The paraphrases in the entry's main language."""
        return self.paraphrases_by_language.get(self.languages[0], ())

    @property
    def texts(self) -> tuple[str, ...]:
        """Every wording that should retrieve this entry, in every language."""
        return tuple(text for language in self.languages for text in self.texts_in(language))

    def texts_in(self, language: str) -> tuple[str, ...]:
        """The question and paraphrases in one language (none if the entry lacks it)."""
        if language not in self.questions:
            return ()
        return (self.questions[language], *self.paraphrases_by_language.get(language, ()))

    def public(self) -> dict:
        """The fields a reply needs (no paraphrases, no file path)."""
        return {"id": self.id, "category": self.category, "question": self.question, "answer": self.answer,
                "questions": dict(self.questions), "answers": dict(self.answers)}


class KnowledgeBaseError(ValueError):
    """The knowledge base has problems; `problems` lists each one."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid knowledge base:\n  " + "\n  ".join(problems))
        self.problems = problems


def load_kb(kb_dir: str | Path) -> list[Entry]:
    """Read every `*.yml` file under `kb_dir`, validate, and return the entries in file order."""
    kb_path = Path(kb_dir)
    files = sorted(kb_path.glob("*.yml")) + sorted(kb_path.glob("*.yaml"))
    if not files:
        raise KnowledgeBaseError([f"{kb_path}: no .yml files found"])
    problems: list[str] = []
    entries: list[Entry] = []
    first_seen: dict[str, str] = {}
    for path in files:
        for entry in _load_file(path, problems):
            if entry.id in first_seen:
                problems.append(
                    f"{path}: entry {entry.id}: duplicate id, first defined in {first_seen[entry.id]}"
                )
                continue
            first_seen[entry.id] = str(path)
            entries.append(entry)
    if problems:
        raise KnowledgeBaseError(problems)
    return entries


def kb_hash(entries: list[Entry]) -> str:
    """A content hash of the KB: changes whenever any entry's content changes."""
    payload = json.dumps([asdict(e) | {"source": ""} for e in entries], sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _load_file(path: Path, problems: list[str]) -> list[Entry]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        problems.append(f"{path}: not valid YAML: {error}")
        return []
    if not isinstance(document, dict) or not isinstance(document.get("entries"), list):
        problems.append(f"{path}: expected a mapping with an 'entries' list at the top level")
        return []
    entries = []
    for position, raw in enumerate(document["entries"], start=1):
        entry = _parse_entry(path, position, raw, problems)
        if entry is not None:
            entries.append(entry)
    return entries


def _parse_entry(path: Path, position: int, raw: object, problems: list[str]) -> Entry | None:
    if not isinstance(raw, dict):
        problems.append(f"{path}: entry {position}: expected a mapping, got {type(raw).__name__}")
        return None
    name = f"{path}: entry {position} ({raw.get('id', 'no id')})"
    before = len(problems)
    unknown = sorted(set(map(str, raw)) - _FIELDS)
    if unknown:
        problems.append(f"{name}: unknown field(s) {', '.join(unknown)}")
    for key in ("id", "category"):
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{name}: '{key}' is missing or empty")
    entry_id = raw.get("id")
    if isinstance(entry_id, str) and entry_id and not _ID_PATTERN.match(entry_id):
        problems.append(f"{name}: id must be lowercase letters, digits and '-'")
    category = raw.get("category")
    if isinstance(category, str) and category and category not in CATEGORIES:
        problems.append(f"{name}: unknown category '{category}' (expected one of {', '.join(CATEGORIES)})")
    answers = _per_language_text(name, "answer", raw.get("answer"), problems)
    questions = _per_language_text(name, "question", raw.get("question"), problems)
    if answers and questions:  # (a missing one is reported once above, not per language)
        for language in questions.keys() - answers.keys():
            problems.append(f"{name}: a '{language}' question but no '{language}' answer")
        for language in answers.keys() - questions.keys():
            problems.append(f"{name}: a '{language}' answer but no '{language}' question")
    paraphrases = _paraphrases(name, raw, list(answers or questions or {ENGLISH: ""}), questions, problems)
    if len(problems) > before:
        return None
    return Entry(
        id=entry_id.strip(),
        category=category.strip(),
        questions={language: questions[language] for language in answers},
        answers=answers,
        paraphrases_by_language=paraphrases,
        source=str(path),
    )


def _per_language_text(name: str, key: str, value: object, problems: list[str]) -> dict[str, str]:
    """`key: text` (English) or `key: {en: text, zh: text}`, as {language: text}."""
    if isinstance(value, str) and value.strip():
        return {ENGLISH: value.strip()}
    if isinstance(value, dict) and value:
        texts = {}
        for language, text in value.items():
            if language not in LANGUAGES:
                problems.append(f"{name}: '{key}' has unknown language '{language}' "
                                f"(expected one of {', '.join(LANGUAGES)})")
            elif not isinstance(text, str) or not text.strip():
                problems.append(f"{name}: '{key}' in '{language}' is missing or empty")
            else:
                texts[language] = text.strip()
        return texts
    problems.append(f"{name}: '{key}' is missing or empty")
    return {}


def _paraphrases(name: str, raw: dict, languages: list[str], questions: dict[str, str],
                 problems: list[str]) -> dict[str, tuple[str, ...]]:
    """`paraphrases: [...]` (English) or `paraphrases: {en: [...], zh: [...]}`, checked per language."""
    values = raw.get("paraphrases")
    if isinstance(values, list):
        values = {ENGLISH: values}
    if not isinstance(values, dict):
        problems.append(f"{name}: 'paraphrases' must be a list of at least {MIN_PARAPHRASES} strings, "
                        "or such lists keyed by language")
        return {}
    found: dict[str, tuple[str, ...]] = {}
    for language, texts in values.items():
        if language not in languages:
            problems.append(f"{name}: paraphrases in '{language}' but no '{language}' answer")
            continue
        minimum = MIN_PARAPHRASES if languages and language == languages[0] else MIN_TRANSLATED_PARAPHRASES
        found[language] = _paraphrase_list(f"{name} [{language}]", texts, questions.get(language), minimum,
                                           problems)
    if languages and languages[0] not in found:
        problems.append(f"{name}: needs at least {MIN_PARAPHRASES} paraphrases in '{languages[0]}'")
    return found


def _paraphrase_list(name: str, values: object, question: str | None, minimum: int,
                     problems: list[str]) -> tuple[str, ...]:
    if not isinstance(values, list):
        problems.append(f"{name}: paraphrases must be a list of at least {minimum} strings")
        return ()
    if any(not isinstance(v, str) or not v.strip() for v in values):
        problems.append(f"{name}: every paraphrase must be a non-empty string")
        return ()
    cleaned = [v.strip() for v in values]
    distinct = list(dict.fromkeys(cleaned))
    if len(distinct) < len(cleaned):
        problems.append(f"{name}: repeated paraphrase(s)")
    if question in distinct:
        problems.append(f"{name}: a paraphrase repeats the question")
    if len(distinct) < minimum:
        problems.append(f"{name}: needs at least {minimum} paraphrases, has {len(distinct)}")
    return tuple(distinct)
