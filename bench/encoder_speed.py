"""Encoder speed and fidelity: every query encoder set-up side by side, and build encoders on XQuAD zh.

Queries (in one process, set-ups interleaved question by question, query cache off): wall time
of ``encode_queries([question])`` for the seed's questions, p50/p95 per set-up, and the minimum
cosine of each set-up's vectors to the float ONNX export's over the seed's questions and
passages (what an index and a query hold). Set-ups: ``onnx`` float32 (2 threads), ``onnx-int8``,
OpenVINO on static shape buckets with 1 and 2 threads per query, and OpenVINO's dynamic model.

Passages (``--passages``; each set-up a fresh process, rounds interleaved): embed the distinct
chunk and sentence texts of an XQuAD zh build (what rag/build.py embeds): wall and CPU seconds,
model load apart, shapes compiled, peak RSS (VmHWM, imports and model included).

Usage (the lead's quiet-machine run, a few minutes)::

    RAG_HOME=/tmp/bench-home .venv/bin/python bench/encoder_speed.py --rounds 5 --passages

Smoke: ``... bench/encoder_speed.py --smoke``. Writes bench/results/encoder_speed.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
sys.path.insert(0, str(BENCH))

#: query set-up -> load_embedder keyword arguments
QUERY_SETUPS = {
    "onnx float32, 2 threads": {"backend": "onnx", "threads": 2},
    "onnx-int8, 2 threads": {"backend": "onnx-int8", "threads": 2},
    "openvino static, 1 thread": {"backend": "openvino", "query_threads": 1},
    "openvino static, 2 threads": {"backend": "openvino", "query_threads": 2},
    "openvino dynamic, 1 thread": {"backend": "openvino", "query_threads": 1, "static_shapes": False},
}
#: build set-up -> load_embedder keyword arguments (throughput=True, as rag.engine.load_build_embedder)
BUILD_SETUPS = {
    "openvino static, 1 stream x 2 threads": {"backend": "openvino", "threads": 2},
    "openvino dynamic, 1 stream x 2 threads": {"backend": "openvino", "threads": 2, "static_shapes": False},
    # RAG_BUILD_ENCODER_MODE=dynamic-streams (rag.engine.load_build_embedder)
    "openvino dynamic, 2 streams x 1 thread": {"backend": "openvino", "threads": 2, "static_shapes": False, "build_streams": 2,
                                               "token_budget": 1024},
    "onnx float32, 2 threads": {"backend": "onnx", "threads": 2},
}


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def _peak_rss_mb() -> int:
    with open("/proc/self/status", encoding="utf-8") as status:
        return round(int(next(x for x in status if x.startswith("VmHWM:")).split()[1]) / 1024)


def build_texts(paragraphs: int | None) -> list[str]:
    """The distinct passages an XQuAD zh build embeds (chunks and sentences, prompts added later)."""
    from compare import squad_paragraphs

    from rag.build import sentence_spans
    from rag.chunking import chunk_units
    from rag.config import Settings
    from rag.engine import corpus_from_beir

    texts = squad_paragraphs(ROOT / "eval/data/xquad/xquad.zh.json")[:paragraphs]
    corpus = corpus_from_beir([(f"d{i:06d}", "", t) for i, t in enumerate(texts)], "xquad_zh")
    units = [u for d in corpus.documents for u in d.units]
    spans = [*chunk_units(units, Settings().chunking), *sentence_spans(units)]
    return list(dict.fromkeys(s.passage for s in spans))


def passages_side(task: dict) -> dict:
    """One build set-up in this (fresh) process: load, embed, report."""
    from rag.embedding import load_embedder

    setup = dict(task["setup"])
    started = time.perf_counter()
    embedder = load_embedder(None, Path(task["cache_dir"]), throughput=True, **setup)
    loaded = time.perf_counter()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    vectors = embedder.encode_passages(task["texts"])
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    done = time.perf_counter()
    encoder = embedder._onnx
    return {"load_s": round(loaded - started, 2), "embed_s": round(done - loaded, 2),
            "embed_cpu_s": round(cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime, 2),
            "peak_rss_mb": _peak_rss_mb(), "texts": len(vectors), "backend": embedder.backend,
            "precision": getattr(encoder, "precision", "int8" if setup.get("backend") == "onnx-int8" else "f32")}


def queries(settings, rounds: int, limit: int | None) -> dict:
    from compare import seed_material

    from rag.embedding import load_embedder

    paragraphs, questions = seed_material(settings)
    asked = [q["question"] for q in questions][:limit]
    encoders = {name: load_embedder(None, settings.model_cache_dir, **kw) for name, kw in QUERY_SETUPS.items()}
    reference = encoders["onnx float32, 2 threads"]
    passages = [p["text"] for p in paragraphs]
    ref_q, ref_p = reference.encode_queries(asked), reference.encode_passages(passages)
    out: dict[str, dict] = {}
    for name, encoder in encoders.items():
        single = [encoder.encode_queries([q])[0] for q in asked]  # also the warm-up
        cos_q = min(float(a @ b) for a, b in zip(single, ref_q, strict=True))
        cos_p = float((encoder.encode_passages(passages) * ref_p).sum(axis=1).min())
        out[name] = {"backend": encoder.backend, "min_cosine_questions": round(cos_q, 6), "min_cosine_passages": round(cos_p, 6),
                     "precision": getattr(encoder._onnx, "precision", "int8" if "int8" in name else "f32"), "times_ms": []}
    for _ in range(rounds):
        for question in asked:
            for name, encoder in encoders.items():
                t0 = time.perf_counter()
                encoder.encode_queries([question])
                out[name]["times_ms"].append((time.perf_counter() - t0) * 1000)
    for row in out.values():
        times = row.pop("times_ms")
        row.update(p50_ms=round(statistics.median(times), 2), p95_ms=round(_pct(times, 0.95), 2))
    return {"questions": len(asked), "rounds": rounds, "setups": out}


def passages(settings, rounds: int, paragraphs: int | None) -> dict:
    texts = build_texts(paragraphs)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TOKENIZERS_PARALLELISM": "false"}
    runs: dict[str, list[dict]] = {name: [] for name in BUILD_SETUPS}
    names = list(BUILD_SETUPS)
    for _ in range(1 + rounds):  # the first round compiles and caches every shape: not counted
        for name in names:
            task = {"setup": BUILD_SETUPS[name], "cache_dir": str(settings.model_cache_dir), "texts": texts}
            done = subprocess.run([sys.executable, __file__, "--side"], input=json.dumps(task, ensure_ascii=False), capture_output=True,
                                  text=True, env=env, cwd=ROOT, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"{name} failed:\n{done.stderr[-3000:]}")
            runs[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
        names = names[1:] + names[:1]
    out = {}
    for name, results in runs.items():
        counted = results[1:]
        embed = statistics.median(r["embed_s"] for r in counted)
        out[name] = {"embed_s": round(embed, 2), "embed_cpu_s": statistics.median(r["embed_cpu_s"] for r in counted),
                     "load_s": statistics.median(r["load_s"] for r in counted), "texts_per_s": round(len(texts) / embed, 1),
                     "peak_rss_mb": max(r["peak_rss_mb"] for r in counted), "backend": counted[0]["backend"],
                     "precision": counted[0]["precision"]}
    return {"texts": len(texts), "paragraphs": paragraphs or 240, "rounds": rounds, "setups": out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--passages", action="store_true", help="also the build encoders on XQuAD zh (fresh processes)")
    parser.add_argument("--paragraphs", type=int, default=None, help="XQuAD zh paragraphs for --passages (default all 240)")
    parser.add_argument("--smoke", action="store_true", help="20 questions, one round; passages of 20 paragraphs")
    parser.add_argument("--side", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=BENCH / "results")
    args = parser.parse_args()
    if args.side:
        print(json.dumps(passages_side(json.loads(sys.stdin.read()))))
        return
    from rag.config import Settings

    settings = Settings().with_changes({"query.cache_size": 0})
    limit = None
    if args.smoke:
        args.rounds, limit, args.passages, args.paragraphs = 1, 20, True, args.paragraphs or 20
    result = {
        "benchmark": "query encoder latency and fidelity; build encoder throughput",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}",
        "command": "python bench/encoder_speed.py " + " ".join(sys.argv[1:]),
        "queries": queries(settings, args.rounds, limit),
    }
    if args.passages:
        result["passages"] = passages(settings, args.rounds, args.paragraphs)
    name = "encoder_speed_smoke" if args.smoke else "encoder_speed"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    (args.out / f"{name}.md").write_text(render(result), encoding="utf-8")
    print(render(result))


def render(r: dict) -> str:
    q = r["queries"]
    lines = [f"# Encoder speed, {r['created']}", "", f"Machine: {r['machine']}.", "",
             f"Queries: {q['questions']} seed questions × {q['rounds']} rounds, set-ups interleaved, one question per call, cache off.", "",
             "| query set-up | backend, precision | p50 ms | p95 ms | min cosine to float, questions / passages |", "|---|---|---|---|---|"]
    for name, row in q["setups"].items():
        lines.append(f"| {name} | {row['backend']}, {row['precision']} | {row['p50_ms']} | {row['p95_ms']} | "
                     f"{row['min_cosine_questions']} / {row['min_cosine_passages']} |")
    if "passages" in r:
        p = r["passages"]
        lines += ["", f"Build encoders: the {p['texts']} distinct chunk and sentence texts of {p['paragraphs']} XQuAD zh paragraphs, "
                  f"each set-up a fresh process, median of {p['rounds']} interleaved rounds (a first round compiles shapes, not counted).", "",
                  "| build set-up | embed s | CPU s | texts/s | load s | peak RSS MB |", "|---|---|---|---|---|---|"]
        for name, row in p["setups"].items():
            lines.append(f"| {name} ({row['precision']}) | {row['embed_s']} | {row['embed_cpu_s']} | {row['texts_per_s']} | "
                         f"{row['load_s']} | {row['peak_rss_mb']} |")
    lines += ["", f"Command: `{r['command']}`", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
