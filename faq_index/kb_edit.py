"""Add to the knowledge base files without rewriting them (comments and layout stay): a new
entry appended to `<category>.yml`, or paraphrases appended to an existing entry. Every edit
is validated with the same loader the build uses; an edit that would not load is undone.
With `preview=True` nothing is written: the edit comes back as a unified diff of the file,
exactly what confirming it would write (the dashboard shows it before a supervisor confirms)."""

from __future__ import annotations

import difflib
import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from faq_index.kb import KnowledgeBaseError, load_kb
from faq_index.language import ENGLISH, detect_language

_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")


@dataclass(frozen=True)
class Edit:
    path: Path
    diff: str  # unified diff of the file, from before the edit to after it
    written: bool


def add_entry(kb_dir: Path, entry_id: str, category: str, question: str, answer: str,
              paraphrases: list[str], preview: bool = False) -> Edit:
    """Append a new entry; KnowledgeBaseError if the id is taken or the entry is invalid."""
    if not _ID.match(entry_id):
        raise KnowledgeBaseError("the id must be lower-case letters, digits and '-', e.g. delivery-ireland")
    if any(e.id == entry_id for e in load_kb(kb_dir)):
        raise KnowledgeBaseError(f"an entry {entry_id!r} already exists")
    if not re.match(r"^[a-z0-9-]+$", category):
        raise KnowledgeBaseError("the category must be a word like delivery or payment")
    path = kb_dir / f"{category}.yml"
    block = (f"\n  - id: {entry_id}\n    category: {category}\n    question: {_quote(question)}\n"
             f"    answer: {_quote(answer)}\n    paraphrases:\n"
             + "".join(f"      - {_quote(p)}\n" for p in paraphrases))
    original = path.read_text(encoding="utf-8") if path.exists() else "entries:\n"
    return _apply(kb_dir, path, original, original.rstrip("\n") + "\n" + block, preview)


def add_paraphrases(kb_dir: Path, entry_id: str, paraphrases: list[str], preview: bool = False) -> Edit:
    """Append paraphrases to an existing entry's list; with lists per language, each to the
    list of its own language (Chinese or English, told by script)."""
    for path in sorted(kb_dir.glob("*.yml")):
        original = path.read_text(encoding="utf-8")
        lines = original.splitlines(keepends=True)
        start = next((i for i, line in enumerate(lines) if re.match(rf"^\s*- id:\s*{re.escape(entry_id)}\s*$", line)),
                     None)
        if start is None:
            continue
        end = next((i for i in range(start + 1, len(lines)) if re.match(r"^\s*- id:", lines[i])), len(lines))
        heading = next((i for i in range(start, end) if re.match(r"^\s*paraphrases:\s*$", lines[i])), None)
        if heading is None:
            raise KnowledgeBaseError(f"entry {entry_id!r} has no paraphrases list to add to")
        per_language = heading + 1 < end and re.match(r"^\s*[a-z]{2}:\s*$", lines[heading + 1])
        for paraphrase in paraphrases:
            if per_language:
                language = detect_language(paraphrase) or ENGLISH
                list_heading = next((i for i in range(heading + 1, end)
                                     if re.match(rf"^\s*{language}:\s*$", lines[i])), None)
                if list_heading is None:
                    raise KnowledgeBaseError(f"entry {entry_id!r} has no '{language}' paraphrases to add to")
            else:
                list_heading = heading
            _append_item(lines, list_heading, paraphrase)
            end += 1
        return _apply(kb_dir, path, original, "".join(lines), preview)
    raise KnowledgeBaseError(f"no entry {entry_id!r} in {kb_dir}")


def _append_item(lines: list[str], heading: int, text: str) -> None:
    """Insert `- text` after the last item of the list under `lines[heading]`."""
    last = heading
    while last + 1 < len(lines) and re.match(r"^\s*- ", lines[last + 1]) and \
            _indent(lines[last + 1]) > _indent(lines[heading]):
        last += 1
    indent = _indent(lines[last]) if last != heading else _indent(lines[heading]) + "  "
    if not lines[last].endswith("\n"):
        lines[last] += "\n"
    lines.insert(last + 1, f"{indent}- {_quote(text)}\n")


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _quote(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML), on one line."""
    return json.dumps(" ".join(text.split()), ensure_ascii=False)


def _apply(kb_dir: Path, path: Path, original: str, edited: str, preview: bool) -> Edit:
    diff = "".join(difflib.unified_diff(original.splitlines(keepends=True), edited.splitlines(keepends=True),
                                        f"data/faq/{path.name}", f"data/faq/{path.name}"))
    if preview:
        _check_in_copy(kb_dir, path, edited)  # a preview says now what confirming would refuse
    else:
        _write_checked(kb_dir, path, original, edited)
    return Edit(path, diff, not preview)


def _check_in_copy(kb_dir: Path, path: Path, edited: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "kb"
        shutil.copytree(kb_dir, copy)
        (copy / path.name).write_text(edited, encoding="utf-8")
        load_kb(copy)


def _write_checked(kb_dir: Path, path: Path, original: str, edited: str) -> None:
    existed = path.exists()
    path.write_text(edited, encoding="utf-8")
    try:
        load_kb(kb_dir)
    except KnowledgeBaseError:
        if existed:
            path.write_text(original, encoding="utf-8")
        else:
            path.unlink()
        raise
