"""A/B of rag/retriever.py's side thread: each seed question searched with its lexical side run
beside the encoder pass and inline after it, back to back (order alternating), so the two
timings of a pair see the same load. Reports the medians, the median per-question difference and
ratio (wall clock; query-vector cache off). Usage:
``RAG_HOME=/tmp/x PYTHONPATH=. .venv/bin/python bench/ab_side_thread.py [--rounds 3]``
(the index is ``rag build``'s, under ``RAG_HOME``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import time
from pathlib import Path

from rag.beside import side_thread_held
from rag.config import Settings
from rag.engine import open_retriever

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--index-dir", type=Path)
    args = parser.parse_args()
    retriever = open_retriever(Settings(query_cache_size=0), index_dir=args.index_dir)
    questions = [json.loads(x)["question"] for x in (ROOT / "eval" / "seed_questions.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]

    def timed(question: str, side: bool) -> float:
        with contextlib.nullcontext() if side else side_thread_held():
            started = time.perf_counter()
            retriever.search(question, k=5)
            return (time.perf_counter() - started) * 1000

    for q in questions[:20]:
        timed(q, True)
        timed(q, False)
    beside, inline = [], []
    for n in range(args.rounds):
        for i, q in enumerate(questions):
            if (i + n) % 2:
                inline.append(timed(q, False))
                beside.append(timed(q, True))
            else:
                beside.append(timed(q, True))
                inline.append(timed(q, False))
    english = [i for i, q in enumerate(questions * args.rounds) if q.isascii()]
    print(f"search wall ms, {len(beside)} pairs (load {os.getloadavg()[0]:.1f})")
    print(f"  inline p50 {statistics.median(inline):.2f}  beside p50 {statistics.median(beside):.2f}")
    print(f"  per-question difference inline - beside: median {statistics.median(a - b for a, b in zip(inline, beside)):.2f} ms, "
          f"English {statistics.median(inline[i] - beside[i] for i in english):.2f} ms; ratio inline/beside {statistics.median(a / b for a, b in zip(inline, beside)):.3f}")


if __name__ == "__main__":
    main()
