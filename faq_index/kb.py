"""Load and validate the FAQ knowledge base (`data/faq/*.yml`).

The schema is documented in `docs/knowledge-base.md`. Validation collects every problem
before failing, and each message names the file, the entry and the problem, so an editor
can fix a whole file in one pass.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

CATEGORIES = ("ordering", "product", "cart", "payment", "delivery", "returns", "account")
MIN_PARAPHRASES = 4
_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_FIELDS = {"id", "category", "question", "answer", "paraphrases"}


@dataclass(frozen=True)
class Entry:
    """One FAQ entry: a canonical question, its answer and customer wordings of it."""

    id: str
    category: str
    question: str
    answer: str
    paraphrases: tuple[str, ...] = field(default_factory=tuple)
    source: str = ""

    @property
    def texts(self) -> tuple[str, ...]:
        """Every wording that should retrieve this entry: the question, then paraphrases."""
        return (self.question, *self.paraphrases)

    def public(self) -> dict[str, str]:
        """The fields a reply needs (no paraphrases, no file path)."""
        return {"id": self.id, "category": self.category, "question": self.question, "answer": self.answer}


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
    for key in ("id", "category", "question", "answer"):
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{name}: '{key}' is missing or empty")
    entry_id = raw.get("id")
    if isinstance(entry_id, str) and entry_id and not _ID_PATTERN.match(entry_id):
        problems.append(f"{name}: id must be lowercase letters, digits and '-'")
    category = raw.get("category")
    if isinstance(category, str) and category and category not in CATEGORIES:
        problems.append(f"{name}: unknown category '{category}' (expected one of {', '.join(CATEGORIES)})")
    paraphrases = _paraphrases(name, raw, problems)
    if len(problems) > before:
        return None
    return Entry(
        id=entry_id.strip(),
        category=category.strip(),
        question=raw["question"].strip(),
        answer=raw["answer"].strip(),
        paraphrases=paraphrases,
        source=str(path),
    )


def _paraphrases(name: str, raw: dict, problems: list[str]) -> tuple[str, ...]:
    values = raw.get("paraphrases")
    if not isinstance(values, list):
        problems.append(f"{name}: 'paraphrases' must be a list of at least {MIN_PARAPHRASES} strings")
        return ()
    if any(not isinstance(v, str) or not v.strip() for v in values):
        problems.append(f"{name}: every paraphrase must be a non-empty string")
        return ()
    cleaned = [v.strip() for v in values]
    distinct = list(dict.fromkeys(cleaned))
    if len(distinct) < len(cleaned):
        problems.append(f"{name}: repeated paraphrase(s)")
    question = raw.get("question")
    if isinstance(question, str) and question.strip() in distinct:
        problems.append(f"{name}: a paraphrase repeats the question")
    if len(distinct) < MIN_PARAPHRASES:
        problems.append(f"{name}: needs at least {MIN_PARAPHRASES} paraphrases, has {len(distinct)}")
    return tuple(distinct)
