"""Build the FAQ index: validate the KB, encode what changed, write a new version, swap.

Layout under the output directory:

    CURRENT                 name of the live version (replaced atomically)
    versions/<name>/        vectors.faiss, owners.npy, entries.json, manifest.json
    cache/<model>.npz       embedding of every text ever encoded, keyed by text hash

A version directory is complete before CURRENT points at it, so a reader never sees a half
written index; readers that loaded the previous version keep using it until they reload.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from faq_index.decide import Thresholds, calibrate
from faq_index.encoder import Encoder, load_encoder
from faq_index.index import EXACT_MAX_VECTORS, VectorIndex
from faq_index.kb import Entry, kb_hash, load_kb
from faq_index.paths import DEFAULT_ENCODERS_DIR
from faq_index.train import current_model, tuned_thresholds

KEEP_VERSIONS = 3


def build(
    kb_dir: str | Path,
    out_dir: str | Path,
    *,
    model: str | None = None,
    encoders_dir: str | Path | None = None,
    exact_max: int = EXACT_MAX_VECTORS,
    force: bool = False,
    progress: bool = True,
    encoder: Encoder | None = None,
) -> dict:
    """Build (or reuse) the index for `kb_dir` in `out_dir`; return the live manifest.

    The encoder is `model` if given, else the newest fine-tuned model in `encoders_dir`
    (see faq_index.train), else the frozen base model.
    """
    started = time.perf_counter()
    out = Path(out_dir)
    if model is None:
        model = current_model(encoders_dir or DEFAULT_ENCODERS_DIR)[0]
    entries = load_kb(kb_dir)
    content_hash = kb_hash(entries)
    current = read_manifest(out)
    if not force and current and _same_inputs(current, content_hash, model, exact_max):
        return current | {"up_to_date": True}

    texts, owners = _flatten(entries)
    answer_texts = [e.answer for e in entries]
    encoder = encoder or load_encoder(model)
    all_vectors, encoded = _encode_with_cache(out / "cache", encoder, texts + answer_texts, progress)
    vectors, answers = all_vectors[: len(texts)], all_vectors[len(texts):]
    index = VectorIndex.build(vectors, owners, answers, exact_max=exact_max)
    thresholds, calibration = _thresholds(model, vectors, owners, answers)
    manifest = {
        "model": model,
        "kb_hash": content_hash,
        "entries": len(entries),
        "vectors": len(texts),
        "dim": int(vectors.shape[1]),
        "index_kind": index.kind,
        "exact_max": exact_max,
        "encoded_texts": encoded,
        "reused_texts": len(texts) + len(answer_texts) - encoded,
        "thresholds": thresholds.to_dict(),
        "calibration": calibration,
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    name = f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S%f}-{content_hash[:8]}"
    manifest["version"] = name
    manifest["build_seconds"] = round(time.perf_counter() - started, 3)
    _write_version(out, name, index, entries, manifest)
    _point_current_at(out, name)
    _prune(out, keep=name)
    return manifest


def _thresholds(model: str, vectors: np.ndarray, owners: np.ndarray, answers: np.ndarray) -> tuple[Thresholds, dict]:
    """A tuned model brings thresholds calibrated on wordings it never saw; else calibrate here."""
    stored = tuned_thresholds(model)
    if stored is not None:
        return Thresholds(**stored[0]), stored[1]
    return calibrate(vectors, owners, answers, method="leave-one-out, frozen encoder")


def read_manifest(out_dir: str | Path) -> dict | None:
    """The live version's manifest, or None when nothing has been built."""
    directory = current_version_dir(out_dir)
    if directory is None:
        return None
    return json.loads((directory / "manifest.json").read_text(encoding="utf-8"))


def current_version_dir(out_dir: str | Path) -> Path | None:
    pointer = Path(out_dir) / "CURRENT"
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    directory = Path(out_dir) / "versions" / name
    return directory if (directory / "manifest.json").exists() else None


def _same_inputs(manifest: dict, content_hash: str, model: str, exact_max: int) -> bool:
    return (manifest.get("kb_hash"), manifest.get("model"), manifest.get("exact_max")) == (
        content_hash,
        model,
        exact_max,
    )


def _flatten(entries: list[Entry]) -> tuple[list[str], np.ndarray]:
    texts: list[str] = []
    owners: list[int] = []
    for position, entry in enumerate(entries):
        texts.extend(entry.texts)
        owners.extend([position] * len(entry.texts))
    return texts, np.asarray(owners, dtype=np.int32)


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


def _write_version(out: Path, name: str, index: VectorIndex, entries: list[Entry], manifest: dict) -> None:
    versions = out / "versions"
    staging = versions / f".{name}.tmp"
    staging.mkdir(parents=True)
    index.save(staging)
    (staging / "entries.json").write_text(
        json.dumps([e.public() for e in entries], ensure_ascii=False, indent=1), encoding="utf-8"
    )
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    staging.rename(versions / name)


def _point_current_at(out: Path, name: str) -> None:
    tmp = out / "CURRENT.tmp"
    tmp.write_text(name + "\n", encoding="utf-8")
    os.replace(tmp, out / "CURRENT")


def _prune(out: Path, keep: str) -> None:
    """Delete all but the newest versions; loaded readers hold their index in memory."""
    versions = sorted(p for p in (out / "versions").iterdir() if p.is_dir() and not p.name.startswith("."))
    for old in versions[:-KEEP_VERSIONS]:
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)
