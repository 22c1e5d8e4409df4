"""The product's side of bench/compare.py, in its own process so its peak memory is its own.

Reads a task JSON (argv[1]): builds the index (the seed documents, or a BEIR corpus file) with
the product's real pipeline, then -- given questions -- opens it as ``rag serve`` does and
measures in-process search and ask latency (query-vector cache off, so every query pays its
encoder pass; each run a pass of searches then a pass of asks) and paragraph recall@1/5 (hybrid,
k=5). Prints one JSON result line. With ``"worker": true`` in the task it prints that line after
the build and then runs one pass per stdin command ("search", "ask"; anything else ends it), for
bench/interleaved.py. Building first in the same process costs a search nothing
measurable: bench/ab_after_build.py compares it with a process that only opens the index.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def _summary(runs: list[list[float]], name: str) -> dict[str, float]:
    return {
        f"{name}_p50_ms": round(statistics.median(statistics.median(r) for r in runs), 2),
        f"{name}_p95_ms": round(statistics.median(_pct(r, 0.95) for r in runs), 2),
        f"{name}_p99_ms": round(statistics.median(_pct(r, 0.99) for r in runs), 2),
    }


def _peak_rss_mb() -> int:
    """This process's own high-water mark (VmHWM; ru_maxrss would carry the parent's over exec)."""
    with open("/proc/self/status", encoding="utf-8") as status:
        line = next(x for x in status if x.startswith("VmHWM:"))
    return round(int(line.split()[1]) / 1024)


def main() -> None:
    task = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    started = time.perf_counter()
    from rag.config import Settings
    from rag.engine import build_from_corpus_file, build_from_documents, load_seed_corpus, open_retriever
    from rag.qa import QuestionAnswerer

    settings = Settings().with_changes({
        "query.cache_size": 0, "encoder.backend": task.get("backend", "onnx"), "encoder.threads": task.get("threads", 2),
        "build.encoder_backend": task.get("build_backend", "openvino"), "openvino.static_shapes": task.get("static_shapes", True),
        **task.get("settings", {}),  # build_time.py's set-ups, dotted
    })
    index_dir = Path(task["index_dir"])
    if task.get("corpus"):
        report = build_from_corpus_file(settings, Path(task["corpus"]), index_dir=index_dir)
    else:
        report = build_from_documents(settings, load_seed_corpus(settings), index_dir=index_dir, force=True)
    build_s = time.perf_counter() - started
    out: dict[str, object] = {"build_s": round(build_s, 2), "chunks": report.manifest.chunks, "units": report.manifest.units}
    out["build_peak_rss_mb"] = _peak_rss_mb()
    questions = task.get("questions", [])
    if questions:
        retriever = open_retriever(settings, index_dir=index_dir)
        answerer = QuestionAnswerer(retriever, settings.answer_params)
        for q in questions[:10]:
            answerer.ask(q["question"])
        texts = [q["question"] for q in questions]
        out.update(_recall(retriever, questions))
        if task.get("worker"):  # bench/interleaved.py: one pass per command, alternating with the baseline's
            out["peak_rss_mb"] = _peak_rss_mb()
            print(json.dumps(out), flush=True)
            _serve_passes({"search": lambda t: retriever.search(t, k=5), "ask": answerer.ask}, texts)
            return
        search_runs, ask_runs = [], []
        for _ in range(task.get("runs", 5)):
            # a pass of searches, then a pass of questions answered: a user runs one or the other
            search_runs.append(_timed_pass(lambda t: retriever.search(t, k=5), texts))
            ask_runs.append(_timed_pass(answerer.ask, texts))
        out.update(_summary(search_runs, "search"))
        out.update(_summary(ask_runs, "ask"))
    out["peak_rss_mb"] = _peak_rss_mb()
    print(json.dumps(out))


def _timed_pass(call, texts: list[str]) -> list[float]:
    """Milliseconds of each call, one question at a time."""
    latencies = []
    for text in texts:
        t0 = time.perf_counter()
        call(text)
        latencies.append((time.perf_counter() - t0) * 1000)
    return latencies


def _serve_passes(calls: dict, texts: list[str]) -> None:
    """Worker mode: each stdin line names a pass ("search", "ask"); its latencies go out as one JSON line."""
    for line in sys.stdin:
        command = line.strip()
        if command not in calls:
            return
        print(json.dumps({"ms": _timed_pass(calls[command], texts)}), flush=True)


def _recall(retriever, questions: list[dict]) -> dict[str, float]:
    """Paragraph recall@1/5 of hybrid search (k=5) over the answerable questions."""
    hits1 = hits5 = 0
    for q in questions:
        if q["gold"]:
            paras = [h.unit.para for h in retriever.search(q["question"], k=5).hits]
            hits1 += bool(paras) and paras[0] in q["gold"]
            hits5 += any(p in q["gold"] for p in paras[:5])
    answerable = sum(1 for q in questions if q["gold"])
    return {"recall_at_1": round(hits1 / answerable, 3), "recall_at_5": round(hits5 / answerable, 3)}


if __name__ == "__main__":
    main()
