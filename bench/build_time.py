"""Build throughput: XQuAD zh paragraphs per second and peak memory, the product against LangChain.

One command runs, interleaved, for ``--runs`` rounds (the order rotates each round, so load on a
shared machine falls on every side alike): the product's full build (``rag.engine``: parse,
chunk, embed every chunk and every sentence, write FAISS + BM25 + files) with each encoder
set-up in ``--ours``, and the LangChain baseline (RecursiveCharacterTextSplitter,
HuggingFaceEmbeddings, FAISS.from_documents; bench/langchain_side.py in bench/.venv-langchain,
created on first use). Each build is a fresh process into an empty index folder; its time
includes imports and the model load, its peak memory is the process's own VmHWM. Then an
unchanged rebuild of the product's index (nothing embedded) is timed.

Ours set-ups: ``openvino`` (the default settings: OpenVINO's dynamic model compiled once, one
stream per encoder thread, 512-token batches; ``RAG_BUILD_ENCODER_MODE=dynamic-streams``),
``openvino-static`` (the previous default: static shape buckets, one stream of two threads),
``openvino-pooled`` (the default with sentence vectors pooled from their chunk's pass,
``RAG_BUILD_POOL_SENTENCE_VECTORS=1``: about half the text embedded, lower retrieval and answer figures),
``openvino-dynamic`` (OpenVINO's dynamic model, bucket-padded batches, one stream),
``onnx`` (ONNX Runtime float32 for the build too), ``onnx-int8`` (int8 everywhere).

Usage (the lead's quiet-machine run; a few minutes)::

    RAG_HOME=/tmp/bench-home .venv/bin/python bench/build_time.py --runs 5

Smoke (40 paragraphs, one round, no baseline): ``... bench/build_time.py --smoke``.
Writes bench/results/build_time.json and build_time.md (``--out`` elsewhere).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
sys.path.insert(0, str(BENCH))

from compare import ensure_baseline_venv, run_side, squad_paragraphs, write_corpus  # noqa: E402

#: set-up name -> (encoder_backend, build_encoder_backend) of the product's Settings
OURS = {"openvino": ("onnx", "openvino"), "openvino-static": ("onnx", "openvino"), "openvino-pooled": ("onnx", "openvino"),
        "openvino-dynamic": ("onnx", "openvino"), "onnx": ("onnx", "same"), "onnx-int8": ("onnx-int8", "same")}
#: set-up -> the product Settings it changes beyond the two backends (dotted, Settings.with_changes)
EXTRA = {"openvino-static": {"build.encoder_mode": "static"},
         "openvino-pooled": {"build.pool_sentence_vectors": True},
         "openvino-dynamic": {"build.encoder_mode": "static", "openvino.static_shapes": False}}
GOAL_RATE, GOAL_RSS_MB, GOAL_OVER_BASELINE = 40.0, 1024, 3.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--paragraphs", type=int, default=None, help="only the first N XQuAD zh paragraphs (default: all 240)")
    parser.add_argument("--ours", default="openvino,openvino-static", help=f"comma-separated set-ups: {', '.join(OURS)}")
    parser.add_argument("--no-baseline", action="store_true", help="skip LangChain")
    parser.add_argument("--threads", type=int, default=None, help="encoder threads, both sides (default: the product's setting)")
    parser.add_argument("--smoke", action="store_true", help="40 paragraphs, one round, no baseline")
    parser.add_argument("--out", type=Path, default=BENCH / "results")
    args = parser.parse_args()
    if args.smoke:
        args.runs, args.paragraphs, args.no_baseline = 1, args.paragraphs or 40, True
    ours = [name.strip() for name in args.ours.split(",") if name.strip()]
    if unknown := [n for n in ours if n not in OURS]:
        parser.error(f"unknown set-up {unknown}; choose from {', '.join(OURS)}")

    from rag.config import Settings
    from rag.engine import build_backend, choose_model, load_build_embedder

    settings = Settings()
    threads = args.threads or settings.encoder.threads
    prepared = {}
    for name in ours:  # conversions and exports happen once, outside the timings
        encoder, build = OURS[name]
        configured = Settings().with_changes({"encoder.backend": encoder, "build.encoder_backend": build, **EXTRA.get(name, {})})
        choice = choose_model(configured)
        prepared[name] = build_backend(configured, choice)
        load_build_embedder(choice, configured)  # exactly what a build loads, so its compiled cache is warm too
    model_folder = choose_model(settings).location
    paragraphs = squad_paragraphs(ROOT / "eval/data/xquad/xquad.zh.json")[: args.paragraphs]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TOKENIZERS_PARALLELISM": "false"}
    work = Path(tempfile.mkdtemp(prefix="rag-build-bench-"))
    corpus = write_corpus(paragraphs, work / "xquad_zh.jsonl")
    sides = [f"ours[{n}]" for n in ours] + ([] if args.no_baseline else ["langchain"])
    python = None if args.no_baseline else ensure_baseline_venv()
    times: dict[str, list[float]] = {s: [] for s in sides}
    rss: dict[str, list[int]] = {s: [] for s in sides}
    rebuild: list[float] = []
    try:
        for run in range(args.runs):
            order = sides[run % len(sides):] + sides[: run % len(sides)]
            for side in order:
                target = work / f"index-{run}-{side}"
                if side == "langchain":
                    task = {"model": model_folder, "paragraphs": [{"para": i, "text": t} for i, t in enumerate(paragraphs)],
                            "chunk_size": settings.chunk.size, "chunk_overlap": settings.chunk.overlap, "threads": threads}
                    out = run_side(python, "langchain_side.py", task, env)
                else:
                    encoder, build = OURS[side[5:-1]]
                    task = {"index_dir": str(target), "corpus": str(corpus), "backend": encoder, "build_backend": build, "threads": threads,
                            "settings": EXTRA.get(side[5:-1], {})}
                    out = run_side(sys.executable, "ours_side.py", task, env)
                times[side].append(out["build_s"])
                rss[side].append(out["peak_rss_mb"])
                print(f"run {run + 1} {side}: {out['build_s']} s, {len(paragraphs) / out['build_s']:.1f} paragraphs/s, "
                      f"peak RSS {out['peak_rss_mb']} MB", flush=True)
            first = f"ours[{ours[0]}]"
            encoder, build = OURS[ours[0]]
            again = run_side(sys.executable, "ours_side.py", {"index_dir": str(work / f"index-{run}-{first}"), "corpus": str(corpus),
                                                              "backend": encoder, "build_backend": build, "threads": threads,
                                                              "settings": EXTRA.get(ours[0], {})}, env)
            rebuild.append(again["build_s"])
    finally:
        shutil.rmtree(work, ignore_errors=True)

    rows = {}
    for side in sides:
        median_s = statistics.median(times[side])
        rows[side] = {"build_s": times[side], "median_build_s": round(median_s, 2),
                      "paragraphs_per_s": round(len(paragraphs) / median_s, 1), "peak_rss_mb": max(rss[side])}
    result = {
        "benchmark": "index build of XQuAD zh paragraphs, fresh process each (imports and model load included)",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}",
        "command": "python bench/build_time.py " + " ".join(sys.argv[1:]),
        "paragraphs": len(paragraphs), "runs": args.runs, "threads": threads,
        "build_backends": prepared, "sides": rows,
        "median_unchanged_rebuild_s": statistics.median(rebuild),
        "goals": {"paragraphs_per_s": GOAL_RATE, "peak_rss_mb": GOAL_RSS_MB, "rate_over_baseline": GOAL_OVER_BASELINE},
    }
    if "langchain" in rows:
        base = rows["langchain"]["median_build_s"]
        result["rate_over_baseline"] = {s: round(base / r["median_build_s"], 2) for s, r in rows.items() if s != "langchain"}
    name = "build_time_smoke" if args.smoke else "build_time"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    (args.out / f"{name}.md").write_text(render(result), encoding="utf-8")
    print(render(result))


def render(r: dict) -> str:
    lines = [f"# Build throughput, {r['paragraphs']} XQuAD zh paragraphs, {r['created']}", "",
             f"Machine: {r['machine']}. Encoder threads: {r['threads']}. Median of {r['runs']} interleaved runs; "
             "each build a fresh process (imports and model load included).", "",
             "| | median s | paragraphs/s | peak RSS MB | rate / LangChain |", "|---|---|---|---|---|"]
    ratios = r.get("rate_over_baseline", {})
    for side, row in r["sides"].items():
        lines.append(f"| {side} | {row['median_build_s']} | {row['paragraphs_per_s']} | {row['peak_rss_mb']} | {ratios.get(side, '—')} |")
    goals = r["goals"]
    lines += ["", f"Unchanged rebuild (nothing embedded): {r['median_unchanged_rebuild_s']} s. Encoders used for the build: "
              + ", ".join(f"{k} → {v}" for k, v in r["build_backends"].items()) + ".",
              f"Goals (issue 12): ≥ {goals['paragraphs_per_s']} paragraphs/s, peak ≤ {goals['peak_rss_mb']} MB, "
              f"≥ {goals['rate_over_baseline']}× the baseline's rate.", "", f"Command: `{r['command']}`", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
