"""A/B of the query path (encoder replayed) between this checkout and others, finely interleaved.

On a shared machine the load changes from one second to the next, so two versions timed one
after the other differ by more than a change of a few percent. Here each checkout runs in its
own worker process (its code first on ``sys.path``, the index under ``RAG_HOME``, every seed
question encoded once and its vector replayed, as in bench/hot_path.py); the parent asks the
workers in turn for one pass over the seed questions, ``--rounds`` times, so neighbouring passes
see the same load. Reports per checkout the median over passes of the CPU time per question
(``QuestionAnswerer.ask``; ``--search`` for ``Retriever.search``) and the median of the paired
per-pass ratios. Usage:
``RAG_HOME=/tmp/x PYTHONPATH=. .venv/bin/python bench/ab_query_path.py --compare /tmp/base [--rounds 30]``
(another checkout: ``git archive main | tar -x -C /tmp/base``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def worker(search: bool) -> None:
    """Reads a line per pass on stdin, answers with the pass's CPU ms per question."""
    sys.path.insert(0, str(Path.cwd()))
    from bench.hot_path import ReplayEncoder
    from rag.config import Settings
    from rag.engine import open_retriever
    from rag.generation import make_generator
    from rag.qa import QuestionAnswerer

    settings = Settings().with_changes({"query.cache_size": 0})
    retriever = open_retriever(settings)
    questions = [json.loads(x)["question"] for x in (Path.cwd() / "eval" / "seed_questions.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    replay = ReplayEncoder(retriever.encoder)
    replay.prime(questions)
    retriever.encoder = replay
    answerer = QuestionAnswerer(retriever, settings.answer_params, make_generator(settings.generator_config))
    run = (lambda q: retriever.search(q, k=10)) if search else answerer.ask
    for q in questions * 2:  # warm: jieba, lexicon, caches
        run(q)
    print("ready", flush=True)
    for _ in sys.stdin:
        started = time.process_time()
        for q in questions:
            run(q)
        print(json.dumps((time.process_time() - started) * 1000 / len(questions)), flush=True)


def interleaved_passes(workers: list[subprocess.Popen], rounds: int) -> list[list]:
    """Each worker's replies to ``rounds`` requests for one pass ("go"), asked in turn with the order
    reversed every other round, so neighbouring passes see the same load; the workers end after."""
    passes: list[list] = [[] for _ in workers]
    try:
        for n in range(rounds):
            order = range(len(workers)) if n % 2 == 0 else reversed(range(len(workers)))
            for i in order:
                assert workers[i].stdin is not None and workers[i].stdout is not None
                workers[i].stdin.write("go\n")
                workers[i].stdin.flush()
                passes[i].append(json.loads(workers[i].stdout.readline()))
    finally:
        for w in workers:
            w.terminate()
    return passes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--search", action="store_true", help="time Retriever.search instead of QuestionAnswerer.ask")
    parser.add_argument("--compare", type=Path, action="append", default=[])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    if args.worker:
        worker(args.search)
        return
    checkouts = [ROOT, *args.compare]
    workers = []
    for checkout in checkouts:
        env = {**os.environ, "PYTHONPATH": str(checkout), "RAG_QUERY_CACHE_SIZE": "0", "TOKENIZERS_PARALLELISM": "false"}
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", *(["--search"] if args.search else [])]
        workers.append(subprocess.Popen(cmd, cwd=checkout, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True))
    for w in workers:
        assert w.stdout is not None and w.stdout.readline().strip() == "ready", "a worker failed to start"
    passes = interleaved_passes(workers, args.rounds)
    what = "search" if args.search else "ask"
    print(f"{what}: CPU ms per question, median of {args.rounds} interleaved passes (load {os.getloadavg()[0]:.1f})")
    for checkout, times in zip(checkouts, passes, strict=True):
        ratio = "" if checkout == ROOT else f"  paired ratio other/this {statistics.median(o / t for o, t in zip(times, passes[0], strict=True)):.3f}"
        print(f"  {checkout}: {statistics.median(times):.3f} (p25 {statistics.quantiles(times, n=4)[0]:.3f}){ratio}")


if __name__ == "__main__":
    main()
