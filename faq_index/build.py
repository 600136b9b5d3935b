"""Build the FAQ index: validate the KB, encode what changed, write a new version, swap.

Layout under the output directory (faq_index/versions.py reads and switches versions):

    CURRENT                 name of the live version (replaced atomically)
    versions/<name>/        vectors.faiss, owners.npy, entries.json, manifest.json
    cache/<model>.npz       embedding of every text ever encoded, keyed by text hash

A version directory is complete before CURRENT points at it, so a reader never sees a half
written index; readers that loaded the previous version keep using it until they reload.

A version holds one vector space per encoder (`spaces/<name>/`). An English-only KB has one,
encoded with the fine-tuned English model. A KB with more languages gets two: `en`, the same
fine-tuned model over the English wordings (English questions are answered exactly as well as
in an English-only KB), and `multilingual`, a multilingual encoder over every wording in every
language, which answers the other languages and finds entries across languages.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from faq_index.customers import Question, calibrate_on_customers, load_questions
from faq_index.decide import Thresholds, calibrate
from faq_index.encoder import DEFAULT_MULTILINGUAL_MODEL, Encoder, load_encoder
from faq_index.head import EntryHead
from faq_index.index import EXACT_MAX_VECTORS, VectorIndex
from faq_index.kb import Entry, kb_hash, load_kb
from faq_index.language import ENGLISH
from faq_index.paths import DEFAULT_ENCODERS_DIR
from faq_index.scoring import HEAD_WEIGHTS
from faq_index.train import current_model, tuned_thresholds
from faq_index.versions import current_version_dir, point_current_at, prune, read_manifest

KEEP_VERSIONS = 3
# Bumped when the way decisions are made from customer questions changes: a rebuild is due.
DECISIONS_SCHEME = "fused spaces + entry heads (weight per language) + offer, v3"


@dataclass(frozen=True)
class SpacePlan:
    """One vector space of an index: which model encodes which languages' wordings."""

    name: str
    model: str
    languages: tuple[str, ...] | None  # None: every language

    def to_dict(self) -> dict:
        return {"name": self.name, "model": self.model, "languages": self.languages}


def build(
    kb_dir: str | Path,
    out_dir: str | Path,
    *,
    model: str | None = None,
    english_model: str | None = None,
    multilingual_model: str = DEFAULT_MULTILINGUAL_MODEL,
    encoders_dir: str | Path | None = None,
    exact_max: int = EXACT_MAX_VECTORS,
    force: bool = False,
    progress: bool = True,
    encoder: Encoder | None = None,
    calibration_dir: str | Path | None = None,
) -> dict:
    """Build (or reuse) the index for `kb_dir` in `out_dir`; return the live manifest.

    The English encoder is `english_model` if given, else the newest fine-tuned model in
    `encoders_dir` (see faq_index.train), else the frozen base model; other languages get
    `multilingual_model`. Given `model`, the index has that one space whatever the languages.
    Given `calibration_dir` (customer-style questions, see faq_index.customers), each space's
    thresholds are chosen per language on its tuning part.
    """
    started = time.perf_counter()
    out = Path(out_dir)
    entries = load_kb(kb_dir)
    if model is not None:
        plans = [SpacePlan("main", model, None)]
    else:
        english_model = english_model or current_model(encoders_dir or DEFAULT_ENCODERS_DIR)[0]
        plans = plan_spaces(_languages(entries), english_model, multilingual_model)
    questions = load_questions(calibration_dir, entry_ids={e.id for e in entries}) if calibration_dir else []
    content_hash = kb_hash(entries)
    if questions:  # other questions choose other thresholds: a new version
        content_hash = hashlib.sha1((content_hash + repr(questions) + DECISIONS_SCHEME).encode("utf-8")).hexdigest()
    current = read_manifest(out)
    if not force and current and _same_inputs(current, content_hash, plans, exact_max):
        return current | {"up_to_date": True}

    spaces, encoded, reused = [], 0, 0
    for plan in plans:
        space_encoder = encoder if encoder is not None and encoder.name == plan.model else load_encoder(plan.model)
        index, info, fresh, total = _build_space(out, plan, space_encoder, entries, exact_max, progress)
        head = EntryHead.train(index.vectors, index.owners, index.answers) if questions and len(entries) > 1 else None
        spaces.append((plan, index, info, head, space_encoder))
        encoded, reused = encoded + fresh, reused + total - fresh
    first = spaces[0][2]
    manifest: dict = {
        "model": plans[0].model,
        "kb_hash": content_hash,
        "entries": len(entries),
        "languages": sorted(_languages(entries)),
        "vectors": sum(info["vectors"] for _, _, info, _, _ in spaces),
        "dim": first["dim"],
        "index_kind": first["index_kind"],
        "exact_max": exact_max,
        "encoded_texts": encoded,
        "reused_texts": reused,
        "thresholds": first["thresholds"],
        "calibration": first["calibration"],
        "spaces": [info | {"head": head is not None} for _, _, info, head, _ in spaces],
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    name = f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S%f}-{content_hash[:8]}"
    manifest["version"] = name
    manifest["build_seconds"] = round(time.perf_counter() - started, 3)
    staging = _stage_version(out, name, [(plan.name, index, head) for plan, index, _, head, _ in spaces], entries,
                             manifest)
    if questions:
        manifest["decisions"] = _customer_decisions(out, staging, [e for *_, e in spaces], questions)
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    staging.rename(out / "versions" / name)
    point_current_at(out, name)
    prune(out, keep=name, versions=KEEP_VERSIONS)
    return manifest


def plan_spaces(languages: set[str], english_model: str, multilingual_model: str) -> list[SpacePlan]:
    """One English space for an English-only KB; an English and a multilingual one otherwise."""
    if languages <= {ENGLISH}:
        return [SpacePlan("main", english_model, None)]
    return [SpacePlan(ENGLISH, english_model, (ENGLISH,)), SpacePlan("multilingual", multilingual_model, None)]


def _languages(entries: list[Entry]) -> set[str]:
    """Every language some entry of the KB answers in."""
    return {language for entry in entries for language in entry.languages}


def _build_space(out: Path, plan: SpacePlan, encoder: Encoder, entries: list[Entry], exact_max: int,
                 progress: bool) -> tuple[VectorIndex, dict, int, int]:
    """Encode one space's wordings and answers; return its index, manifest part and text counts."""
    texts, owners = _flatten(entries, plan.languages)
    answer_texts, answer_owners = _answers(entries, plan.languages)
    all_vectors, encoded = _encode_with_cache(out / "cache", encoder, texts + answer_texts, progress)
    vectors = all_vectors[: len(texts)]
    answers = _mean_per_entry(all_vectors[len(texts):], answer_owners, len(entries))
    index = VectorIndex.build(vectors, owners, answers, exact_max=exact_max)
    thresholds, calibration = _thresholds(plan.model, vectors, owners, answers)
    info = plan.to_dict() | {
        "vectors": len(texts),
        "dim": int(vectors.shape[1]),
        "index_kind": index.kind,
        "thresholds": thresholds.to_dict(),
        "calibration": calibration,
    }
    return index, info, encoded, len(texts) + len(answer_texts)


def _thresholds(model: str, vectors: np.ndarray, owners: np.ndarray, answers: np.ndarray) -> tuple[Thresholds, dict]:
    """A tuned model brings thresholds calibrated on wordings it never saw; else calibrate here."""
    stored = tuned_thresholds(model)
    if stored is not None:
        return Thresholds(**stored[0]), stored[1]
    return calibrate(vectors, owners, answers, method="leave-one-out, frozen encoder")


def _customer_decisions(out: Path, staging: Path, encoders: list[Encoder], questions: list[Question]) -> dict:
    """Per language: thresholds chosen on the customer questions, searched exactly as the
    running bot will search them (the staged version, every space that reads the language)."""
    from faq_index.search import Snapshot

    snapshot = Snapshot(staging, encoders=tuple(_CachedEncoder(out / "cache", e) for e in encoders))
    decisions = {}
    for language in sorted({q.language for q in questions}):
        asked = [q for q in questions if q.language == language]
        tried = []
        for weight in HEAD_WEIGHTS if any(s.head for s in snapshot.spaces) else (0.0,):
            # Searched as calibrated (every space at once), deciding nothing yet.
            snapshot.decisions[language] = Thresholds(answer=float("inf"), suggest=float("inf"), head_weight=weight)
            results = snapshot.search_many([q.text for q in asked], k=3)
            ranked = [[(c.id, c.score) for c in r.candidates] for r in results]
            chosen = calibrate_on_customers(asked, ranked, method=f"customer questions ({language})")
            if chosen is not None:
                tried.append((chosen[1]["answered_right"], -abs(weight - 0.5), replace(chosen[0], head_weight=weight),
                              chosen[1]))
        if tried:  # the weight answering most questions right within the limits; ties to the middle
            _, _, thresholds, stats = max(tried, key=lambda t: (t[0], t[1]))
            decisions[language] = {"thresholds": thresholds.to_dict(), "calibration": stats}
    return decisions


class _CachedEncoder:
    """An encoder that remembers every text it encoded in the build's cache (the tuning
    questions are the same from one build to the next)."""

    def __init__(self, cache_dir: Path, encoder: Encoder) -> None:
        self.cache_dir, self.encoder, self.name, self.dim = cache_dir, encoder, encoder.name, encoder.dim

    def encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        return _encode_with_cache(self.cache_dir, self.encoder, texts, progress)[0]


def _same_inputs(manifest: dict, content_hash: str, plans: list[SpacePlan], exact_max: int) -> bool:
    built = [(s["name"], _model_identity(s["model"])) for s in manifest.get("spaces", [])]
    return (manifest.get("kb_hash"), built, manifest.get("exact_max")) == (
        content_hash,
        [(p.name, _model_identity(p.model)) for p in plans],
        exact_max,
    )


def _model_identity(model: str) -> str:
    """What a model name means: a fine-tuned model's directory, resolved (`faq_index build` names
    it relative to the project, the runner absolute: the same model, no rebuild), else the name."""
    path = Path(model)
    return str(path.resolve()) if path.is_dir() else model


def _flatten(entries: list[Entry], languages: tuple[str, ...] | None) -> tuple[list[str], np.ndarray]:
    """Every wording in `languages` (None: all) and the position of its entry."""
    texts: list[str] = []
    owners: list[int] = []
    for position, entry in enumerate(entries):
        wordings = entry.texts if languages is None else [t for lang in languages for t in entry.texts_in(lang)]
        texts.extend(wordings)
        owners.extend([position] * len(wordings))
    return texts, np.asarray(owners, dtype=np.int32)


def _answers(entries: list[Entry], languages: tuple[str, ...] | None) -> tuple[list[str], list[int]]:
    """The answers an entry's answer vector is made from: each of its languages in the space
    (a multilingual space averages them), or its main answer if it has none of them."""
    texts: list[str] = []
    owners: list[int] = []
    for position, entry in enumerate(entries):
        own = [entry.answers[lang] for lang in entry.languages if languages is None or lang in languages]
        for text in own or [entry.answer]:
            texts.append(text)
            owners.append(position)
    return texts, owners


def _mean_per_entry(vectors: np.ndarray, owners: list[int], count: int) -> np.ndarray:
    """One unit vector per entry: the normalised mean of its rows."""
    sums = np.zeros((count, vectors.shape[1]), dtype=np.float32)
    np.add.at(sums, np.asarray(owners), vectors)
    return sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)


def _text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def _encode_with_cache(cache_dir: Path, encoder: Encoder, texts: list[str], progress: bool) -> tuple[np.ndarray, int]:
    """Encode only texts not seen before with this model; return all vectors and the count encoded."""
    cache_file = cache_dir / (re.sub(r"[^A-Za-z0-9_.-]", "_", encoder.name) + ".npz")
    cache: dict[str, np.ndarray] = {}
    if cache_file.exists():
        with np.load(cache_file) as stored:
            cache = dict(zip(stored["keys"].tolist(), stored["vectors"]))
    keys = [_text_key(t) for t in texts]
    missing = list(dict.fromkeys(k for k in keys if k not in cache))
    if missing:
        by_key = dict(zip(keys, texts))
        fresh = encoder.encode([by_key[k] for k in missing], progress=progress)
        cache.update(zip(missing, fresh))
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = cache_file.with_name(cache_file.name + ".tmp.npz")
        np.savez(tmp, keys=np.array(list(cache)), vectors=np.stack(list(cache.values())))
        os.replace(tmp, cache_file)
    return np.stack([cache[k] for k in keys]).astype(np.float32), len(missing)


def _stage_version(out: Path, name: str, spaces: list[tuple[str, VectorIndex, EntryHead | None]],
                   entries: list[Entry], manifest: dict) -> Path:
    """Write the version into a hidden staging directory; the caller renames it into place."""
    versions = out / "versions"
    staging = versions / f".{name}.tmp"
    staging.mkdir(parents=True)
    for space_name, index, head in spaces:
        (staging / "spaces" / space_name).mkdir(parents=True)
        index.save(staging / "spaces" / space_name)
        if head is not None:
            head.save(staging / "spaces" / space_name)
    (staging / "entries.json").write_text(
        json.dumps([e.public() for e in entries], ensure_ascii=False, indent=1), encoding="utf-8"
    )
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return staging


def seed_cache(source_index: str | Path, target_index: str | Path) -> None:
    """Start a new index directory with another one's encodings and its live version (same
    texts, same models: the same vectors and thresholds), so a build of the same KB there is up
    to date at once and one of an edited KB encodes only what is new. Used by the tests and
    benchmarks, which serve throwaway copies of the KB."""
    source, target = Path(source_index), Path(target_index)
    if (source / "cache").is_dir() and not (target / "cache").exists():
        shutil.copytree(source / "cache", target / "cache")
    live = current_version_dir(source)
    if live is not None and current_version_dir(target) is None:
        shutil.copytree(live, target / "versions" / live.name)
        point_current_at(target, live.name)
