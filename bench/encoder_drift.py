"""How a query encoder's speed drifts on this shared machine: one pass over the seed's questions
every ``--every`` seconds for ``--minutes``, same process, same encoders, same inputs.

Why: every latency figure in bench/ rests on one query encoder pass. On this 2-core VM the same
pass has been seen to take 5 ms in one minute and 16 ms a few minutes later, with the process's
CPU time equal to its wall time and no steal reported. A figure is only comparable with another
taken in the same minutes; this script records the drift so a reader can tell a change from the
machine's mood. ``--setups`` runs several encoders interleaved question by question (each pass
gives every set-up the same moments), e.g. the product's bfloat16 encoder against ONNX float32 and
int8 (one thread each: a second thread's pool would spin between runs and slow its neighbours):
whether they drift together, and by how much.

Usage: ``RAG_HOME=/tmp/x .venv/bin/python bench/encoder_drift.py [--minutes 10] [--every 20]
[--setups openvino-1,onnx-1,onnx-int8-1]`` (backend-threads; default: the configured encoder).
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


def _steal_ticks() -> int:
    """The machine's stolen CPU ticks so far (the 8th number of /proc/stat's cpu line)."""
    with open("/proc/stat", encoding="utf-8") as stat:
        return int(stat.readline().split()[8])


def one_pass(encoders: dict, questions: list[str]) -> dict[str, dict[str, float]]:
    """Per set-up, wall and CPU milliseconds per question (medians), the set-ups taking turns question by question."""
    wall: dict[str, list[float]] = {name: [] for name in encoders}
    cpu: dict[str, list[float]] = {name: [] for name in encoders}
    for question in questions:
        for name, encoder in encoders.items():
            t0, c0 = time.perf_counter(), time.process_time()
            encoder.encode_queries([question])
            wall[name].append((time.perf_counter() - t0) * 1000)
            cpu[name].append((time.process_time() - c0) * 1000)
    return {name: {"wall_p50_ms": round(statistics.median(wall[name]), 2), "cpu_p50_ms": round(statistics.median(cpu[name]), 2)}
            for name in encoders}


def render(result: dict) -> str:
    passes, names = result["passes"], result["setups"]
    lines = [
        f"# Query encoder drift, {result['started']}",
        "",
        f"Machine: {result['machine']}. Query cache off. {result['questions']} seed questions per pass, set-ups taking turns",
        f"question by question; one pass every {result['every_s']} s for {result['minutes']} min, one process.",
        "",
    ]
    for name in names:
        walls = [p[name]["wall_p50_ms"] for p in passes]
        lines.append(f"- {name} ({result['encoders'][name]}): per-pass p50 min {min(walls)} ms, median "
                     f"{round(statistics.median(walls), 2)} ms, max {max(walls)} ms (max / min {max(walls) / min(walls):.2f})")
    # process CPU time counts every thread: with several set-ups, one's pool threads would show in another's figure
    with_cpu = len(names) == 1
    lines += [
        "",
        f"Steal ticks reported over the run: {result['steal_ticks']}."
        + (" CPU time tracks wall time: the core itself runs slower, or the hypervisor takes it without saying so." if with_cpu else ""),
        "",
        "| time (UTC) | " + " | ".join(f"{n} wall{' / CPU' if with_cpu else ''} ms" for n in names) + " | load avg |",
        "|---|" + "---|" * len(names) + "---|",
        *[f"| {p['at']} | " + " | ".join(f"{p[n]['wall_p50_ms']}" + (f" / {p[n]['cpu_p50_ms']}" if with_cpu else "") for n in names)
          + f" | {p['load']} |" for p in passes],
        "",
        f"Command: `{result['command']}`",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--every", type=float, default=20, help="seconds between the starts of two passes")
    parser.add_argument("--setups", default="", help="comma-separated backend-threads (openvino-1, onnx-1, onnx-int8-1); default: the configured encoder")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    from compare import seed_material

    from rag.config import Settings
    from rag.engine import choose_model, load_embedder_for

    settings = Settings().with_changes({"query.cache_size": 0})
    _, questions = seed_material(settings)
    asked = [q["question"] for q in questions]
    encoders, described = {}, {}
    for setup in [s for s in args.setups.split(",") if s] or [f"{settings.encoder.backend}-{settings.openvino.query_threads}"]:
        backend, threads = setup.rsplit("-", 1)
        local = settings.with_changes({"encoder.threads": int(threads), "openvino.query_threads": int(threads)})
        encoders[setup] = load_embedder_for(choose_model(local), local, backend=backend)
        precision = getattr(encoders[setup]._onnx, "precision", "int8" if "int8" in backend else "f32")
        described[setup] = f"runs on {encoders[setup].backend}, {precision}, {threads} thread(s)"
    one_pass(encoders, asked[:20])  # warm-up: shapes loaded, caches filled
    started, steal = datetime.now(UTC), _steal_ticks()
    passes = []
    deadline = time.monotonic() + args.minutes * 60
    while time.monotonic() < deadline:
        began = time.monotonic()
        figures = one_pass(encoders, asked)
        passes.append({"at": datetime.now(UTC).strftime("%H:%M:%S"), **figures, "load": round(os.getloadavg()[0], 2)})
        print(passes[-1], flush=True)
        time.sleep(max(0.0, args.every - (time.monotonic() - began)))
    result = {
        "started": started.isoformat(timespec="seconds"), "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "setups": list(encoders), "encoders": described, "questions": len(asked), "every_s": args.every, "minutes": args.minutes,
        "steal_ticks": _steal_ticks() - steal, "passes": passes, "command": "bench/encoder_drift.py " + " ".join(sys.argv[1:]),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "encoder_drift.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    (args.out / "encoder_drift.md").write_text(render(result), encoding="utf-8")
    print(render(result))


if __name__ == "__main__":
    main()
