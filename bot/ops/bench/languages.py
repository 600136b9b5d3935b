"""`python -m bot bench languages`: FAQ answer quality in Chinese and English, per encoder.

For each multilingual encoder, builds the shop KB's index the way the product does (the
fine-tuned English space plus that multilingual space) and asks the held-out questions of
tests/data/heldout_questions_zh.yml, once in Chinese and once in English. The English-only
engine from before (the same fine-tuned model, the KB's English alone) is measured in the
same run: English must not get worse. Across languages: the Chinese questions against the
KB's English side alone, searched with the multilingual encoder only (a Chinese question
must find an entry whose wordings are all English). Prints one JSON report, draws a chart.

    python -m bot bench languages [--chart docs/img/languages.png]
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml
from tqdm import tqdm

from bot.config import ROOT, load_settings
from faq_index.build import build
from faq_index.encoder import E5_MULTILINGUAL, USE_MULTILINGUAL, load_encoder
from faq_index.evaluate import evaluate
from faq_index.kb import load_kb
from faq_index.train import ensure_tuned

QUESTIONS = ROOT / "tests" / "data" / "heldout_questions_zh.yml"
ENCODERS = (USE_MULTILINGUAL, E5_MULTILINGUAL, f"{USE_MULTILINGUAL}+{E5_MULTILINGUAL}")


def run(chart: Path | None) -> dict:
    settings = load_settings()
    english_model = ensure_tuned(settings.kb_dir, settings.encoders_dir)
    report: dict = {"questions": str(QUESTIONS.relative_to(ROOT)), "english_model": Path(english_model).name,
                    "engines": {}}
    with tempfile.TemporaryDirectory() as tmp:
        before = _english_only_kb(settings.kb_dir, Path(tmp) / "kb-en")
        build(before, Path(tmp) / "before", english_model=english_model, progress=False)
        report["engines"]["English-only (before)"] = {"en": _figures(Path(tmp) / "before", "en")}
        for name in tqdm(ENCODERS, desc="multilingual encoders", unit="encoder"):
            out = Path(tmp) / name.replace("+", "_")
            build(settings.kb_dir, out, english_model=english_model, multilingual_model=name, progress=False)
            across = Path(tmp) / (name.replace("+", "_") + "-across")
            build(before, across, model=name, progress=False)
            report["engines"][name] = {"zh": _figures(out, "zh"), "en": _figures(out, "en"),
                                       "zh_to_english_only_kb": _figures(across, "zh"),
                                       "query_ms_p50": _query_ms(name)}
    if chart is not None:
        _chart(report, chart)
    return report


def _english_only_kb(kb_dir: Path, out: Path) -> Path:
    """The KB as it was before Chinese: each entry's English question, answer and paraphrases."""
    out.mkdir(parents=True)
    entries = [{"id": e.id, "category": e.category, "question": e.questions["en"], "answer": e.answers["en"],
                "paraphrases": list(e.paraphrases_by_language["en"])} for e in load_kb(kb_dir)]
    (out / "faq.yml").write_text(yaml.safe_dump({"entries": entries}, allow_unicode=True), encoding="utf-8")
    return out


def _figures(index_dir: Path, field: str) -> dict:
    result = evaluate(index_dir, QUESTIONS, field)
    return {key: result[key] for key in ("questions", "p_at_1", "recall_at_3", "answered", "answered_precision")}


def _query_ms(model: str, repeats: int = 50) -> float:
    """Median time to encode one short Chinese question (the multilingual space's extra cost)."""
    encoder = load_encoder(model)
    encoder.encode(["退款多久到账"])
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        encoder.encode(["我上周退的货，钱什么时候能退回来"])
        times.append((time.perf_counter() - started) * 1000)
    return round(float(np.median(times)), 2)


def _chart(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(report["engines"])
    def p_at_1(name: str, key: str) -> float:
        return report["engines"][name].get(key, {}).get("p_at_1", 0)

    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(9, 4.8))
    ax.bar(x - 0.27, [p_at_1(n, "zh") for n in names], 0.27, label="Chinese questions, bilingual KB")
    ax.bar(x, [p_at_1(n, "zh_to_english_only_kb") for n in names], 0.27,
           label="Chinese questions, English-only KB")
    ax.bar(x + 0.27, [p_at_1(n, "en") for n in names], 0.27, label="the same questions in English")
    ax.axhline(0.90, color="grey", linestyle="--", linewidth=1, label="target 0.90 (Chinese)")
    ax.set_xticks(x, [n.replace("+", "+\n") for n in names], fontsize=8)
    ax.set_ylim(0.5, 1.0)
    ax.set_ylabel("P@1 (first answer right)")
    ax.set_title(f"FAQ search on {report['engines'][names[-1]]['en']['questions']} held-out questions")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main(chart: str | None) -> int:
    print(json.dumps(run(Path(chart) if chart else None), ensure_ascii=False, indent=2))
    return 0
