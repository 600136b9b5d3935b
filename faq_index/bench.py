"""Answer-quality benchmark of the FAQ retrieval engine on public intent data sets.

Each intent becomes one FAQ entry whose wordings are its training utterances, and the engine
that answers customers is measured as it runs in production: the encoder is fine-tuned on
those groups (`faq_index.train.fine_tune`, into a temporary directory), every wording is
encoded into a `VectorIndex`, entries are scored with the rule in `scoring.py`, and the top-1
entry is the predicted intent.

    python -m faq_index bench --dataset banking77 --data-dir /work/shared/benchmarks/banking77
    python -m faq_index bench --dataset clinc150 --data-dir /work/shared/benchmarks/clinc150 --compare
    python -m faq_index bench --dataset csv --train train.csv --test test.csv [--val val.csv] [--oos-label oos]
    # smoke run: --limit-intents 10 --max-train-per-intent 10 --epochs 1

Progress goes to stderr; the last line on stdout is one JSON object with the figures.

Choices worth knowing when reading the figures:

- Answer vectors. Benchmark intents have no answer text, so each entry's answer vector is the
  normalised mean of its wordings' vectors (the intent centroid).
- Out of scope (CLINC150; csv with `--oos-label`). One threshold on the top score: below it a
  query is "unknown" (`decide.decide` with answer = suggest = threshold). It is the score that
  maximises in-scope accuracy + out-of-scope recall on validation data, chosen before the test
  split is read at all (`fit_threshold` only ever sees validation scores):
  * CLINC150: `val` (in scope) + `oos_val` (out of scope), scored against the train index;
  * csv with `--val FILE`: that file's rows (rows labelled `--oos-label` are out of scope);
  * csv without `--val`: 20% of each intent's training utterances (at least one, seeded) are
    held out of fine-tuning and of the validation index; they are the in-scope queries, and
    their leave-intent-out scores (best score among the other intents, as if their intent did
    not exist) are the out-of-scope proxies, together with any training rows labelled
    `--oos-label`. As in `train.ensure_tuned`, the held-out utterances are indexed afterwards,
    so the test runs against every training utterance.
  Training rows labelled out of scope never become an entry.
- `--limit-intents N` keeps the first N intents of the training data (file order); test and
  validation queries of the other intents are dropped, out-of-scope queries kept.
  `--shots N` samples N utterances per intent (seeded); `--max-train-per-intent N` then keeps
  the first N of them.
- `query_ms_p50`: one query at a time (encode + search), on up to 200 test queries, with one
  torch thread as the action server runs it. Other load on the machine shows up in it.
- `--int8` adds the same fine-tuned model exported to int8 ONNX (`faq_index/int8.py`), scored
  the same way, under `int8` in the report: its accuracy and `query_ms_p50` next to the engine's.
- `--compare` adds baselines scored the same way (and thresholded the same way for OOS data):
  frozen all-MiniLM-L6-v2 nearest neighbour (max cosine over training utterances) and BM25
  (`rank_bm25.BM25Okapi` over lowercase word tokens; intent of the best-scoring utterance).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from faq_index import bench_scale
from faq_index.decide import Thresholds, decide
from faq_index.encoder import DEFAULT_MODEL, Encoder, SentenceTransformerEncoder, load_encoder
from faq_index.index import VectorIndex

OOS = None  # the label of an out-of-scope query
HOLD_OUT_FRACTION = 0.2
LATENCY_QUERIES = 200
CLINC_OOS_LABEL = "oos"

Example = tuple[str, str | None]  # (text, intent; None = out of scope)
Ranked = list[tuple[int, float]]  # per query: (intent position, score), best first


@dataclass
class DevData:
    """Everything a system may learn or tune on: training utterances and validation queries."""

    intents: list[str]
    groups: list[list[str]]  # groups[i] = training utterances of intents[i]
    val: list[Example] | None = None  # validation queries, or None
    train_oos: list[str] = field(default_factory=list)  # training rows labelled out of scope
    oos: bool = False  # does the data set have out-of-scope queries (is a threshold needed)?


# ---------------------------------------------------------------- data


def _read_csv(path: str | Path) -> list[tuple[str, str]]:
    """(text, label) rows of a `text,category` CSV (column names `text`/`label` also accepted)."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields = reader.fieldnames or []
        text_col = "text" if "text" in fields else fields[0]
        label_col = "category" if "category" in fields else ("label" if "label" in fields else fields[1])
        return [(row[text_col].strip(), row[label_col].strip()) for row in reader if row[text_col].strip()]


def _clinc(data_dir: str | Path, *keys: str) -> list[tuple[str, str]]:
    data = json.loads((Path(data_dir) / "data_full.json").read_text(encoding="utf-8"))
    return [(text, label) for key in keys for text, label in data[key]]


def _mark_oos(rows: list[tuple[str, str]], oos_label: str | None) -> list[Example]:
    return [(text, OOS if label == oos_label else label) for text, label in rows]


def load_dev(args: argparse.Namespace) -> DevData:
    """Training (and validation) data of the chosen data set, never its test split."""
    if args.dataset == "banking77":
        train, val, oos_label = _read_csv(Path(args.data_dir) / "train.csv"), None, None
    elif args.dataset == "clinc150":
        train, val, oos_label = _clinc(args.data_dir, "train"), _clinc(args.data_dir, "val", "oos_val"), "oos"
    else:
        train, oos_label = _read_csv(args.train), args.oos_label
        val = _read_csv(args.val) if args.val else None
    rows = _mark_oos(train, oos_label)
    by_intent: dict[str, list[str]] = {}
    for text, label in rows:
        if label is not OOS:
            by_intent.setdefault(label, []).append(text)
    intents = list(by_intent)[: args.limit_intents] if args.limit_intents else list(by_intent)
    rng = random.Random(args.seed)
    groups = []
    for intent in intents:
        texts = list(dict.fromkeys(by_intent[intent]))
        if args.shots:
            texts = rng.sample(texts, min(args.shots, len(texts)))
        if args.max_train_per_intent:
            texts = texts[: args.max_train_per_intent]
        groups.append(texts)
    val_examples = _keep_intents(_mark_oos(val, oos_label), intents) if val is not None else None
    return DevData(intents=intents, groups=groups, val=val_examples,
                   train_oos=[t for t, label in rows if label is OOS], oos=oos_label is not None)


def load_test(args: argparse.Namespace, intents: list[str]) -> list[Example]:
    """The test split, read once, after every system is fitted and every threshold chosen."""
    if args.dataset == "banking77":
        rows, oos_label = _read_csv(Path(args.data_dir) / "test.csv"), None
    elif args.dataset == "clinc150":
        rows, oos_label = _clinc(args.data_dir, "test", "oos_test"), CLINC_OOS_LABEL
    else:
        rows, oos_label = _read_csv(args.test), args.oos_label
    return _keep_intents(_mark_oos(rows, oos_label), intents)


def _keep_intents(examples: list[Example], intents: list[str]) -> list[Example]:
    known = set(intents)
    return [(t, label) for t, label in examples if label is OOS or label in known]


def hold_out(groups: list[list[str]], seed: int) -> tuple[list[list[str]], list[tuple[str, int]]]:
    """Split each intent: HOLD_OUT_FRACTION of its utterances (at least one, never all but one)
    become validation queries; the rest stay training wordings."""
    rng = random.Random(seed)
    kept, held = [], []
    for position, texts in enumerate(groups):
        shuffled = texts[:]
        rng.shuffle(shuffled)
        n = min(max(1, round(len(shuffled) * HOLD_OUT_FRACTION)), len(shuffled) - 2) if len(shuffled) > 2 else 0
        held.extend((t, position) for t in shuffled[:n])
        kept.append(shuffled[n:])
    return kept, held


# ---------------------------------------------------------------- systems


class System:
    """Ranks intents for queries; `fit` on training groups, then `rank`."""

    name = "system"

    def fit(self, groups: list[list[str]], progress: bool) -> None:
        raise NotImplementedError

    def rank(self, texts: list[str], progress: bool = False) -> list[Ranked]:
        """Per query the two best intents (enough for top-1 and for leave-intent-out)."""
        raise NotImplementedError


class Engine(System):
    """The production path: fine-tuned encoder, VectorIndex, entry scoring rule."""

    name = "engine"

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder
        self.index: VectorIndex | None = None

    def fit(self, groups: list[list[str]], progress: bool) -> None:
        texts = [t for group in groups for t in group]
        owners = np.asarray([i for i, group in enumerate(groups) for _ in group], dtype=np.int32)
        vectors = self.encoder.encode(texts, progress=progress)
        answers = np.stack([_unit(vectors[owners == i].mean(axis=0)) for i in range(len(groups))])
        self.index = VectorIndex.build(vectors, owners, answers)

    def rank(self, texts: list[str], progress: bool = False) -> list[Ranked]:
        assert self.index is not None
        return self.index.search(self.encoder.encode(texts, progress=progress), 2)


class NearestNeighbour(System):
    """Max cosine over training utterances with a (frozen) encoder."""

    name = "minilm_frozen_nn"

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder

    def fit(self, groups: list[list[str]], progress: bool) -> None:
        self.vectors = self.encoder.encode([t for g in groups for t in g], progress=progress)
        self.starts = _group_starts(groups)

    def rank(self, texts: list[str], progress: bool = False) -> list[Ranked]:
        queries = self.encoder.encode(texts, progress=progress)
        ranked: list[Ranked] = []
        for start in range(0, len(queries), 512):
            per_intent = np.maximum.reduceat(queries[start:start + 512] @ self.vectors.T, self.starts, axis=1)
            ranked.extend(_top2(row) for row in per_intent)
        return ranked


class BM25(System):
    """BM25Okapi over lowercase word tokens; an intent scores its best utterance's score."""

    name = "bm25"

    def fit(self, groups: list[list[str]], progress: bool) -> None:
        from rank_bm25 import BM25Okapi

        self.bm25 = BM25Okapi([_tokens(t) for g in groups for t in g])
        self.starts = _group_starts(groups)

    def rank(self, texts: list[str], progress: bool = False) -> list[Ranked]:
        ranked: list[Ranked] = []
        for text in tqdm(texts, desc="bm25", unit="query", disable=not progress):
            scores = self.bm25.get_scores(_tokens(text))
            ranked.append(_top2(np.maximum.reduceat(scores, self.starts)))
        return ranked


def _tokens(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _group_starts(groups: list[list[str]]) -> np.ndarray:
    if any(not g for g in groups):
        raise ValueError("every intent needs at least one training utterance")
    return np.concatenate([[0], np.cumsum([len(g) for g in groups])[:-1]]).astype(np.int64)


def _top2(scores: np.ndarray) -> Ranked:
    best = np.argsort(-scores, kind="stable")[:2]
    return [(int(i), float(scores[i])) for i in best]


def _unit(vector: np.ndarray) -> np.ndarray:
    return (vector / max(float(np.linalg.norm(vector)), 1e-12)).astype(np.float32)


# ---------------------------------------------------------------- threshold


def fit_threshold(in_scores: Sequence[float], in_correct: Sequence[bool], oos_scores: Sequence[float]) -> float:
    """The threshold t (a query is unknown when its top score < t) maximising in-scope
    accuracy (correct and >= t) + out-of-scope recall (< t) on validation scores.
    Candidates are the validation scores themselves; ties go to the lowest threshold."""
    ins, correct, oos = np.asarray(in_scores, float), np.asarray(in_correct, bool), np.asarray(oos_scores, float)
    if not len(ins) or not len(oos):
        raise ValueError("choosing a threshold needs in-scope and out-of-scope validation queries")
    candidates = np.unique(np.concatenate([ins, oos]))
    right = np.sort(ins[correct])
    # in-scope accuracy: correct queries scoring >= t; OOS recall: OOS queries scoring < t
    accuracy = (len(right) - np.searchsorted(right, candidates, side="left")) / len(ins)
    recall = np.searchsorted(np.sort(oos), candidates, side="left") / len(oos)
    return float(candidates[int(np.argmax(accuracy + recall))])


def validation_scores(system: System, dev: DevData, held: list[tuple[str, int]],
                      progress: bool) -> tuple[list[float], list[bool], list[float]]:
    """(in-scope top scores, whether top-1 was right, out-of-scope scores) on validation data
    only, with `system` already fitted. Uses `dev.val` if there is one, else `held`
    (held-out training utterances) and their leave-intent-out scores."""
    position = {intent: i for i, intent in enumerate(dev.intents)}
    if dev.val is not None:
        in_scope = [(t, position[label]) for t, label in dev.val if label is not OOS]
        oos_texts = [t for t, label in dev.val if label is OOS]
    else:
        in_scope, oos_texts = held, dev.train_oos
    ranked = system.rank([t for t, _ in in_scope] + oos_texts, progress=progress)
    in_ranked, oos_ranked = ranked[: len(in_scope)], ranked[len(in_scope):]
    in_scores = [hits[0][1] for hits in in_ranked]
    in_correct = [hits[0][0] == own for hits, (_, own) in zip(in_ranked, in_scope)]
    oos_scores = [hits[0][1] for hits in oos_ranked]
    if dev.val is None:  # leave-intent-out: the best intent other than the query's own
        oos_scores += [next(s for i, s in hits if i != own) for hits, (_, own) in zip(in_ranked, in_scope)
                       if len(hits) > 1 or hits[0][0] != own]
    return in_scores, in_correct, oos_scores


# ---------------------------------------------------------------- evaluation


def evaluate(system: System, test: list[Example], intents: list[str], threshold: float | None,
             progress: bool) -> dict:
    """Figures of a fitted system on the test examples (threshold None: no out-of-scope)."""
    ranked = system.rank([t for t, _ in test], progress=progress)
    thresholds = Thresholds(answer=threshold, suggest=threshold, method="bench") if threshold is not None else None
    in_right = in_top1 = in_n = oos_n = oos_caught = unknown_n = right = 0
    for (_, label), hits in zip(test, ranked):
        predicted: str | None = intents[hits[0][0]]
        if thresholds is not None and decide([hits[0][1]], thresholds) == "unknown":
            predicted = OOS
        right += predicted == label
        unknown_n += predicted is OOS
        if label is OOS:
            oos_n += 1
            oos_caught += predicted is OOS
        else:
            in_n += 1
            in_right += predicted == label
            in_top1 += intents[hits[0][0]] == label
    result: dict = {"n": len(test), "top1_accuracy": _ratio(right, len(test))}
    if threshold is not None:
        result |= {
            "in_scope_accuracy": _ratio(in_right, in_n),
            "in_scope_top1_without_threshold": _ratio(in_top1, in_n),
            "oos_recall": _ratio(oos_caught, oos_n),
            "oos_precision": _ratio(oos_caught, unknown_n),
            "threshold": round(threshold, 4),
            "n_in_scope": in_n,
            "n_oos": oos_n,
        }
    result["query_ms_p50"] = query_ms_p50(system, [t for t, _ in test])
    return result


def query_ms_p50(system: System, texts: list[str], seed: int = 0) -> float:
    """Median latency of one query (encode + search) on up to LATENCY_QUERIES test texts,
    one torch thread as in the action server."""
    import torch

    sample = random.Random(seed).sample(texts, min(LATENCY_QUERIES, len(texts)))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        system.rank(sample[:3])  # warm up
        times = []
        for text in sample:
            started = time.perf_counter()
            system.rank([text])
            times.append((time.perf_counter() - started) * 1000)
    finally:
        torch.set_num_threads(threads)
    return round(statistics.median(times), 3) if times else 0.0


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


# ---------------------------------------------------------------- run


def fit_system(system: System, dev: DevData, fit_groups: list[list[str]], held: list[tuple[str, int]],
               progress: bool) -> float | None:
    """Fit `system` for the test and return its out-of-scope threshold (None when the data
    set has no out-of-scope queries). Only `dev` (train/validation data) is used."""
    if not dev.oos:
        system.fit(dev.groups, progress)
        return None
    system.fit(fit_groups, progress)
    threshold = fit_threshold(*validation_scores(system, dev, held, progress))
    if fit_groups is not dev.groups:
        system.fit(dev.groups, progress)  # held-out utterances join the index, as in production
    return threshold


def run(args: argparse.Namespace) -> dict:
    """Fit, tune on validation data, then read the test split once and evaluate."""
    from faq_index.train import fine_tune

    progress = not args.quiet
    dev = load_dev(args)
    if len(dev.intents) < 2:
        raise SystemExit("need at least two intents in the training data")
    if dev.oos and dev.val is None:
        fit_groups, held = hold_out(dev.groups, args.seed)
    else:
        fit_groups, held = dev.groups, []
    with tempfile.TemporaryDirectory(prefix="faq-bench-") as tmp:
        started = time.perf_counter()
        fine_tune(fit_groups, tmp, epochs=args.epochs, seed=args.seed, progress=progress)
        train_seconds = time.perf_counter() - started
        systems: dict[str, System] = {"engine": Engine(SentenceTransformerEncoder(tmp, tmp))}
        if args.int8:
            from faq_index.int8 import OnnxEncoder, export_int8

            systems["engine_int8"] = Engine(OnnxEncoder(export_int8(tmp, Path(tmp) / "int8"), "fine-tuned, int8 ONNX"))
        if args.compare:
            systems |= {"minilm_frozen_nn": NearestNeighbour(load_encoder(DEFAULT_MODEL)), "bm25": BM25()}
        thresholds = {name: fit_system(s, dev, fit_groups, held, progress) for name, s in systems.items()}
        test = load_test(args, dev.intents)  # from here on nothing is fitted or tuned
        results = {name: evaluate(s, test, dev.intents, thresholds[name], progress) for name, s in systems.items()}
    report: dict = {
        "dataset": args.dataset,
        "split": "test",
        **results.pop("engine"),
        "model": f"{DEFAULT_MODEL} fine-tuned (faq_index.train.fine_tune, {args.epochs} epochs)",
        "train_seconds": round(train_seconds, 1),
        "intents": len(dev.intents),
        "train_utterances": sum(len(g) for g in dev.groups),
        "fine_tune_utterances": sum(len(g) for g in fit_groups),
        "answer_vectors": "normalised mean of each intent's utterance vectors",
        "seed": args.seed,
    }
    if dev.oos:
        report["threshold_from"] = (
            "val + oos_val" if args.dataset == "clinc150" else
            "--val file" if dev.val is not None else
            f"{HOLD_OUT_FRACTION:.0%} of train held out per intent + leave-intent-out proxies"
        )
        report["threshold_criterion"] = "max in-scope accuracy + oos recall on validation"
    if args.shots:
        report["shots"] = args.shots
    if args.limit_intents or args.max_train_per_intent:
        report["limits"] = {"intents": args.limit_intents, "train_per_intent": args.max_train_per_intent}
    if "engine_int8" in results:
        report["int8"] = results.pop("engine_int8")  # the same fine-tuned model, exported (faq_index/int8.py)
    if results:
        report["baselines"] = results
    return report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `bench` subcommand's options."""
    from faq_index.train import EPOCHS

    parser.add_argument("what", nargs="?", default="quality", choices=["quality", "scale"],
                        help="quality: answer quality on a data set (default); scale: large synthetic KBs "
                        "(faq_index/bench_scale.py)")
    parser.add_argument("--dataset", choices=["banking77", "clinc150", "csv"])
    parser.add_argument("--data-dir", help="folder of the banking77 / clinc150 files")
    parser.add_argument("--train", help="csv mode: training CSV (text,category)")
    parser.add_argument("--test", help="csv mode: test CSV (text,category)")
    parser.add_argument("--val", help="csv mode: validation CSV for the out-of-scope threshold")
    parser.add_argument("--oos-label", help="csv mode: label of out-of-scope rows (enables the threshold)")
    parser.add_argument("--shots", type=int, help="sample this many training utterances per intent")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--compare", action="store_true", help="also run frozen-MiniLM and BM25 baselines")
    parser.add_argument("--int8", action="store_true",
                        help="also measure the fine-tuned model exported to int8 ONNX (speed and accuracy)")
    parser.add_argument("--epochs", type=int, default=EPOCHS, help="fine-tuning epochs")
    parser.add_argument("--limit-intents", type=int, help="keep only the first N intents (smoke runs)")
    parser.add_argument("--max-train-per-intent", type=int, help="at most N training utterances per intent")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    bench_scale.add_arguments(parser)


def main(args: argparse.Namespace) -> int:
    if args.what == "scale":
        return bench_scale.main(args)
    if args.dataset is None:
        raise SystemExit("bench needs --dataset banking77|clinc150|csv (or: bench scale)")
    if args.dataset == "csv" and not (args.train and args.test):
        raise SystemExit("--dataset csv needs --train FILE and --test FILE")
    if args.dataset != "csv" and not args.data_dir:
        raise SystemExit(f"--dataset {args.dataset} needs --data-dir")
    report = run(args)
    sys.stderr.flush()
    print(json.dumps(report))
    return 0

