"""Command line for the FAQ index.

    python -m faq_index validate [--kb data/faq]
    python -m faq_index train    [--kb data/faq] [--encoders build/faq_encoders]
    python -m faq_index build    [--kb data/faq] [--out build/faq_index] [--force]
    python -m faq_index search "how long does delivery take?" [--k 3]
    python -m faq_index eval     --questions tests/data/heldout_questions_zh.yml --field zh
    python -m faq_index bench    --dataset banking77|clinc150|csv ... (see faq_index/bench.py)
    python -m faq_index bench scale [--sizes 10000 100000 1000000]   (faq_index/bench_scale.py)

Exit status 2 with one line per problem when the knowledge base is invalid.
"""

from __future__ import annotations

import argparse
import json
import sys

from faq_index.encoder import DEFAULT_MULTILINGUAL_MODEL
from faq_index.kb import KnowledgeBaseError, load_kb
from faq_index.paths import DEFAULT_CALIBRATION_DIR, DEFAULT_ENCODERS_DIR, DEFAULT_INDEX_DIR, DEFAULT_KB_DIR


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.handler(args)
    except KnowledgeBaseError as error:
        print(error, file=sys.stderr)
        return 2


def _validate(args: argparse.Namespace) -> int:
    entries = load_kb(args.kb)
    categories = sorted({e.category for e in entries})
    print(f"{args.kb}: {len(entries)} entries, {sum(len(e.texts) for e in entries)} wordings, "
          f"categories: {', '.join(categories)}")
    return 0


def _build(args: argparse.Namespace) -> int:
    from faq_index.build import build

    manifest = build(args.kb, args.out, model=args.model, multilingual_model=args.multilingual_model,
                     encoders_dir=args.encoders, force=args.force, exact_max=args.exact_max,
                     progress=not args.quiet, calibration_dir=args.calibration or None)
    state = "up to date" if manifest.get("up_to_date") else "built"
    spaces = ", ".join(f"{s['name']}: {s['model']}" for s in manifest["spaces"])
    print(f"index {state}: {manifest['entries']} entries, {manifest['vectors']} vectors "
          f"({manifest['index_kind']}; {spaces}), version {manifest['version']}", file=sys.stderr)
    print(json.dumps(manifest))
    return 0


def _train(args: argparse.Namespace) -> int:
    from faq_index.train import ensure_tuned

    print(ensure_tuned(args.kb, args.encoders, progress=not args.quiet))
    return 0


def _search(args: argparse.Namespace) -> int:
    from faq_index.search import LiveIndex

    index = LiveIndex(args.out, poll_seconds=3600)
    print(json.dumps(index.search(args.query, args.k).to_dict(), ensure_ascii=False, indent=2))
    return 0


def _eval(args: argparse.Namespace) -> int:
    from faq_index.evaluate import evaluate

    report = evaluate(args.out, args.questions, args.field)
    if not args.misses:
        report.pop("misses")
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


def _bench(args: argparse.Namespace) -> int:
    from faq_index.bench import main as bench_main

    return bench_main(args)


def _parser() -> argparse.ArgumentParser:
    from faq_index.index import EXACT_MAX_VECTORS

    parser = argparse.ArgumentParser(prog="python -m faq_index", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(required=True, metavar="command")

    validate = commands.add_parser("validate", help="check the knowledge base")
    validate.add_argument("--kb", default=DEFAULT_KB_DIR)
    validate.set_defaults(handler=_validate)

    build = commands.add_parser("build", help="encode the KB and publish a new index version")
    build.add_argument("--kb", default=DEFAULT_KB_DIR)
    build.add_argument("--out", default=DEFAULT_INDEX_DIR)
    build.add_argument("--encoders", default=DEFAULT_ENCODERS_DIR, help="where fine-tuned encoders live")
    build.add_argument("--model", help="encode everything with this one model (default: the newest "
                       "fine-tuned model, else the base, for English; see --multilingual-model)")
    build.add_argument("--multilingual-model", default=DEFAULT_MULTILINGUAL_MODEL,
                       help="for KBs with more languages than English (use-multilingual-v3 or "
                       "multilingual-e5-small-q4)")
    build.add_argument("--calibration", default=DEFAULT_CALIBRATION_DIR,
                       help="customer-style questions (tune_<language>.yml) the thresholds are chosen on; "
                       "'' for the KB's own wordings only")
    build.add_argument("--force", action="store_true", help="rebuild even if nothing changed")
    build.add_argument("--exact-max", type=int, default=EXACT_MAX_VECTORS,
                       help="above this many vectors, use approximate (HNSW) search")
    build.add_argument("--quiet", action="store_true", help="no progress bar")
    build.set_defaults(handler=_build)

    train = commands.add_parser("train", help="fine-tune the encoder on the KB if the KB changed")
    train.add_argument("--kb", default=DEFAULT_KB_DIR)
    train.add_argument("--encoders", default=DEFAULT_ENCODERS_DIR)
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(handler=_train)

    search = commands.add_parser("search", help="search the built index")
    search.add_argument("query")
    search.add_argument("--out", default=DEFAULT_INDEX_DIR)
    search.add_argument("--k", type=int, default=3)
    search.set_defaults(handler=_search)

    evaluation = commands.add_parser("eval", help="P@1 of the built index on held-out questions")
    evaluation.add_argument("--questions", required=True, help="YAML: questions: [{<field>: text, faq_id: id}]")
    evaluation.add_argument("--field", default="text", help="which text of each question to ask (e.g. zh, en)")
    evaluation.add_argument("--out", default=DEFAULT_INDEX_DIR, help="the built index")
    evaluation.add_argument("--misses", action="store_true", help="list the questions answered wrongly")
    evaluation.set_defaults(handler=_eval)

    from faq_index.bench import add_arguments as bench_arguments

    bench = commands.add_parser("bench", help="answer quality on BANKING77, CLINC150 or a CSV; or `bench scale`")
    bench_arguments(bench)
    bench.set_defaults(handler=_bench)
    return parser


if __name__ == "__main__":
    sys.exit(main())
