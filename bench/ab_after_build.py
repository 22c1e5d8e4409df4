"""A/B: search latency in a process that built the index before opening it, against one that only
opened it (what ``rag serve`` does), finely interleaved.

bench/ours_side.py builds the seed index and then searches in the same process; its search p50
was about twice a fresh ``open_retriever``'s on a quiet machine. Here each variant is its own
long-lived worker process (``--variant``, repeatable): ``open`` only opens the index; ``build``
builds it (``build_from_documents``) then opens it; ``-ask`` also answers each question between
two searches, as bench/ours_side.py once did. The parent asks the workers in turn for one
pass over the seed questions, ``--rounds`` times, so neighbouring passes see the same load on a
shared machine, and reports per variant the median over passes of the wall-clock search and
encoder-only milliseconds per question (query-vector cache off), with the paired ratios against
the first variant. Usage:
``RAG_HOME=/tmp/x PYTHONPATH=. .venv/bin/python bench/ab_after_build.py [--rounds 10] [--variant open --variant build]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ab_query_path import interleaved_passes  # bench/ is on the path when a bench script runs

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = ("open", "build", "open-ask", "build-ask", "build-trim-ask")


def worker(variant: str, index_dir: Path) -> None:
    """Reads a line per pass on stdin, answers with the pass's median search and encode ms."""
    from rag.config import Settings
    from rag.engine import build_from_documents, load_seed_corpus, open_retriever
    from rag.qa import QuestionAnswerer

    settings = Settings().with_changes({"query.cache_size": 0})
    if variant.startswith("build"):
        build_from_documents(settings, load_seed_corpus(settings), index_dir=index_dir, force=True)
        if "-trim" in variant:
            import ctypes
            import gc

            gc.collect()
            ctypes.CDLL("libc.so.6").malloc_trim(0)
    retriever = open_retriever(settings, index_dir=index_dir)
    answerer = QuestionAnswerer(retriever, settings.answer_params) if variant.endswith("-ask") else None
    questions = [json.loads(x)["question"] for x in (ROOT / "eval" / "seed_questions.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    for q in questions[:20]:
        retriever.search(q, k=5)
    print("ready", flush=True)
    for _ in sys.stdin:
        search, encode = [], []
        cpu, own = time.process_time(), time.thread_time()
        before = resource.getrusage(resource.RUSAGE_SELF)
        for q in questions:
            started = time.perf_counter()
            retriever.search(q, k=5)
            search.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            retriever.encoder.encode_queries([q])
            encode.append((time.perf_counter() - started) * 1000)
            if answerer is not None:  # what bench/ours_side.py does between two searches
                answerer.ask(q)
        cpu, own = (time.process_time() - cpu) * 1000 / len(questions), (time.thread_time() - own) * 1000 / len(questions)
        after = resource.getrusage(resource.RUSAGE_SELF)
        counts = [(getattr(after, f) - getattr(before, f)) / len(questions) for f in ("ru_minflt", "ru_majflt", "ru_nvcsw", "ru_nivcsw")]
        rss = int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
        print(json.dumps([statistics.median(search), statistics.median(encode), cpu, own, *counts, rss]), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--worker", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--index-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--variant", choices=VARIANTS, action="append")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.index_dir)
        return
    variants = args.variant or list(VARIANTS)
    with tempfile.TemporaryDirectory(prefix="ab-after-build-") as tmp:
        from rag.config import Settings
        from rag.engine import build_from_documents, load_seed_corpus

        settings = Settings()
        shared = Path(tmp) / "shared"  # what the open-only workers read
        build_from_documents(settings, load_seed_corpus(settings), index_dir=shared, force=True)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "RAG_QUERY_CACHE_SIZE": "0", "TOKENIZERS_PARALLELISM": "false"}
        workers = []
        for n, variant in enumerate(variants):  # started one at a time: a build is not timed against another
            index_dir = shared if variant.startswith("open") else Path(tmp) / f"own-{n}"
            cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", variant, "--index-dir", str(index_dir)]
            w = subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            assert w.stdout is not None and w.stdout.readline().strip() == "ready", f"worker {variant} failed to start"
            workers.append(w)
        passes = interleaved_passes(workers, args.rounds)
    print(f"wall ms per question (search, then encoder alone), median of {args.rounds} interleaved passes (load {os.getloadavg()[0]:.1f})")
    for n, (variant, times) in enumerate(zip(variants, passes, strict=True)):
        search = statistics.median(t[0] for t in times)
        encode = statistics.median(t[1] for t in times)
        ratio = ""
        if n:
            ratio = f"  paired ratio vs {variants[0]}: search {statistics.median(t[0] / b[0] for t, b in zip(times, passes[0], strict=True)):.3f}"
            ratio += f", encode {statistics.median(t[1] / b[1] for t, b in zip(times, passes[0], strict=True)):.3f}"
        cpu = statistics.median(t[2] for t in times)
        own = statistics.median(t[3] for t in times)
        per_q = [statistics.median(t[i] for t in times) for i in range(4, 8)]
        rss = statistics.median(t[8] for t in times)
        print(f"  {variant:6s} search {search:.2f}  encode {encode:.2f}  CPU per question: process {cpu:.2f}, main thread {own:.2f}{ratio}")
        print(f"         per question: minor faults {per_q[0]:.1f}, major {per_q[1]:.2f}, voluntary switches {per_q[2]:.1f}, involuntary {per_q[3]:.1f}; RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
