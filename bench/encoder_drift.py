"""How the same query encoder's speed drifts on this shared machine: one pass over the seed's
questions every ``--every`` seconds for ``--minutes``, same process, same encoder, same inputs.

Why: every latency figure in bench/ rests on one query encoder pass (the default OpenVINO bf16
encoder, one thread). On this 2-core VM the same pass has been seen to take 4.5 ms in one hour and
14 ms in the next, with the process's CPU time equal to its wall time (so it is not waiting for a
core: the core itself runs slower). A figure is only comparable with another taken in the same
minutes; this script records the drift so a reader can tell a change from the machine's mood.

Usage: ``RAG_HOME=/tmp/x .venv/bin/python bench/encoder_drift.py [--minutes 10] [--every 20]``.
Writes bench/results/encoder_drift.json and .md (``--out`` elsewhere).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))


def one_pass(encoder, questions: list[str]) -> dict[str, float]:
    """Wall and CPU milliseconds per question (medians) of one pass, one question per call."""
    wall, cpu = [], []
    for question in questions:
        t0, c0 = time.perf_counter(), time.process_time()
        encoder.encode_queries([question])
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return {"wall_p50_ms": round(statistics.median(wall), 2), "cpu_p50_ms": round(statistics.median(cpu), 2)}


def render(result: dict) -> str:
    passes = result["passes"]
    walls = [p["wall_p50_ms"] for p in passes]
    lines = [
        f"# Query encoder drift, {result['started']}",
        "",
        f"Machine: {result['machine']}. Encoder: {result['encoder']}, query cache off. {result['questions']} seed questions per pass,",
        f"one pass every {result['every_s']} s for {result['minutes']} min, one process.",
        "",
        f"Per-pass p50: min {min(walls)} ms, median {round(statistics.median(walls), 2)} ms, max {max(walls)} ms (max / min {max(walls) / min(walls):.2f}).",
        "",
        "| time (UTC) | wall p50 ms | CPU p50 ms | load avg |",
        "|---|---|---|---|",
        *[f"| {p['at']} | {p['wall_p50_ms']} | {p['cpu_p50_ms']} | {p['load']} |" for p in passes],
        "",
        f"Command: `{result['command']}`",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--every", type=float, default=20, help="seconds between the starts of two passes")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    from compare import seed_material

    from rag.config import Settings
    from rag.embedding import load_embedder

    settings = Settings()
    _, questions = seed_material(settings)
    asked = [q["question"] for q in questions]
    encoder = load_embedder(
        None, settings.model_cache_dir, backend=settings.encoder.backend, query_threads=settings.openvino.query_threads
    )
    one_pass(encoder, asked[:20])  # warm-up: shapes loaded, caches filled
    started = datetime.now(UTC)
    passes = []
    deadline = time.monotonic() + args.minutes * 60
    while time.monotonic() < deadline:
        began = time.monotonic()
        figures = one_pass(encoder, asked)
        passes.append({"at": datetime.now(UTC).strftime("%H:%M:%S"), **figures, "load": round(os.getloadavg()[0], 2)})
        print(passes[-1], flush=True)
        time.sleep(max(0.0, args.every - (time.monotonic() - began)))
    result = {
        "started": started.isoformat(timespec="seconds"), "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "encoder": f"{encoder.backend}, {settings.openvino.query_threads} thread(s)", "questions": len(asked),
        "every_s": args.every, "minutes": args.minutes, "passes": passes, "command": "bench/encoder_drift.py " + " ".join(sys.argv[1:]),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "encoder_drift.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    (args.out / "encoder_drift.md").write_text(render(result), encoding="utf-8")
    print(render(result))


if __name__ == "__main__":
    main()
