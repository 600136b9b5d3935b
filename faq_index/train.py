"""Fine-tune the encoder on the knowledge base's own wordings (contrastive learning).

Each paraphrase is pulled towards its entry's canonical question and pushed away from the
other questions in the batch (multiple-negatives ranking loss, the standard loss for
retrieval). A batch never holds two pairs of the same entry, so no true match is treated
as a negative. Customers' wording differs from the FAQ's; this teaches the encoder the
shop's vocabulary (parcel = delivery, money back = refund) in well under a minute on a CPU.

The result is a normal sentence-transformers directory; `build --model DIR` encodes with it.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import time
from pathlib import Path

from tqdm import tqdm

from faq_index.encoder import DEFAULT_MODEL, INT8_DIR, SentenceTransformerEncoder, load_encoder, local_encoder

EPOCHS = 4
BATCH_SIZE = 32
LEARNING_RATE = 3e-5
SCALE = 20.0  # cosine similarities are multiplied by this before the softmax
HELD_OUT_PER_ENTRY = 2
RECIPE = 5  # bump when the training procedure changes, so models trained the old way are redone
# (5: the tuned model is exported to int8 ONNX and its thresholds calibrated on that export)


def fine_tune(
    groups: list[list[str]],
    out_dir: str | Path,
    *,
    base_model: str = DEFAULT_MODEL,
    epochs: int = EPOCHS,
    batch_size: int = BATCH_SIZE,
    seed: int = 0,
    progress: bool = True,
    extra: dict | None = None,
) -> Path:
    """Train on `groups` (each: the wordings of one entry, canonical first); save to `out_dir`."""
    import torch

    random.seed(seed)
    torch.manual_seed(seed)
    encoder = load_encoder(base_model)
    if not isinstance(encoder, SentenceTransformerEncoder):
        raise ValueError(f"cannot fine-tune encoder {base_model!r}")
    # A private copy: the shared, frozen encoder of this process must not change.
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(encoder.model_path, device="cpu")
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE)
    pairs = [(text, group_id) for group_id, group in enumerate(groups) for text in group]
    steps = epochs * ((len(pairs) + batch_size - 1) // batch_size)
    bar = tqdm(total=steps, desc="fine-tuning encoder", unit="batch", disable=not progress)
    for _ in range(epochs):
        for batch in _batches(pairs, batch_size):
            anchors = [text for text, _ in batch]
            positives = [_positive(groups[g], text) for text, g in batch]
            loss = _ranking_loss(model, anchors, positives)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}")
    bar.close()
    model.eval()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save(str(out))
    info = {"base_model": base_model, "epochs": epochs, "pairs": len(pairs), "seed": seed} | (extra or {})
    (out / "faq_index_training.json").write_text(json.dumps(info), encoding="utf-8")
    return out


def current_model(encoders_dir: str | Path) -> tuple[str, str | None]:
    """(model to encode with, KB hash it was tuned on): the newest fine-tuned model, else the base."""
    pointer = Path(encoders_dir) / "CURRENT"
    try:
        directory = Path(encoders_dir) / pointer.read_text(encoding="utf-8").strip()
        info = json.loads((directory / "faq_index_training.json").read_text(encoding="utf-8"))
        return str(directory), info.get("kb_hash") if info.get("recipe") == RECIPE else None
    except (FileNotFoundError, json.JSONDecodeError):
        return DEFAULT_MODEL, None


def ensure_tuned(kb_dir: str | Path, encoders_dir: str | Path, progress: bool = True) -> str:
    """Fine-tune on the KB unless the current tuned model was trained on this exact KB.

    `HELD_OUT_PER_ENTRY` paraphrases of each entry are kept out of training; they calibrate
    the answer/suggest thresholds honestly (as unseen customer wordings) and are still
    indexed, so retrieval uses every wording.
    """
    from faq_index.kb import kb_hash, load_kb

    entries = load_kb(kb_dir)
    content_hash = kb_hash(entries)
    model, tuned_on = current_model(encoders_dir)
    if tuned_on == content_hash:
        return model
    # A new name per training run: index caches and manifests key on the model's path.
    name = f"tuned-{content_hash[:12]}-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}"
    groups, held_out = _split(entries)
    out = fine_tune(groups, Path(encoders_dir) / name, progress=progress,
                    extra={"kb_hash": content_hash, "recipe": RECIPE})
    # Every process that searches runs the int8 export (faq_index.encoder.local_encoder): torch
    # is needed only here, where the encoder is tuned.
    from faq_index.int8 import export_int8

    export_int8(out, out / INT8_DIR)
    _calibrate_on_held_out(out, entries, held_out)
    tmp = Path(encoders_dir) / "CURRENT.tmp"
    tmp.write_text(name + "\n", encoding="utf-8")
    os.replace(tmp, Path(encoders_dir) / "CURRENT")
    _prune(Path(encoders_dir), keep=name)
    return str(out)


def _prune(encoders_dir: Path, keep: str, versions: int = 2) -> None:
    """Keep the newest tuned models (a running action server may still use the previous one)."""
    tuned = sorted(p for p in encoders_dir.glob("tuned-*") if p.is_dir())
    for old in tuned[:-versions]:
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)


def _split(entries: list) -> tuple[list[list[str]], set[str]]:
    """Training groups (question first, answer last) and the held-out wordings, chosen
    reproducibly. Answers train too: customers often describe what the answer talks about
    (held-out top-1 0.761 without, 0.773 with)."""
    rng = random.Random(0)
    groups, held_out = [], set()
    for entry in entries:
        paraphrases = list(entry.paraphrases)
        rng.shuffle(paraphrases)
        keep = max(2, len(paraphrases) - HELD_OUT_PER_ENTRY)
        groups.append([entry.question, *paraphrases[:keep], entry.answer])
        held_out.update(paraphrases[keep:])
    return groups, held_out


def _calibrate_on_held_out(model_dir: Path, entries: list, held_out: set[str]) -> None:
    """Thresholds for the tuned model, as it runs (its int8 export), from wordings it never saw;
    stored beside the model."""
    import numpy as np

    from faq_index.decide import calibrate

    # The tuned model serves the main language's wordings (see faq_index.build), so its
    # thresholds come from those alone.
    wordings = [e.texts_in(e.languages[0]) for e in entries]
    texts = [t for w in wordings for t in w]
    owners = np.asarray([i for i, w in enumerate(wordings) for _ in w], dtype=np.int32)
    encoder = local_encoder(str(model_dir))
    vectors, answers = encoder.encode(texts), encoder.encode([e.answer for e in entries])
    mask = np.asarray([t in held_out for t in texts])
    thresholds, stats = calibrate(vectors, owners, answers, mask, method="held-out wordings, tuned encoder")
    info_path = model_dir / "faq_index_training.json"
    info = json.loads(info_path.read_text(encoding="utf-8"))
    info |= {"thresholds": thresholds.to_dict(), "calibration": stats, "held_out": int(mask.sum())}
    info_path.write_text(json.dumps(info, indent=2), encoding="utf-8")


def tuned_thresholds(model: str) -> tuple[dict, dict] | None:
    """(thresholds, stats) stored with a fine-tuned model, or None for other models."""
    try:
        info = json.loads((Path(model) / "faq_index_training.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError):
        return None
    return (info["thresholds"], info.get("calibration", {})) if "thresholds" in info else None


def _positive(group: list[str], anchor: str) -> str:
    """Another wording of the same entry: usually the canonical question, sometimes a paraphrase."""
    others = [t for t in group if t != anchor]
    if not others:
        return anchor
    return others[0] if random.random() < 0.5 else random.choice(others)


def _batches(pairs: list[tuple[str, int]], size: int) -> list[list[tuple[str, int]]]:
    """Shuffled batches with at most one pair per entry (so in-batch negatives are true negatives)."""
    pending = pairs[:]
    random.shuffle(pending)
    batches = []
    while pending:
        batch, seen, rest = [], set(), []
        for pair in pending:
            if len(batch) < size and pair[1] not in seen:
                batch.append(pair)
                seen.add(pair[1])
            else:
                rest.append(pair)
        batches.append(batch)
        pending = rest
    return batches


def _ranking_loss(model, anchors: list[str], positives: list[str]):  # type: ignore[no-untyped-def]
    import torch
    import torch.nn.functional as F

    def embed(texts: list[str]) -> torch.Tensor:
        features = model.preprocess(texts)
        return F.normalize(model(features)["sentence_embedding"], dim=-1)

    a, p = embed(anchors), embed(positives)
    scores = a @ p.T * SCALE
    labels = torch.arange(len(anchors))
    return (F.cross_entropy(scores, labels) + F.cross_entropy(scores.T, labels)) / 2
