"""The answer-quality benchmark (`python -m faq_index bench`) on a tiny synthetic CSV data set:
the figures it reports, and that the out-of-scope threshold never depends on the test split."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from faq_index import bench
from faq_index.__main__ import main

INTENTS = {
    "delivery_time": [
        "how long does delivery take", "when will my parcel arrive", "how many days until my order is delivered",
        "what is the shipping time", "how fast do you ship orders", "when does my package get here",
    ],
    "refund": [
        "how do I get my money back", "can I have a refund", "I want to return an item and be refunded",
        "when will my refund be paid", "how do refunds work", "give me my money back for this order",
    ],
    "reset_password": [
        "I forgot my password", "how do I reset my password", "I cannot log in to my account",
        "change my login password", "my password does not work", "help me recover my account password",
    ],
    "opening_hours": [
        "what are your opening hours", "when is the store open", "are you open on sunday",
        "what time do you close today", "what time does the shop open", "opening times of your store",
    ],
}
TEST = [
    ("where is my parcel, it has not arrived yet", "delivery_time"),
    ("how soon will my order be shipped", "delivery_time"),
    ("please refund my purchase", "refund"),
    ("I would like my money returned", "refund"),
    ("I can't remember my password", "reset_password"),
    ("reset my account password please", "reset_password"),
    ("is the shop open on saturday", "opening_hours"),
    ("until what time are you open", "opening_hours"),
    ("what is the capital of australia", "oos"),
    ("play some jazz music for me", "oos"),
]


def write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "category"])
        writer.writerows(rows)
    return path


def bench_argv(train: Path, test: Path) -> list[str]:
    return ["bench", "--dataset", "csv", "--train", str(train), "--test", str(test), "--oos-label", "oos",
            "--epochs", "1", "--compare", "--quiet"]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("bench")
    train = write_csv(tmp / "train.csv", [(text, intent) for intent, texts in INTENTS.items() for text in texts])
    # Same texts, labels scrambled: every in-scope label moved to another intent, OOS swapped with intents.
    names = list(INTENTS)
    relabelled = [(text, "oos" if label != "oos" and i % 3 == 0 else names[(i + 1) % len(names)])
                  for i, (text, label) in enumerate(TEST)]
    return {"train": train, "test": write_csv(tmp / "test.csv", TEST),
            "relabelled": write_csv(tmp / "relabelled.csv", relabelled)}


@pytest.fixture(scope="module")
def report(files: dict[str, Path]) -> Iterator[tuple[dict, list[str]]]:
    """One CLI run; also records when the test split is read relative to threshold fitting."""
    calls: list[str] = []
    original_load_test, original_fit_threshold = bench.load_test, bench.fit_threshold

    def load_test(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append("load_test")
        return original_load_test(*args, **kwargs)

    def fit_threshold(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append("fit_threshold")
        return original_fit_threshold(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bench, "load_test", load_test)
        patch.setattr(bench, "fit_threshold", fit_threshold)
        out = io.StringIO()
        with redirect_stdout(out):
            assert main(bench_argv(files["train"], files["test"])) == 0
    yield json.loads(out.getvalue().strip().splitlines()[-1]), calls


def test_csv_run_reports_the_figures_and_baselines(report: tuple[dict, list[str]]) -> None:
    figures, _ = report
    for key in ("dataset", "split", "n", "top1_accuracy", "model", "train_seconds", "query_ms_p50",
                "in_scope_accuracy", "oos_recall", "oos_precision", "threshold", "seed"):
        assert key in figures, key
    assert (figures["dataset"], figures["split"], figures["n"]) == ("csv", "test", len(TEST))
    assert (figures["n_in_scope"], figures["n_oos"]) == (8, 2)
    assert figures["top1_accuracy"] > 0.5
    assert figures["in_scope_top1_without_threshold"] > 0.5
    assert set(figures["baselines"]) == {"minilm_frozen_nn", "bm25"}
    for baseline in figures["baselines"].values():
        assert {"top1_accuracy", "threshold", "in_scope_accuracy", "oos_recall"} <= set(baseline)


def test_threshold_is_chosen_before_the_test_split_is_read(report: tuple[dict, list[str]]) -> None:
    _, calls = report
    assert calls == ["fit_threshold"] * 3 + ["load_test"]  # engine + two baselines, then test once


def test_test_labels_do_not_change_the_threshold(report: tuple[dict, list[str]], files: dict[str, Path],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    figures, _ = report
    assert main(bench_argv(files["train"], files["relabelled"])) == 0
    other = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert other["threshold"] == figures["threshold"]
    for name, baseline in figures["baselines"].items():
        assert other["baselines"][name]["threshold"] == baseline["threshold"]
    assert other["top1_accuracy"] != figures["top1_accuracy"]  # the labels did change the score


def test_threshold_maximises_in_scope_accuracy_plus_oos_recall() -> None:
    # in scope: 0.9 right, 0.8 right, 0.5 wrong, 0.45 right; out of scope: 0.3, 0.6
    threshold = bench.fit_threshold([0.9, 0.8, 0.5, 0.45], [True, True, False, True], [0.3, 0.6])
    assert threshold == 0.8  # 2/4 + 2/2 beats 0.45's 3/4 + 1/2
    assert bench.fit_threshold([0.9, 0.7], [True, False], [0.5]) == 0.7  # ties with 0.9: the lowest wins


def test_hold_out_keeps_at_least_two_training_utterances_per_intent() -> None:
    kept, held = bench.hold_out([["a", "b", "c", "d", "e", "f"], ["g", "h"]], seed=0)
    assert [len(k) for k in kept] == [5, 2]
    assert len(held) == 1 and held[0][1] == 0


class FixedRanking(bench.System):
    """Hand-made rankings, so the metric arithmetic can be checked by hand."""

    def __init__(self, ranks: dict[str, list[tuple[int, float]]]) -> None:
        self.ranks = ranks

    def rank(self, texts: list[str], progress: bool = False) -> list[list[tuple[int, float]]]:
        return [self.ranks[t] for t in texts]


def test_metrics_by_hand() -> None:
    intents = ["refund", "delivery"]
    system = FixedRanking({
        "money back?": [(0, 0.9), (1, 0.2)],       # in scope, right, confident
        "where is it": [(0, 0.7), (1, 0.6)],       # in scope, wrong intent, confident
        "parcel late": [(1, 0.4), (0, 0.1)],       # in scope, right intent but below threshold
        "tell a joke": [(1, 0.3), (0, 0.2)],       # out of scope, caught
        "weather?": [(0, 0.8), (1, 0.1)],          # out of scope, missed
    })
    test = [("money back?", "refund"), ("where is it", "delivery"), ("parcel late", "delivery"),
            ("tell a joke", None), ("weather?", None)]
    figures = bench.evaluate(system, test, intents, threshold=0.5, progress=False)
    assert figures["n"] == 5
    assert figures["in_scope_accuracy"] == pytest.approx(1 / 3, abs=1e-3)
    assert figures["in_scope_top1_without_threshold"] == pytest.approx(2 / 3, abs=1e-3)
    assert figures["oos_recall"] == pytest.approx(1 / 2)
    assert figures["oos_precision"] == pytest.approx(1 / 2)  # "parcel late" was wrongly called unknown
    assert figures["top1_accuracy"] == pytest.approx(2 / 5)  # money back? + tell a joke
    no_oos = bench.evaluate(system, test[:3], intents, threshold=None, progress=False)
    assert no_oos["top1_accuracy"] == pytest.approx(2 / 3, abs=1e-3) and "oos_recall" not in no_oos
