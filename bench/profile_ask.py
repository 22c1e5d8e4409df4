"""Profile the warm question-answering hot path (search + compose) with pyinstrument.

Loads the configured index and model (query-vector cache off, so every question pays its
encoder pass), warms up, then answers every seed question ``--rounds`` times under the
profiler. ``--replay`` encodes every question once beforehand and hands the vectors back
(bench/hot_path.py's replay encoder), so the profile shows the pipeline without the encoder.
Writes a text call tree (with the machine's load average, since the machine may be shared) and,
on request, an HTML flame view to ``bench/results/``. Usage:
``RAG_HOME=/tmp/x PYTHONPATH=. python bench/profile_ask.py [--rounds 3] [--replay] [--tag before]``
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from pyinstrument import Profiler

from rag.config import PROJECT_ROOT, Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tag", default="current")
    parser.add_argument("--replay", action="store_true", help="pre-encode the questions: profile the pipeline without the encoder")
    parser.add_argument("--html", action="store_true")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "bench" / "results")
    args = parser.parse_args()
    settings = Settings().with_changes({"query.cache_size": 0})
    questions = [json.loads(line)["question"] for line in (PROJECT_ROOT / "eval" / "seed_questions.jsonl").open(encoding="utf-8")]
    if args.replay:
        from bench.hot_path import ReplayEncoder
        from index.store import load_index
        from rag.engine import choose_model, limit_native_threads, load_embedder_for, make_lexicon
        from rag.qa import QuestionAnswerer
        from rag.retriever import Retriever

        choice = choose_model(settings)
        limit_native_threads(settings.query.native_threads)  # as open_retriever does
        encoder = ReplayEncoder(load_embedder_for(choice, settings))
        encoder.prime(questions)
        index = load_index(settings.resolved_index_dir, model_id=choice.id, chunking=settings.chunking)
        answerer = QuestionAnswerer(Retriever(index, encoder, fusion=settings.fusion_params, lexicon=make_lexicon(settings)), settings.answer_params)
    else:
        from api.app import prepare_answerer

        answerer = prepare_answerer(settings)
    for question in questions:  # warm: jieba, the lexicon, lazy caches
        answerer.ask(question)
    load_before = os.getloadavg()
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(args.rounds):
        for question in questions:
            answerer.ask(question)
    profiler.stop()
    load_after = os.getloadavg()
    args.out.mkdir(parents=True, exist_ok=True)
    header = (
        f"# {datetime.now(UTC).isoformat(timespec='seconds')}, {os.cpu_count()} cores, encoder {settings.encoder.backend}"
        f"{' (replayed: pipeline only)' if args.replay else ''}, {len(questions)} questions x {args.rounds} rounds\n"
        f"# load average (1/5/15 min) before {load_before[0]:.2f}/{load_before[1]:.2f}/{load_before[2]:.2f}, "
        f"after {load_after[0]:.2f}/{load_after[1]:.2f}/{load_after[2]:.2f}\n"
    )
    text = header + profiler.output_text(unicode=True, color=False, show_all=False)
    (args.out / f"profile_ask_{args.tag}.txt").write_text(text, encoding="utf-8")
    if args.html:  # the HTML flame view is tens of MB: written on request, never committed
        (args.out / f"profile_ask_{args.tag}.html").write_text(profiler.output_html(), encoding="utf-8")
    print(text[:8000])


if __name__ == "__main__":
    main()
